/* testkeys.h — keys and JWTs for the unit tests of jwt.c and auth.c, made with OpenSSL's API
 * at run time (no key is committed): RSA, P-256 and Ed25519 key pairs, their public JWKs, and
 * compact JWS signed with them (or with HMAC, or not at all, for the tokens that must be
 * refused). Static functions; included by one test program each. Aborts on an OpenSSL
 * failure: the tests cannot go on without their keys. */
#ifndef DMCP_TESTKEYS_H
#define DMCP_TESTKEYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "b64.h"

/* Bytes of a JWK or a JWT the tests make. */
#define TK_MAX 8192

static inline void tk_die(const char *what)
{
	fprintf(stderr, "testkeys: %s failed\n", what);
	abort();
}

static inline EVP_PKEY *tk_rsa(int bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	if (k == NULL)
		tk_die("RSA keygen");
	return k;
}

static inline EVP_PKEY *tk_ec(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (k == NULL)
		tk_die("EC keygen");
	return k;
}

static inline EVP_PKEY *tk_ed(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (k == NULL)
		tk_die("Ed25519 keygen");
	return k;
}

/* base64url of n bytes into out[TK_MAX]. */
static inline void tk_b64(const unsigned char *p, size_t n, char *out)
{
	if (b64url_encode(p, n, out, TK_MAX) != DMCP_OK)
		tk_die("b64url_encode");
}

/* base64url of a BIGNUM parameter of k, padded to pad bytes (0: its own length). */
static inline void tk_bn(EVP_PKEY *k, const char *param, int pad, char *out)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		tk_die(param);
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n <= 0)
		tk_die("BN_bn2bin");
	tk_b64(buf, (size_t)n, out);
}

/* The public JWK of k as JSON text (malloc'd): kid and extra members ("\"use\":\"sig\"",
 * or "" for none) added as given. */
static inline char *tk_jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
	char a[TK_MAX], b[TK_MAX], *out = malloc(3 * TK_MAX);
	unsigned char raw[64];
	size_t rl = sizeof raw;
	const char *sep = extra[0] ? "," : "";

	if (out == NULL)
		tk_die("malloc");
	if (EVP_PKEY_is_a(k, "RSA")) {
		tk_bn(k, OSSL_PKEY_PARAM_RSA_N, 0, a);
		tk_bn(k, OSSL_PKEY_PARAM_RSA_E, 0, b);
		snprintf(out, 3 * TK_MAX, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s%s}",
		         kid, a, b, sep, extra);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		tk_bn(k, OSSL_PKEY_PARAM_EC_PUB_X, 32, a);
		tk_bn(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32, b);
		snprintf(out, 3 * TK_MAX, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\","
		         "\"y\":\"%s\"%s%s}", kid, a, b, sep, extra);
	} else {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rl) != 1)
			tk_die("raw public key");
		tk_b64(raw, rl, a);
		snprintf(out, 3 * TK_MAX, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"%s\","
		         "\"x\":\"%s\"%s%s}", kid, a, sep, extra);
	}
	return out;
}

/* The signature of data[0..n) with k as JWS wants it (RS256, ES256 as r||s, EdDSA) into
 * sig[TK_MAX]; its length. */
static inline size_t tk_sign(EVP_PKEY *k, const char *data, size_t n, unsigned char *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[256];
	const unsigned char *p = der;
	size_t len = TK_MAX;
	int ec = EVP_PKEY_is_a(k, "EC"), ed = EVP_PKEY_is_a(k, "ED25519");
	ECDSA_SIG *s;

	if (md == NULL || EVP_DigestSignInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, k) != 1)
		tk_die("DigestSignInit");
	if (ec)
		len = sizeof der;
	if (EVP_DigestSign(md, ec ? der : sig, &len, (const unsigned char *)data, n) != 1)
		tk_die("DigestSign");
	EVP_MD_CTX_free(md);
	if (!ec)
		return len;
	s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (s == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) != 32)
		tk_die("ECDSA r||s");
	ECDSA_SIG_free(s);
	return 64;
}

/* A compact JWS of header and claims (JSON texts) signed with k; k NULL: signed with
 * HMAC-SHA256 under hmac_key (an HS256 token), or, when hmac_key is NULL too, with an
 * empty signature (alg none). malloc'd. */
static inline char *tk_jwt_with(EVP_PKEY *k, const char *hmac_key, const char *header,
                         const char *claims)
{
	char h[TK_MAX], c[TK_MAX], s[TK_MAX], *out = malloc(3 * TK_MAX + 3);
	unsigned char sig[TK_MAX];
	unsigned int hl = 0;
	size_t sl = 0;

	if (out == NULL)
		tk_die("malloc");
	tk_b64((const unsigned char *)header, strlen(header), h);
	tk_b64((const unsigned char *)claims, strlen(claims), c);
	snprintf(out, 3 * TK_MAX + 3, "%s.%s", h, c);
	if (k != NULL) {
		sl = tk_sign(k, out, strlen(out), sig);
	} else if (hmac_key != NULL) {
		if (HMAC(EVP_sha256(), hmac_key, (int)strlen(hmac_key), (const unsigned char *)out,
		         strlen(out), sig, &hl) == NULL)
			tk_die("HMAC");
		sl = hl;
	}
	tk_b64(sig, sl, s);
	snprintf(out + strlen(out), 3 * TK_MAX + 3 - strlen(out), ".%s", s);
	return out;
}

/* A token signed with k under header {"alg":alg,"kid":kid,"typ":"at+jwt"}. */
static inline char *tk_jwt(EVP_PKEY *k, const char *alg, const char *kid, const char *claims)
{
	char header[256];

	snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", alg,
	         kid);
	return tk_jwt_with(k, NULL, header, claims);
}

#endif
