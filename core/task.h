/* task.h — MCP tasks as dmcp shows them. A task is a run (its id is the task id); this module
 * maps a run row to a task status and builds the shapes of both eras: the 2025-11-25 Task and
 * CreateTaskResult ({task: Task}), and the 2026-07-28 extension io.modelcontextprotocol/tasks
 * (a flat CreateTaskResult with resultType "task", DetailedTask). Knows nothing of HTTP, SQL
 * or the journal's format. MCP 2025-11-25 basic/utilities/tasks; SEP-2663 (tasks extension). */
#ifndef DMCP_TASK_H
#define DMCP_TASK_H

#include <stdint.h>
#include <json-c/json.h>
#include "rows.h"

/* The extension's name (capabilities.extensions, clientCapabilities.extensions). */
#define TASK_EXT "io.modelcontextprotocol/tasks"
/* The _meta key that ties a message to its task (2025-11-25). */
#define TASK_RELATED_META "io.modelcontextprotocol/related-task"

enum task_status {
	TASK_WORKING, TASK_INPUT_REQUIRED, TASK_COMPLETED, TASK_FAILED, TASK_CANCELLED
};

/* The status of the task that run r is; response is the body of its response event (or
 * NULL). 2025-11-25 (modern 0): a result with isError:true is "failed"; 2026-07-28: a tool
 * error is "completed" (its result says isError) and only a JSON-RPC error is "failed". */
enum task_status task_status_of(const struct run_row *r, const char *response, int modern);
const char *task_status_name(enum task_status s);
int task_terminal(enum task_status s);

/* Milliseconds since the epoch, now; and an ISO 8601 UTC time ("...T...Z") into out. */
int64_t task_now_ms(void);
void task_iso_time(int64_t ms, char out[ROW_TIME_LEN]);

/* 1 when the client capabilities caps declare the tasks extension (2026-07-28). */
int task_caps_ext(json_object *caps);

/* The Task object of t (new): taskId, status, statusMessage (why a task failed or was
 * cancelled), createdAt, lastUpdatedAt, and ttl/pollInterval (2025-11-25) or
 * ttlMs/pollIntervalMs (2026-07-28, modern 1). */
json_object *task_object(const struct task_row *t, int modern, int poll_ms);

/* The 2026-07-28 DetailedTask of t (new, without resultType): task_object plus, by status,
 * inputRequests (requests, borrowed: a map from key to {method, params}), result, or
 * error. */
json_object *task_detailed(const struct task_row *t, json_object *requests, int poll_ms);

/* The CreateTaskResult for run r, which was created (or became a task) just now (new):
 * {task: Task} on 2025-11-25; the flat Task with resultType "task" on 2026-07-28 (the caller
 * adds resultType and _meta through mcp_modern_result). */
json_object *task_created(const struct run_row *r, int modern, int poll_ms);

/* The JSON-RPC result a 2025-11-25 tasks/result returns for the response body of the run
 * (new; with _meta related-task naming the task), or the error object when the run ended with
 * one: *is_error tells which. NULL when the body is unreadable. */
json_object *task_payload(const char *response, const char *task_id, int *is_error);

/* A copy of a request's params (borrowed; NULL: {}) with _meta related-task naming task_id, as
 * 2025-11-25 requires of every request a task makes (new). */
json_object *task_related_params(json_object *params, const char *task_id);

/* The 2025-11-25 server capability: {list, cancel, requests: {tools: {call}}} (new). */
json_object *task_legacy_caps(void);

#endif
