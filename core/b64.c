/* b64.c — base64url decoding and encoding (see b64.h).
 * Knows nothing of what the bytes mean. A table-free decoder: every character is checked
 * against the alphabet, every length and every leftover bit. RFC 4648 §5. */
#include "b64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of a base64url character, or -1. */
static int value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* The length of in without its padding; 0 characters, (size_t)-1 when the padding is wrong. */
static size_t unpadded(const char *in, size_t n)
{
	size_t pad = 0;

	while (pad < n && in[n - 1 - pad] == '=')
		pad++;
	if (pad == 0)
		return n;
	/* Padded: exactly what makes the length a multiple of 4 (one or two signs). */
	if (n % 4 != 0 || pad > 2)
		return (size_t)-1;
	return n - pad;
}

dmcp_rc b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *got)
{
	unsigned long acc = 0;
	size_t i, len = unpadded(in, n), o = 0;
	int bits = 0, v;

	*got = 0;
	if (len == (size_t)-1 || len % 4 == 1)
		return DMCP_E_PARSE;
	if (len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1) > cap)
		return DMCP_E_LIMIT;
	for (i = 0; i < len; i++) {
		v = value((unsigned char)in[i]);
		if (v < 0)
			return DMCP_E_PARSE;
		acc = (acc << 6 | (unsigned long)v) & 0xffffffUL;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* 2 or 4 bits are left after 2 or 3 characters of a final group: they must be zero. */
	if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0)
		return DMCP_E_PARSE;
	*got = o;
	return DMCP_OK;
}

dmcp_rc b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	unsigned long acc = 0;
	int bits = 0;

	if (cap < B64_ENCODED_SIZE(n))
		return DMCP_E_LIMIT;
	for (i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xffffUL;
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[acc >> bits & 63];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[acc << (6 - bits) & 63];
	out[o] = '\0';
	return DMCP_OK;
}
