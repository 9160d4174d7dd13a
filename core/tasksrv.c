/* tasksrv.c — tasks on the wire, both eras (see srvint.h): on 2025-11-25, tools/call with
 * params.task (the task is stored before the CreateTaskResult goes out), tasks/get,
 * tasks/result (a stream that delivers the task's requests and ends with its result),
 * tasks/list and tasks/cancel; on 2026-07-28 (the extension io.modelcontextprotocol/tasks),
 * tasks/get (a DetailedTask), tasks/update and tasks/cancel, and the -32021 of a tool that
 * needs the extension. A task is a run of the principal: every lookup checks it, so another
 * principal's task id is "unknown" and tasks/list shows the caller's own.
 * Knows nothing of FastCGI or SQL: rows come through store.h, steps through runtime.h.
 * MCP 2025-11-25 basic/utilities/tasks; SEP-2663 (tasks extension). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "err.h"
#include "js.h"
#include "log.h"
#include "mcp.h"
#include "rnd.h"
#include "runtime.h"
#include "timers.h"
#include "srvint.h"
#include "sse.h"
#include "task.h"

/* Tasks one tasks/list page holds. */
#define TASK_PAGE 50
/* Shortest retention a client may ask for: a task that expired before the client's first
 * poll would be useless. */
#define TASK_MIN_TTL_MS 1000
/* Events read per query while a tasks/result stream delivers notifications. */
#define TASK_EVENT_BATCH 64
/* Bytes of a reply's head or of one event written by a tasks/result stream. */
#define TASK_MAX_WRITE (16u << 20)

int task_is_method(const char *method)
{
	static const char *const names[] = {"tasks/get", "tasks/result", "tasks/list",
	                                    "tasks/cancel", "tasks/update"};
	size_t i;

	for (i = 0; method != NULL && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(method, names[i]) == 0)
			return 1;
	return 0;
}

/* ---- replies ---------------------------------------------------------------------------- */

static void unknown_task(struct req *r)
{
	srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "Unknown task: no task of yours "
	                "has this taskId", NULL);
}

static void bad_params(struct req *r, const char *why)
{
	char msg[200];

	snprintf(msg, sizeof msg, "Invalid params: %s", why);
	srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, msg, NULL);
}

static void db_down(struct req *r)
{
	srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "database unavailable; try again",
	                NULL);
}

/* -32021 (2026-07-28, HTTP 400): the request needs the tasks extension. */
static void needs_extension(struct req *r, const char *why)
{
	json_object *data = js_new_object(), *req = js_new_object(), *ext = js_new_object();

	js_object_add(ext, TASK_EXT, js_new_object());
	js_object_add(req, "extensions", ext);
	js_object_add(data, "requiredCapabilities", req);
	srv_reply_error(r, 400, r->msg.id, RPC_MISSING_CAPABILITY, why, data);
}

/* The params.taskId of the request, or NULL after an error reply. */
static const char *task_id_of(struct req *r)
{
	const char *id = js_str(r->msg.params, "taskId");

	if (id == NULL)
		bad_params(r, "taskId must be a string");
	return id;
}

/* The caller's task id into *t (clear it), or 0 after an error reply: unknown (or another
 * principal's), expired, or the database is down. */
static int load_task(struct req *r, const char *id, struct task_row *t)
{
	dmcp_rc rc;

	memset(t, 0, sizeof *t);
	if (!srv_db_ready(r))
		return 0;
	rc = rnd_id_ok(id) ? store_task_get(r->w->st, id, r->principal, t) : DMCP_E_NOT_FOUND;
	if (rc == DMCP_E_NOT_FOUND) {
		unknown_task(r);
		return 0;
	}
	if (rc != DMCP_OK) {
		db_down(r);
		return 0;
	}
	if (t->run.expired) {
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "Task expired: its time to live "
		                "passed and its result is gone", NULL);
		row_task_clear(t);
		return 0;
	}
	return 1;
}

/* An environment for the runtime on this request (the step itself uses the task's own
 * client: see rt_run_due, rt_task_update). */
static struct rt_env task_env(struct req *r, struct rt_session *rs)
{
	struct rt_env env;

	memset(rs, 0, sizeof *rs);
	memset(&env, 0, sizeof env);
	rs->id = r->modern || !r->have_sess ? "" : r->sess.id;
	rs->modern = r->modern;
	rs->principal = r->principal;
	rs->protocol = r->have_sess ? r->sess.protocol : "";
	rs->caps = r->caps;
	rs->log_level = r->modern ? r->log_level : r->sess.log_level;
	env.cfg = r->w->srv->cfg;
	env.reg = r->w->srv->reg;
	env.st = r->w->st;
	env.sess = rs;
	return env;
}

/* The task run_id goes on in the background: the process's scheduler takes its step; a
 * process without one (plain CGI) takes it here, after the reply went out. */
static void go_on(struct req *r, const char *run_id)
{
	struct rt_session rs;
	struct rt_env env;
	int taken = 0;

	if (r->w->srv->sched != NULL) {
		timers_kick(r->w->srv->sched);
		return;
	}
	env = task_env(r, &rs);
	if (rt_run_due(&env, run_id, 1, &taken) != DMCP_OK)
		log_msg(LOG_WARN, "task %s: its step waits for a scheduler or sweep", run_id);
}

/* ---- tools/call ------------------------------------------------------------------------- */

/* The retention a 2025-11-25 client asks for with params.task.ttl, within the limits. */
static int64_t ttl_of(const struct req *r, json_object *task)
{
	int64_t max = (int64_t)r->w->srv->cfg->task_ttl_s * 1000, want;

	if (!js_int53(js_get(task, "ttl", json_type_int), &want) || want <= 0 || want > max)
		return max;
	return want < TASK_MIN_TTL_MS ? TASK_MIN_TTL_MS : want;
}

/* 2025-11-25: store the call as a task, answer with its CreateTaskResult, and let it go on. */
static void create_task(struct req *r, const struct rt_call *call, json_object *task)
{
	struct rt_session rs;
	struct rt_env env = task_env(r, &rs);
	struct run_row run;
	char why[200];
	dmcp_rc rc;

	rc = rt_task_create(&env, call, ttl_of(r, task), &run);
	if (rc == DMCP_E_LIMIT) {
		snprintf(why, sizeof why, "you hold %d unfinished tasks, the limit (DMCP_MAX_TASKS): "
		         "wait for one, or cancel one", r->w->srv->cfg->max_tasks);
		srv_reply_error(r, 200, r->msg.id, RPC_SERVER_ERROR, why, NULL);
	} else if (rc != DMCP_OK) {
		log_msg(LOG_ERROR, "tools/call %.100s as a task: %s", call->tool->def->name,
		        dmcp_rc_name(rc));
		srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "the task could not be stored; "
		                "try again", NULL);
	} else {
		log_msg(LOG_INFO, "task %s (%.100s) created by %.100s", run.id, call->tool->def->name,
		        r->principal);
		srv_reply_json(r, 200, rpc_result(r->msg.id, task_created(&run, 0,
		                                                          r->w->srv->cfg->task_poll_ms)),
		               NULL);
		go_on(r, run.id);
	}
	row_run_clear(&run);
}

int task_tools_call(struct req *r, const struct rt_call *call)
{
	enum dmcp_task_support support = call->tool->def->task_support;
	json_object *task;

	if (call->tool->prompt != NULL)
		return 0;
	if (r->modern) {
		/* A task-supporting call becomes a task when it waits (dmcp_task_start,
		 * dmcp_sleep); one that must be a task needs a client that can take one. */
		if (support == DMCP_TASK_REQUIRED && !task_caps_ext(r->caps)) {
			needs_extension(r, "this tool runs only as a task: declare the "
			                TASK_EXT " extension in clientCapabilities");
			return 1;
		}
		return 0;
	}
	task = js_get(r->msg.params, "task", json_type_object);
	if (task == NULL && js_has(r->msg.params, "task")) {
		bad_params(r, "task must be an object");
		return 1;
	}
	if (task == NULL && support == DMCP_TASK_REQUIRED) {
		srv_reply_error(r, 200, r->msg.id, RPC_METHOD_NOT_FOUND, "This tool runs only as a "
		                "task: call it with params.task (execution.taskSupport is required)",
		                NULL);
		return 1;
	}
	if (task == NULL)
		return 0;
	if (support == DMCP_TASK_FORBIDDEN) {
		srv_reply_error(r, 200, r->msg.id, RPC_METHOD_NOT_FOUND, "This tool does not run as a "
		                "task: call it without params.task", NULL);
		return 1;
	}
	create_task(r, call, task);
	return 1;
}

void task_after_call(struct req *r, const struct run_row *run)
{
	if (run->task && run->status == RUN_WAITING && run->pending_id == NULL &&
	    run->due_ms <= task_now_ms())
		go_on(r, run->id);
}

/* ---- 2025-11-25 ------------------------------------------------------------------------- */

static void legacy_get(struct req *r)
{
	const char *id = task_id_of(r);
	struct task_row t;

	if (id == NULL || !load_task(r, id, &t))
		return;
	srv_reply_json(r, 200, rpc_result(r->msg.id, task_object(&t, 0,
	                                                         r->w->srv->cfg->task_poll_ms)),
	               NULL);
	row_task_clear(&t);
}

static void legacy_cancel(struct req *r)
{
	const char *id = task_id_of(r);
	struct task_row t;
	char why[200];
	dmcp_rc rc;

	if (id == NULL || !srv_db_ready(r))
		return;
	rc = rnd_id_ok(id) ? store_task_cancel(r->w->st, id, r->principal, "cancelled by the client")
	                   : DMCP_E_NOT_FOUND;
	if (rc == DMCP_E_NOT_FOUND || rc == DMCP_E_DB) {
		if (rc == DMCP_E_DB)
			db_down(r);
		else
			unknown_task(r);
		return;
	}
	if (!load_task(r, id, &t))
		return;
	if (rc == DMCP_E_CONFLICT) {
		snprintf(why, sizeof why, "Task already %s: a finished task cannot be cancelled",
		         task_status_name(task_status_of(&t.run, t.response, 0)));
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, why, NULL);
	} else {
		log_msg(LOG_INFO, "task %s cancelled by %.100s", id, r->principal);
		srv_reply_json(r, 200, rpc_result(r->msg.id, task_object(&t, 0,
		                                                         r->w->srv->cfg->task_poll_ms)),
		               NULL);
	}
	row_task_clear(&t);
}

/* A tasks/list cursor: "<created_at in microseconds>.<task id>" of the last task shown. */
static int cursor_parse(const char *c, int64_t *us, rnd_hex_id id)
{
	char *end = NULL;
	long long v;

	if (c == NULL || strlen(c) > 64)
		return 0;
	v = strtoll(c, &end, 10);
	if (end == c || *end != '.' || v < 0 || !rnd_id_ok(end + 1))
		return 0;
	*us = v;
	memcpy(id, end + 1, sizeof(rnd_hex_id));
	return 1;
}

static void legacy_list(struct req *r)
{
	struct task_row *page;
	json_object *tasks, *result;
	int64_t after = 0;
	rnd_hex_id after_id = "";
	char next[64];
	int n = 0, i;

	if (js_has(r->msg.params, "cursor") &&
	    !cursor_parse(js_str(r->msg.params, "cursor"), &after, after_id)) {
		bad_params(r, "unknown or expired cursor");
		return;
	}
	page = calloc(TASK_PAGE + 1, sizeof *page);
	if (page == NULL) {
		db_down(r);
		return;
	}
	if (!srv_db_ready(r) || store_task_list(r->w->st, r->principal, after, after_id,
	                                        TASK_PAGE + 1, page, &n) != DMCP_OK) {
		if (!r->headed)
			db_down(r);
		free(page);
		return;
	}
	tasks = js_new_array();
	for (i = 0; i < n && i < TASK_PAGE; i++)
		js_array_add(tasks, task_object(&page[i], 0, r->w->srv->cfg->task_poll_ms));
	result = js_new_object();
	js_object_add(result, "tasks", tasks);
	if (n > TASK_PAGE) {
		snprintf(next, sizeof next, "%lld.%s", (long long)page[TASK_PAGE - 1].created_us,
		         page[TASK_PAGE - 1].run.id);
		js_object_add(result, "nextCursor", js_new_string(next));
	}
	for (i = 0; i < n; i++)
		row_task_clear(&page[i]);
	free(page);
	srv_reply_json(r, 200, rpc_result(r->msg.id, result), NULL);
}

/* ---- 2025-11-25 tasks/result: a stream until the task ends -------------------------------- */

struct tstream {
	struct req *r;
	const char *task_id;
	int started;             /* the SSE head is written */
	int ended;               /* the client is gone, or the stream is done */
	int64_t delivered;       /* the last LSN whose notification went out (or was skipped) */
	int status;              /* the status last announced, -1 before the first */
	json_object *sent;       /* owned: ids of the requests written on this stream */
};

static void ts_put(struct tstream *s, const char *p, size_t n)
{
	if (!s->ended && (s->r->out->write(s->r->out->io, p, n) != DMCP_OK))
		s->ended = 1;
}

static void ts_head(struct tstream *s)
{
	static const char head[] = "Status: 200 OK\r\nContent-Type: text/event-stream\r\n"
	                           "Cache-Control: no-cache, no-transform\r\n"
	                           "X-Accel-Buffering: no\r\n\r\n";

	s->started = 1;
	s->r->headed = 1;
	ts_put(s, head, sizeof head - 1);
}

/* Write one message as an event (no id: a tasks/result stream is not resumed; the client
 * asks again). Takes msg. */
static void ts_send(struct tstream *s, json_object *msg)
{
	struct buf b;

	buf_init(&b, TASK_MAX_WRITE);
	if (sse_event(&b, NULL, -1, js_text(msg)) == DMCP_OK)
		ts_put(s, b.data, b.len);
	else
		s->ended = 1;
	buf_free(&b);
	json_object_put(msg);
}

static void ts_flush(struct tstream *s)
{
	if (!s->ended && s->r->out->flush(s->r->out->io) != DMCP_OK)
		s->ended = 1;
}

/* The final message: exactly what the tool's call answered (its result, with _meta
 * related-task, or its JSON-RPC error), with this request's id (new). */
static json_object *final_message(struct req *r, const struct task_row *t)
{
	json_object *payload = NULL, *msg;
	int is_error = 0;

	if (t->response != NULL)
		payload = task_payload(t->response, t->run.id, &is_error);
	if (payload == NULL)
		return rpc_error(r->msg.id, RPC_INVALID_PARAMS, "Task cancelled: it has no result",
		                 NULL);
	if (!is_error)
		return rpc_result(r->msg.id, payload);
	msg = js_new_object();
	js_object_add(msg, "jsonrpc", js_new_string("2.0"));
	js_object_add(msg, "id", json_object_get(r->msg.id));
	js_object_add(msg, "error", payload);
	return msg;
}

/* Notifications the task sent since the last look (progress, log), in order. */
static dmcp_rc ts_notes(struct tstream *s)
{
	struct event_row ev[TASK_EVENT_BATCH];
	enum run_status status;
	int64_t last;
	int n = 0, i, orphan;
	dmcp_rc rc;

	do {
		rc = store_events_after(s->r->w->st, s->task_id, "", s->r->principal, s->delivered,
		                        TASK_EVENT_BATCH, ev, &n, &status, &last, &orphan);
		if (rc != DMCP_OK)
			return rc;
		for (i = 0; i < n; i++) {
			if (ev[i].kind == EV_NOTIFICATION)
				ts_send(s, js_parse_trusted(ev[i].body));
			s->delivered = ev[i].lsn;
		}
		row_events_clear(ev, n);
	} while (n == TASK_EVENT_BATCH && !s->ended);
	return DMCP_OK;
}

/* The requests the task waits on that this stream has not written yet. */
static void ts_requests(struct tstream *s, const struct task_row *t)
{
	json_object *open = rt_open_requests(t->run.journal);
	size_t i, n = json_object_array_length(open);

	for (i = 0; i < n && !s->ended; i++) {
		json_object *e = json_object_array_get_idx(open, i);
		json_object *req = js_get(e, "req", json_type_object);
		const char *id = js_str(e, "id");
		if (js_has(s->sent, id))
			continue;
		js_object_add(s->sent, id, js_new_boolean(1));
		ts_send(s, rpc_request(id, js_str(req, "method"),
		                       task_related_params(js_get(req, "params", json_type_object),
		                                           t->run.id)));
	}
	json_object_put(open);
}

/* One look at the task: announce a new status, deliver notifications and requests, or the
 * result. 1 when the stream is done. */
static int ts_look(struct tstream *s)
{
	struct task_row t;
	enum task_status st;
	json_object *params;

	if (store_task_get(s->r->w->st, s->task_id, s->r->principal, &t) != DMCP_OK)
		return 1;
	st = task_status_of(&t.run, t.response, 0);
	if (!s->started)
		ts_head(s);
	if ((int)st != s->status) {
		/* notifications/tasks/status carries the Task, without related-task _meta. */
		params = task_object(&t, 0, s->r->w->srv->cfg->task_poll_ms);
		ts_send(s, rpc_request(NULL, "notifications/tasks/status", params));
		s->status = (int)st;
	}
	if (ts_notes(s) != DMCP_OK) {
		row_task_clear(&t);
		return 1;
	}
	if (task_terminal(st) || t.run.expired)
		ts_send(s, final_message(s->r, &t));
	else if (st == TASK_INPUT_REQUIRED)
		ts_requests(s, &t);
	ts_flush(s);
	row_task_clear(&t);
	return task_terminal(st) || t.run.expired || s->ended;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Follow the task until it ends: its doorbell (NOTIFY of the run) or the poll interval wakes
 * the stream; quiet streams get a comment every DMCP_HEARTBEAT_MS. */
static void ts_follow(struct tstream *s)
{
	struct srv_worker *w = s->r->w;
	const struct cfg *cfg = w->srv->cfg;
	long long beat = mono_ms() + cfg->heartbeat_ms;
	int woke = 0;

	wake_register(w->srv->wake, &w->waiter, s->task_id);
	while (!ts_look(s)) {
		long long now = mono_ms(), wait = cfg->poll_ms;
		if (*w->srv->stopping)
			break; /* the client asks again, on another worker */
		if (now >= beat) {
			ts_put(s, ": keepalive\n\n", 13);
			ts_flush(s);
			beat = now + cfg->heartbeat_ms;
			if (s->ended)
				break;
		}
		if (beat - now < wait)
			wait = beat - now > 0 ? beat - now : 0;
		if (waiter_wait(w->srv->wake, &w->waiter, (int)wait, s->r->out->fd, &woke) != DMCP_OK ||
		    woke == 2)
			break;
	}
	wake_unregister(w->srv->wake, &w->waiter);
}

static void legacy_result(struct req *r)
{
	const char *id = task_id_of(r);
	struct tstream s;
	struct task_row t;

	if (id == NULL || !load_task(r, id, &t))
		return;
	log_msg(LOG_INFO, "task %s: result asked by %.100s", id, r->principal);
	if (task_terminal(task_status_of(&t.run, t.response, 0))) {
		srv_reply_json(r, 200, final_message(r, &t), NULL);
		row_task_clear(&t);
		return;
	}
	memset(&s, 0, sizeof s);
	s.r = r;
	s.task_id = id;
	s.status = -1;
	s.delivered = t.run.last_lsn; /* notifications from now on */
	s.sent = js_new_object();
	row_task_clear(&t);
	ts_follow(&s);
	json_object_put(s.sent);
}

void task_legacy(struct req *r)
{
	const char *m = r->msg.method;

	if (strcmp(m, "tasks/get") == 0)
		legacy_get(r);
	else if (strcmp(m, "tasks/result") == 0)
		legacy_result(r);
	else if (strcmp(m, "tasks/list") == 0)
		legacy_list(r);
	else if (strcmp(m, "tasks/cancel") == 0)
		legacy_cancel(r);
	else
		srv_reply_error(r, 200, r->msg.id, RPC_METHOD_NOT_FOUND, "Method not found", NULL);
}

/* ---- 2026-07-28 ------------------------------------------------------------------------- */

/* The inputRequests of a task that waits: its open requests by key (new). */
static json_object *input_requests(const struct task_row *t)
{
	json_object *open = rt_open_requests(t->run.journal), *map = js_new_object();
	size_t i, n = json_object_array_length(open);

	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(open, i);
		if (js_str(e, "key") != NULL)
			js_object_add(map, js_str(e, "key"),
			              json_object_get(js_get(e, "req", json_type_object)));
	}
	json_object_put(open);
	return map;
}

static void reply_complete(struct req *r, json_object *result)
{
	mcp_modern_result(result, "complete");
	srv_reply_json(r, 200, rpc_result(r->msg.id, result), NULL);
}

static void modern_get(struct req *r, const char *id)
{
	struct task_row t;
	json_object *map;

	if (!load_task(r, id, &t))
		return;
	map = input_requests(&t);
	reply_complete(r, task_detailed(&t, map, r->w->srv->cfg->task_poll_ms));
	json_object_put(map);
	row_task_clear(&t);
}

static void modern_update(struct req *r, const char *id)
{
	json_object *inputs = js_get(r->msg.params, "inputResponses", json_type_object);
	struct rt_session rs;
	struct rt_env env;
	int applied = 0;
	dmcp_rc rc;

	if (inputs == NULL) {
		bad_params(r, "inputResponses must be an object");
		return;
	}
	if (!srv_db_ready(r))
		return;
	env = task_env(r, &rs);
	rc = rnd_id_ok(id) ? rt_task_update(&env, id, inputs, &applied) : DMCP_E_NOT_FOUND;
	if (rc == DMCP_E_NOT_FOUND) {
		unknown_task(r);
	} else if (rc != DMCP_OK && rc != DMCP_E_CONFLICT) {
		log_msg(LOG_ERROR, "tasks/update %s: %s", id, dmcp_rc_name(rc));
		db_down(r);
	} else {
		log_msg(LOG_DEBUG, "task %s: %d answer(s) taken", id, applied);
		reply_complete(r, js_new_object());
	}
}

static void modern_cancel(struct req *r, const char *id)
{
	dmcp_rc rc;

	if (!srv_db_ready(r))
		return;
	rc = rnd_id_ok(id) ? store_task_cancel(r->w->st, id, r->principal, "cancelled by the client")
	                   : DMCP_E_NOT_FOUND;
	if (rc == DMCP_E_NOT_FOUND) {
		unknown_task(r);
	} else if (rc == DMCP_E_DB) {
		db_down(r);
	} else {
		if (rc == DMCP_OK)
			log_msg(LOG_INFO, "task %s cancelled by %.100s", id, r->principal);
		reply_complete(r, js_new_object()); /* a finished task: the same acknowledgement */
	}
}

void task_modern(struct req *r)
{
	const char *m = r->msg.method, *id;

	if (strcmp(m, "tasks/result") == 0 || strcmp(m, "tasks/list") == 0) {
		/* Gone in the extension: tasks/get inlines the result, and lists are not kept. */
		srv_reply_error(r, 404, r->msg.id, RPC_METHOD_NOT_FOUND, "Method not found", NULL);
		return;
	}
	if (!task_caps_ext(r->caps)) {
		needs_extension(r, "tasks/get, tasks/update and tasks/cancel need the " TASK_EXT
		                " extension in clientCapabilities");
		return;
	}
	id = task_id_of(r);
	if (id == NULL)
		return;
	if (strcmp(m, "tasks/get") == 0)
		modern_get(r, id);
	else if (strcmp(m, "tasks/update") == 0)
		modern_update(r, id);
	else
		modern_cancel(r, id);
}
