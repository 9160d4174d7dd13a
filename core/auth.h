/* auth.h — who is calling. The methods DMCP_AUTH lists, tried in order: the web server's
 * REMOTE_USER, dmcp's own opaque bearer tokens (`dmcp.fcgi token create`, kept as SHA-256
 * hashes), and JWT access tokens of an OAuth 2.1 authorization server (jwt.h, keys from
 * DMCP_JWKS_FILE); the WWW-Authenticate challenge a refused request receives; and the protected
 * resource metadata document that tells a client where to get a token. Knows nothing of
 * FastCGI or of HTTP framing; reaches the database only through store.h (one indexed
 * lookup per request with a dmcp token). Never logs, stores or passes on a token.
 * RFC 6750 (bearer tokens, challenges), RFC 9728 (protected resource metadata), RFC 8707
 * (resource indicators); MCP 2025-11-25 basic/authorization. */
#ifndef DMCP_AUTH_H
#define DMCP_AUTH_H

#include <stddef.h>
#include "buf.h"
#include "cfg.h"
#include "dmcp.h"
#include "rows.h"
#include "scope.h"
#include "store.h"

/* What every dmcp token starts with: lets the token method claim its own tokens (and leave
 * JWTs alone) without a database lookup, and lets secret scanners recognize a leaked one. */
#define AUTH_TOKEN_PREFIX "dmcp_"
/* Random bytes in a token: 256 bits (RFC 6750 §5.2: tokens that cannot be guessed). */
#define AUTH_TOKEN_BYTES 32
/* Characters of a token: the prefix and the bytes in base64url. */
#define AUTH_TOKEN_LEN (sizeof AUTH_TOKEN_PREFIX - 1 + (AUTH_TOKEN_BYTES * 4 + 2) / 3)
/* Hex digits of a token's SHA-256, the only form the database keeps. */
#define AUTH_HASH_HEX 64
/* Bytes of an Authorization header looked at: the longest JWT accepted, its scheme and a
 * few spaces. Longer is refused as an invalid token before any parsing. */
#define AUTH_MAX_CREDENTIAL 4200
/* Milliseconds between two looks (stat) at DMCP_JWKS_FILE: a rotated key set is in use
 * within a second, and a busy server does not stat the file per request. */
#define AUTH_JWKS_CHECK_MS 1000
/* Bytes of a refusal's description (error_description). */
#define AUTH_WHY 160

struct auth;

/* Process-wide: reads the settings and, with jwt, the key file (a file that cannot be read
 * or holds no usable key is an error here, with err saying why). *out is the caller's
 * (auth_free). cfg is borrowed and must outlive it. */
dmcp_rc auth_new(const struct cfg *cfg, struct auth **out, char *err,
                 size_t errlen) DMCP_MUST_CHECK;
void auth_free(struct auth *a);

/* What a request brings (borrowed; NULL when absent). */
struct auth_in {
	const char *remote_user;   /* REMOTE_USER, set by the web server's own authentication */
	const char *authorization; /* the Authorization header */
};

/* Who the request is, or why it was refused. */
struct auth_result {
	char principal[ROW_MAX_PRINCIPAL + 1]; /* the name every row is bound to */
	char scopes[SCOPE_MAX_LIST + 1];       /* the scopes granted ("" with remote-user) */
	int presented;                         /* a bearer token came (a refusal is then
	                                          error="invalid_token") */
	char why[AUTH_WHY];                    /* a refusal's reason: a fixed sentence */
};

/* Authenticate one request (thread-safe; st is the calling thread's connection, used by
 * the token method only). DMCP_OK: res->principal and res->scopes are set. Else:
 *   DMCP_E_UNAUTHORIZED  401: no credentials a listed method accepts, or a bearer token that
 *                        is not good (unknown, revoked, expired, a JWT that does not verify);
 *   DMCP_E_FORBIDDEN     403: a good token without every scope of DMCP_REQUIRED_SCOPES;
 *   DMCP_E_PARAMS        400: REMOTE_USER is not a usable name;
 *   DMCP_E_DB            503: the token could not be looked up. */
dmcp_rc auth_check(struct auth *a, struct store *st, const struct auth_in *in,
                   struct auth_result *res) DMCP_MUST_CHECK;

/* The "WWW-Authenticate: Bearer ...\r\n" header line for a refusal (rc from auth_check:
 * DMCP_E_UNAUTHORIZED or DMCP_E_FORBIDDEN), appended to b: resource_metadata always, error
 * and error_description for a refused token, scope (the required scopes) with 403 and,
 * when some are required, with a plain 401 too (MCP: what a client should ask for). */
void auth_challenge(const struct auth *a, dmcp_rc rc, const struct auth_result *res,
                    struct buf *b);
/* The JSON body of a refusal: {"error": ..., "error_description": ...}, as OAuth resource
 * servers answer (RFC 6750 §3). Owned by the caller. */
char *auth_refusal_body(dmcp_rc rc, const struct auth_result *res);

/* The protected resource metadata (RFC 9728): its JSON text, or NULL when DMCP_AUTH lists
 * no bearer method (then there is nothing to discover). Borrowed from a. */
const char *auth_metadata(const struct auth *a);
/* 1 when path (a request path, without query) is where the metadata is served: the
 * well-known path alone, or followed by the resource's path (RFC 9728 §3.1), either with
 * one trailing slash or none. */
int auth_metadata_path(const struct auth *a, const char *path);
/* The metadata document's URL (resource_metadata in challenges). Borrowed; "" without a
 * bearer method. */
const char *auth_metadata_url(const struct auth *a);

/* A new token: AUTH_TOKEN_PREFIX and AUTH_TOKEN_BYTES from RAND_bytes in base64url. */
dmcp_rc auth_token_new(char out[AUTH_TOKEN_LEN + 1]) DMCP_MUST_CHECK;
/* The lowercase hex SHA-256 of token[0..n) (OpenSSL EVP). */
dmcp_rc auth_token_hash(const char *token, size_t n,
                        char hex[AUTH_HASH_HEX + 1]) DMCP_MUST_CHECK;
/* 1 when name is usable as a principal: 1 to ROW_MAX_PRINCIPAL bytes, no control
 * characters. */
int auth_principal_ok(const char *name);

#endif
