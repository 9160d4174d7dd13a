/* cfg.c — configuration from the environment (see cfg.h).
 * Knows nothing of requests. One table names every variable with the function that reads
 * it; integers are range-checked with strtoll, never converted unchecked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	c->threads = 8;
	c->max_body = 1u << 20;
	c->hold_ms = 25000;
	c->heartbeat_ms = 15000;
	c->poll_ms = 1000;
	c->retry_ms = 1000;
	c->session_ttl_s = 86400;
	c->max_runs = 100;
	c->max_events = 10000;
	c->state_ttl_s = 86400;
	c->task_ttl_s = 86400;
	c->max_tasks = 100;
	c->task_poll_ms = 1000;
	c->retention_s = 86400;
	c->async_commit = 1;
	c->n_hosts = 3;
	snprintf(c->hosts[0], CFG_ALLOW_LEN, "localhost");
	snprintf(c->hosts[1], CFG_ALLOW_LEN, "127.0.0.1");
	snprintf(c->hosts[2], CFG_ALLOW_LEN, "[::1]");
	c->n_origins = 6;
	snprintf(c->origins[0], CFG_ALLOW_LEN, "http://localhost");
	snprintf(c->origins[1], CFG_ALLOW_LEN, "http://127.0.0.1");
	snprintf(c->origins[2], CFG_ALLOW_LEN, "http://[::1]");
	snprintf(c->origins[3], CFG_ALLOW_LEN, "https://localhost");
	snprintf(c->origins[4], CFG_ALLOW_LEN, "https://127.0.0.1");
	snprintf(c->origins[5], CFG_ALLOW_LEN, "https://[::1]");
}

/* One accepted value of a variable that takes a word, and what it sets. */
struct word {
	const char *text; /* the value as written */
	int value;        /* what the field gets */
};

struct var;
/* Reads s (set and not empty) into c; DMCP_E_PARAMS with a message naming v otherwise. */
typedef dmcp_rc (*var_parse_fn)(const struct var *v, const char *s, struct cfg *c, char *err,
                                size_t errlen);

/* One environment variable and how it is read. */
struct var {
	const char *name;         /* environment variable */
	var_parse_fn parse;       /* reads the value into struct cfg */
	size_t off;               /* offset of the field it sets (parse_int, parse_size,
	                             parse_word) */
	long long lo, hi;         /* parse_int, parse_size: accepted range */
	const struct word *words; /* parse_word, parse_notify: accepted words, then {NULL, 0} */
};

static int *int_field(struct cfg *c, size_t off)
{
	return (int *)(void *)((char *)c + off);
}

static dmcp_rc range_int(const struct var *v, const char *s, long long *out, char *err,
                         size_t errlen)
{
	char *end = NULL;
	long long x = 0;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || x < v->lo || x > v->hi) {
		snprintf(err, errlen, "%s must be an integer from %lld to %lld (got \"%.40s\")",
		         v->name, v->lo, v->hi, s);
		return DMCP_E_PARAMS;
	}
	*out = x;
	return DMCP_OK;
}

/* An int field. */
static dmcp_rc parse_int(const struct var *v, const char *s, struct cfg *c, char *err,
                         size_t errlen)
{
	long long x = 0;
	dmcp_rc rc = range_int(v, s, &x, err, errlen);

	if (rc == DMCP_OK)
		*int_field(c, v->off) = (int)x;
	return rc;
}

/* A size_t field. */
static dmcp_rc parse_size(const struct var *v, const char *s, struct cfg *c, char *err,
                          size_t errlen)
{
	long long x = 0;
	dmcp_rc rc = range_int(v, s, &x, err, errlen);

	if (rc == DMCP_OK)
		*(size_t *)(void *)((char *)c + v->off) = (size_t)x;
	return rc;
}

/* The value of word s in v's list; DMCP_E_PARAMS with a message listing the words. */
static dmcp_rc match_word(const struct var *v, const char *s, int *out, char *err,
                          size_t errlen)
{
	const struct word *w;
	size_t len;
	int n;

	for (w = v->words; w->text != NULL; w++) {
		if (strcmp(s, w->text) == 0) {
			*out = w->value;
			return DMCP_OK;
		}
	}
	n = snprintf(err, errlen, "%s must be", v->name);
	for (w = v->words; w->text != NULL && n >= 0 && (size_t)n < errlen; w++) {
		len = (size_t)n;
		n += snprintf(err + len, errlen - len, "%s\"%s\"", w == v->words ? " " :
		              w[1].text == NULL ? " or " : ", ", w->text);
	}
	return DMCP_E_PARAMS;
}

/* An int field set from a word. */
static dmcp_rc parse_word(const struct var *v, const char *s, struct cfg *c, char *err,
                          size_t errlen)
{
	int x = 0;
	dmcp_rc rc = match_word(v, s, &x, err, errlen);

	if (rc == DMCP_OK)
		*int_field(c, v->off) = x;
	return rc;
}

/* notify_mode: a word, stored as the enum (not through an int pointer). */
static dmcp_rc parse_notify(const struct var *v, const char *s, struct cfg *c, char *err,
                            size_t errlen)
{
	int x = 0;
	dmcp_rc rc = match_word(v, s, &x, err, errlen);

	if (rc == DMCP_OK)
		c->notify_mode = (enum cfg_notify)x;
	return rc;
}

/* Splits a comma list into table; "*" sets *any. */
static dmcp_rc split_list(const char *name, const char *s, char table[][CFG_ALLOW_LEN],
                          int *n, int *any, char *err, size_t errlen)
{
	const char *p = s;

	*n = 0;
	*any = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *q = p;
		while (len > 0 && (*q == ' ' || *q == '\t')) {
			q++;
			len--;
		}
		while (len > 0 && (q[len - 1] == ' ' || q[len - 1] == '\t'))
			len--;
		if (len == 1 && *q == '*') {
			*any = 1;
		} else if (len > 0) {
			if (*n >= CFG_MAX_ALLOW || len >= CFG_ALLOW_LEN) {
				snprintf(err, errlen, "%s: at most %d entries of at most %d bytes", name,
				         CFG_MAX_ALLOW, CFG_ALLOW_LEN - 1);
				return DMCP_E_PARAMS;
			}
			memcpy(table[*n], q, len);
			table[*n][len] = '\0';
			(*n)++;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return DMCP_OK;
}

static dmcp_rc parse_hosts(const struct var *v, const char *s, struct cfg *c, char *err,
                           size_t errlen)
{
	return split_list(v->name, s, c->hosts, &c->n_hosts, &c->allow_any_host, err, errlen);
}

static dmcp_rc parse_origins(const struct var *v, const char *s, struct cfg *c, char *err,
                             size_t errlen)
{
	return split_list(v->name, s, c->origins, &c->n_origins, &c->allow_any_origin, err,
	                  errlen);
}

/* DMCP_STATE_KEY: 64 hex digits, kept as text (state.c turns it into the key). */
static dmcp_rc parse_state_key(const struct var *v, const char *s, struct cfg *c, char *err,
                               size_t errlen)
{
	if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64) {
		snprintf(err, errlen, "%s must be 64 hex digits (256 bits)", v->name);
		return DMCP_E_PARAMS;
	}
	free(c->state_key);
	c->state_key = strdup(s);
	return c->state_key != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

/* DMCP_METRICS_PATH: a path of printable ASCII that starts with "/" and has no query. */
static dmcp_rc parse_metrics_path(const struct var *v, const char *s, struct cfg *c,
                                  char *err, size_t errlen)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n && s[i] > 0x20 && s[i] < 0x7f && s[i] != '?' && s[i] != '#'; i++)
		;
	if (s[0] != '/' || i != n || n > CFG_PATH_LEN) {
		snprintf(err, errlen, "%s must be a path such as /metrics: \"/\" and at most %d "
		         "printable characters, without spaces, \"?\" or \"#\"", v->name,
		         CFG_PATH_LEN);
		return DMCP_E_PARAMS;
	}
	free(c->metrics_path);
	c->metrics_path = strdup(s);
	return c->metrics_path != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

static const struct word sampling_words[] = {{"mock", 1}, {"none", 0}, {NULL, 0}};
static const struct word async_words[] = {{"one-step", 1}, {"off", 0}, {NULL, 0}};
static const struct word record_words[] = {{"durable", 0}, {"all", 1}, {NULL, 0}};
static const struct word notify_words[] = {
	{"auto", CFG_NOTIFY_AUTO}, {"always", CFG_NOTIFY_ALWAYS}, {NULL, 0},
};

#define INT_VAR(var, field, min, max)                                              \
	{.name = (var), .parse = parse_int, .off = offsetof(struct cfg, field), .lo = (min), \
	 .hi = (max)}
#define WORD_VAR(var, field, list)                                                 \
	{.name = (var), .parse = parse_word, .off = offsetof(struct cfg, field), .words = (list)}

/* Every variable but DMCP_DATABASE_URL (which is copied, not parsed), in the order read: the
 * first bad one is the one reported. README's Configuration section lists them. */
static const struct var vars[] = {
	INT_VAR("DMCP_THREADS", threads, 1, 256),
	INT_VAR("DMCP_STREAM_HOLD_MS", hold_ms, 100, 3600000),
	INT_VAR("DMCP_HEARTBEAT_MS", heartbeat_ms, 100, 600000),
	INT_VAR("DMCP_POLL_MS", poll_ms, 10, 60000),
	INT_VAR("DMCP_RETRY_MS", retry_ms, 0, 600000),
	INT_VAR("DMCP_SESSION_TTL", session_ttl_s, 10, 365 * 86400),
	INT_VAR("DMCP_MAX_RUNS_PER_SESSION", max_runs, 1, 100000),
	INT_VAR("DMCP_MAX_EVENTS_PER_RUN", max_events, 10, 10000000),
	INT_VAR("DMCP_STATE_TTL", state_ttl_s, 10, 365 * 86400),
	INT_VAR("DMCP_TASK_TTL", task_ttl_s, 10, 365 * 86400),
	INT_VAR("DMCP_MAX_TASKS", max_tasks, 1, 100000),
	INT_VAR("DMCP_TASK_POLL_MS", task_poll_ms, 10, 600000),
	INT_VAR("DMCP_RETENTION", retention_s, 10, 365 * 86400),
	{.name = "DMCP_MAX_BODY", .parse = parse_size, .off = offsetof(struct cfg, max_body),
	 .lo = 1024, .hi = 64LL << 20},
	WORD_VAR("DMCP_SAMPLING_FALLBACK", sampling_mock, sampling_words),
	WORD_VAR("DMCP_ASYNC_COMMIT", async_commit, async_words),
	WORD_VAR("DMCP_RECORD_CALLS", record_all, record_words),
	{.name = "DMCP_NOTIFY", .parse = parse_notify, .words = notify_words},
	{.name = "DMCP_STATE_KEY", .parse = parse_state_key},
	{.name = "DMCP_ALLOWED_HOSTS", .parse = parse_hosts},
	{.name = "DMCP_ALLOWED_ORIGINS", .parse = parse_origins},
	{.name = "DMCP_METRICS_PATH", .parse = parse_metrics_path},
};

dmcp_rc cfg_load(struct cfg *c, char *err, size_t errlen)
{
	const char *s;
	size_t i;
	dmcp_rc rc;

	cfg_defaults(c);
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		s = getenv(vars[i].name);
		if (s == NULL || *s == '\0')
			continue; /* unset or empty: the default */
		rc = vars[i].parse(&vars[i], s, c, err, errlen);
		if (rc != DMCP_OK)
			return rc;
	}
	s = getenv("DMCP_DATABASE_URL");
	c->database_url = strdup(s != NULL ? s : "");
	return c->database_url != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

void cfg_free(struct cfg *c)
{
	free(c->database_url);
	free(c->state_key);
	free(c->metrics_path);
	c->database_url = NULL;
	c->state_key = NULL;
	c->metrics_path = NULL;
}
