/* metrics.c — the process's counters and their Prometheus text page (see metrics.h).
 * Knows nothing of HTTP, SQL or MCP. The counters are process-wide (one set per process,
 * from its start); the tool table fills as calls finish and never shrinks.
 * Prometheus exposition formats, text format 0.0.4. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "metrics.h"

/* HTTP statuses counted one by one: 100 to 599 (anything else counts as 599). */
#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599

/* Upper bounds (seconds) of the duration buckets: a call ends in milliseconds, or waits for a
 * person for minutes and hours. */
static const double bucket_le[] = {0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300, 1800,
                                   3600};
#define NBUCKETS ((int)(sizeof bucket_le / sizeof bucket_le[0]))

/* The statuses a call ends with, in the order of the page. */
static const char *const call_status[] = {"completed", "failed", "cancelled"};
#define NSTATUS 3

struct tool_count {
	char name[METRICS_TOOL_LEN + 1];
	unsigned long long calls[NSTATUS];   /* by call_status */
	unsigned long long bucket[NBUCKETS]; /* calls that took at most bucket_le[i] (not
	                                        cumulative here; the page sums them) */
	unsigned long long count;            /* all calls */
	double sum_s;                        /* their durations added up, seconds */
};

static unsigned long long requests[METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1];
static unsigned long long steps, wake_notify, wake_local, db_errors;
static struct tool_count tools[METRICS_MAX_TOOLS + 1]; /* the last is METRICS_OTHER */
static int ntools;
static pthread_mutex_t tools_mu = PTHREAD_MUTEX_INITIALIZER;

static void add(unsigned long long *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static unsigned long long get(const unsigned long long *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void metrics_request(int http_status)
{
	if (http_status < METRICS_STATUS_MIN || http_status > METRICS_STATUS_MAX)
		http_status = METRICS_STATUS_MAX;
	add(&requests[http_status - METRICS_STATUS_MIN]);
}

void metrics_step(void)
{
	add(&steps);
}

void metrics_wakeup(enum metrics_wake how)
{
	add(how == METRICS_WAKE_LOCAL ? &wake_local : &wake_notify);
}

void metrics_db_error(void)
{
	add(&db_errors);
}

/* The entry of name (made when new); the caller holds tools_mu. */
static struct tool_count *tool_entry(const char *name)
{
	int i;

	for (i = 0; i < ntools; i++)
		if (strcmp(tools[i].name, name) == 0)
			return &tools[i];
	if (ntools == METRICS_MAX_TOOLS || strlen(name) > METRICS_TOOL_LEN) {
		snprintf(tools[METRICS_MAX_TOOLS].name, sizeof tools[0].name, "%s", METRICS_OTHER);
		return &tools[METRICS_MAX_TOOLS];
	}
	snprintf(tools[ntools].name, sizeof tools[0].name, "%s", name);
	return &tools[ntools++];
}

void metrics_call(const char *tool, const char *status, int64_t ms)
{
	struct tool_count *t;
	double s = ms > 0 ? (double)ms / 1000.0 : 0;
	int i;

	pthread_mutex_lock(&tools_mu);
	t = tool_entry(tool != NULL ? tool : "");
	for (i = 0; i < NSTATUS; i++)
		if (status != NULL && strcmp(status, call_status[i]) == 0)
			t->calls[i]++;
	for (i = 0; i < NBUCKETS; i++) {
		if (s <= bucket_le[i]) {
			t->bucket[i]++;
			break;
		}
	}
	t->count++;
	t->sum_s += s;
	pthread_mutex_unlock(&tools_mu);
}

void metrics_reset(void)
{
	pthread_mutex_lock(&tools_mu);
	memset(requests, 0, sizeof requests);
	steps = wake_notify = wake_local = db_errors = 0;
	memset(tools, 0, sizeof tools);
	ntools = 0;
	pthread_mutex_unlock(&tools_mu);
}

/* ---- the page -------------------------------------------------------------------------- */

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	(void)buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			(void)buf_addf(b, "\\%c", *v);
		else if (*v == '\n')
			(void)buf_adds(b, "\\n");
		else
			(void)buf_add(b, v, 1);
	}
}

static void gauges(struct buf *b, const struct metrics_gauges *g)
{
	family(b, "dmcp_info", "gauge", "The dmcp version of this process (always 1).");
	(void)buf_adds(b, "dmcp_info{version=\"" DMCP_VERSION "\"} 1\n");
	if (g->threads >= 0) {
		family(b, "dmcp_threads", "gauge", "Worker threads of this process.");
		(void)buf_addf(b, "dmcp_threads %d\n", g->threads);
	}
	if (g->busy >= 0) {
		family(b, "dmcp_threads_busy", "gauge", "Worker threads serving a request now.");
		(void)buf_addf(b, "dmcp_threads_busy %d\n", g->busy);
	}
	if (g->following >= 0) {
		family(b, "dmcp_threads_following", "gauge",
		       "Worker threads following the stream of a run now.");
		(void)buf_addf(b, "dmcp_threads_following %d\n", g->following);
	}
	if (g->listener >= 0) {
		family(b, "dmcp_listener_connected", "gauge",
		       "1 while the process's LISTEN connection to PostgreSQL is up.");
		(void)buf_addf(b, "dmcp_listener_connected %d\n", g->listener ? 1 : 0);
	}
}

static void counters(struct buf *b)
{
	int i;

	family(b, "dmcp_http_requests_total", "counter", "HTTP requests answered, by status.");
	for (i = 0; i <= METRICS_STATUS_MAX - METRICS_STATUS_MIN; i++)
		if (get(&requests[i]) > 0)
			(void)buf_addf(b, "dmcp_http_requests_total{status=\"%d\"} %llu\n",
			               i + METRICS_STATUS_MIN, get(&requests[i]));
	family(b, "dmcp_steps_total", "counter", "Steps of tool calls taken by this process.");
	(void)buf_addf(b, "dmcp_steps_total %llu\n", get(&steps));
	family(b, "dmcp_wakeups_total", "counter",
	       "Streams woken because their run has news: by a NOTIFY, or by a step of this "
	       "process.");
	(void)buf_addf(b, "dmcp_wakeups_total{source=\"notify\"} %llu\n", get(&wake_notify));
	(void)buf_addf(b, "dmcp_wakeups_total{source=\"local\"} %llu\n", get(&wake_local));
	family(b, "dmcp_database_errors_total", "counter",
	       "Statements and connections to PostgreSQL that failed.");
	(void)buf_addf(b, "dmcp_database_errors_total %llu\n", get(&db_errors));
}

static void tool_histogram(struct buf *b, const struct tool_count *t)
{
	unsigned long long cum = 0;
	int i;

	for (i = 0; i < NBUCKETS; i++) {
		cum += t->bucket[i];
		(void)buf_adds(b, "dmcp_tool_call_duration_seconds_bucket{tool=\"");
		label_value(b, t->name);
		(void)buf_addf(b, "\",le=\"%g\"} %llu\n", bucket_le[i], cum);
	}
	(void)buf_adds(b, "dmcp_tool_call_duration_seconds_bucket{tool=\"");
	label_value(b, t->name);
	(void)buf_addf(b, "\",le=\"+Inf\"} %llu\n", t->count);
	(void)buf_adds(b, "dmcp_tool_call_duration_seconds_sum{tool=\"");
	label_value(b, t->name);
	(void)buf_addf(b, "\"} %.3f\n", t->sum_s);
	(void)buf_adds(b, "dmcp_tool_call_duration_seconds_count{tool=\"");
	label_value(b, t->name);
	(void)buf_addf(b, "\"} %llu\n", t->count);
}

static void calls(struct buf *b)
{
	int i, k, n;

	pthread_mutex_lock(&tools_mu);
	n = ntools + (tools[METRICS_MAX_TOOLS].count > 0 ? 1 : 0);
	family(b, "dmcp_tool_calls_total", "counter",
	       "Tool calls this process finished, by tool and status; calls that end in their "
	       "first step included (the database keeps those only with DMCP_RECORD_CALLS=all).");
	for (i = 0; i < n; i++) {
		const struct tool_count *t = &tools[i < ntools ? i : METRICS_MAX_TOOLS];
		for (k = 0; k < NSTATUS; k++) {
			(void)buf_adds(b, "dmcp_tool_calls_total{tool=\"");
			label_value(b, t->name);
			(void)buf_addf(b, "\",status=\"%s\"} %llu\n", call_status[k], t->calls[k]);
		}
	}
	family(b, "dmcp_tool_call_duration_seconds", "histogram",
	       "Durations of the tool calls this process finished, from the call's request to "
	       "its end (time spent waiting for the client included).");
	for (i = 0; i < n; i++)
		tool_histogram(b, &tools[i < ntools ? i : METRICS_MAX_TOOLS]);
	pthread_mutex_unlock(&tools_mu);
}

dmcp_rc metrics_render(struct buf *b, const struct metrics_gauges *g)
{
	gauges(b, g);
	counters(b);
	calls(b);
	return b->fail;
}
