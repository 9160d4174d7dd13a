/* test_jwt.c — TAP tests of core/jwt.c without a network: key sets and tokens made at run
 * time with OpenSSL's API (tests/unit/testkeys.h), plus two known-answer vectors from the
 * RFCs. A good RS256, ES256 and EdDSA token is accepted with its principal, scopes and
 * expiry; each bad one is refused with the reason that names its check: another key, issuer
 * or audience, expired, not yet valid (both around the skew), alg none, HS256 keyed with the
 * public key, unknown kid, a kid of a key for another alg, a malformed or oversize token,
 * crit, a bad typ, bad principal and scope claims. Key sets: what is skipped and what is
 * refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include "jwt.h"
#include "t.h"
#include "testkeys.h"

#define ISS "https://as.example"
#define AUD "https://mcp.example/mcp"

static EVP_PKEY *rsa, *ec, *ed, *other_rsa, *rsa2;
static struct jwks *keys;
static int64_t now;

/* Claims with exp/nbf relative to now; extra ("" or ",\"k\":v...") appended. */
static char *claims(const char *iss, const char *aud_json, long exp_in, const char *extra)
{
	static char out[TK_MAX];

	snprintf(out, sizeof out, "{\"iss\":\"%s\",\"aud\":%s,\"sub\":\"alice\",\"exp\":%lld,"
	         "\"scope\":\"mcp read\"%s}", iss, aud_json, (long long)(now + exp_in), extra);
	return out;
}

static char *good(const char *extra)
{
	return claims(ISS, "\"" AUD "\"", 300, extra);
}

/* Verify tok with the test policy; the reason (or "ok") into why. */
static dmcp_rc verify(const char *tok, struct jwt_claims *c, char *why, size_t whylen)
{
	struct jwt_policy p = {.issuer = ISS, .audience = AUD, .principal_claim = "sub", .now = now};

	why[0] = '\0';
	return jwt_verify(keys, tok, strlen(tok), &p, c, why, whylen);
}

/* 1 when tok (taken, freed) is refused with a reason containing want. */
static int refused(char *tok, const char *want, char *got, size_t cap)
{
	struct jwt_claims c;
	dmcp_rc rc = verify(tok, &c, got, cap);

	free(tok);
	return rc == DMCP_E_UNAUTHORIZED && strstr(got, want) != NULL && c.principal[0] == '\0';
}

#define REFUSED(tok, want, name)                                                       \
	do {                                                                             \
		char why_[AUTH_WHY_TEST];                                                    \
		T_OK(refused((tok), (want), why_, sizeof why_), "%s (why: %s)", (name), why_); \
	} while (0)
/* Bytes of a reason the tests read. */
#define AUTH_WHY_TEST 200

static struct jwks *parse(const char *text, char *err, size_t errlen)
{
	struct jwks *k = NULL;

	err[0] = '\0';
	if (jwks_parse(text, strlen(text), &k, err, errlen) != DMCP_OK)
		return NULL;
	return k;
}

static void build_keys(void)
{
	char *j1 = tk_jwk(rsa, "rsa-1", "\"use\":\"sig\",\"alg\":\"RS256\""),
	     *j2 = tk_jwk(ec, "ec-1", "\"use\":\"sig\""), *j3 = tk_jwk(ed, "ed-1", ""),
	     *j4 = tk_jwk(rsa2, "enc-1", "\"use\":\"enc\""), text[4 * 3 * TK_MAX], err[200];

	snprintf(text, sizeof text, "{\"keys\":[%s,%s,%s,%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},"
	         "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}]}", j1, j2, j3, j4);
	keys = parse(text, err, sizeof err);
	T_OK(keys != NULL, "a key set of RSA, P-256 and Ed25519 signing keys parses (%s)", err);
	T_EQ_INT(jwks_count(keys), 3, "3 usable keys: the enc key, the oct key and the P-384 key "
	         "are skipped");
	free(j1);
	free(j2);
	free(j3);
	free(j4);
}

static void test_good(void)
{
	struct jwt_claims c;
	char why[200], *t;

	t = tk_jwt(rsa, "RS256", "rsa-1", good(""));
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "RS256: accepted");
	T_EQ_STR(c.principal, "alice", "RS256: the principal is sub");
	T_EQ_STR(c.scopes, "mcp read", "RS256: the scopes");
	T_EQ_INT(c.exp, now + 300, "RS256: exp");
	free(t);
	t = tk_jwt(ec, "ES256", "ec-1", good(""));
	T_OK(verify(t, &c, why, sizeof why) == DMCP_OK, "ES256: accepted (%s)", why);
	free(t);
	t = tk_jwt(ed, "EdDSA", "ed-1", good(""));
	T_OK(verify(t, &c, why, sizeof why) == DMCP_OK, "EdDSA: accepted (%s)", why);
	free(t);
	t = tk_jwt(ed, "Ed25519", "ed-1", good(""));
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "alg Ed25519 (RFC 9864): accepted");
	free(t);
	t = tk_jwt_with(ec, NULL, "{\"alg\":\"ES256\"}", good(""));
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "no kid, no typ: the one ES256 key");
	free(t);
	t = tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "[\"https://other\",\"" AUD "\"]", 300, ""));
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "aud: an array holding the resource");
	free(t);
	t = tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "\"" AUD "/\"", 300, ""));
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "aud: the resource with a trailing /");
	free(t);
	t = tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "\"" AUD "\"", -30, ""));
	T_OK(verify(t, &c, why, sizeof why) == DMCP_OK, "exp 30 s ago: within the %d s skew",
	     JWT_SKEW_S);
	free(t);
	t = tk_jwt(rsa, "RS256", "rsa-1", good(",\"nbf\":9999999999"));
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_E_UNAUTHORIZED, "nbf far ahead: refused");
	free(t);
	{
		char extra[64];
		snprintf(extra, sizeof extra, ",\"nbf\":%lld", (long long)(now + 30));
		t = tk_jwt(rsa, "RS256", "rsa-1", good(extra));
		T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "nbf 30 s ahead: within the skew");
		free(t);
	}
	t = tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "\"" AUD "\"", 300, ",\"scope\":\"\""));
	free(t); /* (a duplicate key: not what this test is about) */
	t = tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"JWT\"}",
	                "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"bob\",\"exp\":9999999999,"
	                "\"scp\":[\"files:read\",\"mcp\"]}");
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "typ JWT, scp as an array: accepted");
	T_EQ_STR(c.scopes, "files:read mcp", "scp joined into the scopes");
	T_EQ_STR(c.principal, "bob", "principal bob");
	free(t);
	t = tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"bob\",\"exp\":9999999999,"
	                "\"scp\":\"mcp  files:read\"}");
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "scp as a string: accepted");
	T_EQ_STR(c.scopes, "mcp files:read", "scp string normalized into the scopes");
	free(t);
	t = tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"bob\",\"exp\":9999999999.5}");
	T_EQ_INT(verify(t, &c, why, sizeof why), DMCP_OK, "no scope claim, a fractional exp");
	T_EQ_STR(c.scopes, "", "no scopes");
	free(t);
	{
		struct jwt_policy p = {.issuer = ISS, .audience = AUD, .principal_claim = "email",
		                       .now = now};
		t = tk_jwt(rsa, "RS256", "rsa-1", good(",\"email\":\"alice@example.com\""));
		T_EQ_INT(jwt_verify(keys, t, strlen(t), &p, &c, why, sizeof why), DMCP_OK,
		         "principal claim email");
		T_EQ_STR(c.principal, "alice@example.com", "the principal is the email claim");
		free(t);
	}
}

static void test_refused(void)
{
	char header[300], big[JWT_MAX_TOKEN + 2], *pem = NULL, *t;
	BIO *bio;
	long n;

	REFUSED(tk_jwt(other_rsa, "RS256", "rsa-1", good("")), "signature does not verify",
	        "RS256 signed by another key under a known kid");
	REFUSED(tk_jwt(ec, "ES256", "rsa-1", good("")), "does not match its key",
	        "ES256 token naming the RSA key's kid (kid/alg mismatch)");
	REFUSED(tk_jwt(rsa, "RS256", "ec-1", good("")), "does not match its key",
	        "RS256 token naming the EC key's kid");
	REFUSED(tk_jwt(rsa, "RS256", "nobody", good("")), "unknown kid", "unknown kid");
	REFUSED(tk_jwt(rsa, "RS256", "rsa-1", claims("https://evil.example", "\"" AUD "\"", 300,
	                                               "")), "another issuer", "wrong issuer");
	REFUSED(tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "\"https://mcp.example/other\"", 300, "")),
	        "not issued for this resource", "wrong audience");
	REFUSED(tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "[\"https://a\",\"https://b\"]", 300, "")),
	        "not issued for this resource", "audience array without the resource");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"exp\":9999999999}"),
	        "not issued for this resource", "no aud");
	REFUSED(tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "\"" AUD "\"", -61, "")), "expired",
	        "expired 61 s ago (skew 60 s)");
	REFUSED(tk_jwt(rsa, "RS256", "rsa-1", claims(ISS, "\"" AUD "\"", -3600, "")), "expired",
	        "expired an hour ago");
	{
		char extra[64];
		snprintf(extra, sizeof extra, ",\"nbf\":%lld", (long long)(now + 61));
		REFUSED(tk_jwt(rsa, "RS256", "rsa-1", good(extra)), "not valid yet",
		        "nbf 61 s ahead");
	}
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\"}"), "no exp",
	        "no exp");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":\"soon\"}"),
	        "no exp", "exp not a number");
	REFUSED(tk_jwt_with(NULL, NULL, "{\"alg\":\"none\",\"kid\":\"rsa-1\"}", good("")),
	        "alg none", "alg none (empty signature)");
	REFUSED(tk_jwt_with(NULL, NULL, "{\"alg\":\"none\"}", good("")), "alg none",
	        "alg none without kid");
	/* HS256 "signed" with the RSA public key (its PEM, what a confused verifier would use as
	 * the HMAC secret). */
	bio = BIO_new(BIO_s_mem());
	if (bio != NULL && PEM_write_bio_PUBKEY(bio, rsa) == 1 && (n = BIO_get_mem_data(bio, &pem)) > 0) {
		char key[4096];
		snprintf(key, sizeof key, "%.*s", (int)n, pem);
		REFUSED(tk_jwt_with(NULL, key, "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", good("")),
		        "symmetric", "HS256 keyed with the RSA public key's PEM");
	}
	BIO_free(bio);
	REFUSED(tk_jwt_with(NULL, "secret", "{\"alg\":\"HS512\"}", good("")), "symmetric", "HS512");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", good("")),
	        "unsupported alg", "PS256 (not offered)");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"kid\":\"rsa-1\"}", good("")), "no alg", "no alg");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"]}",
	                    good("")), "crit", "a crit header");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"dpop+jwt\"}",
	                    good("")), "typ", "typ dpop+jwt");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":7}", good("")),
	        "kid is not a string", "kid a number");
	REFUSED(tk_jwt(rsa, "RS256", "rsa-1", good(",\"sub\":7")), "principal", "sub a number");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":9999999999}"),
	        "principal", "no sub");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\\nb\","
	                    "\"exp\":9999999999}"), "principal", "sub with a newline");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	                    "\"exp\":9999999999,\"scope\":\"a\\\"b\"}"), "scope", "a bad scope");
	REFUSED(tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
	                    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	                    "\"exp\":9999999999,\"scope\":[\"a\"]}"), "scope", "scope an array");
	{
		char sub[ROW_MAX_PRINCIPAL + 40];
		memset(sub, 'x', sizeof sub);
		snprintf(header, sizeof header, ",\"sub\":\"%.*s\"", ROW_MAX_PRINCIPAL + 1, sub);
		REFUSED(tk_jwt(rsa, "RS256", "rsa-1", good(header)), "principal",
		        "sub over ROW_MAX_PRINCIPAL bytes");
	}

	/* Malformed. */
	t = tk_jwt(rsa, "RS256", "rsa-1", good(""));
	{
		char *copy = strdup(t), *dot = strrchr(copy, '.');
		*dot = '\0';
		REFUSED(strdup(copy), "compact form", "two parts");
		snprintf(big, sizeof big, "%s.%s", t, "AAAA");
		REFUSED(strdup(big), "compact form", "four parts");
		snprintf(big, sizeof big, ".%s", strchr(t, '.') + 1);
		REFUSED(strdup(big), "compact form", "an empty header");
		snprintf(big, sizeof big, "%s", t);
		big[strlen(big) - 1] = big[strlen(big) - 1] == 'A' ? 'B' : 'A';
		REFUSED(strdup(big), "", "a changed last signature character");
		snprintf(big, sizeof big, "%s", t);
		dot = strchr(big, '.') + 1;
		dot[3] = dot[3] == 'A' ? 'B' : 'A';
		REFUSED(strdup(big), "signature does not verify", "a changed claims character");
		snprintf(big, sizeof big, "%s", t);
		strchr(big, '.')[1] = '+';
		REFUSED(strdup(big), "", "'+' in the claims");
		snprintf(big, sizeof big, "%s=", t);
		REFUSED(strdup(big), "", "'=' after the signature");
		free(copy);
	}
	memset(big, 'A', sizeof big);
	memcpy(big, t, strlen(t));
	big[JWT_MAX_TOKEN + 1] = '\0';
	REFUSED(strdup(big), "too long", "a token of JWT_MAX_TOKEN + 1 bytes");
	free(t);
	REFUSED(strdup("e30.e30.AAAA"), "", "header {} (no alg)");
	REFUSED(strdup("W10.e30.AAAA"), "header", "header [] (not an object)");
	REFUSED(strdup("bm90IGpzb24.e30.AAAA"), "header", "header not JSON");
	REFUSED(strdup("..."), "compact form", "dots only");
	/* The claims are read only after the signature verified. */
	t = tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "[1,2]");
	REFUSED(t, "claims", "claims [1,2], properly signed");
}

/* Known answers: the RFCs' example signatures verify (the claims then fail our policy,
 * which shows that the signature passed). */
static void test_vectors(void)
{
	/* RFC 7515 A.3 (ES256) and RFC 8037 A.4 (Ed25519). */
	static const char ks[] =
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a3\","
		"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
		"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a4\","
		"\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
	static const char es[] =
		"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
		"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5d"
		"jxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
	static const char edj[] =
		"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-"
		"09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
	struct jwt_policy p = {.issuer = "joe", .audience = AUD, .principal_claim = "sub",
	                       .now = 1300819000};
	struct jwt_claims c;
	struct jwks *k;
	char err[200], why[200], tampered[sizeof es];

	k = parse(ks, err, sizeof err);
	T_OK(k != NULL, "the RFCs' example keys parse (%s)", err);
	if (k == NULL)
		return;
	T_OK(jwt_verify(k, es, strlen(es), &p, &c, why, sizeof why) == DMCP_E_UNAUTHORIZED &&
	     strstr(why, "not issued for this resource") != NULL,
	     "RFC 7515 A.3: the ES256 signature verifies, iss joe passes, no aud stops it (%s)",
	     why);
	memcpy(tampered, es, sizeof es);
	tampered[sizeof es - 3] = tampered[sizeof es - 3] == 'Q' ? 'R' : 'Q';
	T_OK(jwt_verify(k, tampered, strlen(tampered), &p, &c, why, sizeof why) ==
	     DMCP_E_UNAUTHORIZED && strstr(why, "signature") != NULL,
	     "RFC 7515 A.3 with a changed signature: refused (%s)", why);
	T_OK(jwt_verify(k, edj, strlen(edj), &p, &c, why, sizeof why) == DMCP_E_UNAUTHORIZED &&
	     strstr(why, "claims are not") != NULL,
	     "RFC 8037 A.4: the Ed25519 signature verifies; its text payload is no claims (%s)",
	     why);
	jwks_free(k);
}

static void test_jwks(void)
{
	char err[200], text[4 * TK_MAX], *j, *j2;
	struct jwks *k;
	EVP_PKEY *small = tk_rsa(1024);
	int i;

	T_OK(parse("{}", err, sizeof err) == NULL && strstr(err, "keys") != NULL,
	     "no keys array: refused (%s)", err);
	T_OK(parse("{\"keys\":[]}", err, sizeof err) == NULL && strstr(err, "no usable") != NULL,
	     "an empty set: refused (%s)", err);
	T_OK(parse("not json", err, sizeof err) == NULL, "not JSON: refused (%s)", err);
	T_OK(parse("{\"keys\":[1]}", err, sizeof err) == NULL, "a key that is not an object (%s)",
	     err);
	j = tk_jwk(small, "small", "");
	snprintf(text, sizeof text, "{\"keys\":[%s]}", j);
	T_OK(parse(text, err, sizeof err) == NULL && strstr(err, "1024 bits") != NULL,
	     "a 1024-bit RSA key: refused (%s)", err);
	free(j);
	j = tk_jwk(rsa, "r", "\"d\":\"AQAB\"");
	snprintf(text, sizeof text, "{\"keys\":[%s]}", j);
	T_OK(parse(text, err, sizeof err) == NULL && strstr(err, "private") != NULL,
	     "a key with its private part: refused (%s)", err);
	free(j);
	j = tk_jwk(rsa, "same", "");
	j2 = tk_jwk(ec, "same", "");
	snprintf(text, sizeof text, "{\"keys\":[%s,%s]}", j, j2);
	T_OK(parse(text, err, sizeof err) == NULL && strstr(err, "twice") != NULL,
	     "two keys with one kid: refused (%s)", err);
	free(j);
	free(j2);
	T_OK(parse("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA"
	           "AAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}", err,
	           sizeof err) == NULL && strstr(err, "P-256") != NULL,
	     "an EC point off the curve: refused (%s)", err);
	T_OK(parse("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
	           err, sizeof err) == NULL, "EC coordinates of the wrong size: refused (%s)", err);
	T_OK(parse("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"a+b\",\"e\":\"AQAB\"}]}", err, sizeof err) ==
	     NULL, "RSA n not base64url: refused (%s)", err);
	T_OK(parse("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}", err,
	           sizeof err) == NULL, "Ed25519 x of the wrong size: refused (%s)", err);
	T_OK(parse("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"\",\"x\":"
	           "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}", err, sizeof err) == NULL,
	     "an empty kid: refused (%s)", err);
	/* Skipped, not refused: keys for something else. */
	j = tk_jwk(rsa, "r", "\"key_ops\":[\"encrypt\"]");
	j2 = tk_jwk(ec, "e", "\"alg\":\"ES384\"");
	snprintf(text, sizeof text, "{\"keys\":[%s,%s,{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}"
	         ",{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"v\",\"key_ops\":[\"verify\"],\"x\":"
	         "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}", j, j2);
	k = parse(text, err, sizeof err);
	T_OK(k != NULL && jwks_count(k) == 1, "key_ops without verify, another alg and X25519 are "
	     "skipped; the verify key is kept (%s)", err);
	jwks_free(k);
	free(j);
	free(j2);
	/* More than JWT_MAX_KEYS usable keys. */
	snprintf(text, sizeof text, "{\"keys\":[");
	for (i = 0; i <= JWT_MAX_KEYS; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "%s{\"kty\":\"OKP\",\"crv\":"
		         "\"Ed25519\",\"kid\":\"k%d\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		         i ? "," : "", i);
	snprintf(text + strlen(text), sizeof text - strlen(text), "]}");
	T_OK(parse(text, err, sizeof err) == NULL && strstr(err, "more than") != NULL,
	     "%d usable keys: refused (%s)", JWT_MAX_KEYS + 1, err);
	{
		size_t n = JWT_MAX_JWKS + 1;
		char *huge = malloc(n + 1);
		memset(huge, ' ', n);
		huge[n] = '\0';
		T_EQ_INT(jwks_parse(huge, n, &k, err, sizeof err), DMCP_E_LIMIT,
		         "a file over JWT_MAX_JWKS bytes: DMCP_E_LIMIT");
		free(huge);
	}
	EVP_PKEY_free(small);
	/* A set with two RSA keys: a token without kid names neither. */
	j = tk_jwk(rsa, "one", "");
	j2 = tk_jwk(other_rsa, "two", "");
	snprintf(text, sizeof text, "{\"keys\":[%s,%s]}", j, j2);
	k = parse(text, err, sizeof err);
	{
		struct jwt_policy p = {.issuer = ISS, .audience = AUD, .principal_claim = "sub",
		                       .now = now};
		struct jwt_claims c;
		char why[200], *t = tk_jwt_with(rsa, NULL, "{\"alg\":\"RS256\"}", good(""));
		T_OK(k != NULL && jwt_verify(k, t, strlen(t), &p, &c, why, sizeof why) ==
		     DMCP_E_UNAUTHORIZED && strstr(why, "no kid") != NULL,
		     "no kid with two RS256 keys: refused (%s)", why);
		free(t);
	}
	jwks_free(k);
	free(j);
	free(j2);
}

int main(void)
{
	now = (int64_t)time(NULL);
	rsa = tk_rsa(2048);
	rsa2 = tk_rsa(2048);
	other_rsa = tk_rsa(2048);
	ec = tk_ec();
	ed = tk_ed();
	build_keys();
	if (keys != NULL) {
		test_good();
		test_refused();
	}
	test_vectors();
	test_jwks();
	T_OK(jwt_same_resource("https://a/mcp", "https://a/mcp/"), "same resource: one trailing /");
	T_OK(!jwt_same_resource("https://a/mcp", "https://a/mcp//"), "not with two");
	T_OK(!jwt_same_resource("https://a/mcp", "https://a/mc"), "not a prefix");
	jwks_free(keys);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(other_rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	return t_done();
}
