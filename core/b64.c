/* b64.c — base64 and base64url decoding and encoding (see b64.h).
 * Knows nothing of what the bytes mean. The codec itself is OpenSSL's (EVP_DecodeBlock,
 * EVP_EncodeBlock, standard alphabet with padding); what is dmcp's is strictness: base64url
 * is mapped to the standard alphabet first, and a text is accepted only when encoding what
 * it decodes to gives the text back (so whitespace, a foreign character, wrong padding or
 * leftover bits, which OpenSSL's decoder may forgive, are all refused). RFC 4648 §4, §5. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "b64.h"

/* Characters of a text the decoders accept: OpenSSL counts lengths in int. */
#define B64_TEXT_MAX (INT_MAX / 4)

/* The decoder: text[0..n) in the standard alphabet, padded (n % 4 == 0), into out[cap];
 * *got receives the byte count. Canonical only: the re-encoding must be text. */
static dmcp_rc decode_padded(const unsigned char *text, size_t n, unsigned char *out,
                             size_t cap, size_t *got)
{
	unsigned char *dec, *again;
	size_t pad = 0, len;
	dmcp_rc rc = DMCP_E_PARSE;

	*got = 0;
	if (n % 4 != 0)
		return DMCP_E_PARSE;
	if (n > B64_TEXT_MAX)
		return DMCP_E_LIMIT;
	if (n == 0)
		return DMCP_OK;
	while (pad < 2 && text[n - 1 - pad] == '=')
		pad++;
	len = n / 4 * 3 - pad;
	if (len > cap)
		return DMCP_E_LIMIT;
	dec = malloc(n / 4 * 3 + 1);
	again = malloc(n + 1);
	if (dec == NULL || again == NULL) {
		rc = DMCP_E_NOMEM;
	} else if (EVP_DecodeBlock(dec, text, (int)n) == (int)(n / 4 * 3) &&
	           EVP_EncodeBlock(again, dec, (int)len) == (int)n && memcmp(again, text, n) == 0) {
		memcpy(out, dec, len);
		*got = len;
		rc = DMCP_OK;
	}
	free(dec);
	free(again);
	return rc;
}

dmcp_rc b64_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *got)
{
	return decode_padded((const unsigned char *)in, n, out, cap, got);
}

/* The length of in without its padding; (size_t)-1 when the padding is wrong. */
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
	size_t i, len = unpadded(in, n), padded;
	unsigned char *std;
	dmcp_rc rc;

	*got = 0;
	if (len == (size_t)-1 || len % 4 == 1)
		return DMCP_E_PARSE;
	if (len > B64_TEXT_MAX)
		return DMCP_E_LIMIT;
	if (len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1) > cap)
		return DMCP_E_LIMIT;
	padded = (len + 3) / 4 * 4;
	std = malloc(padded + 1);
	if (std == NULL)
		return DMCP_E_NOMEM;
	/* The url alphabet's two characters become the standard ones; the standard ones (and
	 * "=", which can only be padding) are foreign here. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '+' || c == '/' || c == '=') {
			free(std);
			return DMCP_E_PARSE;
		}
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	for (; i < padded; i++)
		std[i] = '=';
	rc = decode_padded(std, padded, out, cap, got);
	free(std);
	return rc;
}

dmcp_rc b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	unsigned char *std;
	size_t i, len;

	if (cap < B64_ENCODED_SIZE(n))
		return DMCP_E_LIMIT;
	if (n > B64_TEXT_MAX / 4 * 3)
		return DMCP_E_LIMIT;
	std = malloc((n + 2) / 3 * 4 + 1);
	if (std == NULL)
		return DMCP_E_NOMEM;
	len = (size_t)EVP_EncodeBlock(std, in, (int)n);
	while (len > 0 && std[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++)
		out[i] = (char)(std[i] == '+' ? '-' : std[i] == '/' ? '_' : std[i]);
	out[len] = '\0';
	free(std);
	return DMCP_OK;
}
