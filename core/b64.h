/* b64.h — base64url (RFC 4648 §5), the alphabet JOSE (JWS, JWK) and dmcp's own tokens use,
 * and standard base64 (§4) for the Mcp-Name header; OpenSSL's codec under strict rules.
 * Knows nothing of what the bytes mean. Strict: one decoder for every base64url text dmcp
 * reads, so a signature or a key has exactly one spelling. RFC 4648 §3.5 and §5; RFC 7515
 * §2 (base64url without padding). */
#ifndef DMCP_B64_H
#define DMCP_B64_H

#include <stddef.h>
#include "dmcp.h"

/* Bytes that n characters of base64url decode to, at most. */
#define B64_DECODED_MAX(n) ((n) / 4 * 3 + 2)
/* Characters that n bytes encode to without padding, plus a NUL. */
#define B64_ENCODED_SIZE(n) (((n) * 4 + 2) / 3 + 1)

/* Decode in[0..n) into out[cap]; *got receives the byte count. Refused (DMCP_E_PARSE): a
 * character outside the base64url alphabet (so "+", "/", spaces and NULs), a length that no
 * encoding has (n % 4 == 1), padding "=" anywhere but at the end or in a wrong amount (the
 * padded form is accepted only with exactly the '=' signs that make n a multiple of 4), and
 * non-zero bits left over in the last character (a second spelling of the same bytes).
 * DMCP_E_LIMIT when the result does not fit in cap. */
dmcp_rc b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                      size_t *got) DMCP_MUST_CHECK;

/* Decode standard base64 with its padding (RFC 4648 §4; the form the 2026-07-28 Mcp-Name
 * header uses) in[0..n) into out[cap]; *got receives the byte count. Refused (DMCP_E_PARSE):
 * a character outside the standard alphabet, a length not a multiple of 4, missing or
 * misplaced padding, non-zero leftover bits. DMCP_E_LIMIT when the result does not fit. */
dmcp_rc b64_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                   size_t *got) DMCP_MUST_CHECK;

/* Encode in[0..n) without padding into out[cap] (NUL-terminated). DMCP_E_LIMIT when cap is
 * below B64_ENCODED_SIZE(n). */
dmcp_rc b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap) DMCP_MUST_CHECK;

#endif
