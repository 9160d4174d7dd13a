/* test_metrics.c — TAP tests of core/metrics.c: the page's families and samples after known
 * counts, the histogram's cumulative buckets, label values escaped, the tool table's
 * overflow into "(other)", gauges left out when unknown, and a page that does not fit. */
#include <stdio.h>
#include <string.h>
#include "metrics.h"
#include "t.h"

/* The page for g into b (the caller frees b). */
static const char *page(struct buf *b, const struct metrics_gauges *g)
{
	buf_init(b, 1u << 22);
	if (metrics_render(b, g) != DMCP_OK)
		return "";
	return buf_cstr(b);
}

static int has(const char *text, const char *line)
{
	return strstr(text, line) != NULL;
}

static void test_counts(void)
{
	struct metrics_gauges g = {8, 2, 1, 1};
	struct buf b;
	const char *p;

	metrics_reset();
	metrics_request(200);
	metrics_request(200);
	metrics_request(404);
	metrics_request(42); /* out of range: counted as 599 */
	metrics_step();
	metrics_wakeup(METRICS_WAKE_NOTIFY);
	metrics_wakeup(METRICS_WAKE_LOCAL);
	metrics_wakeup(METRICS_WAKE_LOCAL);
	metrics_db_error();
	metrics_call("echo", "completed", 3);
	metrics_call("echo", "failed", 40);
	metrics_call("confirm", "cancelled", 90000);
	p = page(&b, &g);
	T_OK(has(p, "# TYPE dmcp_http_requests_total counter\n"), "requests: a counter family");
	T_OK(has(p, "dmcp_http_requests_total{status=\"200\"} 2\n"), "200 counted twice");
	T_OK(has(p, "dmcp_http_requests_total{status=\"404\"} 1\n"), "404 once");
	T_OK(has(p, "dmcp_http_requests_total{status=\"599\"} 1\n"), "a status out of range: 599");
	T_OK(!has(p, "status=\"500\""), "statuses never seen are left out");
	T_OK(has(p, "dmcp_steps_total 1\n"), "steps");
	T_OK(has(p, "dmcp_wakeups_total{source=\"notify\"} 1\n") &&
	     has(p, "dmcp_wakeups_total{source=\"local\"} 2\n"), "wake-ups by source");
	T_OK(has(p, "dmcp_database_errors_total 1\n"), "database errors");
	T_OK(has(p, "dmcp_threads 8\n") && has(p, "dmcp_threads_busy 2\n") &&
	     has(p, "dmcp_threads_following 1\n") && has(p, "dmcp_listener_connected 1\n"),
	     "the gauges given");
	T_OK(has(p, "dmcp_tool_calls_total{tool=\"echo\",status=\"completed\"} 1\n") &&
	     has(p, "dmcp_tool_calls_total{tool=\"echo\",status=\"failed\"} 1\n") &&
	     has(p, "dmcp_tool_calls_total{tool=\"confirm\",status=\"cancelled\"} 1\n"),
	     "calls by tool and status");
	T_OK(has(p, "dmcp_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.005\"} 1\n") &&
	     has(p, "dmcp_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.025\"} 1\n") &&
	     has(p, "dmcp_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.1\"} 2\n") &&
	     has(p, "dmcp_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"+Inf\"} 2\n"),
	     "buckets are cumulative");
	T_OK(has(p, "dmcp_tool_call_duration_seconds_sum{tool=\"echo\"} 0.043\n") &&
	     has(p, "dmcp_tool_call_duration_seconds_count{tool=\"echo\"} 2\n"), "sum and count");
	T_OK(has(p, "dmcp_tool_call_duration_seconds_bucket{tool=\"confirm\",le=\"60\"} 0\n") &&
	     has(p, "dmcp_tool_call_duration_seconds_bucket{tool=\"confirm\",le=\"300\"} 1\n"),
	     "a call that waited 90 s is in the 300 s bucket");
	T_OK(p[strlen(p) - 1] == '\n', "the page ends with a newline");
	buf_free(&b);
}

static void test_labels_and_overflow(void)
{
	struct metrics_gauges g = {-1, -1, -1, -1};
	struct buf b;
	const char *p;
	char name[32];
	int i;

	metrics_reset();
	metrics_call("a\"b\\c\nd", "completed", 1);
	for (i = 0; i < METRICS_MAX_TOOLS + 5; i++) {
		snprintf(name, sizeof name, "t%d", i);
		metrics_call(name, "completed", 1);
	}
	p = page(&b, &g);
	T_OK(has(p, "tool=\"a\\\"b\\\\c\\nd\""), "a label value escaped: quote, backslash, newline");
	T_OK(has(p, "dmcp_tool_calls_total{tool=\"(other)\",status=\"completed\"} 6\n"),
	     "tools past METRICS_MAX_TOOLS are counted under (other)");
	T_OK(!has(p, "dmcp_threads ") && !has(p, "dmcp_listener_connected"),
	     "unknown gauges are left out");
	buf_free(&b);
	buf_init(&b, 100);
	T_OK(metrics_render(&b, &g) == DMCP_E_LIMIT, "a page that does not fit is DMCP_E_LIMIT");
	buf_free(&b);
	metrics_reset();
}

int main(void)
{
	test_counts();
	test_labels_and_overflow();
	return t_done();
}
