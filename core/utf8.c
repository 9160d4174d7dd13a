/* utf8.c — the UTF-8 decoder (see utf8.h). Knows nothing else. Table-free: the lead byte
 * gives the length and the bits; the value then rules out overlong forms and surrogates. */
#include "utf8.h"

size_t utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i;
	uint32_t c;

	*cp = UTF8_REPLACEMENT;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	/* 0xc0 and 0xc1 could only start overlong forms; 0xf5 and above only values past
	 * U+10FFFF. */
	len = u[0] >= 0xc2 && u[0] <= 0xdf ? 2 : u[0] >= 0xe0 && u[0] <= 0xef ? 3 :
	      u[0] >= 0xf0 && u[0] <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	c = u[0] & (0x7fu >> len);
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3fu);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > UTF8_MAX_CP ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t utf8_next(const char *s, size_t n, uint32_t *cp)
{
	size_t len = utf8_decode(s, n, cp);

	return len > 0 ? len : 1;
}

size_t utf8_count(const char *s, size_t n)
{
	size_t i = 0, count = 0;
	uint32_t cp;

	while (i < n) {
		i += utf8_next(s + i, n - i, &cp);
		count++;
	}
	return count;
}
