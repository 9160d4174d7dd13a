/* test_b64.c — TAP tests of core/b64.c: RFC 4648's test vectors in the base64url alphabet
 * and in the standard one,
 * round trips of every length up to 64, and each input the decoder must refuse (foreign
 * characters, impossible lengths, wrong padding, leftover bits, no room). */
#include <stdlib.h>
#include <string.h>
#include "b64.h"
#include "t.h"

/* RFC 4648 §10 (the same in base64url: no "+" or "/" occurs), unpadded and padded. */
static const struct {
	const char *raw, *enc, *padded;
} vectors[] = {
	{"", "", ""},
	{"f", "Zg", "Zg=="},
	{"fo", "Zm8", "Zm8="},
	{"foo", "Zm9v", "Zm9v"},
	{"foob", "Zm9vYg", "Zm9vYg=="},
	{"fooba", "Zm9vYmE", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

typedef dmcp_rc (*decoder)(const char *, size_t, unsigned char *, size_t, size_t *);

/* 1 when dec decodes in to exactly want. */
static int decodes_with(decoder dec, const char *in, const char *want)
{
	unsigned char out[64];
	size_t got = 99;

	return dec(in, strlen(in), out, sizeof out, &got) == DMCP_OK && got == strlen(want) &&
	       memcmp(out, want, got) == 0;
}

/* What dec says of in with cap bytes of room. */
static dmcp_rc decode_with(decoder dec, const char *in, size_t cap)
{
	unsigned char out[64];
	size_t got;

	return dec(in, strlen(in), out, cap, &got);
}

#define decodes_to(in, want) decodes_with(b64url_decode, in, want)
#define decode(in, cap) decode_with(b64url_decode, in, cap)
#define std_decodes_to(in, want) decodes_with(b64_decode, in, want)
#define std_decode(in, cap) decode_with(b64_decode, in, cap)

int main(void)
{
	unsigned char raw[64], back[64];
	char enc[B64_ENCODED_SIZE(64)];
	size_t i, n, got;
	int bad = 0;

	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		T_OK(b64url_encode((const unsigned char *)vectors[i].raw, strlen(vectors[i].raw), enc,
		                   sizeof enc) == DMCP_OK && strcmp(enc, vectors[i].enc) == 0,
		     "encode \"%s\" = \"%s\" (got \"%s\")", vectors[i].raw, vectors[i].enc, enc);
		T_OK(decodes_to(vectors[i].enc, vectors[i].raw), "decode \"%s\"", vectors[i].enc);
		T_OK(decodes_to(vectors[i].padded, vectors[i].raw), "decode padded \"%s\"",
		     vectors[i].padded);
	}
	/* The two characters that differ from base64, both ways. */
	raw[0] = 0xfb;
	raw[1] = 0xff;
	T_OK(b64url_encode(raw, 2, enc, sizeof enc) == DMCP_OK && strcmp(enc, "-_8") == 0,
	     "0xfb 0xff encodes as -_8 (not +/8)");
	T_OK(decodes_to("-_8", "\xfb\xff"), "-_8 decodes to 0xfb 0xff");

	/* Round trips of every length, every byte value. */
	for (n = 0; n <= sizeof raw; n++) {
		for (i = 0; i < n; i++)
			raw[i] = (unsigned char)(i * 37 + n * 11);
		if (b64url_encode(raw, n, enc, sizeof enc) != DMCP_OK || strlen(enc) + 1 !=
		    B64_ENCODED_SIZE(n) ||
		    b64url_decode(enc, strlen(enc), back, sizeof back, &got) != DMCP_OK ||
		    got != n || memcmp(raw, back, n) != 0)
			bad++;
	}
	T_EQ_INT(bad, 0, "lengths 0..64 round-trip, encoded in B64_ENCODED_SIZE - 1 characters");

	/* Refused. */
	T_EQ_INT(decode("Zm9v+g", 64), DMCP_E_PARSE, "'+' (base64, not base64url) is refused");
	T_EQ_INT(decode("Zm9v/g", 64), DMCP_E_PARSE, "'/' is refused");
	T_EQ_INT(decode("Zm9 v", 64), DMCP_E_PARSE, "a space is refused");
	T_EQ_INT(decode("Zm9v\n", 64), DMCP_E_PARSE, "a newline is refused");
	T_EQ_INT(decode("Zm9vY", 64), DMCP_E_PARSE, "length 4k+1 is refused");
	T_EQ_INT(decode("Z", 64), DMCP_E_PARSE, "one character is refused");
	T_EQ_INT(decode("Zg=", 64), DMCP_E_PARSE, "one '=' where two belong is refused");
	T_EQ_INT(decode("Zg===", 64), DMCP_E_PARSE, "three '=' are refused");
	T_EQ_INT(decode("Zm9v====", 64), DMCP_E_PARSE, "padding after a full group is refused");
	T_EQ_INT(decode("Z=g=", 64), DMCP_E_PARSE, "'=' inside is refused");
	T_EQ_INT(decode("=", 64), DMCP_E_PARSE, "'=' alone is refused");
	T_EQ_INT(decode("Zh", 64), DMCP_E_PARSE, "leftover bits set (Zh for 'f') are refused");
	T_EQ_INT(decode("Zm9", 64), DMCP_E_PARSE, "leftover bits set (Zm9 for 'fo') are refused");
	T_EQ_INT(decode("Zm9vYmFy", 5), DMCP_E_LIMIT, "6 bytes do not fit in 5: DMCP_E_LIMIT");
	T_EQ_INT(decode("Zm9vYmFy", 6), DMCP_OK, "6 bytes fit in 6");
	T_EQ_INT(decode("Zm9vYmE", 5), DMCP_OK, "5 bytes fit in 5 (a final group of 3)");
	T_EQ_INT(decode("Zm9vYmE", 4), DMCP_E_LIMIT, "5 bytes do not fit in 4");
	{
		const char nul[] = "Zm\0v";
		T_EQ_INT(b64url_decode(nul, 4, raw, sizeof raw, &got), DMCP_E_PARSE,
		         "a NUL byte is refused");
	}
	T_EQ_INT(decode(" Zm9v", 64), DMCP_E_PARSE, "a leading space is refused");
	T_EQ_INT(decode("Zm9v\r\n", 64), DMCP_E_PARSE, "a trailing line end is refused");

	/* Standard base64, padded (the Mcp-Name header). */
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		T_OK(std_decodes_to(vectors[i].padded, vectors[i].raw), "standard: decode \"%s\"",
		     vectors[i].padded);
	T_OK(std_decodes_to("+/8=", "\xfb\xff"), "standard: +/8= decodes to 0xfb 0xff");
	T_EQ_INT(std_decode("-_8=", 64), DMCP_E_PARSE, "standard: the url alphabet is refused");
	T_EQ_INT(std_decode("Zg", 64), DMCP_E_PARSE, "standard: missing padding is refused");
	T_EQ_INT(std_decode("Zh==", 64), DMCP_E_PARSE, "standard: leftover bits are refused");
	T_EQ_INT(std_decode("Z===", 64), DMCP_E_PARSE, "standard: three '=' are refused");
	T_EQ_INT(std_decode("Zm=v", 64), DMCP_E_PARSE, "standard: '=' inside is refused");
	T_EQ_INT(std_decode(" Zm9v", 64), DMCP_E_PARSE, "standard: a space is refused");
	T_EQ_INT(std_decode("Zm9vYmFy", 5), DMCP_E_LIMIT, "standard: 6 bytes do not fit in 5");

	T_EQ_INT(b64url_encode(raw, 3, enc, 4), DMCP_E_LIMIT, "encode without room: DMCP_E_LIMIT");
	T_EQ_INT(b64url_encode(raw, 3, enc, 5), DMCP_OK, "encode 3 bytes into 5");
	return t_done();
}
