/* scope.c — OAuth scope lists (see scope.h).
 * Knows nothing of tokens or requests. RFC 6749 §3.3. */
#include <string.h>
#include "scope.h"

/* 1 when c may appear in a scope-token. */
static int token_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* 1 when list (single spaces) holds the token s[0..n). */
static int holds(const char *list, const char *s, size_t n)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		if (len == n && memcmp(p, s, n) == 0)
			return 1;
		p += len;
		if (*p == ' ')
			p++;
	}
	return 0;
}

dmcp_rc scope_norm(const char *in, size_t n, int commas, char *out, size_t cap)
{
	size_t i = 0, o = 0, start;

	if (cap == 0)
		return DMCP_E_LIMIT;
	out[0] = '\0';
	while (i < n) {
		if (in[i] == ' ' || (commas && in[i] == ',')) {
			i++;
			continue;
		}
		start = i;
		while (i < n && in[i] != ' ' && !(commas && in[i] == ','))
			if (!token_char((unsigned char)in[i++]))
				return DMCP_E_PARSE;
		if (holds(out, in + start, i - start))
			continue;
		if (o + (o > 0) + (i - start) + 1 > cap)
			return DMCP_E_LIMIT;
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, in + start, i - start);
		o += i - start;
		out[o] = '\0';
	}
	return DMCP_OK;
}

int scope_has(const char *list, const char *scope)
{
	size_t n = strlen(scope);

	return list != NULL && n > 0 && strchr(scope, ' ') == NULL && holds(list, scope, n);
}

int scope_all(const char *have, const char *need)
{
	const char *p = need;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		if (!holds(have, p, len))
			return 0;
		p += len;
		if (*p == ' ')
			p++;
	}
	return 1;
}
