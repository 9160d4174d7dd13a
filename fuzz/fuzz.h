/* fuzz.h — what the libFuzzer targets in fuzz/ share: the entry points' prototypes, a
 * property check that stops the run so libFuzzer keeps the input, and a UTF-8 check written
 * apart from the one in core/ (so that each can catch the other's mistakes).
 * Knows nothing of any one target. */
#ifndef DMCP_FUZZ_H
#define DMCP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep: when it fails, say where and why on stderr and abort(),
 * which libFuzzer reports as a crash and saves the input for. */
#define FUZZ_CHECK(cond, ...)                                                                 \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "property failed at %s:%d: %s: ", __FILE__, __LINE__,  \
			        #cond);                                                       \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* 1 when s[0..n) is UTF-8 as RFC 3629 defines it: shortest forms only, no surrogates, nothing
 * beyond U+10FFFF. Decodes each sequence fully and then judges the code point. */
static inline int fuzz_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2, cp = s[i] & 0x1fu, min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3, cp = s[i] & 0x0fu, min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4, cp = s[i] & 0x07u, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

#endif
