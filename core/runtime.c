/* runtime.c — durable tool runs (see runtime.h): steps, saves and the two eras.
 * Knows nothing of HTTP or SSE. The tool function replays against the run's journal (the
 * effects it calls are in effects.c); one step ends with one save, a single statement that is
 * a compare-and-set on the stored row (status, last_lsn, steps), so concurrent answers,
 * cancellations and takeovers never both win, and a step holds no row lock while the tool
 * runs. Nothing reaches a client before the commit that holds it; a call that ends in its
 * first step with nothing to stream is never stored at all.
 *
 * Rejected: locking the row (SELECT ... FOR UPDATE) for the whole step, as the first version
 * did. It serialises duplicates behind a tool that sleeps or waits on the network, costs two
 * more round trips per answer, and a stuck step holds the lock for everyone (cancel, DELETE,
 * sweep). With the compare-and-set, a duplicate answer computes the step too and then loses
 * the race: the database state is still changed exactly once; what a tool does outside
 * PostgreSQL was always at-least-once (dmcp_memo, README). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "err.h"
#include "js.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "rnd.h"
#include "rpc.h"
#include "rtint.h"
#include "state.h"
#include "task.h"

/* Times an answer is applied again after another writer changed the run first (another
 * answer of the same group, a progress checkpoint of a takeover): each retry re-reads the
 * row, so only a run that keeps changing under us exhausts them. */
#define RT_MAX_CAS 8
/* Events an operator's cancellation appends: one notifications/cancelled for each request
 * of the group the run waits on (dmcp_ask_all asks at most DMCP_MAX_ASKS at once), and the
 * response. */
#define RT_MAX_CANCEL_EVENTS (DMCP_MAX_ASKS + 1)
/* Orphans handled per call of rt_recover_orphans (the rest wait for the next sweep). */
#define RT_MAX_RECOVER 100
/* Due runs claimed per statement by rt_run_due: each is 'running' under a lease from its
 * claim until its step is saved, so a batch is what one executor steps well within a lease. */
#define RT_DUE_BATCH 32

/* ---- levels and capabilities ----------------------------------------------------------- */

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error",
                                          "critical", "alert", "emergency"};

int rt_level_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < 8; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *rt_level_name(int level)
{
	return level >= 0 && level < 8 ? level_names[level] : "info";
}

int rt_caps_elicit_form(json_object *caps)
{
	json_object *e = js_get(caps, "elicitation", json_type_object);

	if (e == NULL)
		return 0;
	/* An empty object means form only (backwards compatibility). */
	return json_object_object_length(e) == 0 || js_has(e, "form");
}

int rt_caps_elicit_url(json_object *caps)
{
	return js_get(js_get(caps, "elicitation", json_type_object), "url", json_type_object) != NULL;
}

int rt_caps_sampling(json_object *caps)
{
	return js_get(caps, "sampling", json_type_object) != NULL;
}

int rt_caps_sampling_tools(json_object *caps)
{
	return js_get(js_get(caps, "sampling", json_type_object), "tools", json_type_object) != NULL;
}

int rt_caps_roots(json_object *caps)
{
	return js_get(caps, "roots", json_type_object) != NULL;
}

/* ---- for the effects ------------------------------------------------------------------- */

void rt_queue_event(dmcp_ctx *ctx, enum event_kind kind, json_object *msg)
{
	json_object *e = js_new_array();

	js_array_add(e, js_new_int(kind));
	js_array_add(e, js_new_string(msg != NULL ? js_text(msg) : ""));
	js_array_add(ctx->events, e);
	json_object_put(msg);
}

void rt_set_err(dmcp_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
}

/* 1 when the run may append n more events and still have room for its final one (the
 * response), so that a run never holds more than DMCP_MAX_EVENTS_PER_RUN events. */
int rt_room_for(dmcp_ctx *ctx, int n)
{
	int64_t queued = (int64_t)json_object_array_length(ctx->events);

	return ctx->run->last_lsn + queued + n + 1 <= (int64_t)ctx->env->cfg->max_events;
}

static long long rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rt_time_left(dmcp_ctx *ctx)
{
	long long left;

	if (ctx->deadline == 0)
		return INT_MAX;
	left = ctx->deadline - rt_now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

dmcp_rc rt_check_time(dmcp_ctx *ctx)
{
	if (!ctx->overtime && (ctx->deadline == 0 || rt_now_ms() < ctx->deadline))
		return DMCP_OK;
	if (!ctx->overtime)
		log_msg(LOG_WARN, "run %s: its step ran longer than DMCP_STEP_MAX_MS (%d ms); it "
		        "fails", ctx->run->id, ctx->env->cfg->step_max_ms);
	ctx->overtime = 1;
	rt_set_err(ctx, "the tool's step ran longer than DMCP_STEP_MAX_MS (%d ms)",
	           ctx->env->cfg->step_max_ms);
	return DMCP_E_TIMEOUT;
}

/* Tell the process which run this thread steps (NULL: none), at the step count the store
 * holds, for lease renewal. A run with no row yet has no lease to renew: a call's first
 * step (every one-step call) tells nothing until a save inserts it as running. */
static void note_stepping(dmcp_ctx *ctx, const char *run_id)
{
	if (ctx->env->stepping == NULL || (run_id == NULL && !ctx->noted) ||
	    (run_id != NULL && !ctx->run->exists))
		return;
	ctx->env->stepping(ctx->env->stepping_arg, run_id, ctx->expect.steps);
	ctx->noted = run_id != NULL;
}

dmcp_rc rt_no_room(dmcp_ctx *ctx)
{
	rt_set_err(ctx, "the run reached DMCP_MAX_EVENTS_PER_RUN (%d events)",
	           ctx->env->cfg->max_events);
	return DMCP_E_LIMIT;
}

/* ---- saving ---------------------------------------------------------------------------- */

/* The queued events as parallel arrays; the strings are borrowed from ctx->events. */
static dmcp_rc event_arrays(dmcp_ctx *ctx, int *n_out, enum event_kind **kinds_out,
                            const char ***bodies_out)
{
	int n = (int)json_object_array_length(ctx->events), i;
	enum event_kind *kinds = calloc((size_t)(n > 0 ? n : 1), sizeof *kinds);
	const char **bodies = calloc((size_t)(n > 0 ? n : 1), sizeof *bodies);

	*n_out = n;
	*kinds_out = kinds;
	*bodies_out = bodies;
	if (kinds == NULL || bodies == NULL)
		return DMCP_E_NOMEM;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(ctx->events, (size_t)i);
		kinds[i] = (enum event_kind)json_object_get_int(json_object_array_get_idx(e, 0));
		bodies[i] = json_object_get_string(json_object_array_get_idx(e, 1));
	}
	return DMCP_OK;
}

static int terminal(enum run_status s)
{
	return s == RUN_COMPLETED || s == RUN_FAILED || s == RUN_CANCELLED;
}

/* Whether this commit must ring the run's doorbell. A run that did not exist before this
 * save cannot have a follower (nobody knows its id yet), so its first commit sends no
 * NOTIFY; later commits (checkpoints, answers) do, and so does a sessionless run never (no
 * stream follows it). */
static int wants_notify(const dmcp_ctx *ctx, int existed, int n)
{
	if (ctx->env->sess->modern || (n == 0 && ctx->run->status == RUN_RUNNING))
		return 0;
	return existed || ctx->env->cfg->notify_mode == CFG_NOTIFY_ALWAYS;
}

/* 1 when this save needs no row: a run never stored that ends now (a call finished in one
 * step: nobody can name it, resume it or cancel it), or a notification of a sessionless run
 * while it works (no client can resume a 2026-07-28 response stream). */
static int ephemeral(const dmcp_ctx *ctx)
{
	if (ctx->run->exists)
		return 0;
	if (terminal(ctx->run->status))
		return !ctx->env->cfg->record_all;
	return ctx->env->sess->modern && ctx->run->status == RUN_RUNNING;
}

/* The journal as text into the row. */
static dmcp_rc journal_to_row(dmcp_ctx *ctx)
{
	char *journal = strdup(js_text(ctx->root));

	if (journal == NULL)
		return DMCP_E_NOMEM;
	free(ctx->run->journal);
	ctx->run->journal = journal;
	return DMCP_OK;
}

static void events_reset(dmcp_ctx *ctx)
{
	json_object_put(ctx->events);
	ctx->events = js_new_array();
}

/* Hand the queued events to the sink without storing them. A sessionless run's
 * notifications take no LSN: only what is stored is numbered. */
/* Milliseconds since the epoch, this host's clock (run_row.started_ms). */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A call ended: its one log line, and the process's counters. ms < 0: from r->started_ms. */
static void call_ended(const char *run_id, const char *tool, enum run_status status, int steps,
                       int64_t ms)
{
	struct log_kv kv[] = {
		{.key = "status", .str = row_status_name(status)},
		{.key = "steps", .num = steps},
		{.key = "duration_ms", .num = ms},
	};

	log_set(LOG_F_RUN, run_id);
	log_set(LOG_F_TOOL, tool);
	log_line(LOG_INFO, kv, 3, "tool call finished");
	metrics_call(tool, row_status_name(status), ms);
}

static void run_ended(const struct run_row *r)
{
	int64_t ms = r->started_ms > 0 ? wall_ms() - r->started_ms : 0;

	call_ended(r->id, r->tool, r->status, r->steps, ms > 0 ? ms : 0);
}

static dmcp_rc deliver_only(dmcp_ctx *ctx)
{
	struct run_row *r = ctx->run;
	enum event_kind *kinds = NULL;
	const char **bodies = NULL;
	int n = 0;
	dmcp_rc rc = journal_to_row(ctx);

	if (rc == DMCP_OK)
		rc = event_arrays(ctx, &n, &kinds, &bodies);
	if (rc == DMCP_OK && n > 0 && ctx->env->sink != NULL)
		ctx->env->sink->committed(ctx->env->sink->arg, r->id, r->last_lsn + 1, n, kinds, bodies);
	if (rc == DMCP_OK && terminal(r->status)) {
		r->last_lsn += n;
		run_ended(r);
	}
	if (ctx->note > r->notes)
		r->notes = ctx->note;
	free(kinds);
	free(bodies);
	events_reset(ctx);
	return rc;
}

/* Whether this save waits for the disk. A new run that goes on (it waits, or sends progress)
 * must be on disk before anything reaches the client: the call now exists for it. A call
 * finished in one step need not be (see store_set_async). A later checkpoint of a running
 * run (the step goes on; notifications only) need not be either: after a crash the step
 * replays and writes the same numbered notifications at the same LSNs, so a client resuming
 * from its last id sees no hole. Everything else — a run that waits for the client, an
 * applied answer, a result after checkpoints — waits for the disk. */
static int durable(const dmcp_ctx *ctx)
{
	if (!ctx->run->exists)
		return !terminal(ctx->run->status);
	return !(ctx->expect.status == RUN_RUNNING && ctx->run->status == RUN_RUNNING);
}

/* After a compare-and-set lost: DMCP_CANCELLED when the run was cancelled meanwhile,
 * DMCP_E_CONFLICT when another writer moved it on. */
static dmcp_rc why_conflict(dmcp_ctx *ctx)
{
	struct run_row now;
	dmcp_rc rc = store_run_get(ctx->env->st, ctx->run->id, ctx->run->session_id,
	                           ctx->run->principal, &now);

	if (rc == DMCP_OK && now.status == RUN_CANCELLED)
		rc = DMCP_CANCELLED;
	else if (rc != DMCP_E_DB)
		rc = DMCP_E_CONFLICT;
	row_run_clear(&now);
	return rc;
}

/* Save the row and the queued events in one statement (insert, or a compare-and-set update
 * against what this step last saw), notify, and hand the events to the sink. On failure
 * nothing changed; ctx->failed keeps a database failure (the step is abandoned). */
dmcp_rc rt_save(dmcp_ctx *ctx)
{
	struct run_row *r = ctx->run;
	enum event_kind *kinds = NULL;
	const char **bodies = NULL;
	int64_t first = r->last_lsn + 1;
	int existed = r->exists, n = 0, notify;
	dmcp_rc rc;

	if (ephemeral(ctx)) {
		/* No row to save; a transaction the tool's step opened (an SQL function's writes)
		 * commits before anything reaches the client. */
		rc = store_step_commit(ctx->env->st);
		if (rc != DMCP_OK) {
			if (ctx->failed == DMCP_OK)
				ctx->failed = rc;
			return rc;
		}
		return deliver_only(ctx);
	}
	rc = journal_to_row(ctx);
	if (rc == DMCP_OK)
		rc = event_arrays(ctx, &n, &kinds, &bodies);
	notify = wants_notify(ctx, existed, n);
	if (rc == DMCP_OK) {
		r->last_lsn += n;
		if (ctx->note > r->notes)
			r->notes = ctx->note;
		rc = store_run_save(ctx->env->st, r, existed ? &ctx->expect : NULL,
		                    r->task ? ctx->env->cfg->max_tasks : ctx->env->cfg->max_runs,
		                    ctx->env->cfg->max_principal_runs, first, n, kinds, bodies,
		                    durable(ctx), notify);
		if (rc != DMCP_OK)
			r->last_lsn = first - 1;
	}
	if (rc == DMCP_E_CONFLICT) {
		rc = why_conflict(ctx);
		if (rc == DMCP_E_CONFLICT)
			log_msg(LOG_WARN, "run %s: another worker moved the run on (a takeover, or a "
			        "concurrent answer); this step's save is dropped", r->id);
	}
	if (rc == DMCP_OK) {
		if (terminal(r->status))
			run_ended(r);
		ctx->expect.status = r->status;
		ctx->expect.last_lsn = r->last_lsn;
		ctx->expect.steps = r->steps;
		if (r->status == RUN_RUNNING)
			note_stepping(ctx, r->id);
		if (n > 0 && ctx->env->sink != NULL)
			ctx->env->sink->committed(ctx->env->sink->arg, r->id, first, n, kinds, bodies);
		if (notify && ctx->env->local != NULL)
			ctx->env->local(ctx->env->local_arg, r->id, first, n, kinds, bodies);
	} else if (rc == DMCP_E_DB || rc == DMCP_E_NOMEM || rc == DMCP_E_INTERNAL || !existed) {
		/* The database failed, or refused a new run (its session ended, or holds its
		 * limit of unfinished runs): the step is abandoned with this code. */
		if (ctx->failed == DMCP_OK)
			ctx->failed = rc;
	}
	free(kinds);
	free(bodies);
	events_reset(ctx);
	return rc;
}

/* ---- ending a step --------------------------------------------------------------------- */

static void fail_run(dmcp_ctx *ctx, const char *why)
{
	free(ctx->run->error);
	ctx->run->error = strdup(why);
	ctx->run->status = RUN_FAILED;
}

/* -32021 on the 2026-07-28 wire: the call needs a capability the request did not declare.
 * HTTP 400, data.requiredCapabilities naming it. */
static json_object *missing_capability(dmcp_ctx *ctx, json_object *id)
{
	json_object *data = js_new_object();

	js_object_add(data, "requiredCapabilities", json_object_get(ctx->required));
	if (ctx->env->sink != NULL)
		ctx->env->sink->status = 400;
	fail_run(ctx, ctx->err);
	return rpc_error(id, RPC_MISSING_CAPABILITY, ctx->err, data);
}

/* -32042 on the 2025-11-25 wire: the call needs a URL-mode elicitation the client cannot
 * take. data.elicitations lists it (journaled by dmcp_elicit_url). */
static json_object *url_required(dmcp_ctx *ctx, json_object *id)
{
	json_object *last = json_object_array_get_idx(ctx->journal,
	                                              json_object_array_length(ctx->journal) - 1);
	json_object *data = js_new_object(), *list = js_new_array();

	js_array_add(list, json_object_get(js_get(last, "required", json_type_object)));
	js_object_add(data, "elicitations", list);
	fail_run(ctx, ctx->err);
	return rpc_error(id, -32042, "URL elicitation required", data);
}

/* The response of a prompt's run: a GetPromptResult, or (a prompt has no isError) a
 * JSON-RPC error saying why it failed. */
static json_object *prompt_response(dmcp_ctx *ctx, dmcp_rc rc, dmcp_result *res, json_object *id)
{
	const struct dmcp_prompt *p = ctx->tool->prompt;
	json_object *result;

	if (rc != DMCP_OK) {
		fail_run(ctx, ctx->err[0] ? ctx->err : dmcp_rc_name(rc));
		return rpc_error(id, RPC_INTERNAL_ERROR, ctx->run->error, NULL);
	}
	ctx->run->status = RUN_COMPLETED;
	result = js_new_object();
	if (p->description != NULL)
		js_object_add(result, "description", js_new_string(p->description));
	js_object_add(result, "messages", json_object_get(res->messages));
	if (ctx->env->sess->modern)
		mcp_modern_result(result, "complete");
	return rpc_result(id, result);
}

/* What an isError result says (its first text block), for the run's error and the
 * statusMessage of a failed task. */
static const char *error_text(json_object *content)
{
	json_object *first = json_object_array_length(content) > 0
	                     ? json_object_array_get_idx(content, 0) : NULL;
	const char *t = js_str(first, "text");

	return t != NULL ? t : "the tool reported an error";
}

/* The final response for a finished step: a result, an isError result, or an error. */
static void finish(dmcp_ctx *ctx, dmcp_rc rc, dmcp_result *res)
{
	json_object *id = js_parse_trusted(ctx->run->request_id), *result;
	char why[RT_ERR_LEN];

	if (rc == DMCP_OK && res->structured != NULL && ctx->tool != NULL && ctx->tool->output != NULL &&
	    schema_validate(ctx->tool->output, res->structured, why, sizeof why) != DMCP_OK) {
		rt_set_err(ctx, "the tool's structuredContent does not match its outputSchema: %s", why);
		rc = DMCP_E_TOOL;
	}
	if (rc == DMCP_E_CAPABILITY && ctx->env->sess->modern && ctx->required != NULL) {
		rt_queue_event(ctx, EV_RESPONSE, missing_capability(ctx, id));
	} else if (ctx->tool != NULL && ctx->tool->prompt != NULL) {
		rt_queue_event(ctx, EV_RESPONSE, prompt_response(ctx, rc, res, id));
	} else if (rc == DMCP_E_URL_REQUIRED) {
		rt_queue_event(ctx, EV_RESPONSE, url_required(ctx, id));
	} else if (rc == DMCP_E_INTERNAL || rc == DMCP_E_NOMEM) {
		/* The tool failed as a program, not in words: a protocol error (-32603), which a
		 * 2026-07-28 task reports as failed, where a tool error is a completed isError. */
		fail_run(ctx, ctx->err[0] ? ctx->err : "the tool failed with an internal error");
		rt_queue_event(ctx, EV_RESPONSE, rpc_error(id, RPC_INTERNAL_ERROR, ctx->run->error,
		                                           NULL));
	} else {
		result = js_new_object();
		if (rc != DMCP_OK) {
			(void)dmcp_result_error(res, "%s", ctx->err[0] ? ctx->err : dmcp_rc_name(rc));
			fail_run(ctx, ctx->err[0] ? ctx->err : dmcp_rc_name(rc));
		} else {
			ctx->run->status = res->is_error ? RUN_FAILED : RUN_COMPLETED;
			if (res->is_error)
				fail_run(ctx, error_text(res->content));
		}
		js_object_add(result, "content", json_object_get(res->content));
		if (res->structured != NULL && !res->is_error)
			js_object_add(result, "structuredContent", json_object_get(res->structured));
		if (res->is_error)
			js_object_add(result, "isError", js_new_boolean(1));
		if (ctx->env->sess->modern)
			mcp_modern_result(result, "complete");
		rt_queue_event(ctx, EV_RESPONSE, rpc_result(id, result));
	}
	json_object_put(id);
}

/* The requests of the pending entry that have no answer yet: the entry itself, or the
 * members of a group. Calls fn for each. */
static void each_unanswered(json_object *pending, void (*fn)(void *arg, json_object *e), void *arg)
{
	json_object *reqs = js_get(pending, "reqs", json_type_array);
	size_t i, n = reqs != NULL ? json_object_array_length(reqs) : 0;

	if (reqs == NULL) {
		if (!js_has(pending, "ans"))
			fn(arg, pending);
		return;
	}
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(reqs, i);
		if (!js_has(e, "ans"))
			fn(arg, e);
	}
}

static void first_unanswered(void *arg, json_object *e)
{
	json_object **first = arg;

	if (*first == NULL)
		*first = e;
}

/* 2025-11-25: a new request goes out on the call's stream (as an event); a task's carries
 * _meta related-task (delivered by tasks/result). */
static void request_event(void *arg, json_object *e)
{
	dmcp_ctx *ctx = arg;
	json_object *req = js_get(e, "req", json_type_object);
	json_object *params = js_get(req, "params", json_type_object);

	params = ctx->run->task ? task_related_params(params, ctx->run->id)
	                        : json_object_get(params);
	rt_queue_event(ctx, EV_REQUEST, rpc_request(js_str(e, "id"), js_str(req, "method"),
	                                            params));
}

/* 2026-07-28: a request goes into inputRequests under its key. */
static void input_request(void *arg, json_object *e)
{
	json_object *map = arg, *req = js_get(e, "req", json_type_object);

	js_object_add(map, js_str(e, "key"), json_object_get(req));
}

/* 2026-07-28: the step waits: its response is an input_required result naming every
 * request it waits on, and a requestState that names this point of the run. */
static dmcp_rc input_required(dmcp_ctx *ctx)
{
	json_object *id, *result, *map;
	char state[STATE_MAX];
	int64_t expiry = (int64_t)time(NULL) + ctx->env->cfg->state_ttl_s;
	dmcp_rc rc;

	if (ctx->env->state_key == NULL)
		return DMCP_E_INTERNAL;
	rc = state_make(ctx->env->state_key, ctx->run->id, ctx->run->last_lsn + 1, expiry,
	                ctx->run->principal, state);
	if (rc != DMCP_OK)
		return rc;
	map = js_new_object();
	each_unanswered(ctx->pending, input_request, map);
	result = js_new_object();
	js_object_add(result, "inputRequests", map);
	js_object_add(result, "requestState", js_new_string(state));
	mcp_modern_result(result, "input_required");
	id = js_parse_trusted(ctx->run->request_id);
	rt_queue_event(ctx, EV_RESPONSE, rpc_result(id, result));
	json_object_put(id);
	return DMCP_OK;
}

/* The client's capabilities, protocol and log level, as a task keeps them for the steps no
 * request carries (new text, or NULL). */
static char *client_text(const struct rt_session *sess)
{
	json_object *o = js_new_object();
	char *text;

	js_object_add(o, "caps", json_object_get(sess->caps));
	js_object_add(o, "protocol", js_new_string(sess->protocol != NULL ? sess->protocol : ""));
	js_object_add(o, "level", js_new_int(sess->log_level));
	text = strdup(js_text(o));
	json_object_put(o);
	return text;
}

/* Make the run a task: bound to its principal, kept DMCP_TASK_TTL, with its client's
 * capabilities for the steps to come. */
static dmcp_rc become_task(struct rt_env *env, struct run_row *run, int64_t ttl_ms)
{
	free(run->client);
	run->client = client_text(env->sess);
	if (run->client == NULL)
		return DMCP_E_NOMEM;
	run->task = 1;
	run->ttl_ms = ttl_ms;
	run->session_id[0] = '\0';
	return DMCP_OK;
}

/* The run waits on time: a timer, or (due now) its next step in the background. A
 * 2026-07-28 call that parks becomes a task, and this request is answered with its
 * CreateTaskResult (after the save). */
static dmcp_rc park(dmcp_ctx *ctx)
{
	struct run_row *r = ctx->run;
	json_object *id, *result;
	dmcp_rc rc;

	r->status = RUN_WAITING;
	r->due_ms = ctx->due_ms > 0 ? ctx->due_ms : task_now_ms();
	r->pending_method = strdup("timer");
	if (r->pending_method == NULL)
		return DMCP_E_NOMEM;
	if (r->task || !ctx->env->sess->modern)
		return DMCP_OK;
	rc = become_task(ctx->env, r, (int64_t)ctx->env->cfg->task_ttl_s * 1000);
	if (rc != DMCP_OK)
		return rc;
	result = task_created(r, 1, ctx->env->cfg->task_poll_ms);
	mcp_modern_result(result, "task");
	id = js_parse_trusted(r->request_id);
	json_object_put(ctx->reply);
	ctx->reply = rpc_result(id, result);
	json_object_put(id);
	return DMCP_OK;
}

/* The deadline of the entry the step waits on, or 0. */
static int64_t deadline_of(json_object *pending)
{
	json_object *due = js_get(pending, "due", json_type_int);

	return due != NULL ? json_object_get_int64(due) : 0;
}

/* The run waits for the client: record what it waits on, and tell the client. On the
 * 2025-11-25 wire only requests recorded in this step go out (earlier ones already did); a
 * 2026-07-28 task lists them in tasks/get instead. */
static dmcp_rc suspend(dmcp_ctx *ctx)
{
	json_object *first = NULL, *req;
	char *id, *method;

	if (ctx->parked)
		return park(ctx);
	each_unanswered(ctx->pending, first_unanswered, &first);
	req = js_get(first, "req", json_type_object);
	id = strdup(js_str(first, "id") ? js_str(first, "id") : "");
	method = strdup(js_str(req, "method") ? js_str(req, "method") : "");
	if (first == NULL || id == NULL || method == NULL) {
		free(id);
		free(method);
		return first == NULL ? DMCP_E_INTERNAL : DMCP_E_NOMEM;
	}
	free(ctx->run->pending_id);
	free(ctx->run->pending_method);
	ctx->run->pending_id = id;
	ctx->run->pending_method = method;
	ctx->run->status = RUN_WAITING;
	ctx->run->due_ms = deadline_of(ctx->pending);
	if (ctx->env->sess->modern && ctx->run->task)
		return DMCP_OK;
	if (ctx->env->sess->modern)
		return input_required(ctx);
	if (ctx->recorded)
		each_unanswered(ctx->pending, request_event, ctx);
	return DMCP_OK;
}

/* Run the tool function once over the journal and save the outcome. DMCP_E_CONFLICT when
 * another writer changed the run first (nothing of this step was saved, unless a checkpoint
 * was); ctx->unchanged when a 2026-07-28 retry answered nothing (nothing to save). */
static dmcp_rc step(dmcp_ctx *ctx)
{
	struct dmcp_result res = {NULL, js_new_array(), NULL, 0};
	/* A new call's arguments are at hand (the text was made from them): no second parse. */
	json_object *args = ctx->args != NULL ? json_object_get(ctx->args)
	                                      : js_parse_trusted(ctx->run->arguments);
	dmcp_rc rc, src;

	ctx->run->steps++;
	metrics_step();
	ctx->run->status = RUN_RUNNING;
	ctx->run->due_ms = 0;
	free(ctx->run->pending_id); /* the step decides anew what the run waits for */
	free(ctx->run->pending_method);
	ctx->run->pending_id = ctx->run->pending_method = NULL;
	ctx->journal_at_start = (int)json_object_array_length(ctx->journal);
	ctx->notes_at_start = ctx->run->notes;
	if (ctx->env->cfg->step_max_ms > 0)
		ctx->deadline = rt_now_ms() + ctx->env->cfg->step_max_ms;
	note_stepping(ctx, ctx->run->id);
	if (ctx->tool == NULL || ctx->tool->def->version != ctx->run->tool_version) {
		rt_set_err(ctx, "the tool %.100s changed (version %d is gone) while this call "
		           "waited; call it again", ctx->run->tool, ctx->run->tool_version);
		rc = DMCP_E_VERSION;
	} else if (ctx->tool->prompt != NULL) {
		res.messages = js_new_array();
		rc = ctx->tool->prompt->run(ctx, args, res.messages);
	} else {
		/* A tool marked .confirm runs only once the user said yes (effect 0). */
		rc = ctx->tool->def->confirm ? rt_confirm(ctx, args) : DMCP_OK;
		if (rc == DMCP_OK)
			rc = ctx->tool->def->run(ctx, args, &res);
	}
	note_stepping(ctx, NULL);
	if (ctx->suspended && rc != DMCP_CANCELLED && rc != DMCP_E_CONFLICT)
		rc = DMCP_SUSPENDED;
	if (ctx->overtime && rc != DMCP_CANCELLED && rc != DMCP_E_CONFLICT) {
		rc = DMCP_E_TIMEOUT; /* whatever the tool returned after its effects refused */
		rt_set_err(ctx, "the tool's step ran longer than DMCP_STEP_MAX_MS (%d ms)",
		           ctx->env->cfg->step_max_ms);
		ctx->suspended = 0;
	}
	if (ctx->failed != DMCP_OK) {
		/* A checkpoint failed: abandon the step. What earlier checkpoints committed stays,
		 * under the run's lease; the step runs again after the lease. */
		src = ctx->failed;
	} else if (rc == DMCP_CANCELLED || rc == DMCP_E_CONFLICT) {
		src = rc; /* someone else owns the run now (cancel or takeover) */
	} else if (rc == DMCP_SUSPENDED && ctx->env->sess->modern && ctx->run->exists &&
	           !ctx->recorded && ctx->accepted == 0 && !ctx->parked && !ctx->background) {
		ctx->unchanged = 1; /* a retry that answered nothing: the run waits as it was */
		src = DMCP_OK;
	} else {
		src = rc == DMCP_SUSPENDED ? suspend(ctx) : DMCP_OK;
		if (rc != DMCP_SUSPENDED)
			finish(ctx, rc, &res);
		if (src == DMCP_OK)
			src = rt_save(ctx);
		if (src == DMCP_OK && ctx->failed != DMCP_OK)
			src = ctx->failed;
		if (src == DMCP_OK && ctx->reply != NULL && ctx->env->sink != NULL) {
			enum event_kind kind = EV_RESPONSE;
			const char *body = js_text(ctx->reply);
			ctx->env->sink->committed(ctx->env->sink->arg, ctx->run->id,
			                          ctx->run->last_lsn, 1, &kind, &body);
		}
	}
	json_object_put(args);
	json_object_put(res.messages);
	json_object_put(res.content);
	json_object_put(res.structured);
	return src;
}

static void ctx_init(dmcp_ctx *ctx, struct rt_env *env, struct run_row *run)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->env = env;
	ctx->run = run;
	ctx->tool = reg_runnable(env->reg, run->tool);
	ctx->journal = js_parse_trusted(run->journal);
	if (ctx->journal == NULL || !json_object_is_type(ctx->journal, json_type_array)) {
		json_object_put(ctx->journal);
		ctx->journal = js_new_array();
	}
	ctx->root = ctx->journal;
	snprintf(ctx->prefix, sizeof ctx->prefix, "%s/", run->id);
	ctx->levels[0].max_depth = DMCP_BRANCH_DEPTH;
	ctx->events = js_new_array();
	ctx->taken = js_new_object();
	log_set(LOG_F_RUN, run->id);
	log_set(LOG_F_TOOL, run->tool);
	ctx->expect.status = run->status;
	ctx->expect.last_lsn = run->last_lsn;
	ctx->expect.steps = run->steps;
}

static void ctx_free(dmcp_ctx *ctx)
{
	json_object_put(ctx->root);
	json_object_put(ctx->reply);
	json_object_put(ctx->events);
	json_object_put(ctx->taken);
	json_object_put(ctx->required);
	json_object_put(ctx->answers);
}

/* ---- calls ----------------------------------------------------------------------------- */

/* What a run records as its tool: the tool's name, or REG_PROMPT_PREFIX + a prompt's. */
static char *run_name(const struct reg_tool *t)
{
	struct buf b;

	buf_init(&b, 2 * REG_MAX_NAME);
	if (t->prompt != NULL)
		(void)buf_adds(&b, REG_PROMPT_PREFIX);
	(void)buf_adds(&b, t->def->name);
	if (b.fail != DMCP_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* The run row for a new call. */
static dmcp_rc new_run(struct rt_env *env, const struct rt_call *call, struct run_row *run)
{
	dmcp_rc rc = rnd_id(run->id);

	if (rc != DMCP_OK)
		return rc;
	row_copy(run->session_id, sizeof run->session_id, env->sess->id);
	row_copy(run->principal, sizeof run->principal, env->sess->principal);
	row_copy(run->scopes, sizeof run->scopes,
	         env->sess->scopes != NULL ? env->sess->scopes : "");
	run->request_id = strdup(js_text(call->request_id));
	run->progress_token = call->progress_token != NULL ? strdup(js_text(call->progress_token))
	                                                   : NULL;
	run->tool = run_name(call->tool);
	run->tool_version = call->tool->def->version;
	run->modern = env->sess->modern;
	run->arguments = strdup(call->args != NULL ? js_text(call->args) : "{}");
	run->journal = strdup("[]");
	run->started_ms = wall_ms();
	if (run->request_id == NULL || run->tool == NULL || run->arguments == NULL ||
	    run->journal == NULL || (call->progress_token != NULL && run->progress_token == NULL))
		return DMCP_E_NOMEM;
	return DMCP_OK;
}

/* The call's inputResponses when they are an object (anything else answers nothing). */
static json_object *inputs_of(const struct rt_env *env, const struct rt_call *call)
{
	if (!env->sess->modern || !json_object_is_type(call->inputs, json_type_object))
		return NULL;
	return call->inputs;
}

/* 2026-07-28: give the client the stored response at lsn again, with this call's id (a
 * retry of a state that was already answered, or one that answered nothing). */
static dmcp_rc stored_response(struct rt_env *env, const struct run_row *run, int64_t lsn,
                               json_object *request_id)
{
	struct event_row ev[1];
	enum run_status status;
	enum event_kind kind = EV_RESPONSE;
	int64_t last;
	int n = 0, expired;
	json_object *msg;
	const char *body;
	dmcp_rc rc;

	rc = store_events_after(env->st, run->id, run->session_id, run->principal, lsn - 1, 1, ev,
	                        &n, &status, &last, &expired);
	if (rc != DMCP_OK)
		return rc;
	msg = n == 1 && ev[0].lsn == lsn ? js_parse_trusted(ev[0].body) : NULL;
	row_events_clear(ev, n);
	if (msg == NULL)
		return DMCP_E_INTERNAL;
	js_object_add(msg, "id", json_object_get(request_id));
	body = js_text(msg);
	if (env->sink != NULL) {
		if (js_get(js_get(msg, "error", json_type_object), "code", json_type_int) != NULL &&
		    json_object_get_int(json_object_object_get(json_object_object_get(msg, "error"),
		                                               "code")) == RPC_MISSING_CAPABILITY)
			env->sink->status = 400;
		env->sink->committed(env->sink->arg, run->id, lsn, 1, &kind, &body);
	}
	json_object_put(msg);
	return DMCP_OK;
}

/* 2026-07-28: each round of a call is a request of its own, so the step it takes answers
 * this request's id and reports progress under this request's progressToken (none: no
 * progress goes out). Only the loaded row changes: a save never writes these two fields, so
 * the stored run keeps the first request's. */
static dmcp_rc this_request(struct run_row *run, const struct rt_call *call)
{
	char *id = strdup(js_text(call->request_id));
	char *tok = call->progress_token != NULL ? strdup(js_text(call->progress_token)) : NULL;

	if (id == NULL || (call->progress_token != NULL && tok == NULL)) {
		free(id);
		free(tok);
		return DMCP_E_NOMEM;
	}
	free(run->request_id);
	free(run->progress_token);
	run->request_id = id;
	run->progress_token = tok;
	return DMCP_OK;
}

/* 1 when the call names the run's tool with the run's arguments. */
static int same_call(const struct rt_call *call, const struct run_row *run)
{
	json_object *args = js_parse_trusted(run->arguments), *want = call->args;
	char *name = run_name(call->tool);
	int same;

	if (want == NULL)
		want = js_new_object();
	else
		json_object_get(want);
	same = name != NULL && strcmp(name, run->tool) == 0 && js_equal(args, want);
	free(name);
	json_object_put(args);
	json_object_put(want);
	return same;
}

/* 2026-07-28: the retry of a round that made the run a task receives the task's handle again. */
static dmcp_rc task_again(struct rt_env *env, const struct run_row *run, json_object *request_id)
{
	enum event_kind kind = EV_RESPONSE;
	json_object *result = task_created(run, 1, env->cfg->task_poll_ms), *msg;
	const char *body;

	mcp_modern_result(result, "task");
	msg = rpc_result(request_id, result);
	body = js_text(msg);
	if (env->sink != NULL)
		env->sink->committed(env->sink->arg, run->id, run->last_lsn, 1, &kind, &body);
	json_object_put(msg);
	return DMCP_OK;
}

/* 2026-07-28: a call that carries a requestState: find its run, apply the inputResponses
 * under the compare-and-set, and take the next step — or give back what an earlier retry
 * of the same state already got. */
static dmcp_rc call_again(struct rt_env *env, const struct rt_call *call, struct run_row *run)
{
	rnd_hex_id run_id;
	int64_t at;
	int tries;
	dmcp_ctx ctx;
	dmcp_rc rc;

	if (env->state_key == NULL)
		return DMCP_E_INTERNAL;
	if (state_check(env->state_key, call->state, env->sess->principal, (int64_t)time(NULL),
	                run_id, &at) != DMCP_OK)
		return DMCP_E_PARAMS;
	for (tries = 0; tries < RT_MAX_CAS; tries++) {
		row_run_clear(run);
		rc = store_run_get(env->st, run_id, "", env->sess->principal, run);
		if (rc != DMCP_OK)
			return rc == DMCP_E_NOT_FOUND ? DMCP_E_PARAMS : rc;
		if (!same_call(call, run) || run->last_lsn < at || run->expired)
			return DMCP_E_PARAMS;
		if (run->task)
			return task_again(env, run, call->request_id);
		if (run->last_lsn > at)
			return stored_response(env, run, at + 1, call->request_id);
		if (run->status != RUN_WAITING)
			return DMCP_CANCELLED;
		rc = this_request(run, call);
		if (rc != DMCP_OK)
			return rc;
		ctx_init(&ctx, env, run);
		ctx.inputs = inputs_of(env, call);
		rc = step(&ctx);
		if (rc == DMCP_OK && ctx.unchanged)
			rc = stored_response(env, run, at, call->request_id);
		ctx_free(&ctx);
		if (rc != DMCP_E_CONFLICT)
			return rc;
	}
	return DMCP_E_CONFLICT;
}

dmcp_rc rt_call(struct rt_env *env, const struct rt_call *call, struct run_row *run)
{
	dmcp_ctx ctx;
	dmcp_rc rc;

	memset(run, 0, sizeof *run);
	if (env->sess->modern && call->state != NULL)
		return call_again(env, call, run);
	rc = new_run(env, call, run);
	if (rc != DMCP_OK)
		return rc;
	ctx_init(&ctx, env, run);
	ctx.inputs = inputs_of(env, call);
	ctx.args = call->args;
	rc = step(&ctx);
	ctx_free(&ctx);
	if (rc == DMCP_CANCELLED || rc == DMCP_E_CONFLICT)
		rc = DMCP_OK; /* cancelled or taken over mid-step: what was saved went out */
	return rc;
}

/* The innermost open entry at the end of journal: its last entry, or, when that is a branch
 * that has not ended, the open entry of the branch's own journal. NULL when empty. */
static json_object *open_entry(json_object *journal)
{
	json_object *last = NULL, *j;
	const char *t;
	size_t n;
	int level;

	for (level = 0; level <= RT_MAX_DEPTH && journal != NULL; level++) {
		n = json_object_array_length(journal);
		last = n > 0 ? json_object_array_get_idx(journal, n - 1) : NULL;
		t = js_str(last, "t");
		j = js_get(last, "j", json_type_array);
		if (t == NULL || strcmp(t, "branch") != 0 || j == NULL || js_has(last, "done"))
			return last;
		journal = j;
	}
	return last;
}

static void collect_request(void *arg, json_object *e)
{
	json_object *copy = NULL;

	if (js_get(e, "req", json_type_object) == NULL || js_str(e, "id") == NULL)
		return;
	if (json_object_deep_copy(e, &copy, NULL) == 0 && copy != NULL)
		js_array_add(arg, copy);
}

json_object *rt_open_requests(const char *journal)
{
	json_object *root = js_parse_trusted(journal), *out = js_new_array(), *e;

	e = json_object_is_type(root, json_type_array) ? open_entry(root) : NULL;
	if (e != NULL)
		each_unanswered(e, collect_request, out);
	json_object_put(root);
	return out;
}

/* The unanswered request entry with id our_id in the journal's open entry (a request, or a
 * group of them), or NULL. */
static json_object *unanswered(json_object *journal, const char *our_id)
{
	size_t i, m;
	json_object *last = open_entry(journal);
	json_object *reqs = js_get(last, "reqs", json_type_array);
	const char *id;

	if (reqs == NULL) {
		id = js_str(last, "id");
		return id != NULL && strcmp(id, our_id) == 0 && !js_has(last, "ans") ? last : NULL;
	}
	m = json_object_array_length(reqs);
	for (i = 0; i < m; i++) {
		json_object *e = json_object_array_get_idx(reqs, i);
		id = js_str(e, "id");
		if (id != NULL && strcmp(id, our_id) == 0 && !js_has(e, "ans"))
			return e;
	}
	return NULL;
}

/* Put the client's answer (its result or its error) into request entry e. */
static void apply_answer(json_object *e, json_object *msg)
{
	json_object *ans = js_new_object();
	json_object *res = js_get(msg, "result", json_type_object);

	if (res != NULL)
		js_object_add(ans, "result", json_object_get(res));
	else
		js_object_add(ans, "error",
		                       json_object_get(js_get(msg, "error", json_type_object)));
	js_object_add(e, "ans", ans);
}

/* What a step of a run needs of its client when no request carries it: the session's (a run
 * of a session), or what the run kept (a task). */
struct run_client {
	struct rt_session rs;
	struct session_row srow; /* the session, when have_srow */
	int have_srow;
	json_object *client;     /* owned: the run's kept client, or NULL */
	json_object *caps;       /* owned: the session's capabilities, or {} */
};

static void run_client_free(struct run_client *c)
{
	if (c->have_srow)
		row_session_clear(&c->srow);
	json_object_put(c->client);
	json_object_put(c->caps);
}

/* Fill c for run. DMCP_E_NOT_FOUND when the run's session ended (its runs are cancelled). */
static dmcp_rc run_client(struct rt_env *env, const struct run_row *run, struct run_client *c)
{
	json_object *level;
	int stale;
	dmcp_rc rc;

	memset(c, 0, sizeof *c);
	c->rs.principal = run->principal;
	c->rs.modern = run->modern;
	if (run->session_id[0] != '\0') {
		rc = store_session_get(env->st, run->session_id, run->principal, &c->srow, &stale);
		if (rc != DMCP_OK)
			return rc;
		c->have_srow = 1;
		c->caps = js_parse_trusted(c->srow.client_caps);
		c->rs.id = c->srow.id;
		c->rs.protocol = c->srow.protocol;
		c->rs.log_level = c->srow.log_level;
	} else {
		c->client = run->client != NULL ? js_parse_trusted(run->client) : NULL;
		c->caps = json_object_get(js_get(c->client, "caps", json_type_object));
		c->rs.id = "";
		c->rs.protocol = js_str(c->client, "protocol") ? js_str(c->client, "protocol") : "";
		level = js_get(c->client, "level", json_type_int);
		c->rs.log_level = level != NULL ? json_object_get_int(level) : run->modern ? 8 : 1;
	}
	if (c->caps == NULL)
		c->caps = js_new_object();
	c->rs.caps = c->caps;
	return DMCP_OK;
}

/* The run an answer goes to: the session's, or a 2025-11-25 task of the principal (a task's
 * client may answer from another session: tasks outlive re-initialize). */
static dmcp_rc answer_target(struct rt_env *env, const char *run_id, struct run_row *run)
{
	dmcp_rc rc = store_run_get(env->st, run_id, env->sess->id, env->sess->principal, run);

	if (rc != DMCP_E_NOT_FOUND || env->sess->modern)
		return rc;
	rc = store_run_get(env->st, run_id, "", env->sess->principal, run);
	if (rc == DMCP_OK && (!run->task || run->modern)) {
		row_run_clear(run);
		rc = DMCP_E_NOT_FOUND;
	}
	return rc;
}

dmcp_rc rt_answer(struct rt_env *env, const char *our_id, json_object *msg, int *applied)
{
	struct run_row run;
	struct run_client c;
	struct rt_env one = *env;
	rnd_hex_id run_id;
	json_object *e;
	int tries, have_client = 0;
	dmcp_ctx ctx;
	dmcp_rc rc = DMCP_E_CONFLICT;

	*applied = 0;
	if (strlen(our_id) < 34 || our_id[32] != '/')
		return DMCP_E_NOT_FOUND;
	memcpy(run_id, our_id, 32);
	run_id[32] = '\0';
	for (tries = 0; tries < RT_MAX_CAS && rc == DMCP_E_CONFLICT; tries++) {
		rc = answer_target(env, run_id, &run);
		if (rc != DMCP_OK)
			return rc;
		/* A task goes on with the client it was created for, whichever session answers. */
		if (run.task && run_client(env, &run, &c) == DMCP_OK) {
			one.sess = &c.rs;
			have_client = 1;
		}
		ctx_init(&ctx, have_client ? &one : env, &run);
		e = run.status == RUN_WAITING ? unanswered(ctx.journal, our_id) : NULL;
		if (e == NULL) {
			rc = DMCP_OK; /* a duplicate, a late answer, or one to a cancelled run */
		} else {
			apply_answer(e, msg);
			rc = step(&ctx);
			*applied = rc == DMCP_OK;
		}
		ctx_free(&ctx);
		if (have_client)
			run_client_free(&c);
		have_client = 0;
		row_run_clear(&run);
	}
	if (rc == DMCP_CANCELLED)
		rc = DMCP_OK; /* cancelled while the answer was applied: nothing more to do */
	return rc;
}

dmcp_rc rt_cancel(struct rt_env *env, const char *request_id, const char *reason)
{
	char why[RT_ERR_LEN];

	struct run_end e;
	dmcp_rc rc;

	snprintf(why, sizeof why, "cancelled by the client%s%.200s", reason ? ": " : "",
	         reason ? reason : "");
	rc = store_run_cancel(env->st, env->sess->id, env->sess->principal, request_id, why, &e);
	if (rc == DMCP_OK)
		call_ended(e.id, e.tool, RUN_CANCELLED, e.steps, e.ms);
	return rc;
}

/* ---- the operator's cancellation --------------------------------------------------------- */

/* The events that tell the client: on the 2025-11-25 wire, notifications/cancelled for each
 * request of ours the run still waits on (the client closes its dialog); then the call's
 * response, an error. */
struct cancel_events {
	json_object *list; /* owned array of [kind, body] */
	const char *why;
};

static void cancel_request(void *arg, json_object *e)
{
	struct cancel_events *c = arg;
	json_object *params = js_new_object(), *ev = js_new_array(), *n;

	js_object_add(params, "requestId", js_new_string(js_str(e, "id") ? js_str(e, "id") : ""));
	js_object_add(params, "reason", js_new_string(c->why));
	n = rpc_request(NULL, "notifications/cancelled", params);
	js_array_add(ev, js_new_int(EV_NOTIFICATION));
	js_array_add(ev, js_new_string(js_text(n)));
	js_array_add(c->list, ev);
	json_object_put(n);
}

static void cancel_response(struct cancel_events *c, const struct run_row *run)
{
	json_object *id = js_parse_trusted(run->request_id), *ev = js_new_array(), *msg;

	msg = rpc_error(id, RPC_REQUEST_CANCELLED, c->why, NULL);
	js_array_add(ev, js_new_int(EV_RESPONSE));
	js_array_add(ev, js_new_string(js_text(msg)));
	js_array_add(c->list, ev);
	json_object_put(msg);
	json_object_put(id);
}

/* One compare-and-set attempt of rt_cancel_run on the row as read. */
static dmcp_rc cancel_once(struct store *st, struct run_row *run, const char *why)
{
	struct cancel_events c = {js_new_array(), why};
	struct run_expect expect = {run->status, run->last_lsn, run->steps};
	json_object *journal = js_parse_trusted(run->journal);
	enum event_kind kinds[RT_MAX_CANCEL_EVENTS];
	const char *bodies[RT_MAX_CANCEL_EVENTS];
	size_t len = journal != NULL ? json_object_array_length(journal) : 0;
	int n, i, modern = run->session_id[0] == '\0';
	dmcp_rc rc;

	if (!modern && run->status == RUN_WAITING && len > 0)
		each_unanswered(json_object_array_get_idx(journal, len - 1), cancel_request, &c);
	cancel_response(&c, run);
	n = (int)json_object_array_length(c.list);
	if (n > RT_MAX_CANCEL_EVENTS) { /* keep the response, which is last */
		json_object_array_del_idx(c.list, 0, (size_t)(n - RT_MAX_CANCEL_EVENTS));
		n = RT_MAX_CANCEL_EVENTS;
	}
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(c.list, (size_t)i);
		kinds[i] = (enum event_kind)json_object_get_int(json_object_array_get_idx(e, 0));
		bodies[i] = json_object_get_string(json_object_array_get_idx(e, 1));
	}
	free(run->error);
	free(run->pending_id);
	free(run->pending_method);
	run->pending_id = run->pending_method = NULL;
	run->error = strdup(why);
	run->status = RUN_CANCELLED;
	run->last_lsn += n; /* the row's last_lsn covers the events it receives */
	rc = run->error == NULL ? DMCP_E_NOMEM
	                        : store_run_save(st, run, &expect, 0, 0, expect.last_lsn + 1, n, kinds,
	                                         bodies, 1, !modern);
	json_object_put(c.list);
	json_object_put(journal);
	return rc;
}

dmcp_rc rt_cancel_run(struct store *st, const char *run_id, const char *session_id,
                      const char *principal, const char *why, enum run_status *was)
{
	struct run_row run;
	int tries;
	dmcp_rc rc = DMCP_E_CONFLICT;

	for (tries = 0; tries < RT_MAX_CAS && rc == DMCP_E_CONFLICT; tries++) {
		rc = store_run_get(st, run_id, session_id, principal, &run);
		if (rc != DMCP_OK)
			return rc;
		*was = run.status;
		if (terminal(run.status)) {
			row_run_clear(&run);
			return DMCP_E_CONFLICT;
		}
		rc = cancel_once(st, &run, why);
		if (rc == DMCP_OK)
			run_ended(&run);
		else if (rc == DMCP_E_CONFLICT && tries + 1 == RT_MAX_CAS)
			rc = DMCP_E_DB; /* moved on under us every time: try again later */
		row_run_clear(&run);
	}
	return rc;
}

/* ---- steps no request carries ---------------------------------------------------------- */

/* Take the step of run, which this executor holds ('running' under a lease it renewed, one
 * step counted): the orphan it took over, or the due run it claimed. */
static dmcp_rc held_step(struct rt_env *env, struct run_row *run, int64_t due_ms)
{
	struct run_client c;
	struct rt_env one = *env;
	dmcp_ctx ctx;
	dmcp_rc rc;

	rc = run_client(env, run, &c);
	if (rc != DMCP_OK)
		return rc;
	one.sess = &c.rs;
	one.sink = NULL;
	ctx_init(&ctx, &one, run);
	ctx.background = 1;
	ctx.clock_floor = due_ms;
	rc = step(&ctx);
	ctx_free(&ctx);
	run_client_free(&c);
	return rc == DMCP_CANCELLED ? DMCP_OK : rc;
}

dmcp_rc rt_resume(struct rt_env *env, const char *run_id)
{
	struct run_row run;
	dmcp_rc rc;

	rc = store_run_get(env->st, run_id, env->sess->id, env->sess->principal, &run);
	if (rc != DMCP_OK)
		return rc;
	if (run.status != RUN_RUNNING || !run.lease_expired ||
	    (run.session_id[0] == '\0' && !run.task)) {
		/* A sessionless call that is not a task answers its own request (2026-07-28):
		 * with its worker gone, nobody waits for its step. */
		row_run_clear(&run);
		return DMCP_E_CONFLICT;
	}
	/* The claim renews the lease and counts a step, so the worker that lost the lease (if
	 * it still runs) loses its next compare-and-set: only one of us saves. */
	rc = store_run_claim(env->st, run_id, run.last_lsn, run.steps);
	if (rc == DMCP_OK) {
		log_msg(LOG_WARN, "run %s: lease passed; taking over its step", run_id);
		run.steps++;
		rc = held_step(env, &run, 0);
	}
	row_run_clear(&run);
	return rc;
}

dmcp_rc rt_recover_orphans(struct rt_env *env, int max, int *taken)
{
	struct orphan o[RT_MAX_RECOVER];
	struct rt_session rs;
	struct rt_env one = *env;
	int n = 0, i;
	dmcp_rc rc;

	*taken = 0;
	if (max > RT_MAX_RECOVER)
		max = RT_MAX_RECOVER;
	rc = store_orphans(env->st, max, o, &n);
	for (i = 0; rc == DMCP_OK && i < n; i++) {
		if (reg_runnable(env->reg, o[i].tool) == NULL) {
			/* Another program's tool (or one that is gone): leave the run to a program
			 * that knows it, rather than failing it here. */
			log_msg(LOG_INFO, "run %s: this program has no tool %.100s; left for one that "
			        "has it", o[i].run_id, o[i].tool);
			continue;
		}
		/* rt_resume reads the run as the session (or, sessionless, the principal) sees
		 * it; held_step then takes the run's own client. */
		memset(&rs, 0, sizeof rs);
		rs.id = o[i].session_id;
		rs.principal = o[i].principal;
		one.sess = &rs;
		one.sink = NULL;
		if (rt_resume(&one, o[i].run_id) == DMCP_OK)
			(*taken)++;
	}
	return rc;
}

dmcp_rc rt_run_due(struct rt_env *env, const char *run_id, int max, int *taken)
{
	struct run_row runs[RT_DUE_BATCH];
	int n = 0, i, batch;
	dmcp_rc rc = DMCP_OK, one;

	*taken = 0;
	while (rc == DMCP_OK && max > 0) {
		batch = max < RT_DUE_BATCH ? max : RT_DUE_BATCH;
		rc = store_due_claim(env->st, run_id, batch, runs, &n);
		for (i = 0; i < n; i++) {
			int64_t due = runs[i].due_ms;
			runs[i].due_ms = 0;
			if (reg_runnable(env->reg, runs[i].tool) == NULL) {
				log_msg(LOG_WARN, "run %s: its tool %.100s is not in this program; left to "
				        "one that has it", runs[i].id, runs[i].tool);
			} else {
				one = held_step(env, &runs[i], due);
				if (one == DMCP_OK)
					(*taken)++;
				else if (one != DMCP_E_CONFLICT)
					log_msg(LOG_WARN, "run %s: its due step failed (%s); it is left to "
					        "its lease", runs[i].id, dmcp_rc_name(one));
			}
			row_run_clear(&runs[i]);
		}
		max -= n;
		if (n < batch || run_id != NULL)
			break;
	}
	return rc;
}

/* ---- tasks ------------------------------------------------------------------------------ */

dmcp_rc rt_task_create(struct rt_env *env, const struct rt_call *call, int64_t ttl_ms,
                       struct run_row *run)
{
	dmcp_rc rc;

	memset(run, 0, sizeof *run);
	rc = new_run(env, call, run);
	if (rc == DMCP_OK)
		rc = become_task(env, run, ttl_ms);
	if (rc != DMCP_OK)
		return rc;
	run->status = RUN_WAITING;
	run->due_ms = task_now_ms();
	return store_run_save(env->st, run, NULL, env->cfg->max_tasks, env->cfg->max_principal_runs,
	                      1, 0, NULL, NULL, 1, 0);
}

dmcp_rc rt_task_update(struct rt_env *env, const char *run_id, json_object *inputs,
                       int *applied)
{
	struct run_row run;
	struct run_client c;
	struct rt_env one = *env;
	int tries;
	dmcp_ctx ctx;
	dmcp_rc rc = DMCP_E_CONFLICT;

	*applied = 0;
	for (tries = 0; tries < RT_MAX_CAS && rc == DMCP_E_CONFLICT; tries++) {
		rc = store_run_get(env->st, run_id, "", env->sess->principal, &run);
		if (rc == DMCP_OK && (!run.task || run.expired))
			rc = DMCP_E_NOT_FOUND;
		if (rc != DMCP_OK) {
			row_run_clear(&run);
			return rc;
		}
		if (run.status != RUN_WAITING || run.pending_id == NULL ||
		    !json_object_is_type(inputs, json_type_object)) {
			row_run_clear(&run);
			return DMCP_OK; /* nothing waits for these answers: acknowledged, ignored */
		}
		rc = run_client(env, &run, &c);
		if (rc == DMCP_OK) {
			one.sess = &c.rs;
			one.sink = NULL;
			ctx_init(&ctx, &one, &run);
			ctx.inputs = inputs;
			rc = step(&ctx);
			*applied = rc == DMCP_OK && !ctx.unchanged ? ctx.accepted : 0;
			ctx_free(&ctx);
			run_client_free(&c);
		}
		row_run_clear(&run);
	}
	return rc == DMCP_CANCELLED ? DMCP_OK : rc;
}
