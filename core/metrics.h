/* metrics.h — this process's counters, and their Prometheus text exposition (format 0.0.4):
 * HTTP requests by status, steps, wake-ups, database errors, and tool calls by tool and
 * status with a histogram of their durations. Counting is lock-free except for a finished
 * tool call (one mutex, once per call). Knows nothing of HTTP, SQL or MCP: modules count what
 * they see, the server asks for the page (with the gauges only it knows).
 * The counts are the process's own, since it started: a deployment of several processes has
 * one set per process. Calls that finish in their first step are counted here even when the
 * database never stores them (DMCP_RECORD_CALLS=durable). */
#ifndef DMCP_METRICS_H
#define DMCP_METRICS_H

#include <stdint.h>
#include "buf.h"
#include "dmcp.h"

/* Distinct tool names counted; calls of further names are counted under METRICS_OTHER. The
 * registry allows 256 tools and 256 prompts that run. */
#define METRICS_MAX_TOOLS 512
/* The name that stands for the tools past METRICS_MAX_TOOLS. */
#define METRICS_OTHER "(other)"
/* Bytes of a counted tool name: "prompt:" and a 128-byte name. */
#define METRICS_TOOL_LEN 160

/* How a stream was woken. */
enum metrics_wake {
	METRICS_WAKE_NOTIFY, /* the listener heard a NOTIFY for its run */
	METRICS_WAKE_LOCAL   /* a step of this process handed the events over (wake_post) */
};

/* What only the server knows at the time of the page (-1: leave the gauge out). */
struct metrics_gauges {
	int threads;   /* worker threads of the process */
	int busy;      /* threads serving a request now */
	int following; /* threads following a run's stream now */
	int listener;  /* 1 while the LISTEN connection is up, 0 when not */
};

void metrics_request(int http_status);
void metrics_step(void);
void metrics_wakeup(enum metrics_wake how);
void metrics_db_error(void);
/* A tool call ended: tool (as the run records it), status (completed, failed or
 * cancelled), and its duration from the call's first request, in milliseconds. */
void metrics_call(const char *tool, const char *status, int64_t ms);

/* Append the page to b (text/plain; version=0.0.4). DMCP_E_LIMIT or DMCP_E_NOMEM when b
 * refused it. */
dmcp_rc metrics_render(struct buf *b, const struct metrics_gauges *g) DMCP_MUST_CHECK;
/* Every count back to zero (unit tests). */
void metrics_reset(void);

#endif
