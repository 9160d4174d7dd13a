/* test_auth.c — TAP tests of core/auth.c over the in-memory store (fake_store.c): each
 * DMCP_AUTH method alone and in lists (the order, what falls through and what stops),
 * dmcp tokens (format, hash, lookup, revoked, expired), JWTs against a key file that is
 * read again when it changes (and kept when the new file is bad), required scopes (403),
 * the challenges' exact text, and the protected resource metadata (document, URL, paths).
 * Keys are made at run time (tests/unit/testkeys.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "auth.h"
#include "buf.h"
#include "cfg.h"
#include "fake_store.h"
#include "store.h"
#include "t.h"
#include "testkeys.h"

#define RES "https://mcp.example/mcp"
#define ISS "https://as.example"
#define MD_URL "https://mcp.example/.well-known/oauth-protected-resource/mcp"

static struct store *st;
static char dir[64];

static void set_auth(struct cfg *c, const char *list)
{
	cfg_defaults(c);
	c->n_auth = 0;
	while (*list != '\0') {
		size_t n = strcspn(list, ",");
		c->auth[c->n_auth++] = strncmp(list, "token", n) == 0 && n == 5 ? CFG_AUTH_TOKEN
		                     : strncmp(list, "jwt", n) == 0 && n == 3   ? CFG_AUTH_JWT
		                                                                : CFG_AUTH_REMOTE_USER;
		list += n + (list[n] == ',');
	}
	c->resource = strdup(RES);
	c->jwt_issuer = strdup(ISS);
	c->principal_claim = strdup("sub");
	c->n_as = 1;
	snprintf(c->auth_servers[0], CFG_ALLOW_LEN, "%s", ISS);
}

static dmcp_rc check(struct auth *a, const char *remote_user, const char *authz,
                     struct auth_result *res)
{
	struct auth_in in = {.remote_user = remote_user, .authorization = authz};

	return auth_check(a, st, &in, res);
}

/* The challenge line for rc/res, without "WWW-Authenticate: " and the CRLF. */
static const char *challenge(struct auth *a, dmcp_rc rc, const struct auth_result *res)
{
	static char out[1024];
	struct buf b;

	buf_init(&b, sizeof out);
	auth_challenge(a, rc, res, &b);
	snprintf(out, sizeof out, "%.*s", (int)(b.len > 20 ? b.len - 20 : 0),
	         b.len > 20 ? b.data + 18 : "");
	buf_free(&b);
	return out;
}

/* A token stored for principal with scopes, expiring at expires (0: never). */
static void add_token(char tok[AUTH_TOKEN_LEN + 1], const char *id, const char *principal,
                      const char *scopes, int64_t expires)
{
	struct token_row t;

	memset(&t, 0, sizeof t);
	if (auth_token_new(tok) != DMCP_OK || auth_token_hash(tok, strlen(tok), t.hash) != DMCP_OK)
		abort();
	snprintf(t.id, sizeof t.id, "%s", id);
	snprintf(t.principal, sizeof t.principal, "%s", principal);
	snprintf(t.scopes, sizeof t.scopes, "%s", scopes);
	t.expires = expires;
	if (store_token_insert(st, &t) != DMCP_OK)
		abort();
}

static void test_tokens_made(void)
{
	char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1], hex[AUTH_HASH_HEX + 1];
	size_t i, ok = 1;

	T_OK(auth_token_new(a) == DMCP_OK && auth_token_new(b) == DMCP_OK, "two tokens made");
	T_EQ_INT(strlen(a), AUTH_TOKEN_LEN, "a token is AUTH_TOKEN_LEN characters");
	T_OK(strncmp(a, "dmcp_", 5) == 0, "it starts with dmcp_");
	for (i = 5; i < strlen(a); i++)
		ok &= strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]) !=
		      NULL;
	T_OK(ok, "then 43 base64url characters (256 bits)");
	T_OK(strcmp(a, b) != 0, "two tokens differ");
	T_OK(auth_token_hash("abc", 3, hex) == DMCP_OK &&
	     strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	     "SHA-256 of \"abc\" (FIPS 180-2 vector): %s", hex);
	T_OK(auth_principal_ok("alice") && !auth_principal_ok("") && !auth_principal_ok("a\tb") &&
	     !auth_principal_ok("a\x7f"), "principal names: control characters and \"\" refused");
}

static void test_remote_user(void)
{
	struct cfg c;
	struct auth *a = NULL;
	struct auth_result r;
	char err[200];

	set_auth(&c, "remote-user");
	T_OK(auth_new(&c, &a, err, sizeof err) == DMCP_OK, "remote-user: auth_new");
	T_OK(check(a, NULL, NULL, &r) == DMCP_OK && strcmp(r.principal, "anonymous") == 0,
	     "remote-user alone, no REMOTE_USER: anonymous");
	T_OK(check(a, "alice", NULL, &r) == DMCP_OK && strcmp(r.principal, "alice") == 0 &&
	     r.scopes[0] == '\0', "REMOTE_USER alice: alice, no scopes");
	T_OK(check(a, NULL, "Basic Ym9iOng=", &r) == DMCP_OK &&
	     strcmp(r.principal, "anonymous") == 0, "a Basic header alone changes nothing");
	T_OK(check(a, NULL, "Bearer dmcp_whatever", &r) == DMCP_OK &&
	     strcmp(r.principal, "anonymous") == 0, "a Bearer header is not read");
	T_EQ_INT(check(a, "a\nb", NULL, &r), DMCP_E_PARAMS, "REMOTE_USER with a newline: 400");
	T_EQ_INT(fake_store_calls_of("store_token_find"), 0, "no token lookup with remote-user");
	T_OK(auth_metadata(a) == NULL && !auth_metadata_path(a, "/.well-known/oauth-protected-"
	     "resource"), "no metadata without a bearer method");
	auth_free(a);
	cfg_free(&c);
}

static void test_token(void)
{
	struct cfg c;
	struct auth *a = NULL;
	struct auth_result r;
	char err[200], t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1], t3[AUTH_TOKEN_LEN + 1],
	     h[AUTH_TOKEN_LEN + 40], id[ROW_TOKEN_ID + 1], big[AUTH_MAX_CREDENTIAL + 10];
	long before;

	set_auth(&c, "token");
	snprintf(c.required_scopes, sizeof c.required_scopes, "mcp");
	T_OK(auth_new(&c, &a, err, sizeof err) == DMCP_OK, "token: auth_new");
	add_token(t1, "0000000000000001", "alice", "mcp admin", 0);
	add_token(t2, "0000000000000002", "bob", "", (int64_t)time(NULL) + 3600);
	add_token(t3, "0000000000000003", "carol", "mcp", (int64_t)time(NULL) - 1);

	snprintf(h, sizeof h, "Bearer %s", t1);
	before = fake_store_calls_of("store_token_find");
	T_OK(check(a, NULL, h, &r) == DMCP_OK && strcmp(r.principal, "alice") == 0 &&
	     strcmp(r.scopes, "mcp admin") == 0, "alice's token: alice, scopes mcp admin");
	T_EQ_INT(fake_store_calls_of("store_token_find") - before, 1, "one lookup per request");
	snprintf(h, sizeof h, "bearer   %s  ", t1);
	T_EQ_INT(check(a, NULL, h, &r), DMCP_OK, "scheme in lower case, extra spaces: accepted");
	T_OK(check(a, "mallory", h, &r) == DMCP_OK && strcmp(r.principal, "alice") == 0,
	     "REMOTE_USER is not read when the list has no remote-user");

	T_OK(check(a, NULL, NULL, &r) == DMCP_E_UNAUTHORIZED && !r.presented,
	     "no credentials: 401 without error");
	T_EQ_STR(challenge(a, DMCP_E_UNAUTHORIZED, &r),
	         "Bearer scope=\"mcp\", resource_metadata=\"" MD_URL "\"",
	         "its challenge names the required scope and the metadata");
	T_OK(check(a, NULL, "Basic YWxpY2U6eA==", &r) == DMCP_E_UNAUTHORIZED && !r.presented,
	     "a Basic header: 401 as if nothing came");
	snprintf(h, sizeof h, "Bearer %s", t2);
	T_OK(check(a, NULL, h, &r) == DMCP_E_FORBIDDEN && strcmp(r.principal, "bob") == 0,
	     "bob's token without the required scope mcp: 403");
	T_EQ_STR(challenge(a, DMCP_E_FORBIDDEN, &r),
	         "Bearer error=\"insufficient_scope\", error_description=\"the token lacks a "
	         "required scope\", scope=\"mcp\", resource_metadata=\"" MD_URL "\"",
	         "the 403 challenge");
	snprintf(h, sizeof h, "Bearer %s", t3);
	T_OK(check(a, NULL, h, &r) == DMCP_E_UNAUTHORIZED && r.presented &&
	     strstr(r.why, "expired") != NULL, "carol's expired token: 401 (%s)", r.why);
	T_EQ_STR(challenge(a, DMCP_E_UNAUTHORIZED, &r),
	         "Bearer error=\"invalid_token\", error_description=\"the token has expired\", "
	         "resource_metadata=\"" MD_URL "\"", "the invalid_token challenge");
	{
		char *body = auth_refusal_body(DMCP_E_UNAUTHORIZED, &r);
		T_EQ_STR(body, "{\"error\":\"invalid_token\",\"error_description\":\"the token has "
		         "expired\"}", "the refusal's body");
		free(body);
	}
	T_OK(store_token_revoke(st, "0000000000000001", NULL, id) == DMCP_OK, "revoke alice's");
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_OK(check(a, NULL, h, &r) == DMCP_E_UNAUTHORIZED && strstr(r.why, "revoked") != NULL,
	     "revoked: refused at the next request (%s)", r.why);
	snprintf(h, sizeof h, "Bearer %s", t1);
	h[strlen(h) - 1] = h[strlen(h) - 1] == 'A' ? 'B' : 'A';
	T_OK(check(a, NULL, h, &r) == DMCP_E_UNAUTHORIZED && strstr(r.why, "unknown") != NULL,
	     "one character changed: unknown token");
	before = fake_store_calls_of("store_token_find");
	T_OK(check(a, NULL, "Bearer dmcp_short", &r) == DMCP_E_UNAUTHORIZED && r.presented,
	     "a dmcp_ token of the wrong length: 401");
	T_OK(check(a, NULL, "Bearer eyJhbGciOiJub25lIn0.e30.", &r) == DMCP_E_UNAUTHORIZED &&
	     r.presented, "a JWT with only the token method: 401 invalid_token");
	T_EQ_INT(fake_store_calls_of("store_token_find") - before, 0,
	         "neither was looked up in the database");
	T_OK(check(a, NULL, "Bearer", &r) == DMCP_E_UNAUTHORIZED && r.presented,
	     "Bearer without a token: 401 invalid_token (%s)", r.why);
	T_OK(check(a, NULL, "Bearer a b", &r) == DMCP_E_UNAUTHORIZED && r.presented &&
	     strstr(r.why, "malformed") != NULL, "Bearer with two words: malformed");
	T_OK(check(a, NULL, "Bearer a\"b", &r) == DMCP_E_UNAUTHORIZED && r.presented,
	     "a quote in the token: malformed");
	memset(big, 'A', sizeof big);
	memcpy(big, "Bearer ", 7);
	big[sizeof big - 1] = '\0';
	T_OK(check(a, NULL, big, &r) == DMCP_E_UNAUTHORIZED && strstr(r.why, "too long") != NULL,
	     "an Authorization header over AUTH_MAX_CREDENTIAL bytes: 401 too long");
	fake_store_fail("store_token_find", 0, 1);
	snprintf(h, sizeof h, "Bearer %s", t2);
	T_EQ_INT(check(a, NULL, h, &r), DMCP_E_DB, "the lookup fails: DMCP_E_DB (503)");
	fake_store_fail("store_token_find", 0, 0);

	T_OK(auth_metadata_path(a, "/.well-known/oauth-protected-resource") &&
	     auth_metadata_path(a, "/.well-known/oauth-protected-resource/") &&
	     auth_metadata_path(a, "/.well-known/oauth-protected-resource/mcp") &&
	     auth_metadata_path(a, "/.well-known/oauth-protected-resource/mcp/") &&
	     !auth_metadata_path(a, "/.well-known/oauth-protected-resource/other") &&
	     !auth_metadata_path(a, "/.well-known/oauth-protected-resource/mcpx") &&
	     !auth_metadata_path(a, "/mcp"), "the metadata paths: bare and with /mcp, one "
	     "trailing slash; nothing else");
	T_EQ_STR(auth_metadata_url(a), MD_URL, "the metadata URL (RFC 9728 §3.1)");
	T_EQ_STR(auth_metadata(a), "{\"resource\":\"" RES "\",\"authorization_servers\":[\"" ISS
	         "\"],\"scopes_supported\":[\"mcp\"],\"bearer_methods_supported\":[\"header\"],"
	         "\"resource_name\":\"dmcp\"}", "the metadata document");
	auth_free(a);
	free(c.resource);
	c.resource = strdup("https://h.example:8443/");
	c.n_as = 0;
	c.scopes_supported[0] = c.required_scopes[0] = '\0';
	if (auth_new(&c, &a, err, sizeof err) != DMCP_OK)
		a = NULL;
	T_OK(a != NULL &&
	     strcmp(auth_metadata_url(a), "https://h.example:8443/.well-known/oauth-protected-"
	            "resource") == 0 && strcmp(auth_metadata(a), "{\"resource\":\"https://h.example"
	            ":8443/\",\"bearer_methods_supported\":[\"header\"],\"resource_name\":\"dmcp\"}")
	                                    == 0,
	     "a resource without a path: the bare metadata URL; no servers or scopes listed (%s)",
	     a != NULL ? auth_metadata(a) : err);
	auth_free(a);
	cfg_free(&c);
}

/* Write text to path through a rename (a new file, as editors and deploy tools do). */
static void write_file(const char *path, const char *text)
{
	char tmp[128];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		abort();
}

static char *jwt_for(EVP_PKEY *k, const char *alg, const char *kid, const char *sub,
                     const char *scope)
{
	char claims[512];

	snprintf(claims, sizeof claims, "{\"iss\":\"" ISS "\",\"aud\":\"" RES "\",\"sub\":\"%s\","
	         "\"exp\":%lld,\"scope\":\"%s\"}", sub, (long long)time(NULL) + 600, scope);
	return tk_jwt(k, alg, kid, claims);
}

static void test_jwt(void)
{
	struct cfg c;
	struct auth *a = NULL;
	struct auth_result r;
	EVP_PKEY *k1 = tk_ec(), *k2 = tk_ed();
	char err[300], path[128], text[2 * TK_MAX], h[2 * TK_MAX], *jwk, *t1, *t2;

	snprintf(path, sizeof path, "%s/jwks.json", dir);
	fake_store_reset_counters();
	set_auth(&c, "jwt");
	c.jwks_file = strdup(path);
	T_EQ_INT(auth_new(&c, &a, err, sizeof err), DMCP_E_PARAMS, "no key file: auth_new fails");
	T_OK(strstr(err, path) != NULL, "... saying which file (%s)", err);
	write_file(path, "{\"keys\":[]}");
	T_OK(auth_new(&c, &a, err, sizeof err) != DMCP_OK && strstr(err, "no usable") != NULL,
	     "a key file without a usable key: auth_new fails (%s)", err);
	jwk = tk_jwk(k1, "k1", "");
	snprintf(text, sizeof text, "{\"keys\":[%s]}", jwk);
	free(jwk);
	write_file(path, text);
	T_OK(auth_new(&c, &a, err, sizeof err) == DMCP_OK, "jwt: auth_new with one key (%s)", err);
	if (a == NULL)
		goto out;
	t1 = jwt_for(k1, "ES256", "k1", "alice", "mcp");
	t2 = jwt_for(k2, "EdDSA", "k2", "bob", "mcp");
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_OK(check(a, NULL, h, &r) == DMCP_OK && strcmp(r.principal, "alice") == 0 &&
	     strcmp(r.scopes, "mcp") == 0, "a JWT of key k1: alice");
	snprintf(h, sizeof h, "Bearer %s", t2);
	T_OK(check(a, NULL, h, &r) == DMCP_E_UNAUTHORIZED && strstr(r.why, "kid") != NULL,
	     "a JWT of key k2, not in the file: unknown kid");
	T_EQ_STR(challenge(a, DMCP_E_UNAUTHORIZED, &r),
	         "Bearer error=\"invalid_token\", error_description=\"unknown kid\", "
	         "resource_metadata=\"" MD_URL "\"", "its challenge");
	T_EQ_INT(fake_store_calls_of("store_token_find"), 0, "JWTs cost no database lookup");

	/* Rotation: k2 replaces k1; within AUTH_JWKS_CHECK_MS the old set is still used. */
	jwk = tk_jwk(k2, "k2", "");
	snprintf(text, sizeof text, "{\"keys\":[%s]}", jwk);
	free(jwk);
	write_file(path, text);
	T_EQ_INT(check(a, NULL, h, &r), DMCP_E_UNAUTHORIZED, "right after the change: the file "
	         "is not looked at again yet");
	usleep((AUTH_JWKS_CHECK_MS + 100) * 1000);
	T_OK(check(a, NULL, h, &r) == DMCP_OK && strcmp(r.principal, "bob") == 0,
	     "a second later: the new key set is in use (k2's token accepted)");
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_EQ_INT(check(a, NULL, h, &r), DMCP_E_UNAUTHORIZED, "k1's token is refused now");
	/* A bad file: the keys read before stay. */
	write_file(path, "{\"keys\": [");
	usleep((AUTH_JWKS_CHECK_MS + 100) * 1000);
	snprintf(h, sizeof h, "Bearer %s", t2);
	T_EQ_INT(check(a, NULL, h, &r), DMCP_OK, "a half-written key file: the last good set "
	         "stays in use");
	unlink(path);
	usleep((AUTH_JWKS_CHECK_MS + 100) * 1000);
	T_EQ_INT(check(a, NULL, h, &r), DMCP_OK, "the key file removed: the last good set stays");
	free(t1);
	free(t2);
	auth_free(a);
	a = NULL;

	/* Lists. */
	jwk = tk_jwk(k1, "k1", "");
	snprintf(text, sizeof text, "{\"keys\":[%s]}", jwk);
	free(jwk);
	write_file(path, text);
	cfg_free(&c);
	set_auth(&c, "jwt,remote-user");
	c.jwks_file = strdup(path);
	snprintf(c.required_scopes, sizeof c.required_scopes, "mcp");
	T_OK(auth_new(&c, &a, err, sizeof err) == DMCP_OK, "jwt,remote-user: auth_new");
	t1 = jwt_for(k1, "ES256", "k1", "alice", "mcp");
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_OK(check(a, "webuser", h, &r) == DMCP_OK && strcmp(r.principal, "alice") == 0,
	     "jwt first: the token's principal, not REMOTE_USER");
	T_OK(check(a, "webuser", NULL, &r) == DMCP_OK && strcmp(r.principal, "webuser") == 0,
	     "no token: REMOTE_USER (no scope required of the web server's users)");
	T_OK(check(a, NULL, NULL, &r) == DMCP_E_UNAUTHORIZED,
	     "nothing at all: 401 (no anonymous once a bearer method is listed)");
	h[strlen(h) - 2] = h[strlen(h) - 2] == 'A' ? 'B' : 'A';
	T_OK(check(a, "webuser", h, &r) == DMCP_E_UNAUTHORIZED && r.presented,
	     "a bad token with REMOTE_USER set: 401, no falling through to remote-user");
	free(t1);
	auth_free(a);
	a = NULL;
	c.jwt_audience = strdup("api://dmcp");
	T_OK(auth_new(&c, &a, err, sizeof err) == DMCP_OK, "DMCP_JWT_AUDIENCE set: auth_new");
	t1 = jwt_for(k1, "ES256", "k1", "alice", "mcp");
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_OK(check(a, NULL, h, &r) == DMCP_E_UNAUTHORIZED && strstr(r.why, "resource") != NULL,
	     "with DMCP_JWT_AUDIENCE, a token for DMCP_RESOURCE is refused");
	free(t1);
	{
		char claims[512];
		snprintf(claims, sizeof claims, "{\"iss\":\"" ISS "\",\"aud\":\"api://dmcp\","
		         "\"sub\":\"alice\",\"exp\":%lld,\"scope\":\"mcp\"}",
		         (long long)time(NULL) + 600);
		t1 = tk_jwt(k1, "ES256", "k1", claims);
	}
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_OK(check(a, NULL, h, &r) == DMCP_OK, "... and one for DMCP_JWT_AUDIENCE accepted");
	free(t1);
	auth_free(a);
	a = NULL;
	cfg_free(&c);
	set_auth(&c, "remote-user,token,jwt");
	c.jwks_file = strdup(path);
	T_OK(auth_new(&c, &a, err, sizeof err) == DMCP_OK, "remote-user,token,jwt: auth_new");
	t1 = jwt_for(k1, "ES256", "k1", "alice", "");
	snprintf(h, sizeof h, "Bearer %s", t1);
	T_OK(check(a, "webuser", h, &r) == DMCP_OK && strcmp(r.principal, "webuser") == 0,
	     "remote-user first: REMOTE_USER wins");
	T_OK(check(a, NULL, h, &r) == DMCP_OK && strcmp(r.principal, "alice") == 0,
	     "no REMOTE_USER: the JWT (the token method leaves it alone)");
	free(t1);
out:
	auth_free(a);
	cfg_free(&c);
	unlink(path);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

int main(void)
{
	char err[200];

	snprintf(dir, sizeof dir, "/tmp/dmcp-test-auth.XXXXXX");
	if (mkdtemp(dir) == NULL || store_open("", &st, err, sizeof err) != DMCP_OK)
		return 1;
	test_tokens_made();
	test_remote_user();
	test_token();
	test_jwt();
	store_close(st);
	fake_store_reset();
	rmdir(dir);
	return t_done();
}
