/* cfg.c — configuration from the environment (see cfg.h).
 * Knows nothing of requests. Integers are range-checked with strtoll, never converted
 * unchecked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"

struct int_var {
	const char *name; /* environment variable */
	size_t off;       /* offset of the int field in struct cfg */
	long long lo, hi; /* accepted range */
};

static const struct int_var int_vars[] = {
	{"DMCP_THREADS", offsetof(struct cfg, threads), 1, 256},
	{"DMCP_STREAM_HOLD_MS", offsetof(struct cfg, hold_ms), 100, 3600000},
	{"DMCP_HEARTBEAT_MS", offsetof(struct cfg, heartbeat_ms), 100, 600000},
	{"DMCP_POLL_MS", offsetof(struct cfg, poll_ms), 10, 60000},
	{"DMCP_RETRY_MS", offsetof(struct cfg, retry_ms), 0, 600000},
	{"DMCP_SESSION_TTL", offsetof(struct cfg, session_ttl_s), 10, 365 * 86400},
	{"DMCP_MAX_RUNS_PER_SESSION", offsetof(struct cfg, max_runs), 1, 100000},
	{"DMCP_MAX_EVENTS_PER_RUN", offsetof(struct cfg, max_events), 10, 10000000},
};

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

static dmcp_rc parse_int(const char *name, const char *s, long long lo, long long hi,
                         long long *out, char *err, size_t errlen)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		snprintf(err, errlen, "%s must be an integer from %lld to %lld (got \"%.40s\")",
		         name, lo, hi, s);
		return DMCP_E_PARAMS;
	}
	*out = v;
	return DMCP_OK;
}

/* Split a comma list into table; "*" sets *any. */
static dmcp_rc parse_list(const char *name, const char *s, char table[][CFG_ALLOW_LEN],
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

dmcp_rc cfg_load(struct cfg *c, char *err, size_t errlen)
{
	const char *s;
	long long v;
	size_t i;
	dmcp_rc rc;

	cfg_defaults(c);
	for (i = 0; i < sizeof int_vars / sizeof int_vars[0]; i++) {
		s = getenv(int_vars[i].name);
		if (s == NULL || *s == '\0')
			continue;
		rc = parse_int(int_vars[i].name, s, int_vars[i].lo, int_vars[i].hi, &v, err, errlen);
		if (rc != DMCP_OK)
			return rc;
		*(int *)(void *)((char *)c + int_vars[i].off) = (int)v;
	}
	s = getenv("DMCP_MAX_BODY");
	if (s != NULL && *s != '\0') {
		rc = parse_int("DMCP_MAX_BODY", s, 1024, 64LL << 20, &v, err, errlen);
		if (rc != DMCP_OK)
			return rc;
		c->max_body = (size_t)v;
	}
	s = getenv("DMCP_SAMPLING_FALLBACK");
	if (s != NULL && *s != '\0') {
		if (strcmp(s, "mock") == 0) {
			c->sampling_mock = 1;
		} else if (strcmp(s, "none") != 0) {
			snprintf(err, errlen, "DMCP_SAMPLING_FALLBACK must be \"mock\" or \"none\"");
			return DMCP_E_PARAMS;
		}
	}
	s = getenv("DMCP_ASYNC_COMMIT");
	if (s != NULL && *s != '\0') {
		if (strcmp(s, "one-step") == 0) {
			c->async_commit = 1;
		} else if (strcmp(s, "off") == 0) {
			c->async_commit = 0;
		} else {
			snprintf(err, errlen, "DMCP_ASYNC_COMMIT must be \"one-step\" or \"off\"");
			return DMCP_E_PARAMS;
		}
	}
	s = getenv("DMCP_RECORD_CALLS");
	if (s != NULL && *s != '\0') {
		if (strcmp(s, "all") == 0) {
			c->record_all = 1;
		} else if (strcmp(s, "durable") != 0) {
			snprintf(err, errlen, "DMCP_RECORD_CALLS must be \"durable\" or \"all\"");
			return DMCP_E_PARAMS;
		}
	}
	s = getenv("DMCP_NOTIFY");
	if (s != NULL && *s != '\0') {
		if (strcmp(s, "auto") == 0) {
			c->notify_mode = CFG_NOTIFY_AUTO;
		} else if (strcmp(s, "always") == 0) {
			c->notify_mode = CFG_NOTIFY_ALWAYS;
		} else if (strcmp(s, "in-tx") == 0) {
			c->notify_mode = CFG_NOTIFY_IN_TX;
		} else {
			snprintf(err, errlen, "DMCP_NOTIFY must be \"auto\", \"always\" or \"in-tx\"");
			return DMCP_E_PARAMS;
		}
	}
	s = getenv("DMCP_ALLOWED_HOSTS");
	if (s != NULL && *s != '\0') {
		rc = parse_list("DMCP_ALLOWED_HOSTS", s, c->hosts, &c->n_hosts, &c->allow_any_host,
		                err, errlen);
		if (rc != DMCP_OK)
			return rc;
	}
	s = getenv("DMCP_ALLOWED_ORIGINS");
	if (s != NULL && *s != '\0') {
		rc = parse_list("DMCP_ALLOWED_ORIGINS", s, c->origins, &c->n_origins,
		                &c->allow_any_origin, err, errlen);
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
	c->database_url = NULL;
}
