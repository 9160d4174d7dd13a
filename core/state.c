/* state.c — signed requestState (see state.h).
 * Knows nothing of HTTP or the database. Cryptography only through OpenSSL: HMAC-SHA256,
 * RAND_bytes, CRYPTO_memcmp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "b64.h"
#include "buf.h"
#include "rnd.h"
#include "state.h"

/* Bytes of an HMAC-SHA256 and of its base64url form without padding. */
#define STATE_MAC_LEN 32
#define STATE_MAC_B64 43
/* Bytes of the signed text: the state's fields plus a principal (ROW_MAX_PRINCIPAL). */
#define STATE_SIGNED_MAX 512
/* Digits of the LSN and of the expiry we accept (they are int64 in decimal). */
#define STATE_MAX_DIGITS 19

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

dmcp_rc state_key_hex(struct state_key *key, const char *hex)
{
	int i;

	memset(key, 0, sizeof *key);
	if (hex == NULL || strlen(hex) != 2 * STATE_KEY_LEN)
		return DMCP_E_PARAMS;
	for (i = 0; i < STATE_KEY_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			memset(key, 0, sizeof *key);
			return DMCP_E_PARAMS;
		}
		key->k[i] = (unsigned char)(hi << 4 | lo);
	}
	key->set = 1;
	return DMCP_OK;
}

dmcp_rc state_key_new_hex(char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char k[STATE_KEY_LEN];
	int i;

	if (RAND_bytes(k, sizeof k) != 1)
		return DMCP_E_INTERNAL;
	for (i = 0; i < STATE_KEY_LEN; i++) {
		out[2 * i] = digits[k[i] >> 4];
		out[2 * i + 1] = digits[k[i] & 15];
	}
	out[2 * STATE_KEY_LEN] = '\0';
	OPENSSL_cleanse(k, sizeof k);
	return DMCP_OK;
}

/* base64url without padding of the MAC into out[STATE_MAC_B64 + 1]. */
static void mac_b64(const unsigned char mac[STATE_MAC_LEN], char *out)
{
	if (b64url_encode(mac, STATE_MAC_LEN, out, STATE_MAC_B64 + 1) != DMCP_OK)
		out[0] = '\0'; /* cannot happen: the size is the encoding's */
}

/* The MAC of fields (the state without its MAC) and principal, base64url, into out. */
static dmcp_rc sign(const struct state_key *key, const char *fields, size_t flen,
                    const char *principal, char *out)
{
	unsigned char mac[STATE_MAC_LEN];
	unsigned int maclen = 0;
	struct buf b;
	dmcp_rc rc;

	if (!key->set)
		return DMCP_E_INTERNAL;
	buf_init(&b, STATE_SIGNED_MAX);
	(void)buf_add(&b, fields, flen);
	(void)buf_add(&b, ".", 1);
	(void)buf_adds(&b, principal);
	rc = b.fail;
	if (rc == DMCP_OK &&
	    HMAC(EVP_sha256(), key->k, STATE_KEY_LEN, (const unsigned char *)b.data, b.len, mac,
	         &maclen) == NULL)
		rc = DMCP_E_INTERNAL;
	if (rc == DMCP_OK)
		mac_b64(mac, out);
	buf_free(&b);
	return rc;
}

dmcp_rc state_make(const struct state_key *key, const char *run_id, int64_t lsn,
                   int64_t expiry, const char *principal, char out[STATE_MAX])
{
	char mac[STATE_MAC_B64 + 1];
	int n;
	dmcp_rc rc;

	if (!rnd_id_ok(run_id) || lsn < 0 || expiry < 0)
		return DMCP_E_PARAMS;
	n = snprintf(out, STATE_MAX, "v1.%s.%lld.%lld", run_id, (long long)lsn, (long long)expiry);
	if (n < 0 || n >= STATE_MAX - STATE_MAC_B64 - 1)
		return DMCP_E_LIMIT;
	rc = sign(key, out, (size_t)n, principal, mac);
	if (rc != DMCP_OK)
		return rc;
	snprintf(out + n, (size_t)(STATE_MAX - n), ".%s", mac);
	return DMCP_OK;
}

/* A decimal field of 1..STATE_MAX_DIGITS digits ending at the next '.', at most INT64_MAX,
 * into *v; the pointer after the dot, or NULL. */
static const char *number_field(const char *p, int64_t *v)
{
	int64_t x = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < STATE_MAX_DIGITS) {
		if (x > (INT64_MAX - (*p - '0')) / 10)
			return NULL; /* 19 digits can pass INT64_MAX */
		x = x * 10 + (*p - '0');
		p++;
		n++;
	}
	if (n == 0 || *p != '.')
		return NULL;
	*v = x;
	return p + 1;
}

dmcp_rc state_check(const struct state_key *key, const char *text, const char *principal,
                    int64_t now, rnd_hex_id run_id, int64_t *lsn)
{
	char want[STATE_MAC_B64 + 1];
	const char *p, *mac;
	int64_t expiry = 0;
	size_t len = text != NULL ? strnlen(text, STATE_MAX) : 0;

	/* "v1." + the run id + "." at least, before any byte of the id is read. */
	if (text == NULL || len >= STATE_MAX || len < 36 || strncmp(text, "v1.", 3) != 0)
		return DMCP_E_PARAMS;
	memcpy(run_id, text + 3, 32);
	run_id[32] = '\0';
	if (!rnd_id_ok(run_id) || text[35] != '.')
		return DMCP_E_PARAMS;
	p = number_field(text + 36, lsn);
	if (p != NULL)
		p = number_field(p, &expiry);
	if (p == NULL || strlen(p) != STATE_MAC_B64)
		return DMCP_E_PARAMS;
	mac = p;
	if (sign(key, text, (size_t)(mac - 1 - text), principal, want) != DMCP_OK)
		return DMCP_E_PARAMS;
	if (CRYPTO_memcmp(want, mac, STATE_MAC_B64) != 0 || expiry < now)
		return DMCP_E_PARAMS;
	return DMCP_OK;
}
