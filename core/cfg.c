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
	c->expire_s = 86400;
	c->async_commit = 1;
	c->sql_timeout_ms = 10000;
	c->sql_max_rows = 1000;
	c->exec_timeout_ms = 30000;
	c->exec_max_output = 1u << 20;
	c->start_timeout_s = 30;
	c->statement_timeout_ms = 30000;
	c->lock_timeout_ms = 5000;
	c->lease_s = 60;
	c->step_max_ms = 120000;
	c->write_timeout_ms = 30000;
	c->max_subs = 100;
	c->retention_s = 86400;
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
	c->n_auth = 1;
	c->auth[0] = CFG_AUTH_REMOTE_USER;
}

int cfg_has_auth(const struct cfg *c, enum cfg_auth m)
{
	int i;

	for (i = 0; i < c->n_auth; i++)
		if (c->auth[i] == m)
			return 1;
	return 0;
}

/* One accepted value of a variable that takes a word, and what it sets. */
struct word {
	const char *text; /* the value as written */
	int value;        /* what the field receives */
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
	c->origins_set = 1;
	return split_list(v->name, s, c->origins, &c->n_origins, &c->allow_any_origin, err,
	                  errlen);
}

/* Without DMCP_ALLOWED_ORIGINS, the allowed origins follow the allowed hosts: http:// and
 * https:// on each of them (a host with a port gives origins with that port; without one,
 * any port). "*" in the hosts adds no origin: a page from anywhere is not allowed by
 * accident. What does not fit the table is left out. */
static void origins_from_hosts(struct cfg *c)
{
	static const char *const schemes[] = {"http://", "https://"};
	int i, k;

	c->n_origins = 0;
	for (i = 0; i < c->n_hosts; i++) {
		for (k = 0; k < 2 && c->n_origins < CFG_MAX_ALLOW; k++) {
			if (strlen(schemes[k]) + strlen(c->hosts[i]) >= CFG_ALLOW_LEN)
				continue;
			snprintf(c->origins[c->n_origins++], CFG_ALLOW_LEN, "%s%s", schemes[k],
			         c->hosts[i]);
		}
	}
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

/* A string field (char *, owned): a copy of s, at most CFG_URL_LEN bytes, printable ASCII
 * without spaces (URLs, paths and claim names all are). */
static dmcp_rc parse_string(const struct var *v, const char *s, struct cfg *c, char *err,
                            size_t errlen)
{
	char **field = (char **)(void *)((char *)c + v->off);
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			break;
	if (n > CFG_URL_LEN || i < n) {
		snprintf(err, errlen, "%s must be at most %d printable characters without spaces",
		         v->name, CFG_URL_LEN);
		return DMCP_E_PARAMS;
	}
	free(*field);
	*field = strdup(s);
	return *field != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

/* 1 when s is an absolute http(s) URL with a host, no query and no fragment (RFC 8707 §2: a
 * resource indicator should have no query; RFC 8414 §2: an issuer has neither). */
static int url_ok(const char *s)
{
	const char *host;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	return *host != '\0' && *host != '/' && strchr(s, '#') == NULL && strchr(s, '?') == NULL;
}

/* DMCP_RESOURCE, DMCP_JWT_ISSUER: an absolute http(s) URL without query or fragment. */
static dmcp_rc parse_url(const struct var *v, const char *s, struct cfg *c, char *err,
                         size_t errlen)
{
	dmcp_rc rc = parse_string(v, s, c, err, errlen);

	if (rc == DMCP_OK && !url_ok(s)) {
		snprintf(err, errlen, "%s must be a URL, http(s)://host/path, without a query or "
		         "fragment (got \"%.60s\")", v->name, s);
		return DMCP_E_PARAMS;
	}
	return rc;
}

/* DMCP_AUTH: a comma list of methods, each once. */
static dmcp_rc parse_auth(const struct var *v, const char *s, struct cfg *c, char *err,
                          size_t errlen)
{
	static const struct word methods[] = {
		{"remote-user", CFG_AUTH_REMOTE_USER}, {"token", CFG_AUTH_TOKEN}, {"jwt", CFG_AUTH_JWT},
		{NULL, 0},
	};
	static const struct var one = {.name = "DMCP_AUTH", .words = methods};
	char table[CFG_MAX_ALLOW][CFG_ALLOW_LEN];
	int n = 0, any = 0, i, x = 0;
	dmcp_rc rc = split_list(v->name, s, table, &n, &any, err, errlen);

	if (rc != DMCP_OK)
		return rc;
	c->n_auth = 0;
	for (i = 0; i < n && rc == DMCP_OK; i++) {
		rc = match_word(&one, table[i], &x, err, errlen);
		if (rc == DMCP_OK && cfg_has_auth(c, (enum cfg_auth)x)) {
			snprintf(err, errlen, "%s names %s twice", v->name, table[i]);
			rc = DMCP_E_PARAMS;
		}
		if (rc == DMCP_OK)
			c->auth[c->n_auth++] = (enum cfg_auth)x;
	}
	if (rc == DMCP_OK && (any || c->n_auth == 0)) {
		snprintf(err, errlen, "%s must list remote-user, token or jwt (comma-separated)",
		         v->name);
		rc = DMCP_E_PARAMS;
	}
	return rc;
}

/* DMCP_AUTHORIZATION_SERVERS: a comma list of issuer URLs. */
static dmcp_rc parse_servers(const struct var *v, const char *s, struct cfg *c, char *err,
                             size_t errlen)
{
	char table[CFG_MAX_ALLOW][CFG_ALLOW_LEN];
	int n = 0, any = 0, i;
	dmcp_rc rc = split_list(v->name, s, table, &n, &any, err, errlen);

	if (rc == DMCP_OK && (any || n > CFG_MAX_AS)) {
		snprintf(err, errlen, "%s: at most %d URLs", v->name, CFG_MAX_AS);
		rc = DMCP_E_PARAMS;
	}
	for (i = 0; i < n && rc == DMCP_OK; i++) {
		if (!url_ok(table[i])) {
			snprintf(err, errlen, "%s: \"%.60s\" is not an http(s) URL without query or "
			         "fragment", v->name, table[i]);
			rc = DMCP_E_PARAMS;
		}
		memcpy(c->auth_servers[i], table[i], CFG_ALLOW_LEN);
	}
	c->n_as = rc == DMCP_OK ? n : 0;
	return rc;
}

/* A scope list (DMCP_REQUIRED_SCOPES, DMCP_SCOPES_SUPPORTED): spaces or commas between. */
static dmcp_rc parse_scopes(const struct var *v, const char *s, struct cfg *c, char *err,
                            size_t errlen)
{
	char *field = (char *)c + v->off;
	dmcp_rc rc = scope_norm(s, strlen(s), 1, field, SCOPE_MAX_LIST + 1);

	if (rc != DMCP_OK)
		snprintf(err, errlen, "%s must be OAuth scopes separated by spaces or commas, at "
		         "most %d bytes", v->name, SCOPE_MAX_LIST);
	return rc == DMCP_OK ? DMCP_OK : DMCP_E_PARAMS;
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
static const struct word pooler_words[] = {{"none", 0}, {"transaction", 1}, {NULL, 0}};
static const struct word notify_words[] = {
	{"auto", CFG_NOTIFY_AUTO}, {"always", CFG_NOTIFY_ALWAYS}, {NULL, 0},
};

#define INT_VAR(var, field, min, max)                                              \
	{.name = (var), .parse = parse_int, .off = offsetof(struct cfg, field), .lo = (min), \
	 .hi = (max)}
#define STR_VAR(var, field, fn) {.name = (var), .parse = (fn), .off = offsetof(struct cfg, field)}
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
	INT_VAR("DMCP_RETENTION", expire_s, 10, 365 * 86400),
	INT_VAR("DMCP_SQL_TOOLS_TIMEOUT_MS", sql_timeout_ms, 10, 3600000),
	INT_VAR("DMCP_SQL_TOOLS_MAX_ROWS", sql_max_rows, 1, 1000000),
	INT_VAR("DMCP_EXEC_TIMEOUT_MS", exec_timeout_ms, 100, 3600000),
	{.name = "DMCP_MAX_BODY", .parse = parse_size, .off = offsetof(struct cfg, max_body),
	 .lo = 1024, .hi = 64LL << 20},
	{.name = "DMCP_EXEC_MAX_OUTPUT", .parse = parse_size,
	 .off = offsetof(struct cfg, exec_max_output), .lo = 1024, .hi = 64LL << 20},
	WORD_VAR("DMCP_SAMPLING_FALLBACK", sampling_mock, sampling_words),
	WORD_VAR("DMCP_ASYNC_COMMIT", async_commit, async_words),
	WORD_VAR("DMCP_RECORD_CALLS", record_all, record_words),
	{.name = "DMCP_NOTIFY", .parse = parse_notify, .words = notify_words},
	{.name = "DMCP_STATE_KEY", .parse = parse_state_key},
	{.name = "DMCP_ALLOWED_HOSTS", .parse = parse_hosts},
	{.name = "DMCP_ALLOWED_ORIGINS", .parse = parse_origins},
	INT_VAR("DMCP_MAX_SESSIONS_PER_PRINCIPAL", max_sessions, 0, 10000000),
	INT_VAR("DMCP_MAX_RUNS_PER_PRINCIPAL", max_principal_runs, 0, 10000000),
	{.name = "DMCP_AUTH", .parse = parse_auth},
	STR_VAR("DMCP_RESOURCE", resource, parse_url),
	{.name = "DMCP_AUTHORIZATION_SERVERS", .parse = parse_servers},
	STR_VAR("DMCP_JWT_ISSUER", jwt_issuer, parse_url),
	STR_VAR("DMCP_JWT_AUDIENCE", jwt_audience, parse_string),
	STR_VAR("DMCP_JWKS_FILE", jwks_file, parse_string),
	STR_VAR("DMCP_JWT_PRINCIPAL_CLAIM", principal_claim, parse_string),
	STR_VAR("DMCP_REQUIRED_SCOPES", required_scopes, parse_scopes),
	STR_VAR("DMCP_SCOPES_SUPPORTED", scopes_supported, parse_scopes),
	{.name = "DMCP_METRICS_PATH", .parse = parse_metrics_path},
	WORD_VAR("DMCP_POOLER", pooled, pooler_words),
	INT_VAR("DMCP_START_TIMEOUT", start_timeout_s, 1, 3600),
	INT_VAR("DMCP_STATEMENT_TIMEOUT_MS", statement_timeout_ms, 0, 3600000),
	INT_VAR("DMCP_LOCK_TIMEOUT_MS", lock_timeout_ms, 0, 3600000),
	INT_VAR("DMCP_LEASE_S", lease_s, 3, 3600),
	INT_VAR("DMCP_STEP_MAX_MS", step_max_ms, 0, 86400000),
	INT_VAR("DMCP_WRITE_TIMEOUT_MS", write_timeout_ms, 100, 3600000),
	INT_VAR("DMCP_MAX_SUBSCRIPTIONS", max_subs, 1, 100000),
	INT_VAR("DMCP_RUN_RETENTION", retention_s, 0, 10 * 365 * 86400),
};

/* Bytes of a PostgreSQL name (NAMEDATALEN - 1). */
#define CFG_MAX_PG_NAME 63
/* Bytes of DMCP_EXEC_TOOLS_DIR. */
#define CFG_MAX_PATH 1024

/* A string variable that may be set to "" (which means something): its value, or dflt when
 * unset, copied into *out. */
static dmcp_rc string_var(const char *name, const char *dflt, size_t max, char **out,
                          char *err, size_t errlen)
{
	const char *s = getenv(name);

	if (s == NULL)
		s = dflt;
	*out = NULL;
	if (s == NULL)
		return DMCP_OK;
	if (strlen(s) > max) {
		snprintf(err, errlen, "%s must be at most %zu bytes", name, max);
		return DMCP_E_PARAMS;
	}
	*out = strdup(s);
	return *out != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

/* The tool kinds' strings: DMCP_SQL_TOOLS_SCHEMA and DMCP_SQL_TOOLS_ROLE ("" means off and
 * the connection's own role), DMCP_EXEC_TOOLS_DIR ("" or unset: none). */
static dmcp_rc tool_vars(struct cfg *c, char *err, size_t errlen)
{
	DMCP_TRY(string_var("DMCP_SQL_TOOLS_SCHEMA", "dmcp_tools", CFG_MAX_PG_NAME, &c->sql_schema,
	                    err, errlen));
	DMCP_TRY(string_var("DMCP_SQL_TOOLS_ROLE", "dmcp_tools", CFG_MAX_PG_NAME, &c->sql_role,
	                    err, errlen));
	DMCP_TRY(string_var("DMCP_EXEC_TOOLS_DIR", NULL, CFG_MAX_PATH, &c->exec_dir, err, errlen));
	if (c->exec_dir != NULL && c->exec_dir[0] == '\0') {
		free(c->exec_dir);
		c->exec_dir = NULL;
	}
	if (c->exec_dir != NULL && c->exec_dir[0] != '/') {
		snprintf(err, errlen, "DMCP_EXEC_TOOLS_DIR must be an absolute path");
		return DMCP_E_PARAMS;
	}
	return DMCP_OK;
}

/* What the authentication settings need of each other. */
static dmcp_rc check_auth(struct cfg *c, char *err, size_t errlen)
{
	if ((cfg_has_auth(c, CFG_AUTH_TOKEN) || cfg_has_auth(c, CFG_AUTH_JWT)) && c->resource == NULL) {
		snprintf(err, errlen, "DMCP_AUTH=token or jwt needs DMCP_RESOURCE, this server's URL "
		         "(e.g. https://mcp.example.com/mcp)");
		return DMCP_E_PARAMS;
	}
	if (cfg_has_auth(c, CFG_AUTH_JWT) && (c->jwt_issuer == NULL || c->jwks_file == NULL)) {
		snprintf(err, errlen, "DMCP_AUTH=jwt needs DMCP_JWT_ISSUER (the authorization "
		         "server's issuer) and DMCP_JWKS_FILE (its keys)");
		return DMCP_E_PARAMS;
	}
	if (c->n_as == 0 && c->jwt_issuer != NULL && strlen(c->jwt_issuer) < CFG_ALLOW_LEN) {
		snprintf(c->auth_servers[0], CFG_ALLOW_LEN, "%s", c->jwt_issuer);
		c->n_as = 1;
	}
	if (c->scopes_supported[0] == '\0')
		memcpy(c->scopes_supported, c->required_scopes, sizeof c->scopes_supported);
	if (c->principal_claim == NULL)
		c->principal_claim = strdup("sub");
	return c->principal_claim != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

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
			goto out;
	}
	rc = check_auth(c, err, errlen);
	if (rc != DMCP_OK)
		goto out;
	s = getenv("DMCP_DATABASE_URL");
	c->database_url = strdup(s != NULL ? s : "");
	if (c->database_url == NULL) {
		rc = DMCP_E_NOMEM;
		goto out;
	}
	s = getenv("DMCP_LISTEN_URL");
	c->listen_url = strdup(s != NULL && *s != '\0' ? s : c->database_url);
	if (!c->origins_set)
		origins_from_hosts(c);
	if (c->listen_url == NULL) {
		rc = DMCP_E_NOMEM;
		goto out;
	}
	rc = tool_vars(c, err, errlen);
out:
	if (rc != DMCP_OK)
		cfg_free(c); /* what was read so far; cfg_free may be called again */
	return rc;
}

void cfg_free(struct cfg *c)
{
	free(c->listen_url);
	c->listen_url = NULL;
	free(c->database_url);
	free(c->state_key);
	free(c->resource);
	free(c->jwt_issuer);
	free(c->jwt_audience);
	free(c->jwks_file);
	free(c->principal_claim);
	free(c->metrics_path);
	free(c->sql_schema);
	free(c->sql_role);
	free(c->exec_dir);
	c->database_url = NULL;
	c->state_key = NULL;
	c->resource = NULL;
	c->jwt_issuer = NULL;
	c->jwt_audience = NULL;
	c->jwks_file = NULL;
	c->principal_claim = NULL;
	c->metrics_path = NULL;
	c->sql_schema = c->sql_role = c->exec_dir = NULL;
}
