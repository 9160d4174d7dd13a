/* task.c — task statuses and the shapes of tasks in both eras (see task.h).
 * Knows nothing of HTTP, SQL or the journal: what a task waits on comes in as a map. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "js.h"
#include "rows.h"
#include "task.h"

static const char *const status_names[] = {"working", "input_required", "completed", "failed",
                                           "cancelled"};

const char *task_status_name(enum task_status s)
{
	return status_names[s];
}

int task_terminal(enum task_status s)
{
	return s == TASK_COMPLETED || s == TASK_FAILED || s == TASK_CANCELLED;
}

/* 1 when the response body is a JSON-RPC error. */
static int response_is_error(const char *response)
{
	json_object *msg = response != NULL ? js_parse_trusted(response) : NULL;
	int error = js_get(msg, "error", json_type_object) != NULL;

	json_object_put(msg);
	return error;
}

enum task_status task_status_of(const struct run_row *r, const char *response, int modern)
{
	switch (r->status) {
	case RUN_RUNNING:
		return TASK_WORKING;
	case RUN_WAITING:
		/* A run that waits on a timer or on its turn in the background has no pending
		 * request: it is working. */
		return r->pending_id != NULL ? TASK_INPUT_REQUIRED : TASK_WORKING;
	case RUN_COMPLETED:
		return TASK_COMPLETED;
	case RUN_FAILED:
		if (!modern)
			return TASK_FAILED;
		return response == NULL || response_is_error(response) ? TASK_FAILED : TASK_COMPLETED;
	case RUN_CANCELLED:
		return TASK_CANCELLED;
	}
	return TASK_FAILED;
}

int64_t task_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void task_iso_time(int64_t ms, char out[ROW_TIME_LEN])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	char text[80]; /* room for any int fields: the compiler cannot know the year fits */

	gmtime_r(&secs, &tm);
	snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	row_copy(out, ROW_TIME_LEN, text);
}

int task_caps_ext(json_object *caps)
{
	return js_get(js_get(caps, "extensions", json_type_object), TASK_EXT, json_type_object) !=
	       NULL;
}

/* The fields every Task carries. */
static json_object *task_base(const struct run_row *r, enum task_status s, const char *created,
                              const char *updated, int modern, int poll_ms)
{
	json_object *o = js_new_object();

	js_object_add(o, "taskId", js_new_string(r->id));
	js_object_add(o, "status", js_new_string(task_status_name(s)));
	if ((s == TASK_FAILED || s == TASK_CANCELLED) && r->error != NULL)
		js_object_add(o, "statusMessage", js_new_string(r->error));
	js_object_add(o, "createdAt", js_new_string(created));
	js_object_add(o, "lastUpdatedAt", js_new_string(updated));
	js_object_add(o, modern ? "ttlMs" : "ttl",
	              r->ttl_ms > 0 ? js_new_int64(r->ttl_ms) : NULL);
	if (!task_terminal(s))
		js_object_add(o, modern ? "pollIntervalMs" : "pollInterval", js_new_int(poll_ms));
	return o;
}

json_object *task_object(const struct task_row *t, int modern, int poll_ms)
{
	return task_base(&t->run, task_status_of(&t->run, t->response, modern), t->created,
	                 t->updated, modern, poll_ms);
}

/* The error of a failed 2026-07-28 task: the response's JSON-RPC error, or one made from the
 * run's error when there is no response (new). */
static json_object *task_error(const struct task_row *t)
{
	json_object *msg = t->response != NULL ? js_parse_trusted(t->response) : NULL;
	json_object *er = json_object_get(js_get(msg, "error", json_type_object));

	json_object_put(msg);
	if (er != NULL)
		return er;
	er = js_new_object();
	js_object_add(er, "code", js_new_int(-32603));
	js_object_add(er, "message", js_new_string(t->run.error != NULL ? t->run.error
	                                                              : "the task failed"));
	return er;
}

/* The result of a completed 2026-07-28 task: the response's result without its resultType
 * (the tasks/get result carries its own) (new). */
static json_object *task_result(const struct task_row *t)
{
	json_object *msg = t->response != NULL ? js_parse_trusted(t->response) : NULL;
	json_object *res = json_object_get(js_get(msg, "result", json_type_object));

	json_object_put(msg);
	if (res == NULL) {
		res = js_new_object();
		js_object_add(res, "content", js_new_array());
	}
	json_object_object_del(res, "resultType");
	return res;
}

json_object *task_detailed(const struct task_row *t, json_object *requests, int poll_ms)
{
	enum task_status s = task_status_of(&t->run, t->response, 1);
	json_object *o = task_base(&t->run, s, t->created, t->updated, 1, poll_ms);

	if (s == TASK_INPUT_REQUIRED)
		js_object_add(o, "inputRequests",
		              requests != NULL ? json_object_get(requests) : js_new_object());
	else if (s == TASK_COMPLETED)
		js_object_add(o, "result", task_result(t));
	else if (s == TASK_FAILED)
		js_object_add(o, "error", task_error(t));
	return o;
}

json_object *task_created(const struct run_row *r, int modern, int poll_ms)
{
	char now[ROW_TIME_LEN];
	json_object *task, *o;

	task_iso_time(task_now_ms(), now);
	task = task_base(r, TASK_WORKING, now, now, modern, poll_ms);
	if (modern)
		return task;
	o = js_new_object();
	js_object_add(o, "task", task);
	return o;
}

json_object *task_payload(const char *response, const char *task_id, int *is_error)
{
	json_object *msg = js_parse_trusted(response), *out, *meta, *rel;

	*is_error = 0;
	out = json_object_get(js_get(msg, "error", json_type_object));
	if (out != NULL) {
		*is_error = 1;
	} else {
		out = json_object_get(js_get(msg, "result", json_type_object));
		if (out != NULL) {
			meta = js_get(out, "_meta", json_type_object);
			if (meta == NULL) {
				meta = js_new_object();
				js_object_add(out, "_meta", meta);
			}
			rel = js_new_object();
			js_object_add(rel, "taskId", js_new_string(task_id));
			js_object_add(meta, TASK_RELATED_META, rel);
		}
	}
	json_object_put(msg);
	return out;
}

json_object *task_related_params(json_object *params, const char *task_id)
{
	json_object *copy = NULL, *meta, *rel;

	if (params == NULL)
		copy = js_new_object();
	else if (json_object_deep_copy(params, &copy, NULL) != 0 || copy == NULL)
		return json_object_get(params);
	meta = js_get(copy, "_meta", json_type_object);
	if (meta == NULL) {
		meta = js_new_object();
		js_object_add(copy, "_meta", meta);
	}
	rel = js_new_object();
	js_object_add(rel, "taskId", js_new_string(task_id));
	js_object_add(meta, TASK_RELATED_META, rel);
	return copy;
}

json_object *task_legacy_caps(void)
{
	json_object *caps = js_new_object(), *req = js_new_object(), *tools = js_new_object();

	js_object_add(caps, "list", js_new_object());
	js_object_add(caps, "cancel", js_new_object());
	js_object_add(tools, "call", js_new_object());
	js_object_add(req, "tools", tools);
	js_object_add(caps, "requests", req);
	return caps;
}
