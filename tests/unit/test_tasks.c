/* test_tasks.c — TAP tests of time as data and tasks in the run engine (runtime.c, effects.c,
 * branch.c, task.c) without a database: durable timers (dmcp_sleep parks a run with a due
 * time; rt_run_due takes its step once it is due, once), answer deadlines, 2025-11-25 tasks
 * (rt_task_create, answers from another session, the per-principal limit), 2026-07-28 tasks
 * (a call that becomes one, tasks/update with partial answers), task statuses and shapes, and
 * sub-branches (nesting, journal, replay, depth and token budget failures handled by the
 * parent). Drives the example tools through the in-memory store of fake_store.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "dmcp.h"
#include "examples.h"
#include "fake_store.h"
#include "js.h"
#include "mcp.h"
#include "registry.h"
#include "rnd.h"
#include "runtime.h"
#include "state.h"
#include "store.h"
#include "t.h"
#include "task.h"

/* Events read back at once. */
#define EV_MAX 64

static struct cfg cfg;
static dmcp_registry *reg;
static struct store *st;

/* ---- a session or a sessionless client -------------------------------------------------- */

struct tsess {
	rnd_hex_id id;
	json_object *caps;
	struct rt_session rs;
};

static const char legacy_caps[] = "{\"elicitation\":{},\"sampling\":{}}";
static const char modern_caps[] =
	"{\"elicitation\":{},\"sampling\":{},\"extensions\":{\"" TASK_EXT "\":{}}}";

static void sess_make(struct tsess *s, const char *principal, const char *caps, int modern)
{
	struct session_row row;

	memset(s, 0, sizeof *s);
	s->caps = js_parse_trusted(caps);
	s->rs.principal = principal;
	s->rs.caps = s->caps;
	s->rs.modern = modern;
	s->rs.log_level = modern ? 8 : 1;
	s->rs.protocol = modern ? "" : "2025-11-25";
	if (modern) {
		s->rs.id = "";
		return;
	}
	memset(&row, 0, sizeof row);
	if (rnd_id(s->id) != DMCP_OK)
		abort();
	snprintf(row.id, sizeof row.id, "%s", s->id);
	snprintf(row.principal, sizeof row.principal, "%s", principal);
	snprintf(row.protocol, sizeof row.protocol, "2025-11-25");
	row.client_caps = (char *)caps;
	if (store_session_create(st, &row, "{\"name\":\"t\",\"version\":\"1\"}", 0) != DMCP_OK)
		abort();
	s->rs.id = s->id;
}

static void sess_free(struct tsess *s)
{
	json_object_put(s->caps);
}

/* The last response a call handed its sink (a lone reply: a result, an input_required or a
 * CreateTaskResult), kept as text. */
static char reply[8192];

static void sink_committed(void *arg, const char *run_id, int64_t first, int n,
                           const enum event_kind *kinds, const char *const *bodies)
{
	int i;

	(void)arg;
	(void)run_id;
	(void)first;
	for (i = 0; i < n; i++)
		if (kinds[i] == EV_RESPONSE)
			snprintf(reply, sizeof reply, "%s", bodies[i]);
}

static struct rt_sink sink = {.arg = NULL, .committed = sink_committed};

static struct state_key key;

static struct rt_env env_of(struct tsess *s)
{
	struct rt_env e;

	memset(&e, 0, sizeof e);
	e.state_key = &key;
	e.cfg = &cfg;
	e.reg = reg;
	e.st = st;
	e.sess = &s->rs;
	e.sink = &sink;
	return e;
}

static struct rt_call call_of(const char *tool, json_object *args, json_object *id)
{
	struct rt_call c;

	memset(&c, 0, sizeof c);
	c.tool = reg_tool(reg, tool);
	if (c.tool == NULL)
		abort();
	c.request_id = id;
	c.args = args;
	return c;
}

/* rt_call of tool with arguments given as JSON text. */
static dmcp_rc call(struct tsess *s, const char *tool, const char *args, struct run_row *run)
{
	struct rt_env env = env_of(s);
	json_object *a = js_parse_trusted(args), *id = js_parse_trusted("7");
	struct rt_call c = call_of(tool, a, id);
	dmcp_rc rc;

	reply[0] = '\0';
	rc = rt_call(&env, &c, run);
	json_object_put(a);
	json_object_put(id);
	return rc;
}

static struct run_row row_of(const char *run_id)
{
	struct run_row r;

	if (!fake_store_run(run_id, &r))
		memset(&r, 0, sizeof r);
	return r;
}

/* The text of the run's response event (a result's first block, or an error's message). */
static const char *response_text(const char *run_id, char *out, size_t cap)
{
	struct event_row ev[EV_MAX];
	int n = fake_store_events(run_id, ev, EV_MAX), i;
	json_object *msg = NULL, *first;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		if (ev[i].kind == EV_RESPONSE)
			msg = js_parse_trusted(ev[i].body);
	if (msg != NULL) {
		first = json_object_array_get_idx(js_get(js_get(msg, "result", json_type_object),
		                                         "content", json_type_array), 0);
		snprintf(out, cap, "%s", js_str(first, "text") ? js_str(first, "text")
		                         : js_str(js_get(msg, "error", json_type_object), "message")
		                         ? js_str(js_get(msg, "error", json_type_object), "message")
		                         : "");
	}
	json_object_put(msg);
	row_events_clear(ev, n);
	return out;
}

static int count_kind(const char *run_id, enum event_kind k)
{
	struct event_row ev[EV_MAX];
	int n = fake_store_events(run_id, ev, EV_MAX), i, c = 0;

	for (i = 0; i < n; i++)
		c += ev[i].kind == k;
	row_events_clear(ev, n);
	return c;
}

/* Take every due step, with the clock ahead by ahead_ms. */
static int run_due(int64_t ahead_ms)
{
	struct tsess none;
	struct rt_env env;
	int taken = 0;

	memset(&none, 0, sizeof none);
	env = env_of(&none);
	env.sink = NULL;
	fake_store_set_now(task_now_ms() + ahead_ms);
	if (rt_run_due(&env, NULL, 100, &taken) != DMCP_OK)
		return -1;
	return taken;
}

static int has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* ---- timers ----------------------------------------------------------------------------- */

static void test_timer(void)
{
	struct tsess s;
	struct run_row run, r;
	char text[512];

	sess_make(&s, "alice", legacy_caps, 0);
	T_EQ_INT(call(&s, "slow_compute", "{\"seconds\":5,\"label\":\"t1\"}", &run), DMCP_OK,
	         "timer: a 5 s sleep ends the first step");
	r = row_of(run.id);
	T_EQ_INT(r.status, RUN_WAITING, "timer: the run waits");
	T_EQ_STR(r.pending_method, "timer", "timer: on a timer");
	T_OK(r.pending_id == NULL, "timer: no request pending");
	T_OK(r.due_ms >= task_now_ms() + 4000 && r.due_ms <= task_now_ms() + 5100,
	     "timer: due in 5 s (%lld ms)", (long long)(r.due_ms - task_now_ms()));
	T_OK(has(r.journal, "\"t\":\"sleep\"") && has(r.journal, "\"until\":"),
	     "timer: the wake-up time is journaled");
	T_OK(fake_store_notifies(STORE_DUE_PAYLOAD) >= 1, "timer: schedulers are told (t:due)");
	row_run_clear(&r);
	T_EQ_INT(run_due(1000), 0, "timer: not due after 1 s: nothing taken");
	T_EQ_INT(run_due(6000), 1, "timer: due after 5 s: one step taken");
	r = row_of(run.id);
	T_EQ_INT(r.status, RUN_COMPLETED, "timer: the run completed");
	T_EQ_INT(r.steps, 2, "timer: two steps (sleep, wake-up)");
	T_EQ_INT(r.due_ms, 0, "timer: no longer due");
	T_OK(has(response_text(run.id, text, sizeof text), "Computed t1 after 5 seconds."),
	     "timer: the result (%s)", text);
	row_run_clear(&r);
	T_EQ_INT(run_due(60000), 0, "timer: taken once: nothing more is due");
	row_run_clear(&run);
	sess_free(&s);
}

static void test_deadline(void)
{
	struct tsess s;
	struct run_row run, r;
	char text[512], our_id[64];
	json_object *msg;
	int applied = 0;
	struct rt_env env;

	sess_make(&s, "alice", legacy_caps, 0);
	T_EQ_INT(call(&s, "confirm_within", "{\"question\":\"Go?\",\"seconds\":2}", &run), DMCP_OK,
	         "deadline: the call waits for its answer");
	r = row_of(run.id);
	T_EQ_INT(r.status, RUN_WAITING, "deadline: waiting");
	T_EQ_STR(r.pending_method, "elicitation/create", "deadline: on the elicitation");
	T_OK(r.due_ms > task_now_ms() + 1000, "deadline: due at the deadline");
	snprintf(our_id, sizeof our_id, "%s", r.pending_id);
	row_run_clear(&r);
	T_EQ_INT(run_due(3000), 1, "deadline: the deadline's step is taken");
	r = row_of(run.id);
	T_EQ_INT(r.status, RUN_COMPLETED, "deadline: the tool handled the timeout");
	T_OK(has(response_text(run.id, text, sizeof text), "No answer in time"),
	     "deadline: DMCP_E_TIMEOUT reached the tool (%s)", text);
	T_OK(count_kind(run.id, EV_NOTIFICATION) == 1, "deadline: the client is told to drop the "
	     "request (notifications/cancelled)");
	row_run_clear(&r);
	env = env_of(&s);
	msg = js_parse_trusted("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"action\":\"accept\","
	                       "\"content\":{\"ok\":true}}}");
	T_EQ_INT(rt_answer(&env, our_id, msg, &applied), DMCP_OK, "deadline: a late answer is "
	         "acknowledged");
	T_EQ_INT(applied, 0, "deadline: ... and ignored");
	json_object_put(msg);
	row_run_clear(&run);
	sess_free(&s);
}

/* ---- 2025-11-25 tasks ------------------------------------------------------------------- */

static void test_legacy_task(void)
{
	struct tsess a, b;
	struct rt_env env;
	struct run_row run, r;
	struct task_row t;
	json_object *args = js_parse_trusted("{\"filename\":\"f.txt\"}"), *id = js_new_int(3);
	json_object *open, *created, *msg;
	struct rt_call c = call_of("confirm_delete", args, id);
	char text[512];
	const char *rid;
	int applied = 0;

	sess_make(&a, "alice", legacy_caps, 0);
	env = env_of(&a);
	T_EQ_INT(rt_task_create(&env, &c, 60000, &run), DMCP_OK, "task: created");
	r = row_of(run.id);
	T_OK(r.task && r.session_id[0] == '\0', "task: bound to its principal, no session");
	T_EQ_INT(r.status, RUN_WAITING, "task: stored before its first step");
	T_EQ_INT(r.steps, 0, "task: no step taken yet");
	T_OK(r.due_ms > 0 && r.due_ms <= task_now_ms(), "task: due now");
	T_OK(has(r.client, "\"elicitation\""), "task: keeps its client's capabilities");
	T_EQ_INT(r.ttl_ms, 60000, "task: its TTL");
	row_run_clear(&r);
	created = task_created(&run, 0, 1000);
	T_OK(js_get(created, "task", json_type_object) != NULL &&
	     strcmp(js_str(js_get(created, "task", json_type_object), "status"), "working") == 0,
	     "task: CreateTaskResult {task: {status: working}}");
	json_object_put(created);
	T_EQ_INT(run_due(0), 1, "task: its first step runs in the background");
	T_EQ_INT(store_task_get(st, run.id, "alice", &t), DMCP_OK, "task: tasks/get finds it");
	T_EQ_STR(task_status_name(task_status_of(&t.run, t.response, 0)), "input_required",
	         "task: input_required while it asks");
	open = rt_open_requests(t.run.journal);
	T_EQ_INT(json_object_array_length(open), 1, "task: one open request");
	rid = js_str(json_object_array_get_idx(open, 0), "id");
	T_EQ_INT(count_kind(run.id, EV_REQUEST), 1, "task: the request is in its log");
	T_OK(has(fake_store_event_body(run.id, 1), TASK_RELATED_META),
	     "task: the request carries _meta related-task");
	row_task_clear(&t);
	T_EQ_INT(store_task_get(st, run.id, "bob", &t), DMCP_E_NOT_FOUND,
	         "task: another principal does not see it");
	/* The answer comes from another session of the same principal (re-initialized). */
	sess_make(&b, "alice", "{}", 0);
	env = env_of(&b);
	msg = js_parse_trusted("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"action\":\"accept\","
	                       "\"content\":{\"confirm\":true}}}");
	T_EQ_INT(rt_answer(&env, rid, msg, &applied), DMCP_OK, "task: answered from a new session");
	T_EQ_INT(applied, 1, "task: ... applied");
	json_object_put(msg);
	json_object_put(open);
	r = row_of(run.id);
	T_EQ_INT(r.status, RUN_COMPLETED, "task: completed");
	T_OK(has(response_text(run.id, text, sizeof text), "Deleted f.txt"), "task: result (%s)",
	     text);
	row_run_clear(&r);
	T_EQ_INT(store_task_cancel(st, run.id, "alice", "late"), DMCP_E_CONFLICT,
	         "task: a finished task cannot be cancelled");
	row_run_clear(&run);
	json_object_put(args);
	json_object_put(id);
	sess_free(&a);
	sess_free(&b);
}

static void test_task_limit_and_cancel(void)
{
	struct tsess a;
	struct rt_env env;
	struct run_row runs[3], r;
	json_object *args = js_parse_trusted("{\"seconds\":600}"), *id = js_new_int(4);
	struct rt_call c = call_of("slow_compute", args, id);
	int i;

	sess_make(&a, "carol", legacy_caps, 0);
	env = env_of(&a);
	cfg.max_tasks = 2;
	for (i = 0; i < 2; i++)
		T_EQ_INT(rt_task_create(&env, &c, 60000, &runs[i]), DMCP_OK, "limit: a task");
	T_EQ_INT(rt_task_create(&env, &c, 60000, &runs[2]), DMCP_E_LIMIT,
	         "limit: the third unfinished task is refused (DMCP_MAX_TASKS 2)");
	row_run_clear(&runs[2]);
	T_EQ_INT(run_due(0), 2, "limit: both start");
	T_EQ_INT(store_task_cancel(st, runs[0].id, "carol", "cancelled by the client"), DMCP_OK,
	         "cancel: a sleeping task is cancelled");
	T_EQ_INT(run_due(700000), 1, "cancel: only the other one wakes");
	r = row_of(runs[0].id);
	T_EQ_INT(r.status, RUN_CANCELLED, "cancel: it stays cancelled");
	row_run_clear(&r);
	T_EQ_INT(rt_task_create(&env, &c, 60000, &runs[2]), DMCP_OK, "limit: room again");
	cfg.max_tasks = 100;
	for (i = 0; i < 3; i++)
		row_run_clear(&runs[i]);
	json_object_put(args);
	json_object_put(id);
	sess_free(&a);
}

/* ---- 2026-07-28 tasks ------------------------------------------------------------------- */

static void test_modern_task(void)
{
	struct tsess m, plain;
	struct rt_env env;
	struct run_row run, r;
	struct task_row t;
	json_object *res, *d, *inputs;
	char text[512];
	int applied = 0;

	sess_make(&m, "dave", modern_caps, 1);
	T_EQ_INT(call(&m, "slow_compute", "{\"seconds\":2}", &run), DMCP_OK,
	         "modern: a sleeping call of a task tool");
	d = js_parse_trusted(reply);
	res = js_get(d, "result", json_type_object);
	T_EQ_STR(js_str(res, "resultType"), "task", "modern: answered with a CreateTaskResult");
	T_EQ_STR(js_str(res, "taskId"), run.id, "modern: the task id is the run id");
	T_OK(js_get(res, "ttlMs", json_type_int) != NULL && !js_has(res, "ttl") &&
	     !js_has(res, "requestState") && !js_has(res, "task"), "modern: flat, ttlMs, no "
	     "requestState");
	json_object_put(d);
	r = row_of(run.id);
	T_OK(r.task && r.modern, "modern: the run is a task");
	row_run_clear(&r);
	T_OK(run_due(2500) >= 1, "modern: the timer's step");
	T_EQ_INT(store_task_get(st, run.id, "dave", &t), DMCP_OK, "modern: tasks/get");
	d = task_detailed(&t, NULL, 1000);
	T_EQ_STR(js_str(d, "status"), "completed", "modern: completed");
	T_OK(js_get(d, "result", json_type_object) != NULL, "modern: the result inlined");
	json_object_put(d);
	row_task_clear(&t);
	row_run_clear(&run);

	/* Without the extension, a short sleep happens in the thread: no task. */
	sess_make(&plain, "dave", "{}", 1);
	T_EQ_INT(call(&plain, "slow_compute", "{\"seconds\":0.01}", &run), DMCP_OK,
	         "modern, no extension: a sync call");
	T_OK(has(reply, "Computed") && has(reply, "\"resultType\":\"complete\""),
	     "modern, no extension: the result at once");
	row_run_clear(&run);
	T_EQ_INT(call(&plain, "slow_compute", "{\"seconds\":60}", &run), DMCP_OK,
	         "modern, no extension: a long sleep");
	T_OK(has(reply, "\"isError\":true") && has(reply, "cannot wait"),
	     "modern, no extension: refused with words");
	row_run_clear(&run);

	/* Partial answers: two questions, answered one at a time. */
	T_EQ_INT(call(&m, "multi_input", "{}", &run), DMCP_OK, "partial: a two-question task");
	T_OK(has(reply, "\"resultType\":\"task\""), "partial: a task at once (dmcp_task_start)");
	T_EQ_INT(run_due(0), 1, "partial: it asks");
	env = env_of(&m);
	inputs = js_parse_trusted("{\"first\":{\"action\":\"accept\",\"content\":{\"name\":\"A\"}},"
	                          "\"nope\":{\"x\":1}}");
	T_EQ_INT(rt_task_update(&env, run.id, inputs, &applied), DMCP_OK, "partial: one answer");
	T_EQ_INT(applied, 1, "partial: taken once");
	json_object_put(inputs);
	inputs = js_parse_trusted("{}");
	T_EQ_INT(rt_task_update(&env, run.id, inputs, &applied), DMCP_OK,
	         "partial: an empty update is acknowledged");
	T_EQ_INT(store_task_get(st, run.id, "dave", &t), DMCP_OK, "partial: tasks/get");
	d = rt_open_requests(t.run.journal);
	T_EQ_INT(json_object_array_length(d), 1, "partial: one question left");
	T_EQ_STR(js_str(json_object_array_get_idx(d, 0), "key"), "second", "partial: the second");
	json_object_put(d);
	row_task_clear(&t);
	json_object_put(inputs);
	inputs = js_parse_trusted("{\"second\":{\"action\":\"accept\",\"content\":{\"name\":\"B\"}}}");
	T_EQ_INT(rt_task_update(&env, run.id, inputs, &applied), DMCP_OK, "partial: the other");
	json_object_put(inputs);
	inputs = js_parse_trusted("{}");
	T_OK(has(response_text(run.id, text, sizeof text), "Got A and B."), "partial: done (%s)",
	     text);
	T_EQ_INT(rt_task_update(&env, "00000000000000000000000000000000", inputs, &applied),
	         DMCP_E_NOT_FOUND, "partial: unknown task");
	json_object_put(inputs);
	row_run_clear(&run);

	/* A protocol error fails the task; a tool error completes it with isError. */
	T_EQ_INT(call(&m, "protocol_error_job", "{}", &run), DMCP_OK, "failed: a task");
	T_EQ_INT(run_due(0), 1, "failed: its step");
	T_EQ_INT(store_task_get(st, run.id, "dave", &t), DMCP_OK, "failed: tasks/get");
	d = task_detailed(&t, NULL, 1000);
	T_EQ_STR(js_str(d, "status"), "failed", "failed: a protocol error is failed");
	T_OK(js_get(js_get(d, "error", json_type_object), "code", json_type_int) != NULL &&
	     !js_has(d, "result"), "failed: with error {code, message}, no result");
	json_object_put(d);
	T_EQ_STR(task_status_name(task_status_of(&t.run, t.response, 0)), "failed",
	         "failed: failed on 2025-11-25 too");
	row_task_clear(&t);
	row_run_clear(&run);
	T_EQ_INT(call(&m, "failing_job", "{}", &run), DMCP_OK, "tool error: a task");
	T_EQ_INT(run_due(1500), 1, "tool error: its step");
	T_EQ_INT(store_task_get(st, run.id, "dave", &t), DMCP_OK, "tool error: tasks/get");
	T_EQ_STR(task_status_name(task_status_of(&t.run, t.response, 1)), "completed",
	         "tool error: completed on 2026-07-28 (result.isError)");
	T_EQ_STR(task_status_name(task_status_of(&t.run, t.response, 0)), "failed",
	         "tool error: failed on 2025-11-25");
	T_OK(t.run.error != NULL && has(t.run.error, "The job failed"),
	     "tool error: the run's error says why (statusMessage)");
	row_task_clear(&t);
	row_run_clear(&run);

	/* MRTR first, then a task. */
	T_EQ_INT(call(&m, "test_tool_with_task", "{}", &run), DMCP_OK, "compose: round 1");
	T_OK(has(reply, "\"resultType\":\"input_required\"") && !has(reply, "taskId"),
	     "compose: input_required, no task yet");
	row_run_clear(&run);
	sess_free(&m);
	sess_free(&plain);
}

/* ---- expiry ----------------------------------------------------------------------------- */

static void test_expired(void)
{
	struct tsess s;
	struct run_row run;
	struct task_row t;

	sess_make(&s, "erin", modern_caps, 1);
	T_EQ_INT(call(&s, "slow_compute", "{\"seconds\":1}", &run), DMCP_OK, "expiry: a task");
	T_EQ_INT(fake_store_expire_run(run.id), DMCP_OK, "expiry: its TTL passes");
	T_EQ_INT(store_task_get(st, run.id, "erin", &t), DMCP_OK, "expiry: the tombstone is found");
	T_OK(t.run.expired && t.run.status == RUN_CANCELLED, "expiry: expired, cancelled");
	row_task_clear(&t);
	T_EQ_INT(run_due(5000), 0, "expiry: an expired run is never due");
	T_OK(store_run_expired(st, run.id, "", "erin"), "expiry: store_run_expired says so");
	row_run_clear(&run);
	sess_free(&s);
}

/* ---- branches --------------------------------------------------------------------------- */

static void test_branches(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run, r;
	json_object *journal, *b, *msg;
	char text[512], rid[80];
	int applied = 0;

	sess_make(&s, "fay", "{\"elicitation\":{}}", 0); /* no sampling: the mock answers */
	T_EQ_INT(call(&s, "pick_card_branch", "{\"nest\":2,\"budget\":500}", &run), DMCP_OK,
	         "branch: the parent asks to keep the card");
	r = row_of(run.id);
	journal = js_parse_trusted(r.journal);
	b = json_object_array_get_idx(journal, 0);
	T_EQ_STR(js_str(b, "t"), "branch", "branch: the child's entry");
	T_EQ_STR(js_str(b, "name"), "draw", "branch: named");
	T_OK(js_get(b, "done", json_type_object) != NULL, "branch: ended, its outcome journaled");
	T_EQ_STR(js_str(json_object_array_get_idx(js_get(b, "j", json_type_array), 0), "t"),
	         "branch", "branch: a nested branch (shuffle) in the child's journal");
	T_OK(js_get(js_get(b, "done", json_type_object), "tokens", json_type_int) != NULL &&
	     json_object_get_int(js_get(js_get(b, "done", json_type_object), "tokens",
	                                json_type_int)) > 0, "branch: the tokens it used");
	json_object_put(journal);
	snprintf(rid, sizeof rid, "%s", r.pending_id);
	row_run_clear(&r);
	env = env_of(&s);
	msg = js_parse_trusted("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"action\":\"accept\","
	                       "\"content\":{\"ok\":true}}}");
	T_EQ_INT(rt_answer(&env, rid, msg, &applied), DMCP_OK, "branch: kept");
	json_object_put(msg);
	T_OK(has(response_text(run.id, text, sizeof text), "You keep the mock response to: Draw"),
	     "branch: the card the child drew, replayed (%s)", text);
	row_run_clear(&run);

	T_EQ_INT(call(&s, "pick_card_branch", "{\"nest\":5,\"budget\":500}", &run), DMCP_OK,
	         "depth: nesting 5 under a limit of 3");
	r = row_of(run.id);
	T_OK(r.status == RUN_WAITING && has(r.journal, "beyond the limit of 3"),
	     "depth: the depth error is the child's outcome, the parent handled it");
	row_run_clear(&r);
	row_run_clear(&run);

	T_EQ_INT(call(&s, "pick_card_branch", "{\"nest\":1,\"budget\":10}", &run), DMCP_OK,
	         "budget: 10 tokens for a draw that uses more");
	r = row_of(run.id);
	snprintf(rid, sizeof rid, "\"rc\":%d", (int)DMCP_E_BUDGET);
	T_OK(r.status == RUN_WAITING && has(r.journal, "budget") && has(r.journal, rid),
	     "budget: DMCP_E_BUDGET is the child's outcome, the parent drew at random");
	T_OK(has(r.journal, "\"maxTokens\":10"), "budget: the request asked for no more than left");
	row_run_clear(&r);
	row_run_clear(&run);
	sess_free(&s);
}

/* ---- capabilities ------------------------------------------------------------------------ */

/* A server with task tools declares tasks in each era's own place: capabilities.tasks on
 * 2025-11-25, the extension under capabilities.extensions on 2026-07-28 (never both). */
static void test_caps(void)
{
	json_object *legacy = mcp_server_caps(reg, 0, 0), *modern = mcp_server_caps(reg, 0, 1);

	T_OK(js_get(legacy, "tasks", json_type_object) != NULL &&
	     js_get(legacy, "extensions", json_type_object) == NULL,
	     "caps: 2025-11-25 declares tasks, no extensions");
	T_OK(js_get(modern, "tasks", json_type_object) == NULL &&
	     js_get(js_get(modern, "extensions", json_type_object), TASK_EXT,
	            json_type_object) != NULL,
	     "caps: 2026-07-28 declares the tasks extension under extensions, no tasks slot");
	json_object_put(legacy);
	json_object_put(modern);
}

int main(void)
{
	char err[256];

	cfg_defaults(&cfg);
	reg = dmcp_registry_new();
	T_EQ_INT(dmcp_examples_register(reg, err, sizeof err), DMCP_OK, "the example tools register");
	dmcp_set_sampling_provider(reg, dmcp_mock_sampling_provider());
	T_EQ_INT(store_open("", &st, err, sizeof err), DMCP_OK, "the fake store opens");
	T_EQ_INT(state_key_hex(&key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	         DMCP_OK, "a requestState key");

	test_timer();
	test_deadline();
	test_legacy_task();
	test_task_limit_and_cancel();
	test_modern_task();
	test_expired();
	test_branches();
	test_caps();

	T_EQ_INT(fake_store_anomalies(err, sizeof err), 0,
	         "the store saw nothing PostgreSQL would allow but dmcp must not do");
	if (err[0] != '\0')
		printf("#   last: %s\n", err);
	store_close(st);
	fake_store_reset();
	dmcp_registry_free(reg);
	cfg_free(&cfg);
	return t_done();
}
