/* jwt.h — JWT access tokens as an OAuth 2.1 resource server checks them: a key set (JWKS)
 * read from text, and the verification of one compact JWS (signature, issuer, audience,
 * expiry, not-before, the principal claim, scopes). Knows nothing of HTTP, files or the
 * database: the caller reads the key file and says what time it is. Cryptography only
 * through OpenSSL 3. RFC 7515 (JWS), 7517 (JWK), 7518 §3.3-3.4 (RS256, ES256), 8037 and
 * 9864 (EdDSA/Ed25519), 7519 (JWT), 9068 (JWT access tokens), 8707 (audience = resource),
 * 8725 (best practices: no "none", no HS* with public keys, alg bound to the key). */
#ifndef DMCP_JWT_H
#define DMCP_JWT_H

#include <stddef.h>
#include <stdint.h>
#include "dmcp.h"
#include "rows.h"
#include "scope.h"

/* Bytes of a compact JWS looked at: access tokens are a few hundred bytes to 2 KiB; longer
 * ones are refused before any decoding (nginx's header buffers stop at 8 KiB anyway). */
#define JWT_MAX_TOKEN 4096
/* Bytes of a JWKS file: a few keys are a few KiB; a file this large is a mistake. */
#define JWT_MAX_JWKS (256u << 10)
/* Keys in a key set: an authorization server publishes one to a handful (rotation). */
#define JWT_MAX_KEYS 32
/* Bytes of a key id ("kid"). */
#define JWT_MAX_KID 128
/* Seconds of clock difference allowed between the authorization server and us, on "exp"
 * and "nbf": RFC 7519 allows "a small leeway, usually no more than a few minutes". */
#define JWT_SKEW_S 60
/* Nesting of the header and claims objects accepted (claims are flat in practice). */
#define JWT_MAX_DEPTH 16
/* Smallest RSA modulus accepted, in bits (RFC 7518 §3.3: 2048 or larger). */
#define JWT_MIN_RSA_BITS 2048

/* A key set: immutable once parsed; safe to read from several threads at once. */
struct jwks;

/* Parse a JWKS document ({"keys": [...]}, strict JSON, at most JWT_MAX_JWKS bytes). Keys
 * dmcp cannot use are skipped: another kty or curve, "use" other than "sig", "key_ops"
 * without "verify", an "alg" other than RS256, ES256 and EdDSA/Ed25519. Refused (DMCP_E_PARAMS,
 * err says which key and why): a key set with no usable key, a usable key with private
 * members ("d", "p", ...: publish only public keys), a malformed member, an RSA modulus
 * below JWT_MIN_RSA_BITS, an EC point off its curve, two keys with the same kid, more
 * than JWT_MAX_KEYS keys. *out is owned by the caller (jwks_free). */
dmcp_rc jwks_parse(const char *text, size_t len, struct jwks **out, char *err,
                   size_t errlen) DMCP_MUST_CHECK;
void jwks_free(struct jwks *k);
/* Usable keys in the set. */
int jwks_count(const struct jwks *k);

/* What a token must satisfy. Strings are borrowed. */
struct jwt_policy {
	const char *issuer;          /* "iss" must equal it */
	const char *audience;        /* "aud" (a string or an array) must hold it; compared
	                                ignoring one trailing slash */
	const char *principal_claim; /* the claim naming the principal, e.g. "sub" */
	int64_t now;                 /* seconds since the epoch */
};

/* What a valid token says. */
struct jwt_claims {
	char principal[ROW_MAX_PRINCIPAL + 1]; /* the principal claim's value */
	char scopes[SCOPE_MAX_LIST + 1];       /* "scope" (or "scp": a string or an array),
	                                          normalized */
	int64_t exp;                           /* "exp", seconds since the epoch */
};

/* Verify token[0..len) against keys and policy. DMCP_OK fills *out. DMCP_E_UNAUTHORIZED
 * for every token that is not good, with why (a fixed sentence naming the check, never
 * bytes of the token) in why[whylen]: over JWT_MAX_TOKEN bytes, not three base64url parts,
 * a header or claims that are not a JSON object, "alg" none or HS*, another algorithm, a
 * "crit" header, a "typ" other than JWT or at+jwt, an unknown kid, a kid whose key is for
 * another algorithm, no kid while the set has not exactly one key for the algorithm, a bad
 * signature, the wrong issuer or audience, no or a passed "exp", a future "nbf" (both with
 * JWT_SKEW_S), no usable principal claim (a string of 1 to ROW_MAX_PRINCIPAL bytes without
 * control characters), a malformed scope claim. DMCP_E_NOMEM when OpenSSL or malloc fails. */
dmcp_rc jwt_verify(const struct jwks *keys, const char *token, size_t len,
                   const struct jwt_policy *policy, struct jwt_claims *out, char *why,
                   size_t whylen) DMCP_MUST_CHECK;

/* 1 when a and b name the same resource: equal, or equal but for one trailing slash. */
int jwt_same_resource(const char *a, const char *b);

#endif
