/* http.c — transport header rules (see http.h).
 * Knows nothing of FastCGI or the database. Every parser here is bounded and total. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http.h"

/* Newest first. 2025-03-26 is in the list because clients send it on raw requests. */
static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* q value of the parameters in [p, end): 1 unless q=0 (or 0.0, 0.00, 0.000). */
static int q_positive(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi != NULL ? semi : end;
		p = skip_ws(p, stop);
		if (stop - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			const char *v = p + 2;
			if (v < stop && *v == '0') {
				v++;
				if (v < stop && *v == '.')
					v++;
				while (v < stop && *v == '0')
					v++;
				v = skip_ws(v, stop);
				if (v == stop)
					return 0;
			}
		}
		p = semi != NULL ? semi + 1 : end;
	}
	return 1;
}

static int range_matches(const char *p, size_t n, const char *type)
{
	const char *slash = strchr(type, '/');
	size_t major = (size_t)(slash - type);

	if (n == 3 && memcmp(p, "*/*", 3) == 0)
		return 1;
	if (n == major + 2 && strncasecmp(p, type, major + 1) == 0 && p[major + 1] == '*')
		return 1;
	return n == strlen(type) && strncasecmp(p, type, n) == 0;
}

int http_accepts(const char *accept, const char *type)
{
	const char *p = accept, *end;

	if (accept == NULL)
		return 0;
	end = accept + strlen(accept);
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *item_end = comma != NULL ? comma : end;
		const char *semi = memchr(p, ';', (size_t)(item_end - p));
		const char *range_end = semi != NULL ? semi : item_end;
		const char *r = skip_ws(p, range_end);
		while (range_end > r && (range_end[-1] == ' ' || range_end[-1] == '\t'))
			range_end--;
		if (range_matches(r, (size_t)(range_end - r), type) &&
		    (semi == NULL || q_positive(semi + 1, item_end)))
			return 1;
		p = comma != NULL ? comma + 1 : end;
	}
	return 0;
}

int http_is_json(const char *ct)
{
	static const char want[] = "application/json";
	const char *p;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return 0;
	p = ct + sizeof want - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0' || *p == ';';
}

/* Split "name[:port]" (name may be "[v6]") into lengths; 0 when malformed. */
static int split_host(const char *s, size_t len, size_t *name_len, const char **port)
{
	const char *colon;
	size_t i;

	*port = NULL;
	if (len == 0)
		return 0;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			return 0;
		*name_len = (size_t)(close - s) + 1;
		if (*name_len == len)
			return 1;
		if (s[*name_len] != ':')
			return 0;
		*port = s + *name_len + 1;
	} else {
		colon = memchr(s, ':', len);
		*name_len = colon != NULL ? (size_t)(colon - s) : len;
		if (colon != NULL)
			*port = colon + 1;
	}
	if (*port != NULL) {
		size_t plen = len - (size_t)(*port - s);
		if (plen == 0 || plen > 5)
			return 0;
		for (i = 0; i < plen; i++)
			if (!isdigit((unsigned char)(*port)[i]))
				return 0;
	}
	return *name_len > 0;
}

/* Does "name[:port]" s match allowlist entry e (a name without a port matches any port)? */
static int host_matches(const char *s, size_t len, const char *e)
{
	size_t sn, en;
	const char *sp, *ep;

	if (!split_host(s, len, &sn, &sp) || !split_host(e, strlen(e), &en, &ep))
		return 0;
	if (sn != en || strncasecmp(s, e, sn) != 0)
		return 0;
	if (ep == NULL)
		return 1;
	return sp != NULL && strlen(ep) == len - (size_t)(sp - s) &&
	       memcmp(sp, ep, strlen(ep)) == 0;
}

int http_host_ok(const struct cfg *c, const char *host)
{
	int i;

	if (host == NULL || *host == '\0' || c->allow_any_host)
		return 1;
	if (strlen(host) > CFG_ALLOW_LEN)
		return 0;
	for (i = 0; i < c->n_hosts; i++)
		if (host_matches(host, strlen(host), c->hosts[i]))
			return 1;
	return 0;
}

/* Split "scheme://rest" at the "://"; 0 when malformed. */
static int split_origin(const char *s, size_t *scheme_len, const char **rest)
{
	const char *sep = strstr(s, "://");

	if (sep == NULL || sep == s)
		return 0;
	*scheme_len = (size_t)(sep - s);
	*rest = sep + 3;
	return strchr(*rest, '/') == NULL && **rest != '\0';
}

int http_origin_ok(const struct cfg *c, const char *origin)
{
	size_t sl, el;
	const char *sr, *er;
	int i;

	if (origin == NULL || *origin == '\0')
		return 1;
	if (c->allow_any_origin)
		return 1;
	if (strlen(origin) > CFG_ALLOW_LEN || !split_origin(origin, &sl, &sr))
		return 0;
	for (i = 0; i < c->n_origins; i++) {
		if (!split_origin(c->origins[i], &el, &er))
			continue;
		if (sl == el && strncasecmp(origin, c->origins[i], sl) == 0 &&
		    host_matches(sr, strlen(sr), er))
			return 1;
	}
	return 0;
}

int http_version_ok(const char *v)
{
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (strcmp(v, versions[i]) == 0)
			return 1;
	return 0;
}

const char *http_version_negotiate(const char *v)
{
	size_t i;

	for (i = 0; v != NULL && i < sizeof versions / sizeof versions[0]; i++)
		if (strcmp(v, versions[i]) == 0)
			return versions[i];
	return versions[0];
}

int http_version_primes(const char *v)
{
	return v != NULL && strcmp(v, "2025-11-25") == 0;
}

dmcp_rc http_content_length(const char *s, size_t *out)
{
	size_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return DMCP_E_PARAMS;
	for (p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || p - s >= HTTP_MAX_LENGTH_DIGITS)
			return DMCP_E_PARAMS;
		v = v * 10 + (size_t)(*p - '0');
	}
	*out = v;
	return DMCP_OK;
}
