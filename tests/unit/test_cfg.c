/* test_cfg.c — TAP tests of core/cfg.c: the defaults, and cfg_load reading the environment:
 * every integer at and beyond its bounds, malformed numbers, the variables that take one of a
 * few words (sampling fallback, notify mode, async commit, call recording), the Host/Origin allowlists
 * (spaces, "*", too many entries, too long an entry), and the authentication settings (the
 * DMCP_AUTH list, what token and jwt need, URLs, scopes, defaults). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "t.h"

/* Error messages: one line. */
#define ERR_LEN 256
/* Bytes of the list values built here: CFG_MAX_ALLOW + 1 entries of a few bytes each. */
#define LIST_LEN 4096

/* Every variable cfg_load reads (and a few others), cleared before each case. */
static const char *const all_vars[] = {
	"DMCP_THREADS", "DMCP_STREAM_HOLD_MS", "DMCP_HEARTBEAT_MS", "DMCP_POLL_MS", "DMCP_RETRY_MS",
	"DMCP_SESSION_TTL", "DMCP_MAX_RUNS_PER_SESSION", "DMCP_MAX_EVENTS_PER_RUN", "DMCP_MAX_BODY",
	"DMCP_SAMPLING_FALLBACK", "DMCP_ALLOWED_HOSTS", "DMCP_ALLOWED_ORIGINS",
	"DMCP_DATABASE_URL", "DMCP_NOTIFY", "DMCP_ASYNC_COMMIT", "DMCP_RECORD_CALLS",
	"DMCP_LOG_LEVEL", "DMCP_STATE_KEY", "DMCP_STATE_TTL", "DMCP_MAX_SESSIONS_PER_PRINCIPAL",
	"DMCP_AUTH", "DMCP_RESOURCE", "DMCP_AUTHORIZATION_SERVERS", "DMCP_JWT_ISSUER",
	"DMCP_JWKS_FILE", "DMCP_JWT_PRINCIPAL_CLAIM", "DMCP_JWT_AUDIENCE", "DMCP_REQUIRED_SCOPES",
	"DMCP_SCOPES_SUPPORTED",
	"DMCP_METRICS_PATH",
};

/* The integer variables, their documented ranges, and where each lands. */
static const struct {
	const char *name;
	long long lo, hi;
	size_t off; /* offset of the int field; SIZE_MAX for max_body */
} ints[] = {
	{"DMCP_THREADS", 1, 256, offsetof(struct cfg, threads)},
	{"DMCP_STREAM_HOLD_MS", 100, 3600000, offsetof(struct cfg, hold_ms)},
	{"DMCP_HEARTBEAT_MS", 100, 600000, offsetof(struct cfg, heartbeat_ms)},
	{"DMCP_POLL_MS", 10, 60000, offsetof(struct cfg, poll_ms)},
	{"DMCP_RETRY_MS", 0, 600000, offsetof(struct cfg, retry_ms)},
	{"DMCP_SESSION_TTL", 10, 365LL * 86400, offsetof(struct cfg, session_ttl_s)},
	{"DMCP_MAX_RUNS_PER_SESSION", 1, 100000, offsetof(struct cfg, max_runs)},
	{"DMCP_MAX_EVENTS_PER_RUN", 10, 10000000, offsetof(struct cfg, max_events)},
	{"DMCP_STATE_TTL", 10, 365LL * 86400, offsetof(struct cfg, state_ttl_s)},
	{"DMCP_MAX_SESSIONS_PER_PRINCIPAL", 0, 10000000, offsetof(struct cfg, max_sessions)},
	{"DMCP_MAX_BODY", 1024, 64LL << 20, SIZE_MAX},
};

static void clear_env(void)
{
	size_t i;

	for (i = 0; i < sizeof all_vars / sizeof all_vars[0]; i++)
		unsetenv(all_vars[i]);
}

/* cfg_load with only name=value set (name NULL: nothing set). c must be freed. */
static dmcp_rc load(struct cfg *c, const char *name, const char *value, char *err)
{
	clear_env();
	if (name != NULL)
		setenv(name, value, 1);
	err[0] = '\0';
	return cfg_load(c, err, ERR_LEN);
}

static long long field(const struct cfg *c, size_t off)
{
	if (off == SIZE_MAX)
		return (long long)c->max_body;
	return *(const int *)(const void *)((const char *)c + off);
}

static void test_defaults(void)
{
	struct cfg c;
	char err[ERR_LEN];
	dmcp_rc rc;

	cfg_defaults(&c);
	T_EQ_INT(c.threads, 8, "default threads");
	T_EQ_INT(c.max_body, 1u << 20, "default max body 1 MiB");
	T_EQ_INT(c.hold_ms, 25000, "default hold");
	T_EQ_INT(c.heartbeat_ms, 15000, "default heartbeat");
	T_EQ_INT(c.poll_ms, 1000, "default poll");
	T_EQ_INT(c.retry_ms, 1000, "default retry");
	T_EQ_INT(c.session_ttl_s, 86400, "default session TTL");
	T_EQ_INT(c.max_runs, 100, "default max runs");
	T_EQ_INT(c.max_events, 10000, "default max events");
	T_EQ_INT(c.sampling_mock, 0, "default sampling fallback none");
	T_OK(c.allow_any_host == 0 && c.allow_any_origin == 0, "no * by default");
	T_EQ_INT(c.n_hosts, 3, "three default hosts");
	T_OK(strcmp(c.hosts[0], "localhost") == 0 && strcmp(c.hosts[1], "127.0.0.1") == 0 &&
	     strcmp(c.hosts[2], "[::1]") == 0, "default hosts are the loopback names");
	T_EQ_INT(c.n_origins, 6, "six default origins");
	T_OK(strcmp(c.origins[0], "http://localhost") == 0 &&
	     strcmp(c.origins[5], "https://[::1]") == 0, "default origins are loopback http(s)");
	T_OK(c.database_url == NULL, "cfg_defaults allocates nothing");
	cfg_free(&c);

	rc = load(&c, NULL, NULL, err);
	T_EQ_INT(rc, DMCP_OK, "cfg_load with an empty environment");
	T_OK(c.threads == 8 && c.max_body == 1u << 20 && c.n_hosts == 3 && c.n_origins == 6,
	     "cfg_load with an empty environment gives the defaults");
	T_EQ_STR(c.database_url, "", "no DMCP_DATABASE_URL: \"\" (libpq defaults)");
	cfg_free(&c);
	T_OK(c.database_url == NULL, "cfg_free clears the URL");
	cfg_free(&c); /* twice is harmless */

	rc = load(&c, "DMCP_DATABASE_URL", "host=localhost dbname=dmcp", err);
	T_OK(rc == DMCP_OK && strcmp(c.database_url, "host=localhost dbname=dmcp") == 0,
	     "DMCP_DATABASE_URL is copied");
	cfg_free(&c);
}

static void test_ints(void)
{
	struct cfg c;
	char err[ERR_LEN], v[32];
	size_t i;
	dmcp_rc rc;

	for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		const char *n = ints[i].name;

		snprintf(v, sizeof v, "%lld", ints[i].lo);
		rc = load(&c, n, v, err);
		T_OK(rc == DMCP_OK && field(&c, ints[i].off) == ints[i].lo, "%s=%s (lowest) taken", n,
		     v);
		cfg_free(&c);

		snprintf(v, sizeof v, "%lld", ints[i].hi);
		rc = load(&c, n, v, err);
		T_OK(rc == DMCP_OK && field(&c, ints[i].off) == ints[i].hi, "%s=%s (highest) taken",
		     n, v);
		cfg_free(&c);

		snprintf(v, sizeof v, "%lld", ints[i].lo - 1);
		rc = load(&c, n, v, err);
		T_OK(rc == DMCP_E_PARAMS && strstr(err, n) != NULL, "%s=%s refused, named (%s)", n, v,
		     err);
		cfg_free(&c);

		snprintf(v, sizeof v, "%lld", ints[i].hi + 1);
		rc = load(&c, n, v, err);
		T_OK(rc == DMCP_E_PARAMS && strstr(err, n) != NULL, "%s=%s refused, named", n, v);
		cfg_free(&c);

		rc = load(&c, n, "12abc", err);
		T_OK(rc == DMCP_E_PARAMS && strstr(err, n) != NULL, "%s=12abc refused", n);
		cfg_free(&c);

		rc = load(&c, n, "", err);
		T_OK(rc == DMCP_OK, "%s=\"\" means unset", n);
		cfg_free(&c);
	}

	{
		static const char *const garbage[] = {"abc", "0x10", "1e3", "1.5", "5 ", "-",
		                                      "99999999999999999999", "\t"};
		for (i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
			rc = load(&c, "DMCP_THREADS", garbage[i], err);
			T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_THREADS") != NULL,
			     "DMCP_THREADS=\"%s\" refused", garbage[i] + (garbage[i][0] == '\t'));
			cfg_free(&c);
		}
	}
	rc = load(&c, "DMCP_THREADS", "9999999999999999999999999999", err);
	T_OK(rc == DMCP_E_PARAMS && strlen(err) < ERR_LEN - 1, "an overflowing value refused");
	cfg_free(&c);

	/* Two variables, one bad: the bad one is named. */
	clear_env();
	setenv("DMCP_THREADS", "4", 1);
	setenv("DMCP_POLL_MS", "5", 1);
	rc = cfg_load(&c, err, sizeof err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_POLL_MS") != NULL &&
	     strstr(err, "DMCP_THREADS") == NULL, "the message names the bad variable only");
	cfg_free(&c);
}

static void test_sampling(void)
{
	struct cfg c;
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "mock", err);
	T_OK(rc == DMCP_OK && c.sampling_mock == 1, "mock");
	cfg_free(&c);
	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "none", err);
	T_OK(rc == DMCP_OK && c.sampling_mock == 0, "none");
	cfg_free(&c);
	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "", err);
	T_OK(rc == DMCP_OK && c.sampling_mock == 0, "empty means the default (none)");
	cfg_free(&c);
	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "Mock", err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_SAMPLING_FALLBACK") != NULL,
	     "Mock (case) refused, named");
	cfg_free(&c);
	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "mock ", err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "mock with a space refused");
	cfg_free(&c);
	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "openai", err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "an unknown provider refused");
	cfg_free(&c);
}

/* The variables that take one word of a list: each word, "" for the default, and a refusal
 * whose message lists the words. */
static void test_words(void)
{
	struct cfg c;
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = load(&c, "DMCP_NOTIFY", "auto", err);
	T_OK(rc == DMCP_OK && c.notify_mode == CFG_NOTIFY_AUTO, "DMCP_NOTIFY=auto");
	cfg_free(&c);
	rc = load(&c, "DMCP_NOTIFY", "always", err);
	T_OK(rc == DMCP_OK && c.notify_mode == CFG_NOTIFY_ALWAYS, "DMCP_NOTIFY=always");
	cfg_free(&c);
	rc = load(&c, "DMCP_NOTIFY", "in-tx", err);
	T_OK(rc == DMCP_E_PARAMS, "DMCP_NOTIFY=in-tx is gone (saves are single statements)");
	cfg_free(&c);
	rc = load(&c, "DMCP_STATE_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", err);
	T_OK(rc == DMCP_OK && c.state_key != NULL && strlen(c.state_key) == 64, "DMCP_STATE_KEY: 64 hex");
	cfg_free(&c);
	rc = load(&c, "DMCP_STATE_KEY", "00112233", err);
	T_OK(rc == DMCP_E_PARAMS && strcmp(err, "DMCP_STATE_KEY must be 64 hex digits (256 bits)") == 0,
	     "DMCP_STATE_KEY: too short is refused: %s", err);
	cfg_free(&c);
	rc = load(&c, "DMCP_STATE_TTL", "5", err);
	T_OK(rc == DMCP_E_PARAMS, "DMCP_STATE_TTL below 10 is refused");
	cfg_free(&c);
	rc = load(&c, "DMCP_METRICS_PATH", "/metrics", err);
	T_OK(rc == DMCP_OK && c.metrics_path != NULL && strcmp(c.metrics_path, "/metrics") == 0,
	     "DMCP_METRICS_PATH=/metrics");
	cfg_free(&c);
	T_OK(c.metrics_path == NULL, "cfg_free clears metrics_path");
	rc = load(&c, "DMCP_METRICS_PATH", "", err);
	T_OK(rc == DMCP_OK && c.metrics_path == NULL, "DMCP_METRICS_PATH unset: no page");
	cfg_free(&c);
	{
		static const char *const bad[] = {"metrics", "/a b", "/m?x=1", "/m#f", "/\x01"};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			rc = load(&c, "DMCP_METRICS_PATH", bad[i], err);
			T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_METRICS_PATH") != NULL,
			     "DMCP_METRICS_PATH refuses bad path %zu", i);
			cfg_free(&c);
		}
	}
	rc = load(&c, "DMCP_NOTIFY", "", err);
	T_OK(rc == DMCP_OK && c.notify_mode == CFG_NOTIFY_AUTO, "DMCP_NOTIFY=\"\" is auto");
	cfg_free(&c);
	rc = load(&c, "DMCP_NOTIFY", "never", err);
	T_OK(rc == DMCP_E_PARAMS &&
	     strcmp(err, "DMCP_NOTIFY must be \"auto\" or \"always\"") == 0,
	     "DMCP_NOTIFY=never refused: %s", err);
	cfg_free(&c);

	rc = load(&c, "DMCP_ASYNC_COMMIT", "off", err);
	T_OK(rc == DMCP_OK && c.async_commit == 0, "DMCP_ASYNC_COMMIT=off");
	cfg_free(&c);
	rc = load(&c, "DMCP_ASYNC_COMMIT", "one-step", err);
	T_OK(rc == DMCP_OK && c.async_commit == 1, "DMCP_ASYNC_COMMIT=one-step");
	cfg_free(&c);
	rc = load(&c, "DMCP_ASYNC_COMMIT", "", err);
	T_OK(rc == DMCP_OK && c.async_commit == 1, "DMCP_ASYNC_COMMIT=\"\" is one-step");
	cfg_free(&c);
	rc = load(&c, "DMCP_ASYNC_COMMIT", "on", err);
	T_OK(rc == DMCP_E_PARAMS &&
	     strcmp(err, "DMCP_ASYNC_COMMIT must be \"one-step\" or \"off\"") == 0,
	     "DMCP_ASYNC_COMMIT=on refused: %s", err);
	cfg_free(&c);

	rc = load(&c, "DMCP_RECORD_CALLS", "all", err);
	T_OK(rc == DMCP_OK && c.record_all == 1, "DMCP_RECORD_CALLS=all");
	cfg_free(&c);
	rc = load(&c, "DMCP_RECORD_CALLS", "durable", err);
	T_OK(rc == DMCP_OK && c.record_all == 0, "DMCP_RECORD_CALLS=durable");
	cfg_free(&c);
	rc = load(&c, "DMCP_RECORD_CALLS", "", err);
	T_OK(rc == DMCP_OK && c.record_all == 0, "DMCP_RECORD_CALLS=\"\" is durable");
	cfg_free(&c);
	rc = load(&c, "DMCP_RECORD_CALLS", "some", err);
	T_OK(rc == DMCP_E_PARAMS &&
	     strcmp(err, "DMCP_RECORD_CALLS must be \"durable\" or \"all\"") == 0,
	     "DMCP_RECORD_CALLS=some refused: %s", err);
	cfg_free(&c);

	rc = load(&c, "DMCP_SAMPLING_FALLBACK", "x", err);
	T_OK(rc == DMCP_E_PARAMS &&
	     strcmp(err, "DMCP_SAMPLING_FALLBACK must be \"mock\" or \"none\"") == 0,
	     "DMCP_SAMPLING_FALLBACK=x refused: %s", err);
	cfg_free(&c);
}

static void test_lists(void)
{
	struct cfg c;
	char err[ERR_LEN], list[LIST_LEN], entry[CFG_ALLOW_LEN + 1];
	size_t n;
	int i;
	dmcp_rc rc;

	rc = load(&c, "DMCP_ALLOWED_HOSTS", " a.example.com , b.example.com:8080,\t[::1] ", err);
	T_EQ_INT(rc, DMCP_OK, "a host list with spaces");
	T_EQ_INT(c.n_hosts, 3, "three entries");
	T_OK(c.n_hosts == 3 && strcmp(c.hosts[0], "a.example.com") == 0 &&
	     strcmp(c.hosts[1], "b.example.com:8080") == 0 && strcmp(c.hosts[2], "[::1]") == 0,
	     "entries trimmed of spaces and tabs");
	T_EQ_INT(c.allow_any_host, 0, "no *");
	T_EQ_INT(c.n_origins, 6, "origins keep their defaults");
	cfg_free(&c);

	rc = load(&c, "DMCP_ALLOWED_HOSTS", "*", err);
	T_OK(rc == DMCP_OK && c.allow_any_host == 1 && c.n_hosts == 0, "* alone");
	cfg_free(&c);
	rc = load(&c, "DMCP_ALLOWED_HOSTS", "localhost, * ", err);
	T_OK(rc == DMCP_OK && c.allow_any_host == 1 && c.n_hosts == 1, "* among names");
	cfg_free(&c);
	rc = load(&c, "DMCP_ALLOWED_HOSTS", "*.example.com", err);
	T_OK(rc == DMCP_OK && c.allow_any_host == 0 && c.n_hosts == 1,
	     "*.example.com is a name, not *");
	cfg_free(&c);
	rc = load(&c, "DMCP_ALLOWED_HOSTS", ",, ,", err);
	T_OK(rc == DMCP_OK && c.n_hosts == 0 && c.allow_any_host == 0,
	     "only separators: an empty list (only absent Hosts pass)");
	cfg_free(&c);
	rc = load(&c, "DMCP_ALLOWED_HOSTS", "a,,b,", err);
	T_OK(rc == DMCP_OK && c.n_hosts == 2, "empty items skipped");
	cfg_free(&c);

	rc = load(&c, "DMCP_ALLOWED_ORIGINS", "https://app.example.com, *", err);
	T_OK(rc == DMCP_OK && c.allow_any_origin == 1 && c.n_origins == 1 &&
	     strcmp(c.origins[0], "https://app.example.com") == 0, "origins list with *");
	T_EQ_INT(c.n_hosts, 3, "hosts keep their defaults");
	cfg_free(&c);

	/* CFG_MAX_ALLOW entries fit; one more is refused. */
	n = 0;
	for (i = 0; i < CFG_MAX_ALLOW; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%sh%d", i ? "," : "", i);
	rc = load(&c, "DMCP_ALLOWED_HOSTS", list, err);
	T_OK(rc == DMCP_OK && c.n_hosts == CFG_MAX_ALLOW, "CFG_MAX_ALLOW entries fit");
	cfg_free(&c);
	snprintf(list + n, sizeof list - n, ",h%d", CFG_MAX_ALLOW);
	rc = load(&c, "DMCP_ALLOWED_HOSTS", list, err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_ALLOWED_HOSTS") != NULL,
	     "CFG_MAX_ALLOW+1 entries refused, named (%s)", err);
	cfg_free(&c);
	rc = load(&c, "DMCP_ALLOWED_ORIGINS", list, err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_ALLOWED_ORIGINS") != NULL,
	     "CFG_MAX_ALLOW+1 origins refused, named");
	cfg_free(&c);
	snprintf(list + n, sizeof list - n, ",*");
	rc = load(&c, "DMCP_ALLOWED_HOSTS", list, err);
	T_OK(rc == DMCP_OK && c.allow_any_host == 1, "* does not count as an entry");
	cfg_free(&c);

	/* An entry of CFG_ALLOW_LEN - 1 bytes fits (with its NUL); CFG_ALLOW_LEN is refused. */
	memset(entry, 'e', CFG_ALLOW_LEN - 1);
	entry[CFG_ALLOW_LEN - 1] = '\0';
	rc = load(&c, "DMCP_ALLOWED_HOSTS", entry, err);
	T_OK(rc == DMCP_OK && c.n_hosts == 1 && strlen(c.hosts[0]) == CFG_ALLOW_LEN - 1,
	     "an entry of CFG_ALLOW_LEN-1 bytes fits");
	cfg_free(&c);
	memset(entry, 'e', CFG_ALLOW_LEN);
	entry[CFG_ALLOW_LEN] = '\0';
	rc = load(&c, "DMCP_ALLOWED_HOSTS", entry, err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "DMCP_ALLOWED_HOSTS") != NULL,
	     "an entry of CFG_ALLOW_LEN bytes refused");
	cfg_free(&c);
	snprintf(list, sizeof list, "  %s  ", entry);
	list[2 + CFG_ALLOW_LEN - 1] = ' '; /* CFG_ALLOW_LEN - 1 bytes once trimmed */
	rc = load(&c, "DMCP_ALLOWED_HOSTS", list, err);
	T_OK(rc == DMCP_OK && c.n_hosts == 1 && strlen(c.hosts[0]) == CFG_ALLOW_LEN - 1,
	     "the length counts after trimming");
	cfg_free(&c);
}

/* cfg_load with the name=value pairs of kv (NULL-ended) set. */
static dmcp_rc load_all(struct cfg *c, const char *const *kv, char *err)
{
	clear_env();
	for (; kv[0] != NULL; kv += 2)
		setenv(kv[0], kv[1], 1);
	err[0] = '\0';
	return cfg_load(c, err, ERR_LEN);
}

static void test_auth(void)
{
	struct cfg c;
	char err[ERR_LEN];
	static const char *const token[] = {"DMCP_AUTH", "token", "DMCP_RESOURCE",
	                                    "https://mcp.example/mcp", NULL};
	static const char *const jwt[] = {"DMCP_AUTH", " jwt , remote-user ", "DMCP_RESOURCE",
	                                  "https://mcp.example/mcp", "DMCP_JWT_ISSUER",
	                                  "https://as.example", "DMCP_JWKS_FILE", "/etc/jwks.json",
	                                  "DMCP_REQUIRED_SCOPES", "mcp, read  mcp", NULL};

	T_OK(load(&c, NULL, NULL, err) == DMCP_OK && c.n_auth == 1 &&
	     c.auth[0] == CFG_AUTH_REMOTE_USER && c.max_sessions == 0 && c.resource == NULL &&
	     strcmp(c.principal_claim, "sub") == 0,
	     "defaults: remote-user alone, no session limit, no resource, claim sub");
	cfg_free(&c);
	T_OK(load_all(&c, token, err) == DMCP_OK && c.n_auth == 1 && c.auth[0] == CFG_AUTH_TOKEN &&
	     cfg_has_auth(&c, CFG_AUTH_TOKEN) && !cfg_has_auth(&c, CFG_AUTH_JWT),
	     "DMCP_AUTH=token with DMCP_RESOURCE (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_AUTH", "token", err) == DMCP_E_PARAMS &&
	     strstr(err, "DMCP_RESOURCE") != NULL, "token without DMCP_RESOURCE: refused (%s)", err);
	cfg_free(&c);
	T_OK(load_all(&c, jwt, err) == DMCP_OK && c.n_auth == 2 && c.auth[0] == CFG_AUTH_JWT &&
	     c.auth[1] == CFG_AUTH_REMOTE_USER && strcmp(c.required_scopes, "mcp read") == 0 &&
	     strcmp(c.scopes_supported, "mcp read") == 0 && c.n_as == 1 &&
	     strcmp(c.auth_servers[0], "https://as.example") == 0,
	     "jwt,remote-user: in order; scopes normalized; supported = required; the issuer is "
	     "the authorization server (%s)", err);
	cfg_free(&c);
	{
		static const char *const kv[] = {"DMCP_AUTH", "jwt", "DMCP_RESOURCE",
		                                 "https://mcp.example/mcp", "DMCP_JWT_ISSUER",
		                                 "https://as.example", NULL};
		T_OK(load_all(&c, kv, err) == DMCP_E_PARAMS && strstr(err, "DMCP_JWKS_FILE") != NULL,
		     "jwt without DMCP_JWKS_FILE: refused (%s)", err);
		cfg_free(&c);
	}
	{
		static const char *const kv[] = {"DMCP_AUTH", "token", "DMCP_RESOURCE",
		                                 "https://mcp.example/mcp", "DMCP_AUTHORIZATION_SERVERS",
		                                 "https://a.example, https://b.example/tenant",
		                                 "DMCP_SCOPES_SUPPORTED", "mcp admin", NULL};
		T_OK(load_all(&c, kv, err) == DMCP_OK && c.n_as == 2 &&
		     strcmp(c.auth_servers[1], "https://b.example/tenant") == 0 &&
		     strcmp(c.scopes_supported, "mcp admin") == 0,
		     "DMCP_AUTHORIZATION_SERVERS, DMCP_SCOPES_SUPPORTED (%s)", err);
		cfg_free(&c);
	}
	T_OK(load(&c, "DMCP_AUTH", "token,token", err) == DMCP_E_PARAMS && strstr(err, "twice"),
	     "a method twice: refused (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_AUTH", "basic", err) == DMCP_E_PARAMS && strstr(err, "remote-user"),
	     "an unknown method: refused, naming the known ones (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_AUTH", ",", err) == DMCP_E_PARAMS, "an empty list: refused (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_RESOURCE", "mcp.example/mcp", err) == DMCP_E_PARAMS,
	     "a resource without a scheme: refused (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_RESOURCE", "https://mcp.example/mcp#x", err) == DMCP_E_PARAMS,
	     "a resource with a fragment: refused");
	cfg_free(&c);
	T_OK(load(&c, "DMCP_RESOURCE", "https:///mcp", err) == DMCP_E_PARAMS,
	     "a resource without a host: refused");
	cfg_free(&c);
	T_OK(load(&c, "DMCP_JWT_ISSUER", "https://as.example?x", err) == DMCP_E_PARAMS,
	     "an issuer with a query: refused");
	cfg_free(&c);
	T_OK(load(&c, "DMCP_AUTHORIZATION_SERVERS", "https://a.example,ftp://b", err) ==
	     DMCP_E_PARAMS, "a server that is not http(s): refused (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_REQUIRED_SCOPES", "a\"b", err) == DMCP_E_PARAMS,
	     "a scope with '\"': refused (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_JWT_PRINCIPAL_CLAIM", "a b", err) == DMCP_E_PARAMS,
	     "a claim name with a space: refused (%s)", err);
	cfg_free(&c);
	T_OK(load(&c, "DMCP_JWT_AUDIENCE", "api://6e1f0c2a", err) == DMCP_OK &&
	     strcmp(c.jwt_audience, "api://6e1f0c2a") == 0, "DMCP_JWT_AUDIENCE: any string");
	cfg_free(&c);
	T_OK(load(&c, "DMCP_JWT_PRINCIPAL_CLAIM", "email", err) == DMCP_OK &&
	     strcmp(c.principal_claim, "email") == 0, "DMCP_JWT_PRINCIPAL_CLAIM=email");
	cfg_free(&c);
}

int main(void)
{
	test_defaults();
	test_ints();
	test_sampling();
	test_words();
	test_lists();
	test_auth();
	clear_env();
	return t_done();
}
