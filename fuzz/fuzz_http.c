/* fuzz_http.c — libFuzzer target: the transport's header rules (core/http.c), the
 * Last-Event-ID parser (core/sse.c) and the session id shape (core/rnd.c) on untrusted
 * header values, and Host against an allowlist read from DMCP_ALLOWED_HOSTS (core/cfg.c).
 * Knows nothing of FastCGI. The input is a header value up to its first NUL (headers are C
 * strings), then optionally a DMCP_ALLOWED_HOSTS value up to the next. Properties: each rule
 * agrees with a reference written here from the README's and the spec's words (not from the
 * code); Accept, Content-Type and Host ignore case, Accept ignores the order of its list;
 * an Origin "http://H" is allowed exactly when Host H is (default configuration); a parsed
 * Last-Event-ID formats back to an id that parses to the same run and LSN. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cfg.h"
#include "fuzz.h"
#include "http.h"
#include "rnd.h"
#include "sse.h"

/* Bytes of a header value looked at: the server refuses longer values before these rules
 * run (HTTP_MAX_HEADER), so a little more is plenty. */
#define VALUE_MAX (HTTP_MAX_HEADER + 64)

static const char *const media[] = {"application/json", "text/event-stream"};

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* [b, e) with spaces and tabs cut from both ends, into out[cap] (cut short if need be). */
static void trimmed(const char *b, const char *e, char *out, size_t cap)
{
	size_t n;

	while (b < e && is_ws(*b))
		b++;
	while (e > b && is_ws(e[-1]))
		e--;
	n = (size_t)(e - b) < cap - 1 ? (size_t)(e - b) : cap - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

/* A q parameter's value that means "not acceptable": 0, 0., 0.0, 0.00 ... */
static int ref_q_zero(const char *v)
{
	if (*v++ != '0')
		return 0;
	if (*v == '.')
		v++;
	while (*v == '0')
		v++;
	return *v == '\0';
}

/* Accept: a comma-separated list of media ranges, each with ;parameters; type is admitted
 * by its own name, by "major/ *" or by "* / *", in any case, unless the item has q=0. */
static int ref_accepts(const char *accept, const char *type)
{
	static char item[VALUE_MAX + 1], range[VALUE_MAX + 1], param[VALUE_MAX + 1];
	const char *p = accept, *slash = strchr(type, '/');
	size_t major = (size_t)(slash - type);

	for (;;) {
		const char *end = strchr(p, ','), *semi, *q;
		int match, zero = 0;
		if (end == NULL)
			end = p + strlen(p);
		trimmed(p, end, item, sizeof item);
		semi = strchr(item, ';');
		trimmed(item, semi != NULL ? semi : item + strlen(item), range, sizeof range);
		match = strcmp(range, "*/*") == 0 || strcasecmp(range, type) == 0 ||
		        (strlen(range) == major + 2 && strncasecmp(range, type, major + 1) == 0 &&
		         range[major + 1] == '*');
		for (q = semi; q != NULL; q = strchr(q + 1, ';')) {
			const char *next = strchr(q + 1, ';');
			trimmed(q + 1, next != NULL ? next : q + 1 + strlen(q + 1), param, sizeof param);
			if ((param[0] == 'q' || param[0] == 'Q') && param[1] == '=' &&
			    ref_q_zero(param + 2))
				zero = 1;
		}
		if (match && !zero)
			return 1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int ref_is_json(const char *ct)
{
	static const char want[] = "application/json";

	while (is_ws(*ct))
		ct++;
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return 0;
	ct += sizeof want - 1;
	while (is_ws(*ct))
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* "name[:port]" (name may be "[v6]"; port 1-5 digits) split; 0 when malformed. */
static int ref_split(const char *s, char *name, size_t cap, const char **port)
{
	const char *colon;
	size_t n;

	*port = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return 0;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return 0;
		n = (size_t)(close - s) + 1;
	} else {
		colon = strchr(s, ':');
		n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (n == 0 || n >= cap)
		return 0;
	memcpy(name, s, n);
	name[n] = '\0';
	if (colon != NULL) {
		*port = colon + 1;
		if (strlen(*port) < 1 || strlen(*port) > 5 || strspn(*port, "0123456789") != strlen(*port))
			return 0;
	}
	return 1;
}

/* Host s against an allowlist entry: same name in any case; an entry's port must be s's. */
static int ref_host_matches(const char *s, const char *entry)
{
	char sn[CFG_ALLOW_LEN + 1], en[CFG_ALLOW_LEN + 1];
	const char *sp, *ep;

	if (!ref_split(s, sn, sizeof sn, &sp) || !ref_split(entry, en, sizeof en, &ep))
		return 0;
	if (strcasecmp(sn, en) != 0)
		return 0;
	return ep == NULL || (sp != NULL && strcmp(sp, ep) == 0);
}

static int ref_host_ok(const struct cfg *c, const char *host)
{
	int i;

	if (host[0] == '\0' || c->allow_any_host)
		return 1;
	if (strlen(host) > CFG_ALLOW_LEN)
		return 0;
	for (i = 0; i < c->n_hosts; i++)
		if (ref_host_matches(host, c->hosts[i]))
			return 1;
	return 0;
}

static int ref_hex_lower(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

/* Last-Event-ID: 32 lowercase hex, ':', 1 to SSE_MAX_LSN_DIGITS decimal digits. */
static int ref_event_id(const char *s)
{
	size_t n = strlen(s), d = n - RND_ID_LEN - 1;

	return n > RND_ID_LEN + 1 && ref_hex_lower(s, RND_ID_LEN) && s[RND_ID_LEN] == ':' &&
	       d <= SSE_MAX_LSN_DIGITS && strspn(s + RND_ID_LEN + 1, "0123456789") == d;
}

static void upper(const char *s, char *out)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

/* The items of a comma-separated list in reverse order. */
static void reversed(const char *s, char *out)
{
	size_t n = strlen(s), o = 0;
	const char *end = s + n, *p;

	for (;;) {
		p = end;
		while (p > s && p[-1] != ',')
			p--;
		memcpy(out + o, p, (size_t)(end - p));
		o += (size_t)(end - p);
		if (p == s)
			break;
		out[o++] = ',';
		end = p - 1;
	}
	out[o] = '\0';
}

static void check_accept(const char *s)
{
	static char up[VALUE_MAX + 1], rev[VALUE_MAX + 1], more[VALUE_MAX + 8];
	size_t i;
	int got;

	upper(s, up);
	reversed(s, rev);
	snprintf(more, sizeof more, "%s,*/*", s);
	for (i = 0; i < sizeof media / sizeof media[0]; i++) {
		got = http_accepts(s, media[i]);
		FUZZ_CHECK(got == ref_accepts(s, media[i]), "Accept '%s' for %s: %d", s, media[i], got);
		FUZZ_CHECK(http_accepts(up, media[i]) == got, "Accept '%s' depends on case", s);
		FUZZ_CHECK(http_accepts(rev, media[i]) == got, "Accept '%s' depends on order", s);
		FUZZ_CHECK(http_accepts(more, media[i]), "'%s' does not admit %s", more, media[i]);
	}
	got = http_is_json(s);
	FUZZ_CHECK(got == ref_is_json(s), "Content-Type '%s': %d", s, got);
	FUZZ_CHECK(http_is_json(up) == got, "Content-Type '%s' depends on case", s);
}

static void check_host(const struct cfg *c, const char *s)
{
	static char up[VALUE_MAX + 1], origin[VALUE_MAX + 16];
	int got = http_host_ok(c, s);

	FUZZ_CHECK(got == ref_host_ok(c, s), "Host '%s': %d", s, got);
	upper(s, up);
	FUZZ_CHECK(http_host_ok(c, up) == got, "Host '%s' depends on case", s);
	if (s[0] == '\0' || strchr(s, '/') != NULL || strlen(s) + 8 > CFG_ALLOW_LEN)
		return;
	snprintf(origin, sizeof origin, "http://%s", s);
	FUZZ_CHECK(http_origin_ok(c, origin) == got, "Origin '%s' and Host disagree", origin);
	snprintf(origin, sizeof origin, "HTTPS://%s", s);
	FUZZ_CHECK(http_origin_ok(c, origin) == got, "Origin '%s' and Host disagree", origin);
	snprintf(origin, sizeof origin, "ftp://%s", s);
	FUZZ_CHECK(!http_origin_ok(c, origin), "Origin '%s' allowed", origin);
}

static void check_numbers_and_ids(const char *s)
{
	rnd_hex_id run, run2;
	char id[SSE_ID_MAX];
	size_t v = 0, n = strlen(s);
	int64_t lsn = -1, lsn2 = -1;
	int ok;

	ok = http_content_length(s, &v) == DMCP_OK;
	FUZZ_CHECK(ok == (n > 0 && n <= HTTP_MAX_LENGTH_DIGITS && strspn(s, "0123456789") == n),
	           "Content-Length '%s': %d", s, ok);
	FUZZ_CHECK(!ok || v == (size_t)strtoull(s, NULL, 10), "Content-Length '%s' read as %zu", s,
	           v);

	ok = sse_parse_event_id(s, run, &lsn);
	FUZZ_CHECK(ok == ref_event_id(s), "Last-Event-ID '%s': %d", s, ok);
	if (ok) {
		FUZZ_CHECK(memcmp(run, s, RND_ID_LEN) == 0 && lsn == strtoll(s + RND_ID_LEN + 1, NULL, 10),
		           "Last-Event-ID '%s' read wrong", s);
		sse_event_id(id, run, lsn);
		FUZZ_CHECK(sse_parse_event_id(id, run2, &lsn2) && strcmp(run, run2) == 0 && lsn == lsn2,
		           "event id %s does not parse back", id);
	}
	FUZZ_CHECK(rnd_id_ok(s) == (n == RND_ID_LEN && ref_hex_lower(s, n)), "session id '%s'", s);
	ok = http_version_ok(s);
	FUZZ_CHECK(ok == (strcmp(http_version_negotiate(s), s) == 0), "version '%s'", s);
	FUZZ_CHECK(!http_version_primes(s) || ok, "version '%s' primes but is not spoken", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char value[VALUE_MAX + 1], hosts[VALUE_MAX + 1];
	static struct cfg defaults, c; /* static: ASan would poison 19 KB of stack per run */
	static int ready;
	char err[200];
	size_t n = size < VALUE_MAX ? size : VALUE_MAX, k;

	if (!ready) {
		/* The default allowlists, with a host that names a port. */
		cfg_defaults(&defaults);
		snprintf(defaults.hosts[defaults.n_hosts++], CFG_ALLOW_LEN, "example.org:8443");
		snprintf(defaults.origins[defaults.n_origins++], CFG_ALLOW_LEN,
		         "http://example.org:8443");
		snprintf(defaults.origins[defaults.n_origins++], CFG_ALLOW_LEN,
		         "https://example.org:8443");
		ready = 1;
	}
	memcpy(value, data, n);
	value[n] = '\0';
	check_accept(value);
	check_numbers_and_ids(value);
	check_host(&defaults, value);

	/* An allowlist from the environment, as an operator writes it. */
	k = strlen(value) + 1;
	if (k < size) {
		n = size - k < VALUE_MAX ? size - k : VALUE_MAX;
		memcpy(hosts, data + k, n);
		hosts[n] = '\0';
		if (setenv("DMCP_ALLOWED_HOSTS", hosts, 1) == 0 && cfg_load(&c, err, sizeof err) == DMCP_OK) {
			FUZZ_CHECK(http_host_ok(&c, value) == ref_host_ok(&c, value),
			           "Host '%s' against DMCP_ALLOWED_HOSTS '%s'", value, hosts);
			cfg_free(&c);
		}
		unsetenv("DMCP_ALLOWED_HOSTS");
	}
	return 0;
}
