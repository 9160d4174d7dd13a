/* jwt.c — JWKS parsing and JWT access-token verification (see jwt.h).
 * Knows nothing of HTTP, files or the database. Every token byte goes through the bounded
 * base64url decoder (b64.h) and the strict JSON parser (js.h) before anything reads it;
 * the algorithm comes from the key the token names, never from the token alone: a key is
 * for one algorithm (RS256 for RSA, ES256 for P-256, EdDSA for Ed25519), so an HS256 token
 * "signed" with a public key, or an RS256 token presented under an EC key's kid, cannot
 * verify. RFC 7515, 7517, 7518, 7519, 8037, 8725, 9068. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include "b64.h"
#include "js.h"
#include "jwt.h"

/* Bytes of a decoded RSA modulus: 8192-bit keys; larger is refused as a mistake (and as
 * a way to make every verification slow). */
#define JWT_MAX_RSA_BYTES 1024
/* Bytes of a decoded signature: an RSA signature is as long as the modulus. */
#define JWT_MAX_SIG JWT_MAX_RSA_BYTES
/* Bytes of a P-256 coordinate, and of an Ed25519 public key and signature. */
#define JWT_P256_LEN 32
#define JWT_ED25519_LEN 32
#define JWT_ED25519_SIG 64

/* The algorithms dmcp verifies; each key is for exactly one of them. */
enum jwt_alg { JWT_RS256, JWT_ES256, JWT_EDDSA };

struct jwk {
	char kid[JWT_MAX_KID + 1]; /* "" when the key has none */
	int has_kid;
	enum jwt_alg alg;          /* what the key verifies */
	EVP_PKEY *pkey;            /* owned */
};

struct jwks {
	int n;
	struct jwk keys[JWT_MAX_KEYS];
};

/* ---- small helpers --------------------------------------------------------------------- */

/* The header "alg" names dmcp verifies, and what each maps to. */
static int alg_of_name(const char *name, enum jwt_alg *out)
{
	if (strcmp(name, "RS256") == 0)
		*out = JWT_RS256;
	else if (strcmp(name, "ES256") == 0)
		*out = JWT_ES256;
	else if (strcmp(name, "EdDSA") == 0 || strcmp(name, "Ed25519") == 0)
		*out = JWT_EDDSA;
	else
		return 0;
	return 1;
}

/* Decode the base64url string member key of o into out[cap]; DMCP_E_PARAMS when absent,
 * not a string, or not base64url; DMCP_E_LIMIT when too long. */
static dmcp_rc member_bytes(json_object *o, const char *key, unsigned char *out, size_t cap,
                            size_t *got)
{
	json_object *v = js_get(o, key, json_type_string);
	dmcp_rc rc;

	*got = 0;
	if (v == NULL)
		return DMCP_E_PARAMS;
	rc = b64url_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), out,
	                   cap, got);
	return rc == DMCP_E_LIMIT ? DMCP_E_LIMIT : rc == DMCP_OK ? DMCP_OK : DMCP_E_PARAMS;
}

/* ---- building keys --------------------------------------------------------------------- */

/* An RSA public key from n and e. */
static dmcp_rc rsa_key(json_object *jwk, EVP_PKEY **out, char *why, size_t whylen)
{
	unsigned char n[JWT_MAX_RSA_BYTES], e[8];
	size_t nlen, elen;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	dmcp_rc rc = DMCP_E_PARAMS;

	*out = NULL;
	if (member_bytes(jwk, "n", n, sizeof n, &nlen) != DMCP_OK ||
	    member_bytes(jwk, "e", e, sizeof e, &elen) != DMCP_OK || nlen == 0 || elen == 0) {
		snprintf(why, whylen, "RSA key: n and e must be base64url (n at most %d bits)",
		         JWT_MAX_RSA_BYTES * 8);
		return DMCP_E_PARAMS;
	}
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL) {
		rc = DMCP_E_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		snprintf(why, whylen, "RSA key: OpenSSL refused n and e");
		goto out;
	}
	if (EVP_PKEY_get_bits(*out) < JWT_MIN_RSA_BITS) {
		snprintf(why, whylen, "RSA key: %d bits, below the %d accepted", EVP_PKEY_get_bits(*out),
		         JWT_MIN_RSA_BITS);
		goto out;
	}
	rc = DMCP_OK;
out:
	if (rc != DMCP_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

/* A P-256 public key from x and y, checked to be on the curve. */
static dmcp_rc ec_key(json_object *jwk, EVP_PKEY **out, char *why, size_t whylen)
{
	unsigned char pub[1 + 2 * JWT_P256_LEN];
	size_t xl, yl;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	dmcp_rc rc = DMCP_E_PARAMS;

	*out = NULL;
	pub[0] = 0x04; /* uncompressed point: x || y */
	if (member_bytes(jwk, "x", pub + 1, JWT_P256_LEN, &xl) != DMCP_OK ||
	    member_bytes(jwk, "y", pub + 1 + JWT_P256_LEN, JWT_P256_LEN, &yl) != DMCP_OK ||
	    xl != JWT_P256_LEN || yl != JWT_P256_LEN) {
		snprintf(why, whylen, "EC key: x and y must be base64url of %d bytes each",
		         JWT_P256_LEN);
		return DMCP_E_PARAMS;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL) {
		rc = DMCP_E_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		snprintf(why, whylen, "EC key: not a point of P-256");
		goto out;
	}
	check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
	if (check == NULL) {
		rc = DMCP_E_NOMEM;
		goto out;
	}
	if (EVP_PKEY_public_check(check) != 1) {
		snprintf(why, whylen, "EC key: not a point of P-256");
		goto out;
	}
	rc = DMCP_OK;
out:
	if (rc != DMCP_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

/* An Ed25519 public key from x. */
static dmcp_rc ed_key(json_object *jwk, EVP_PKEY **out, char *why, size_t whylen)
{
	unsigned char x[JWT_ED25519_LEN];
	size_t xl;

	*out = NULL;
	if (member_bytes(jwk, "x", x, sizeof x, &xl) != DMCP_OK || xl != JWT_ED25519_LEN) {
		snprintf(why, whylen, "OKP key: x must be base64url of %d bytes", JWT_ED25519_LEN);
		return DMCP_E_PARAMS;
	}
	*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof x);
	return *out != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

/* 1 when the key's "use" and "key_ops" allow verifying signatures (absent: they do). */
static int for_signatures(json_object *jwk)
{
	json_object *ops = js_get(jwk, "key_ops", json_type_array);
	const char *use = js_str(jwk, "use");
	size_t i;

	if (use != NULL && strcmp(use, "sig") != 0)
		return 0;
	if (ops == NULL)
		return !js_has(jwk, "key_ops");
	for (i = 0; i < json_object_array_length(ops); i++) {
		json_object *op = json_object_array_get_idx(ops, i);
		if (json_object_is_type(op, json_type_string) &&
		    strcmp(json_object_get_string(op), "verify") == 0)
			return 1;
	}
	return 0;
}

/* The algorithm a JWK is for, from its kty and curve: 0 when dmcp has no use for it. */
static int key_alg(json_object *jwk, enum jwt_alg *alg)
{
	const char *kty = js_str(jwk, "kty"), *crv = js_str(jwk, "crv"), *named = js_str(jwk, "alg");
	enum jwt_alg want;

	if (kty == NULL)
		return 0;
	if (strcmp(kty, "RSA") == 0)
		*alg = JWT_RS256;
	else if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
		*alg = JWT_ES256;
	else if (strcmp(kty, "OKP") == 0 && crv != NULL && strcmp(crv, "Ed25519") == 0)
		*alg = JWT_EDDSA;
	else
		return 0;
	/* A key may name its algorithm: then only that one (RS384, PS256, ... are not ours). */
	if (js_has(jwk, "alg") && (named == NULL || !alg_of_name(named, &want) || want != *alg))
		return 0;
	return for_signatures(jwk);
}

/* 1 when the JWK carries private key material. */
static int has_private(json_object *jwk)
{
	static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
	size_t i;

	for (i = 0; i < sizeof priv / sizeof priv[0]; i++)
		if (js_has(jwk, priv[i]))
			return 1;
	return 0;
}

/* Add key number i of the document to k (or skip it). */
static dmcp_rc add_key(struct jwks *k, json_object *jwk, size_t i, char *err, size_t errlen)
{
	struct jwk *key;
	json_object *kid;
	char why[160];
	enum jwt_alg alg;
	dmcp_rc rc;
	int j;

	if (!json_object_is_type(jwk, json_type_object)) {
		snprintf(err, errlen, "key %zu is not a JSON object", i);
		return DMCP_E_PARAMS;
	}
	if (!key_alg(jwk, &alg))
		return DMCP_OK; /* not for us: another kty, curve, use or algorithm */
	if (has_private(jwk)) {
		snprintf(err, errlen, "key %zu holds private key material; publish public keys only",
		         i);
		return DMCP_E_PARAMS;
	}
	kid = js_get(jwk, "kid", json_type_string);
	if (js_has(jwk, "kid") && (kid == NULL || json_object_get_string_len(kid) == 0 ||
	                           json_object_get_string_len(kid) > JWT_MAX_KID)) {
		snprintf(err, errlen, "key %zu: kid must be a string of 1 to %d bytes", i, JWT_MAX_KID);
		return DMCP_E_PARAMS;
	}
	if (k->n == JWT_MAX_KEYS) {
		snprintf(err, errlen, "more than %d usable keys", JWT_MAX_KEYS);
		return DMCP_E_LIMIT;
	}
	key = &k->keys[k->n];
	memset(key, 0, sizeof *key);
	key->alg = alg;
	if (kid != NULL) {
		key->has_kid = 1;
		memcpy(key->kid, json_object_get_string(kid), (size_t)json_object_get_string_len(kid));
		for (j = 0; j < k->n; j++)
			if (k->keys[j].has_kid && strcmp(k->keys[j].kid, key->kid) == 0) {
				snprintf(err, errlen, "key %zu: kid used twice", i);
				return DMCP_E_PARAMS;
			}
	}
	why[0] = '\0';
	rc = alg == JWT_RS256 ? rsa_key(jwk, &key->pkey, why, sizeof why)
	   : alg == JWT_ES256 ? ec_key(jwk, &key->pkey, why, sizeof why)
	                      : ed_key(jwk, &key->pkey, why, sizeof why);
	if (rc != DMCP_OK) {
		snprintf(err, errlen, "key %zu: %s", i, why[0] ? why : "out of memory");
		return rc;
	}
	k->n++;
	return DMCP_OK;
}

dmcp_rc jwks_parse(const char *text, size_t len, struct jwks **out, char *err, size_t errlen)
{
	json_object *root = NULL, *keys;
	struct jwks *k = NULL;
	char why[200];
	size_t i;
	dmcp_rc rc;

	*out = NULL;
	if (len > JWT_MAX_JWKS) {
		snprintf(err, errlen, "larger than %u bytes", JWT_MAX_JWKS);
		return DMCP_E_LIMIT;
	}
	rc = js_parse(text, len, JWT_MAX_DEPTH, &root, why, sizeof why);
	if (rc != DMCP_OK) {
		snprintf(err, errlen, "not JSON: %s", why);
		return DMCP_E_PARAMS;
	}
	keys = js_get(root, "keys", json_type_array);
	k = calloc(1, sizeof *k);
	if (keys == NULL || k == NULL) {
		snprintf(err, errlen, k == NULL ? "out of memory" : "no \"keys\" array");
		rc = k == NULL ? DMCP_E_NOMEM : DMCP_E_PARAMS;
		goto out;
	}
	for (i = 0; i < json_object_array_length(keys) && rc == DMCP_OK; i++)
		rc = add_key(k, json_object_array_get_idx(keys, i), i, err, errlen);
	if (rc == DMCP_OK && k->n == 0) {
		snprintf(err, errlen, "no usable key (RS256 RSA, ES256 P-256 or EdDSA Ed25519 "
		         "signing keys)");
		rc = DMCP_E_PARAMS;
	}
out:
	json_object_put(root);
	ERR_clear_error();
	if (rc != DMCP_OK) {
		jwks_free(k);
		return rc;
	}
	*out = k;
	return DMCP_OK;
}

void jwks_free(struct jwks *k)
{
	int i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++)
		EVP_PKEY_free(k->keys[i].pkey);
	free(k);
}

int jwks_count(const struct jwks *k)
{
	return k != NULL ? k->n : 0;
}

/* ---- verifying ------------------------------------------------------------------------- */

/* The parts of a compact JWS: header.payload.signature (offsets into the token). */
struct parts {
	size_t h_len, p_off, p_len, s_off, s_len;
};

static int split(const char *t, size_t len, struct parts *p)
{
	const char *d1 = memchr(t, '.', len), *d2;

	if (d1 == NULL)
		return 0;
	d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - t));
	if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - t)) != NULL)
		return 0;
	p->h_len = (size_t)(d1 - t);
	p->p_off = p->h_len + 1;
	p->p_len = (size_t)(d2 - d1 - 1);
	p->s_off = (size_t)(d2 + 1 - t);
	p->s_len = len - p->s_off;
	return p->h_len > 0 && p->p_len > 0;
}

/* Decode a base64url part into a JSON object (*out owned). */
static dmcp_rc part_object(const char *s, size_t n, json_object **out)
{
	unsigned char *raw;
	size_t got;
	char err[120];
	dmcp_rc rc;

	*out = NULL;
	raw = malloc(B64_DECODED_MAX(n) + 1);
	if (raw == NULL)
		return DMCP_E_NOMEM;
	rc = b64url_decode(s, n, raw, B64_DECODED_MAX(n), &got);
	if (rc == DMCP_OK)
		rc = js_parse((const char *)raw, got, JWT_MAX_DEPTH, out, err, sizeof err);
	free(raw);
	if (rc == DMCP_OK && !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		rc = DMCP_E_PARSE;
	}
	return rc == DMCP_E_NOMEM ? rc : rc == DMCP_OK ? DMCP_OK : DMCP_E_PARSE;
}

/* Fail with a sentence. */
static dmcp_rc refuse(char *why, size_t whylen, const char *text)
{
	snprintf(why, whylen, "%s", text);
	return DMCP_E_UNAUTHORIZED;
}

/* Check the header; pick the key. */
static dmcp_rc pick_key(const struct jwks *k, json_object *hdr, const struct jwk **key,
                        char *why, size_t whylen)
{
	const char *alg = js_str(hdr, "alg"), *typ = js_str(hdr, "typ");
	json_object *kid = js_get(hdr, "kid", json_type_string);
	enum jwt_alg a;
	int i, found = 0;

	*key = NULL;
	if (alg == NULL)
		return refuse(why, whylen, "the token's header has no alg");
	if (strcmp(alg, "none") == 0)
		return refuse(why, whylen, "unsigned tokens (alg none) are refused");
	if (strncmp(alg, "HS", 2) == 0)
		return refuse(why, whylen, "symmetric algorithms (HS256, ...) are refused");
	if (!alg_of_name(alg, &a))
		return refuse(why, whylen, "unsupported alg (RS256, ES256 and EdDSA are accepted)");
	if (js_has(hdr, "crit"))
		return refuse(why, whylen, "the token's header has crit extensions");
	if (js_has(hdr, "typ") && (typ == NULL || (strcasecmp(typ, "JWT") != 0 &&
	                                           strcasecmp(typ, "at+jwt") != 0 &&
	                                           strcasecmp(typ, "application/at+jwt") != 0)))
		return refuse(why, whylen, "the token's typ is not JWT or at+jwt");
	if (js_has(hdr, "kid") && kid == NULL)
		return refuse(why, whylen, "the token's kid is not a string");
	for (i = 0; i < k->n; i++) {
		const struct jwk *c = &k->keys[i];
		if (kid != NULL ? (c->has_kid && strcmp(c->kid, json_object_get_string(kid)) == 0)
		                : c->alg == a) {
			*key = c;
			found++;
		}
	}
	if (kid != NULL && found == 0)
		return refuse(why, whylen, "unknown kid");
	if (kid == NULL && found != 1)
		return refuse(why, whylen, "the token has no kid, and the key set has not exactly one "
		              "key for its alg");
	if ((*key)->alg != a)
		return refuse(why, whylen, "the token's alg does not match its key's");
	return DMCP_OK;
}

/* ES256's r || s as the DER ECDSA-Sig-Value OpenSSL verifies; *der is OPENSSL_malloc'd. */
static int es256_der(const unsigned char *sig, unsigned char **der, int *der_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, JWT_P256_LEN, NULL), *ss = BN_bin2bn(sig + JWT_P256_LEN,
	                                                                JWT_P256_LEN, NULL);

	*der = NULL;
	if (s == NULL || r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return 0;
	}
	*der_len = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	return *der_len > 0;
}

/* 1 when sig is key's signature of data; -1 when OpenSSL failed to run. */
static int signature_ok(const struct jwk *key, const unsigned char *data, size_t dlen,
                        const unsigned char *sig, size_t slen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int der_len = 0, ok = -1;

	if (md == NULL)
		return -1;
	switch (key->alg) {
	case JWT_RS256:
		if (slen != (size_t)EVP_PKEY_get_size(key->pkey)) {
			ok = 0;
			break;
		}
		if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1)
			ok = EVP_DigestVerify(md, sig, slen, data, dlen) == 1;
		break;
	case JWT_ES256:
		if (slen != 2 * JWT_P256_LEN) {
			ok = 0;
			break;
		}
		if (es256_der(sig, &der, &der_len) &&
		    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1)
			ok = EVP_DigestVerify(md, der, (size_t)der_len, data, dlen) == 1;
		break;
	case JWT_EDDSA:
		if (slen != JWT_ED25519_SIG) {
			ok = 0;
			break;
		}
		if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1)
			ok = EVP_DigestVerify(md, sig, slen, data, dlen) == 1;
		break;
	}
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return ok;
}

/* A NumericDate (RFC 7519 §2): a JSON number, seconds since the epoch, fractions allowed. */
static int numeric_date(json_object *o, int64_t *v)
{
	struct js_num n;

	if (o == NULL || !js_is_num(o))
		return 0;
	n = js_num_of(o);
	if (n.kind == JS_NUM_INT)
		*v = n.i;
	else if (n.kind == JS_NUM_DOUBLE && n.d > -9e15 && n.d < 9e15)
		*v = (int64_t)floor(n.d);
	else
		return 0;
	return 1;
}

int jwt_same_resource(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 1 && a[la - 1] == '/')
		la--;
	if (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

static int audience_ok(json_object *claims, const char *audience)
{
	json_object *aud = NULL;
	size_t i;

	if (!json_object_object_get_ex(claims, "aud", &aud))
		return 0;
	if (json_object_is_type(aud, json_type_string))
		return jwt_same_resource(json_object_get_string(aud), audience);
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(aud); i++) {
		json_object *v = json_object_array_get_idx(aud, i);
		if (json_object_is_type(v, json_type_string) &&
		    jwt_same_resource(json_object_get_string(v), audience))
			return 1;
	}
	return 0;
}

/* The scope claim normalized into out; 0 when malformed. "scope" is a space-separated
 * string (RFC 9068 §2.2.3); some authorization servers write "scp" instead, as such a string
 * or as an array of strings: read when there is no "scope". */
static int scopes_of(json_object *claims, char out[SCOPE_MAX_LIST + 1])
{
	json_object *v = NULL;
	char joined[SCOPE_MAX_LIST + 1];
	size_t i, n, o = 0;

	out[0] = '\0';
	if (!json_object_object_get_ex(claims, "scope", &v) &&
	    !json_object_object_get_ex(claims, "scp", &v))
		return 1;
	if (json_object_is_type(v, json_type_string))
		return scope_norm(json_object_get_string(v), (size_t)json_object_get_string_len(v), 0,
		                  out, SCOPE_MAX_LIST + 1) == DMCP_OK;
	if (!json_object_is_type(v, json_type_array) || js_has(claims, "scope"))
		return 0; /* "scope" is a string or malformed; only "scp" may be an array */
	joined[0] = '\0';
	for (i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return 0;
		n = (size_t)json_object_get_string_len(e);
		if (n == 0 || memchr(json_object_get_string(e), ' ', n) != NULL ||
		    o + n + 2 > sizeof joined)
			return 0;
		if (o > 0)
			joined[o++] = ' ';
		memcpy(joined + o, json_object_get_string(e), n);
		o += n;
		joined[o] = '\0';
	}
	return scope_norm(joined, o, 0, out, SCOPE_MAX_LIST + 1) == DMCP_OK;
}

/* The principal claim: a string of 1..ROW_MAX_PRINCIPAL bytes, no control characters. */
static int principal_of(json_object *claims, const char *claim, char *out)
{
	json_object *v = js_get(claims, claim, json_type_string);
	const char *s;
	size_t i, n;

	if (v == NULL)
		return 0;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > ROW_MAX_PRINCIPAL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

/* The claims: issuer, audience, time, principal, scopes. */
static dmcp_rc check_claims(json_object *c, const struct jwt_policy *p, struct jwt_claims *out,
                            char *why, size_t whylen)
{
	const char *iss = js_str(c, "iss");
	json_object *v = NULL;
	int64_t nbf;

	if (iss == NULL || strcmp(iss, p->issuer) != 0)
		return refuse(why, whylen, "the token was issued by another issuer");
	if (!audience_ok(c, p->audience))
		return refuse(why, whylen, "the token was not issued for this resource (aud)");
	json_object_object_get_ex(c, "exp", &v);
	if (!numeric_date(v, &out->exp))
		return refuse(why, whylen, "the token has no exp");
	if (p->now >= out->exp + JWT_SKEW_S)
		return refuse(why, whylen, "the token has expired");
	if (json_object_object_get_ex(c, "nbf", &v)) {
		if (!numeric_date(v, &nbf))
			return refuse(why, whylen, "the token's nbf is not a number");
		if (p->now + JWT_SKEW_S < nbf)
			return refuse(why, whylen, "the token is not valid yet (nbf)");
	}
	if (!principal_of(c, p->principal_claim, out->principal))
		return refuse(why, whylen, "the token has no usable principal claim");
	if (!scopes_of(c, out->scopes))
		return refuse(why, whylen, "the token's scope claim is malformed or too long");
	return DMCP_OK;
}

dmcp_rc jwt_verify(const struct jwks *keys, const char *token, size_t len,
                   const struct jwt_policy *policy, struct jwt_claims *out, char *why,
                   size_t whylen)
{
	json_object *hdr = NULL, *claims = NULL;
	const struct jwk *key = NULL;
	unsigned char sig[JWT_MAX_SIG];
	struct parts p;
	size_t slen = 0;
	dmcp_rc rc;
	int ok;

	memset(out, 0, sizeof *out);
	if (len > JWT_MAX_TOKEN)
		return refuse(why, whylen, "the token is too long");
	if (!split(token, len, &p))
		return refuse(why, whylen, "the token is not a JWS in compact form");
	rc = part_object(token, p.h_len, &hdr);
	if (rc == DMCP_OK)
		rc = pick_key(keys, hdr, &key, why, whylen);
	else if (rc != DMCP_E_NOMEM)
		rc = refuse(why, whylen, "the token's header is not base64url JSON");
	if (rc != DMCP_OK)
		goto out;
	if (b64url_decode(token + p.s_off, p.s_len, sig, sizeof sig, &slen) != DMCP_OK) {
		rc = refuse(why, whylen, "the token's signature is not base64url");
		goto out;
	}
	/* The signature first: nothing of the claims is believed before it verified. */
	ok = signature_ok(key, (const unsigned char *)token, p.s_off - 1, sig, slen);
	if (ok < 0) {
		rc = DMCP_E_NOMEM;
		goto out;
	}
	if (!ok) {
		rc = refuse(why, whylen, "the token's signature does not verify");
		goto out;
	}
	rc = part_object(token + p.p_off, p.p_len, &claims);
	if (rc == DMCP_OK)
		rc = check_claims(claims, policy, out, why, whylen);
	else if (rc != DMCP_E_NOMEM)
		rc = refuse(why, whylen, "the token's claims are not base64url JSON");
out:
	json_object_put(hdr);
	json_object_put(claims);
	ERR_clear_error(); /* what a refused key or signature left in this thread's queue */
	if (rc != DMCP_OK)
		memset(out, 0, sizeof *out);
	return rc;
}
