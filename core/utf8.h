/* utf8.h — decodes UTF-8 one code point at a time: the one decoder of the tree.
 * Knows nothing else. RFC 3629 (shortest form only, no surrogates, at most U+10FFFF);
 * Unicode 15 section 3.9 for what a malformed byte reads as (U+FFFD). */
#ifndef DMCP_UTF8_H
#define DMCP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The last Unicode code point. */
#define UTF8_MAX_CP 0x10ffffu
/* What a malformed byte reads as (U+FFFD REPLACEMENT CHARACTER). */
#define UTF8_REPLACEMENT 0xfffdu
/* Longest sequence in bytes: four encode the code points above U+FFFF. */
#define UTF8_MAX_SEQ 4

/* Decodes the sequence at s[0..n) (n > 0). Returns its length (1 to 4) with the code point in
 * *cp, or 0 with *cp = U+FFFD when the bytes there are not well-formed: a continuation byte,
 * an overlong form, a surrogate, a value above U+10FFFF, or a sequence that n cuts short.
 * js.c refuses text on 0 (json-c's own check lets overlong forms and surrogates through). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* utf8_decode that never fails: a byte that starts no well-formed sequence reads as U+FFFD and
 * takes one byte, so any bytes can be walked. Returns the bytes used (1 to 4); n > 0. */
size_t utf8_next(const char *s, size_t n, uint32_t *cp);

/* Code points in s[0..n) as utf8_next reads them (each malformed byte counts as one). */
size_t utf8_count(const char *s, size_t n);

#endif
