/* test_runtime.c — TAP tests of core/runtime.c (durable runs) without a database: the run
 * engine is driven directly (rt_call, rt_answer, rt_cancel, rt_resume) with small tools
 * defined here, the in-memory store of fake_store.c, and a sink that records what it is
 * handed. Covers one-step calls, elicitation (form and URL), sampling (client and fallback),
 * replay and the journal, progress and log numbering, failure atomicity, cancellation,
 * stream breaks, the events limit and lease takeover. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "dmcp.h"
#include "fake_store.h"
#include "js.h"
#include "registry.h"
#include "rnd.h"
#include "runtime.h"
#include "store.h"
#include "t.h"

/* Events one sink keeps. */
#define SINK_MAX 64
/* Events read back from the store at once. */
#define EV_MAX 64

static struct cfg cfg;
static dmcp_registry *reg;
static struct store *st;

/* ---- what the tools saw --------------------------------------------------------------- */

static dmcp_rc ask_rc;           /* dmcp_elicit's answer in "ask" */
static dmcp_action ask_action;   /* ... its action */
static char ask_content[512];    /* ... its content as JSON text */
static dmcp_rc url_rc;           /* dmcp_elicit_url in "url" */
static dmcp_rc sample_rc;        /* dmcp_sample in the sampling tools */
static char sample_text[512];    /* the answer's text */
static char sample_seen[2][512]; /* "sample_ask": the text at step 1 and step 2 */
static int sample_steps;
static int memo_runs;            /* how often memo_fn really ran */
static dmcp_rc replay_rc;        /* the first failure in "replay" */
static int flip;                 /* "flip" calls dmcp_sample where it elicited before */
static dmcp_rc prog_rc[4];       /* "prog_strict" */
static dmcp_rc many_rc;          /* "many": the first failing notification */
static int many_at;              /* ... and its index (1-based) */
static dmcp_rc cancel_rc;        /* "cancel_mid": the second progress */
static dmcp_rc conflict_rc;      /* "conflict": the second log */
static dmcp_rc break_rc;         /* dmcp_stream_break with a bad retry */
static int provider_calls;       /* the counting sampling provider */

/* ---- the tools -------------------------------------------------------------------------- */

static const char form_schema[] =
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1},"
	"\"age\":{\"type\":\"integer\",\"minimum\":0}},\"required\":[\"name\"]}";

static const struct dmcp_schema_def form_elicits[] = {{.name = "form", .schema = form_schema},
                                                      {.name = NULL}};

static const char *action_name(dmcp_action a)
{
	return a == DMCP_ACCEPT ? "accept" : a == DMCP_DECLINE ? "decline" : "cancel";
}

static dmcp_rc tool_one(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_text(res, "one done");
}

static dmcp_rc tool_ask(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;

	(void)args;
	ask_rc = dmcp_elicit(ctx, "form", "Tell me", &ans);
	if (ask_rc != DMCP_OK)
		return ask_rc;
	ask_action = ans.action;
	snprintf(ask_content, sizeof ask_content, "%s", js_text(ans.content));
	return dmcp_result_textf(res, "action=%s content=%s", action_name(ans.action),
	                         js_text(ans.content));
}

static dmcp_rc tool_url(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;

	(void)args;
	url_rc = dmcp_elicit_url(ctx, "https://auth.example.com/c?e={elicitationId}", "Sign in",
	                         &ans);
	if (url_rc != DMCP_OK)
		return url_rc;
	if (ans.action == DMCP_ACCEPT)
		DMCP_TRY(dmcp_elicit_url_complete(ctx));
	return dmcp_result_textf(res, "url %s", action_name(ans.action));
}

static dmcp_rc tool_sample(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;

	(void)args;
	req.prompt = "Say hi";
	req.system_prompt = "Be brief.";
	req.max_tokens = 50;
	sample_rc = dmcp_sample(ctx, &req, &ans);
	if (sample_rc != DMCP_OK)
		return sample_rc;
	snprintf(sample_text, sizeof sample_text, "%s", ans.text ? ans.text : "(none)");
	return dmcp_result_textf(res, "got: %s model=%s", ans.text ? ans.text : "(none)",
	                         ans.model ? ans.model : "(none)");
}

static dmcp_rc tool_sample_tools(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;
	json_object *tools = js_parse_trusted("[{\"name\":\"calc\",\"inputSchema\":"
	                                      "{\"type\":\"object\"}}]");

	(void)args;
	req.prompt = "Use a tool";
	req.max_tokens = 50;
	req.tools = tools;
	sample_rc = dmcp_sample(ctx, &req, &ans);
	json_object_put(tools);
	if (sample_rc != DMCP_OK)
		return sample_rc;
	return dmcp_result_textf(res, "got: %s", ans.text ? ans.text : "(none)");
}

/* Samples (answered by the fallback provider), then elicits: the sample replays. */
static dmcp_rc tool_sample_ask(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;
	struct dmcp_elicit_answer el;

	(void)args;
	req.prompt = "Name a colour";
	req.max_tokens = 20;
	sample_rc = dmcp_sample(ctx, &req, &ans);
	if (sample_rc != DMCP_OK)
		return sample_rc;
	if (sample_steps < 2)
		snprintf(sample_seen[sample_steps++], sizeof sample_seen[0], "%s",
		         ans.text ? ans.text : "(none)");
	DMCP_TRY(dmcp_elicit(ctx, "form", "Keep it?", &el));
	return dmcp_result_textf(res, "kept %s", ans.text ? ans.text : "(none)");
}

static dmcp_rc memo_fn(void *arg, json_object **out)
{
	(void)arg;
	memo_runs++;
	*out = json_object_new_int(4242);
	return DMCP_OK;
}

#define REC(var, expr)                    \
	do {                                  \
		dmcp_rc rec_rc_ = (expr);         \
		if (rec_rc_ != DMCP_OK) {         \
			if (rec_rc_ != DMCP_SUSPENDED) \
				var = rec_rc_;            \
			return rec_rc_;               \
		}                                 \
	} while (0)

static dmcp_rc tool_replay(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer a, b;
	json_object *v;

	(void)args;
	REC(replay_rc, dmcp_memo(ctx, memo_fn, NULL, &v));
	REC(replay_rc, dmcp_progress(ctx, 1, 3, "one"));
	REC(replay_rc, dmcp_elicit(ctx, "form", "first", &a));
	REC(replay_rc, dmcp_progress(ctx, 2, 3, "two"));
	REC(replay_rc, dmcp_log(ctx, DMCP_LOG_WARNING, "replay", "halfway"));
	REC(replay_rc, dmcp_elicit(ctx, "form", "second", &b));
	REC(replay_rc, dmcp_progress(ctx, 3, 3, "three"));
	return dmcp_result_textf(res, "memo=%d", json_object_get_int(v));
}

/* Effect 0 is an elicitation, until flip says it is a sampling. */
static dmcp_rc tool_flip(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer a;
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer s;

	(void)args;
	if (!flip) {
		DMCP_TRY(dmcp_elicit(ctx, "form", "flip", &a));
	} else {
		req.prompt = "flip";
		req.max_tokens = 5;
		DMCP_TRY(dmcp_sample(ctx, &req, &s));
	}
	return dmcp_result_text(res, "flipped");
}

/* Progress without replay: strictness within one step. */
static dmcp_rc tool_prog_strict(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	prog_rc[0] = dmcp_progress(ctx, 1, 10, NULL);
	prog_rc[1] = dmcp_progress(ctx, 1, 10, NULL);
	prog_rc[2] = dmcp_progress(ctx, 0.5, 10, NULL);
	prog_rc[3] = dmcp_progress(ctx, 2, 10, NULL);
	return dmcp_result_text(res, "strict");
}

/* Progress around an elicitation (used without a progressToken). */
static dmcp_rc tool_prog_ask(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer a;

	(void)args;
	DMCP_TRY(dmcp_progress(ctx, 1, 3, NULL));
	DMCP_TRY(dmcp_progress(ctx, 2, 3, NULL));
	DMCP_TRY(dmcp_elicit(ctx, "form", "more?", &a));
	DMCP_TRY(dmcp_progress(ctx, 3, 3, NULL));
	return dmcp_result_text(res, "progressed");
}

/* Elicits, then sends progress (a checkpoint inside the answer's step). */
static dmcp_rc tool_ask_prog(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer a;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "form", "go?", &a));
	DMCP_TRY(dmcp_progress(ctx, 1, 1, "after the answer"));
	return dmcp_result_text(res, "asked, then progressed");
}

static dmcp_rc tool_logs(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer a;

	(void)args;
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, "t", "info a"));
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_ERROR, "t", "error b"));
	DMCP_TRY(dmcp_elicit(ctx, "form", "log?", &a));
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, "t", "info c"));
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_ERROR, "t", "error d"));
	return dmcp_result_text(res, "logged");
}

static dmcp_rc tool_brk(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	break_rc = dmcp_stream_break(ctx, -1);
	DMCP_TRY(dmcp_stream_break(ctx, 500));
	return dmcp_result_text(res, "after the break");
}

static dmcp_rc tool_many(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	int i;

	(void)args;
	for (i = 1; i <= 10; i++) {
		dmcp_rc rc = dmcp_progress(ctx, i, 10, NULL);
		if (rc != DMCP_OK) {
			many_rc = rc;
			many_at = i;
			break;
		}
	}
	return dmcp_result_text(res, "many");
}

/* Hits the events limit with notifications, then elicits. */
static dmcp_rc tool_many_ask(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer a;
	int i;

	(void)args;
	for (i = 0; i < 10; i++)
		if (dmcp_log(ctx, DMCP_LOG_ERROR, NULL, "line %d", i) != DMCP_OK)
			break;
	DMCP_TRY(dmcp_elicit(ctx, "form", "and now?", &a));
	DMCP_TRY(dmcp_elicit(ctx, "form", "and again?", &a));
	return dmcp_result_text(res, "many, then asked");
}

/* A checkpoint (a log line), then the result: for failures and takeover. */
static dmcp_rc tool_cp(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_ERROR, "cp", "checkpoint"));
	return dmcp_result_text(res, "cp done");
}

static dmcp_rc tool_cancel_mid(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_progress(ctx, 1, 2, NULL));
	/* Meanwhile another worker cancels the run. */
	if (fake_store_cancel_run(dmcp_run_id(ctx), "cancelled elsewhere") != DMCP_OK)
		return DMCP_E_INTERNAL;
	cancel_rc = dmcp_progress(ctx, 2, 2, NULL);
	DMCP_TRY(cancel_rc);
	return dmcp_result_text(res, "not cancelled?");
}

static dmcp_rc tool_conflict(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_ERROR, NULL, "first"));
	/* Meanwhile another worker took the run over and committed an event. */
	if (fake_store_append_event(dmcp_run_id(ctx), EV_NOTIFICATION, "{}") != DMCP_OK)
		return DMCP_E_INTERNAL;
	conflict_rc = dmcp_log(ctx, DMCP_LOG_ERROR, NULL, "second");
	DMCP_TRY(conflict_rc);
	return dmcp_result_text(res, "no conflict?");
}

static dmcp_rc tool_versioned_v2(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_text(res, "v2 ran");
}

static dmcp_rc counting_create(void *state, json_object *params, json_object **result)
{
	const struct dmcp_sampling_provider *mock = dmcp_mock_sampling_provider();

	(void)state;
	provider_calls++;
	return mock->create_message(mock->state, params, result);
}

static const struct dmcp_sampling_provider counting = {"counting", counting_create, NULL};

/* dmcp_elicit_url with a URL past RT_URL_MAX (8192 bytes). */
static dmcp_rc tool_long_url(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	static char url[9001];
	struct dmcp_elicit_answer ans;

	(void)args;
	(void)res;
	memset(url, 'a', sizeof url - 1);
	memcpy(url, "https://x/", 10);
	url_rc = dmcp_elicit_url(ctx, url, "Sign in", &ans);
	return url_rc;
}

/* dmcp_fail: directly, or from a helper that has no result, through DMCP_TRY. */
static dmcp_rc check_host(dmcp_ctx *ctx, const char *host)
{
	if (host == NULL || strcmp(host, "known") != 0)
		return dmcp_fail(ctx, "no such host: %s", host != NULL ? host : "(none)");
	return DMCP_OK;
}

static dmcp_rc tool_fail(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	DMCP_TRY(dmcp_result_text(res, "half a result")); /* replaced by the failure */
	DMCP_TRY(check_host(ctx, dmcp_arg_str(args, "host")));
	return dmcp_result_text(res, "host found");
}

/* Who called, and in which session. */
static dmcp_rc tool_whoami(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	return dmcp_result_textf(res, "%s|%s", dmcp_principal(ctx), dmcp_session_id(ctx));
}

/* A form declared with fields: the tool sees the defaults of the fields left out. */
static const struct dmcp_param typed_fields[] = {
	DMCP_STRING("name", .required = 1, .min_length = 1),
	DMCP_INT("age", .minimum = DMCP_SET(0), .default_int = DMCP_SET(30)),
	DMCP_ENUM("color", .values = DMCP_VALUES("red", "blue"), .default_str = "red"),
	DMCP_BOOL("vip"),
	DMCP_END};
static const struct dmcp_schema_def typed_forms[] = {{.name = "form", .fields = typed_fields},
                                                     {.name = NULL}};

static dmcp_rc tool_ask_typed(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "form", "Who?", &ans));
	if (ans.action != DMCP_ACCEPT)
		return dmcp_result_textf(res, "no answer (has name: %d)", dmcp_arg_has(ans.content,
		                                                                     "name"));
	return dmcp_result_textf(res, "%s %lld %s vip=%d has_vip=%d", dmcp_arg_str(ans.content, "name"),
	                         (long long)dmcp_arg_int(ans.content, "age"),
	                         dmcp_arg_str(ans.content, "color"), dmcp_arg_bool(ans.content, "vip"),
	                         dmcp_arg_has(ans.content, "vip"));
}

#define OBJ "{\"type\":\"object\"}"
#define TOOL(n, f) {.name = n, .description = "test tool " n, .input_schema = OBJ, \
	.elicits = form_elicits, .version = 1, .run = f}

static const struct dmcp_tool tools[] = {
	TOOL("one", tool_one),
	TOOL("ask", tool_ask),
	TOOL("url", tool_url),
	TOOL("long_url", tool_long_url),
	TOOL("sample", tool_sample),
	TOOL("sample_tools", tool_sample_tools),
	TOOL("sample_ask", tool_sample_ask),
	TOOL("replay", tool_replay),
	TOOL("flip", tool_flip),
	TOOL("versioned", tool_ask),
	TOOL("prog_strict", tool_prog_strict),
	TOOL("prog_ask", tool_prog_ask),
	TOOL("ask_prog", tool_ask_prog),
	TOOL("logs", tool_logs),
	TOOL("brk", tool_brk),
	TOOL("many", tool_many),
	TOOL("many_ask", tool_many_ask),
	TOOL("cp", tool_cp),
	TOOL("cancel_mid", tool_cancel_mid),
	TOOL("conflict", tool_conflict),
	TOOL("fail", tool_fail),
	TOOL("whoami", tool_whoami),
	{.name = "ask_typed", .description = "test tool ask_typed", .elicits = typed_forms,
	 .version = 1, .run = tool_ask_typed},
};

static const struct dmcp_tool versioned_v2 = {
	.name = "versioned", .description = "the same tool, version 2", .input_schema = OBJ,
	.elicits = form_elicits, .version = 2, .run = tool_versioned_v2};

/* ---- sessions, sink, helpers ------------------------------------------------------------ */

struct tsess {
	rnd_hex_id id;
	const char *principal;
	json_object *caps;
	struct rt_session rs;
};

static void sess_make(struct tsess *s, const char *principal, const char *caps, int level)
{
	struct session_row row;

	memset(s, 0, sizeof *s);
	memset(&row, 0, sizeof row);
	if (rnd_id(s->id) != DMCP_OK)
		abort();
	snprintf(row.id, sizeof row.id, "%s", s->id);
	snprintf(row.principal, sizeof row.principal, "%s", principal);
	snprintf(row.protocol, sizeof row.protocol, "2025-11-25");
	row.client_caps = (char *)caps;
	if (store_session_create(st, &row, "{\"name\":\"t\",\"version\":\"1\"}", 0) != DMCP_OK)
		abort();
	s->principal = principal;
	s->caps = js_parse_trusted(caps);
	s->rs.id = s->id;
	s->rs.principal = principal;
	s->rs.protocol = "2025-11-25";
	s->rs.caps = s->caps;
	s->rs.log_level = level;
}

static void sess_free(struct tsess *s)
{
	json_object_put(s->caps);
	s->caps = NULL;
}

/* Events handed to a sink without being stored (a call finished in one step needs no row):
 * the last such run's events, so the helpers below can read them like stored ones. */
static struct {
	rnd_hex_id run_id;
	int n;
	int64_t lsn[SINK_MAX];
	enum event_kind kind[SINK_MAX];
	char *body[SINK_MAX];
} unstored;

static void unstored_add(const char *run_id, int64_t lsn, enum event_kind kind, const char *body)
{
	int i;

	if (strcmp(unstored.run_id, run_id) != 0) {
		for (i = 0; i < unstored.n; i++)
			free(unstored.body[i]);
		unstored.n = 0;
		snprintf(unstored.run_id, sizeof unstored.run_id, "%s", run_id);
	}
	if (unstored.n < SINK_MAX) {
		unstored.lsn[unstored.n] = lsn;
		unstored.kind[unstored.n] = kind;
		unstored.body[unstored.n++] = strdup(body);
	}
}

static void unstored_clear(void)
{
	int i;

	for (i = 0; i < unstored.n; i++)
		free(unstored.body[i]);
	memset(&unstored, 0, sizeof unstored);
}

struct sink_rec {
	int calls;                    /* committed() calls */
	int n;                        /* events recorded */
	int64_t lsn[SINK_MAX];
	enum event_kind kind[SINK_MAX];
	char *body[SINK_MAX];
	int uncommitted;              /* events handed over before their commit */
	int mismatched;               /* bodies that differ from the store's */
	int unstored;                 /* events of a run that has no row (one-step calls) */
};

static void sink_committed(void *arg, const char *run_id, int64_t first, int n,
                           const enum event_kind *kinds, const char *const *bodies)
{
	struct sink_rec *s = arg;
	int i;

	s->calls++;
	for (i = 0; i < n; i++) {
		const char *stored = fake_store_event_body(run_id, first + i);
		struct run_row row;
		if (!fake_store_run(run_id, &row)) {
			s->unstored++;
			unstored_add(run_id, first + i, kinds[i], bodies[i]);
		} else if (!fake_store_event_committed(run_id, first + i))
			s->uncommitted++;
		else
			row_run_clear(&row);
		if (!s->unstored && (stored == NULL || strcmp(stored, bodies[i]) != 0))
			s->mismatched++;
		if (s->n < SINK_MAX) {
			s->lsn[s->n] = first + i;
			s->kind[s->n] = kinds[i];
			s->body[s->n] = strdup(bodies[i]);
			s->n++;
		}
	}
}

static void sink_reset(struct sink_rec *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->body[i]);
	memset(s, 0, sizeof *s);
}

/* The sink of tests that pass none: it only keeps the events of runs that are not stored. */
static struct sink_rec quiet_rec;
static struct rt_sink quiet_sink = {.arg = &quiet_rec, .committed = sink_committed};

static struct rt_env env_of(struct tsess *s, struct rt_sink *sink)
{
	struct rt_env e;

	if (sink == NULL) {
		sink_reset(&quiet_rec);
		sink = &quiet_sink;
	}
	e.cfg = &cfg;
	e.reg = reg;
	e.st = st;
	e.sess = &s->rs;
	e.sink = sink;
	return e;
}

/* rt_call with the id, arguments and progress token given as JSON text (token may be
 * NULL). */
static dmcp_rc start(struct rt_env *env, const char *tool, const char *id, const char *token,
                     struct run_row *run)
{
	struct rt_call call;
	json_object *jid = js_parse_trusted(id), *args = json_object_new_object();
	json_object *tok = token != NULL ? js_parse_trusted(token) : NULL;
	dmcp_rc rc;

	memset(&call, 0, sizeof call);
	call.tool = reg_tool(env->reg, tool);
	if (call.tool == NULL)
		abort();
	call.request_id = jid;
	call.args = args;
	call.progress_token = tok;
	rc = rt_call(env, &call, run);
	json_object_put(jid);
	json_object_put(args);
	json_object_put(tok);
	return rc;
}

/* start() with arguments given as JSON text. */
static dmcp_rc start_args(struct rt_env *env, const char *tool, const char *args_text,
                          struct run_row *run)
{
	struct rt_call call;
	json_object *jid = json_object_new_int(1), *args = js_parse_trusted(args_text);
	dmcp_rc rc;

	memset(&call, 0, sizeof call);
	call.tool = reg_tool(env->reg, tool);
	if (call.tool == NULL || args == NULL)
		abort();
	call.request_id = jid;
	call.args = args;
	rc = rt_call(env, &call, run);
	json_object_put(jid);
	json_object_put(args);
	return rc;
}

/* rt_answer with the message's result (or error) given as JSON text of the whole member,
 * e.g. "\"result\":{...}". */
static dmcp_rc answer(struct rt_env *env, const char *our_id, const char *member, int *applied)
{
	char text[2048];
	json_object *msg;
	dmcp_rc rc;

	snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",%s}", our_id, member);
	msg = js_parse_trusted(text);
	if (msg == NULL)
		abort();
	rc = rt_answer(env, our_id, msg, applied);
	json_object_put(msg);
	return rc;
}

/* The pending request id of a run: "<run>/<k>". */
static void pending_of(char *out, size_t cap, const char *run_id, int k)
{
	snprintf(out, cap, "%s/%d", run_id, k);
}

/* The run's row as stored (cleared by the caller). */
static struct run_row row_of(const char *run_id)
{
	struct run_row r;

	if (!fake_store_run(run_id, &r))
		memset(&r, 0, sizeof r);
	return r;
}

/* The events of a run: stored ones, or those of the last run that was never stored. */
static int n_events(const char *run_id)
{
	struct event_row ev[EV_MAX];
	int n = fake_store_events(run_id, ev, EV_MAX);

	row_events_clear(ev, n);
	if (n == 0 && strcmp(unstored.run_id, run_id) == 0)
		return unstored.n;
	return n;
}

static const char *unstored_body(const char *run_id, int64_t lsn)
{
	int i;

	for (i = 0; strcmp(unstored.run_id, run_id) == 0 && i < unstored.n; i++)
		if (unstored.lsn[i] == lsn)
			return unstored.body[i];
	return NULL;
}

/* Event lsn of the run parsed (put it), or NULL. */
static json_object *event_json(const char *run_id, int64_t lsn)
{
	const char *b = fake_store_event_body(run_id, lsn);

	if (b == NULL)
		b = unstored_body(run_id, lsn);
	return b != NULL ? js_parse_trusted(b) : NULL;
}

static int event_kind_of(const char *run_id, int64_t lsn)
{
	struct event_row ev[EV_MAX];
	int n = fake_store_events(run_id, ev, EV_MAX), i, k = -1;

	for (i = 0; i < n; i++)
		if (ev[i].lsn == lsn)
			k = (int)ev[i].kind;
	row_events_clear(ev, n);
	for (i = 0; k < 0 && strcmp(unstored.run_id, run_id) == 0 && i < unstored.n; i++)
		if (unstored.lsn[i] == lsn)
			k = (int)unstored.kind[i];
	return k;
}

/* The first text of the result of the response event lsn, copied into out. */
static const char *result_text(const char *run_id, int64_t lsn, char *out, size_t cap)
{
	json_object *e = event_json(run_id, lsn), *content;

	out[0] = '\0';
	content = js_get(js_get(e, "result", json_type_object), "content", json_type_array);
	if (content != NULL && json_object_array_length(content) > 0)
		snprintf(out, cap, "%s", js_str(json_object_array_get_idx(content, 0), "text") ?
		         js_str(json_object_array_get_idx(content, 0), "text") : "");
	json_object_put(e);
	return out;
}

/* 1 when the response event lsn has isError: true. */
static int result_is_error(const char *run_id, int64_t lsn)
{
	json_object *e = event_json(run_id, lsn), *ie;
	int r = 0;

	ie = js_get(js_get(e, "result", json_type_object), "isError", json_type_boolean);
	if (ie != NULL)
		r = json_object_get_boolean(ie);
	json_object_put(e);
	return r;
}

/* Count the events of the run whose method is method. */
static int count_method(const char *run_id, const char *method)
{
	struct event_row ev[EV_MAX];
	int n = fake_store_events(run_id, ev, EV_MAX), i, c = 0;

	for (i = 0; i < n; i++) {
		json_object *o = js_parse_trusted(ev[i].body);
		const char *m = js_str(o, "method");
		if (m != NULL && strcmp(m, method) == 0)
			c++;
		json_object_put(o);
	}
	row_events_clear(ev, n);
	return c;
}

/* 1 when the run's events are numbered 1..n without a gap and n == last_lsn. */
static int gap_free(const char *run_id)
{
	struct event_row ev[EV_MAX];
	struct run_row r = row_of(run_id);
	int n = fake_store_events(run_id, ev, EV_MAX), i, ok = n == r.last_lsn;

	for (i = 0; i < n; i++)
		if (ev[i].lsn != i + 1)
			ok = 0;
	row_events_clear(ev, n);
	row_run_clear(&r);
	return ok;
}

static int has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* ---- one step -------------------------------------------------------------------------- */

static void test_one_step(void)
{
	struct tsess s, s2;
	struct sink_rec rec = {0};
	struct rt_sink sink = {.arg = &rec, .committed = sink_committed};
	struct rt_env env;
	struct run_row run;
	json_object *e;
	char text[256];
	int runs0 = fake_store_count("runs"), events0 = fake_store_count("events");

	sess_make(&s, "alice", "{}", 0);
	env = env_of(&s, &sink);
	cfg.notify_mode = CFG_NOTIFY_AUTO;
	T_EQ_INT(start(&env, "one", "\"req-1\"", NULL, &run), DMCP_OK, "one-step: rt_start is OK");
	T_EQ_INT(run.status, RUN_COMPLETED, "one-step: the returned row is completed");
	T_EQ_INT(fake_store_count("runs"), runs0, "one-step: no run row (nobody can name the call)");
	T_EQ_INT(fake_store_count("events"), events0, "one-step: no event row");
	T_EQ_INT(run.steps, 1, "one-step: one step");
	T_OK(run.pending_id == NULL, "one-step: nothing pending");
	T_EQ_STR(run.request_id, "\"req-1\"", "one-step: the request id is kept as JSON text");
	T_EQ_INT(n_events(run.id), 1, "one-step: exactly one event");
	T_EQ_INT(event_kind_of(run.id, 1), EV_RESPONSE, "one-step: the event is the response");
	e = event_json(run.id, 1);
	T_EQ_STR(js_str(e, "id"), "req-1", "one-step: the string id is echoed");
	T_EQ_STR(js_str(e, "jsonrpc"), "2.0", "one-step: a JSON-RPC 2.0 message");
	json_object_put(e);
	T_EQ_STR(result_text(run.id, 1, text, sizeof text), "one done", "one-step: the tool's text");
	T_OK(!result_is_error(run.id, 1), "one-step: not an error");
	T_EQ_INT(rec.calls, 1, "one-step: the sink was called once");
	T_OK(rec.n == 1 && rec.lsn[0] == 1 && rec.kind[0] == EV_RESPONSE,
	     "one-step: the sink got the response as LSN 1");
	T_EQ_INT(rec.unstored, 1, "one-step: the sink got the response, which is not stored");
	T_EQ_INT(fake_store_notifies(run.id), 0, "one-step: no NOTIFY for a brand-new run (auto)");
	row_run_clear(&run);
	sink_reset(&rec);

	T_EQ_INT(start(&env, "one", "42", NULL, &run), DMCP_OK, "one-step: integer id");
	e = event_json(run.id, 1);
	T_OK(json_object_is_type(json_object_object_get(e, "id"), json_type_int) &&
	     json_object_get_int(json_object_object_get(e, "id")) == 42,
	     "one-step: the integer id is echoed as an integer");
	json_object_put(e);
	row_run_clear(&run);

	cfg.notify_mode = CFG_NOTIFY_ALWAYS;
	T_EQ_INT(start(&env, "one", "43", NULL, &run), DMCP_OK, "one-step: notify always");
	T_EQ_INT(fake_store_notifies(run.id), 0, "one-step: no NOTIFY even with DMCP_NOTIFY=always "
	         "(nothing stored)");
	row_run_clear(&run);
	sess_make(&s2, "alice", "{\"elicitation\":{}}", 0);
	env = env_of(&s2, &sink);
	T_EQ_INT(start(&env, "ask", "44", NULL, &run), DMCP_OK, "one-step: always, a new run that waits");
	T_EQ_INT(fake_store_notifies(run.id), 1, "one-step: ... is notified with DMCP_NOTIFY=always");
	row_run_clear(&run);
	sess_free(&s2);
	cfg.notify_mode = CFG_NOTIFY_AUTO;
	T_EQ_INT(fake_store_open_tx(), 0, "one-step: no transaction left open");
	sink_reset(&rec);
	sess_free(&s);
}

/* ---- elicitation ----------------------------------------------------------------------- */

static void test_elicitation(void)
{
	struct tsess s, other, foreign;
	struct sink_rec rec = {0};
	struct rt_sink sink = {.arg = &rec, .committed = sink_committed};
	struct rt_env env, env_other, env_foreign;
	struct run_row run, row, before, after;
	json_object *e, *schema;
	char pid[48], text[512], bogus[48];
	int applied = -1, ev_before, notif0;

	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	sess_make(&other, "alice", "{\"elicitation\":{}}", 0);
	sess_make(&foreign, "mallory", "{\"elicitation\":{}}", 0);
	env = env_of(&s, &sink);
	env_other = env_of(&other, NULL);
	env_foreign = env_of(&foreign, NULL);

	T_EQ_INT(start(&env, "ask", "7", NULL, &run), DMCP_OK, "elicit: rt_start is OK");
	T_EQ_INT(ask_rc, DMCP_SUSPENDED, "elicit: the tool got DMCP_SUSPENDED");
	pending_of(pid, sizeof pid, run.id, 0);
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_WAITING, "elicit: the run waits");
	T_EQ_STR(row.pending_id, pid, "elicit: pending id is <run>/0");
	T_EQ_STR(row.pending_method, "elicitation/create", "elicit: pending method");
	row_run_clear(&row);
	T_EQ_INT(n_events(run.id), 1, "elicit: one event");
	T_EQ_INT(event_kind_of(run.id, 1), EV_REQUEST, "elicit: the event is a request");
	e = event_json(run.id, 1);
	T_EQ_STR(js_str(e, "method"), "elicitation/create", "elicit: method elicitation/create");
	T_EQ_STR(js_str(e, "id"), pid, "elicit: the request's id is the pending id");
	T_EQ_STR(js_str(js_get(e, "params", json_type_object), "message"), "Tell me",
	         "elicit: the message");
	schema = js_parse_trusted(form_schema);
	T_OK(js_equal(js_get(js_get(e, "params", json_type_object), "requestedSchema",
	                     json_type_object), schema),
	     "elicit: requestedSchema equals the tool's schema");
	json_object_put(schema);
	json_object_put(e);
	T_EQ_INT(rec.n, 1, "elicit: the sink got the request");

	/* Answers that do not belong here. */
	memcpy(bogus, "0123456789abcdef0123456789abcdef/0", 35);
	T_EQ_INT(answer(&env, bogus, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"x\"}}",
	                &applied), DMCP_E_NOT_FOUND, "elicit: an answer for an unknown run: NOT_FOUND");
	T_EQ_INT(answer(&env, "abc", "\"result\":{\"action\":\"decline\"}", &applied),
	         DMCP_E_NOT_FOUND, "elicit: a malformed answer id: NOT_FOUND");
	T_EQ_INT(answer(&env_other, pid, "\"result\":{\"action\":\"decline\"}", &applied),
	         DMCP_E_NOT_FOUND, "elicit: an answer from another session: NOT_FOUND");
	T_EQ_INT(answer(&env_foreign, pid, "\"result\":{\"action\":\"decline\"}", &applied),
	         DMCP_E_NOT_FOUND, "elicit: an answer from another principal: NOT_FOUND");
	row = row_of(run.id);
	T_OK(row.status == RUN_WAITING && row.steps == 1, "elicit: refused answers changed nothing");
	row_run_clear(&row);

	notif0 = fake_store_notifies(run.id);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"Ann\","
	                "\"age\":3}}", &applied), DMCP_OK, "elicit: the answer is applied");
	T_EQ_INT(applied, 1, "elicit: applied is 1");
	T_EQ_INT(ask_action, DMCP_ACCEPT, "elicit: the tool saw accept");
	T_EQ_STR(ask_content, "{\"name\":\"Ann\",\"age\":3}", "elicit: the tool saw the content");
	before = row_of(run.id);
	T_EQ_INT(before.status, RUN_COMPLETED, "elicit: step 2 completed the run");
	T_EQ_INT(before.steps, 2, "elicit: two steps");
	T_OK(before.pending_id == NULL && before.pending_method == NULL,
	     "elicit: nothing pending any more");
	T_EQ_INT(event_kind_of(run.id, 2), EV_RESPONSE, "elicit: LSN 2 is the response");
	e = event_json(run.id, 2);
	T_EQ_INT(json_object_get_int(json_object_object_get(e, "id")), 7,
	         "elicit: the response carries the call's id");
	json_object_put(e);
	T_EQ_INT(fake_store_notifies(run.id), notif0 + 1, "elicit: the answer step rang NOTIFY");
	ev_before = n_events(run.id);

	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"Bob\"}}",
	                &applied), DMCP_OK, "elicit: a duplicate answer is OK");
	T_EQ_INT(applied, 0, "elicit: ... and not applied");
	after = row_of(run.id);
	T_OK(after.steps == before.steps && after.status == before.status &&
	     strcmp(after.journal, before.journal) == 0 && after.last_lsn == before.last_lsn,
	     "elicit: the duplicate changed neither steps, status, journal nor LSN");
	T_EQ_INT(n_events(run.id), ev_before, "elicit: ... nor the events");
	row_run_clear(&before);
	row_run_clear(&after);
	row_run_clear(&run);

	/* decline and cancel reach the tool */
	T_EQ_INT(start(&env, "ask", "8", NULL, &run), DMCP_OK, "elicit: a second call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"decline\"}", &applied), DMCP_OK,
	         "elicit: decline applied");
	T_EQ_INT(ask_action, DMCP_DECLINE, "elicit: the tool saw decline");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "action=decline content=null",
	         "elicit: decline has no content");
	row_run_clear(&run);
	T_EQ_INT(start(&env, "ask", "9", NULL, &run), DMCP_OK, "elicit: a third call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"cancel\"}", &applied), DMCP_OK,
	         "elicit: cancel applied");
	T_EQ_INT(ask_action, DMCP_CANCEL, "elicit: the tool saw cancel");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_COMPLETED, "elicit: a cancelled form still completes the call");
	row_run_clear(&row);
	row_run_clear(&run);

	/* content that violates the schema */
	T_EQ_INT(start(&env, "ask", "10", NULL, &run), DMCP_OK, "elicit: a fourth call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":5}}",
	                &applied), DMCP_OK, "elicit: a non-conforming answer is applied");
	T_EQ_INT(ask_rc, DMCP_E_ANSWER, "elicit: the tool got DMCP_E_ANSWER");
	T_OK(result_is_error(run.id, 2), "elicit: the result is isError");
	T_OK(has(result_text(run.id, 2, text, sizeof text), "schema"),
	     "elicit: the error mentions the schema (%s)", text);
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_FAILED, "elicit: the run failed");
	T_OK(row.error != NULL, "elicit: the error is kept for operators");
	row_run_clear(&row);
	row_run_clear(&run);

	/* an action that is none of the three */
	T_EQ_INT(start(&env, "ask", "11", NULL, &run), DMCP_OK, "elicit: a fifth call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"maybe\"}", &applied), DMCP_OK,
	         "elicit: an unknown action is applied");
	T_EQ_INT(ask_rc, DMCP_E_ANSWER, "elicit: an unknown action gives DMCP_E_ANSWER");
	row_run_clear(&run);

	/* the client answers with an error */
	T_EQ_INT(start(&env, "ask", "12", NULL, &run), DMCP_OK, "elicit: a sixth call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"error\":{\"code\":-1,\"message\":\"User rejected\"}",
	                &applied), DMCP_OK, "elicit: an error answer is applied");
	T_EQ_INT(applied, 1, "elicit: ... applied 1");
	T_EQ_INT(ask_rc, DMCP_E_REJECTED, "elicit: the tool got DMCP_E_REJECTED");
	T_OK(result_is_error(run.id, 2), "elicit: the result is isError");
	T_OK(has(result_text(run.id, 2, text, sizeof text), "User rejected"),
	     "elicit: the error carries the client's message (%s)", text);
	row_run_clear(&run);

	T_EQ_INT(rec.uncommitted + rec.mismatched, 0, "elicit: the sink only saw committed events");
	T_EQ_INT(fake_store_open_tx(), 0, "elicit: no transaction left open");
	sink_reset(&rec);
	sess_free(&s);
	sess_free(&other);
	sess_free(&foreign);
}

/* ---- capabilities ------------------------------------------------------------------------ */

static void test_capabilities(void)
{
	struct tsess none, form, url, url_only;
	struct rt_env env;
	struct run_row run, row;
	json_object *e, *el, *p;
	char pid[48], text[512], want[160];
	int applied;

	sess_make(&none, "alice", "{}", 0);
	sess_make(&form, "alice", "{\"elicitation\":{\"form\":{}}}", 0);
	sess_make(&url, "alice", "{\"elicitation\":{\"form\":{},\"url\":{}}}", 0);
	sess_make(&url_only, "alice", "{\"elicitation\":{\"url\":{}}}", 0);

	env = env_of(&none, NULL);
	T_EQ_INT(start(&env, "ask", "1", NULL, &run), DMCP_OK, "caps: no elicitation: rt_start OK");
	T_EQ_INT(ask_rc, DMCP_E_CAPABILITY, "caps: the tool got DMCP_E_CAPABILITY");
	T_EQ_INT(n_events(run.id), 1, "caps: only the response");
	T_OK(result_is_error(run.id, 1), "caps: the result is isError");
	T_OK(has(result_text(run.id, 1, text, sizeof text), "elicitation"),
	     "caps: the error names elicitation (%s)", text);
	row_run_clear(&run);

	env = env_of(&url_only, NULL);
	T_EQ_INT(start(&env, "ask", "2", NULL, &run), DMCP_OK, "caps: url-only client");
	T_EQ_INT(ask_rc, DMCP_E_CAPABILITY, "caps: elicitation {url} alone does not allow forms");
	row_run_clear(&run);

	env = env_of(&form, NULL);
	T_EQ_INT(start(&env, "url", "3", NULL, &run), DMCP_OK, "caps: URL mode without url cap");
	T_EQ_INT(url_rc, DMCP_E_URL_REQUIRED, "caps: the tool got DMCP_E_URL_REQUIRED");
	T_EQ_INT(n_events(run.id), 1, "caps: one event");
	e = event_json(run.id, 1);
	T_EQ_INT(json_object_get_int(js_get(js_get(e, "error", json_type_object), "code",
	                                    json_type_int)), -32042,
	         "caps: the response is the JSON-RPC error -32042");
	T_EQ_INT(json_object_get_int(json_object_object_get(e, "id")), 3,
	         "caps: ... for the call's id");
	el = json_object_array_get_idx(js_get(js_get(js_get(e, "error", json_type_object), "data",
	                                             json_type_object), "elicitations",
	                                      json_type_array), 0);
	T_EQ_STR(js_str(el, "mode"), "url", "caps: data.elicitations[0].mode is url");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_STR(js_str(el, "elicitationId"), pid, "caps: ... with an elicitationId");
	snprintf(want, sizeof want, "https://auth.example.com/c?e=%s%%2F0", run.id);
	T_EQ_STR(js_str(el, "url"), want, "caps: {elicitationId} in the URL is replaced, / as %%2F");
	json_object_put(e);
	T_EQ_INT(run.status, RUN_FAILED, "caps: the run is failed");
	T_EQ_INT(fake_store_run(run.id, &row), 0, "caps: ... in one step, so it is not stored");
	row_run_clear(&run);

	env = env_of(&url, NULL);
	T_EQ_INT(start(&env, "url", "4", NULL, &run), DMCP_OK, "caps: URL mode with url cap");
	T_EQ_INT(url_rc, DMCP_SUSPENDED, "caps: the URL elicitation suspends");
	pending_of(pid, sizeof pid, run.id, 0);
	e = event_json(run.id, 1);
	p = js_get(e, "params", json_type_object);
	T_EQ_STR(js_str(e, "method"), "elicitation/create", "caps: a request elicitation/create");
	T_EQ_STR(js_str(p, "mode"), "url", "caps: ... with mode url");
	T_EQ_STR(js_str(p, "elicitationId"), pid, "caps: ... and an elicitationId");
	snprintf(want, sizeof want, "https://auth.example.com/c?e=%s%%2F0", run.id);
	T_EQ_STR(js_str(p, "url"), want, "caps: ... and the url");
	json_object_put(e);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\"}", &applied), DMCP_OK,
	         "caps: the URL answer is applied");
	T_EQ_INT(n_events(run.id), 3, "caps: request, complete notification, response");
	e = event_json(run.id, 2);
	T_EQ_STR(js_str(e, "method"), "notifications/elicitation/complete",
	         "caps: notifications/elicitation/complete");
	T_EQ_STR(js_str(js_get(e, "params", json_type_object), "elicitationId"), pid,
	         "caps: ... with the same elicitationId");
	T_OK(!js_has(e, "id"), "caps: ... as a notification (no id)");
	json_object_put(e);
	T_EQ_STR(result_text(run.id, 3, text, sizeof text), "url accept", "caps: the tool finished");
	T_OK(gap_free(run.id), "caps: LSNs 1..3");
	row_run_clear(&run);

	sess_free(&none);
	sess_free(&form);
	sess_free(&url);
	sess_free(&url_only);
}

/* ---- sampling ---------------------------------------------------------------------------- */

static void test_sampling(void)
{
	struct tsess smp, plain, stools, eli;
	struct rt_env env;
	struct run_row run, row;
	json_object *e, *p, *m;
	char pid[48], text[512], journal_before[4096];
	int applied;

	sess_make(&smp, "alice", "{\"sampling\":{}}", 0);
	sess_make(&plain, "alice", "{}", 0);
	sess_make(&stools, "alice", "{\"sampling\":{\"tools\":{}}}", 0);
	sess_make(&eli, "alice", "{\"elicitation\":{}}", 0);

	env = env_of(&smp, NULL);
	T_EQ_INT(start(&env, "sample", "1", NULL, &run), DMCP_OK, "sampling: rt_start OK");
	T_EQ_INT(sample_rc, DMCP_SUSPENDED, "sampling: the tool suspends");
	pending_of(pid, sizeof pid, run.id, 0);
	e = event_json(run.id, 1);
	p = js_get(e, "params", json_type_object);
	T_EQ_STR(js_str(e, "method"), "sampling/createMessage", "sampling: sampling/createMessage");
	T_EQ_STR(js_str(e, "id"), pid, "sampling: the request id");
	T_EQ_INT(json_object_get_int(js_get(p, "maxTokens", json_type_int)), 50,
	         "sampling: maxTokens");
	m = json_object_array_get_idx(js_get(p, "messages", json_type_array), 0);
	T_EQ_STR(js_str(m, "role"), "user", "sampling: one user message");
	T_EQ_STR(js_str(js_get(m, "content", json_type_object), "text"), "Say hi",
	         "sampling: ... with the prompt");
	T_EQ_STR(js_str(p, "systemPrompt"), "Be brief.", "sampling: the system prompt");
	json_object_put(e);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"role\":\"assistant\",\"content\":{\"type\":\"text\","
	                "\"text\":\"Hello!\"},\"model\":\"m1\",\"stopReason\":\"endTurn\"}",
	                &applied), DMCP_OK, "sampling: the answer is applied");
	T_EQ_STR(sample_text, "Hello!", "sampling: the text reached the tool");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "got: Hello! model=m1",
	         "sampling: the result");
	row_run_clear(&run);

	T_EQ_INT(start(&env, "sample", "2", NULL, &run), DMCP_OK, "sampling: a second call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"role\":\"assistant\",\"content\":{\"type\":\"text\","
	                "\"text\":\"no model\"}}", &applied), DMCP_OK,
	         "sampling: a malformed answer is applied");
	T_EQ_INT(sample_rc, DMCP_E_ANSWER, "sampling: a missing model gives DMCP_E_ANSWER");
	T_OK(result_is_error(run.id, 2), "sampling: ... and an isError result");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_FAILED, "sampling: ... and a failed run");
	row_run_clear(&row);
	row_run_clear(&run);

	T_EQ_INT(start(&env, "sample", "3", NULL, &run), DMCP_OK, "sampling: a third call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"role\":\"robot\",\"content\":[],\"model\":\"m\"}",
	                &applied), DMCP_OK, "sampling: a bad role is applied");
	T_EQ_INT(sample_rc, DMCP_E_ANSWER, "sampling: a bad role gives DMCP_E_ANSWER");
	row_run_clear(&run);

	/* no client sampling: the fallback provider answers within the step */
	env = env_of(&plain, NULL);
	dmcp_set_sampling_provider(reg, dmcp_mock_sampling_provider());
	T_EQ_INT(start(&env, "sample", "4", NULL, &run), DMCP_OK, "sampling: fallback: rt_start OK");
	T_EQ_INT(sample_rc, DMCP_OK, "sampling: fallback: answered within the step");
	T_EQ_STR(sample_text, "mock response to: Say hi", "sampling: fallback: the mock's text");
	T_EQ_INT(n_events(run.id), 1, "sampling: fallback: no request, only the response");
	T_EQ_STR(result_text(run.id, 1, text, sizeof text),
	         "got: mock response to: Say hi model=dmcp-mock", "sampling: fallback: the result");
	T_OK(has(run.journal, "\"sample\"") && has(run.journal, "mock response to: Say hi"),
	     "sampling: fallback: the answer is journaled");
	row_run_clear(&run);

	/* the fallback's answer replays: the provider is not asked again */
	env = env_of(&eli, NULL);
	dmcp_set_sampling_provider(reg, &counting);
	provider_calls = 0;
	sample_steps = 0;
	T_EQ_INT(start(&env, "sample_ask", "5", NULL, &run), DMCP_OK, "sampling: replay: rt_start");
	T_EQ_INT(provider_calls, 1, "sampling: replay: the provider answered once");
	row = row_of(run.id);
	snprintf(journal_before, sizeof journal_before, "%s", row.journal);
	row_run_clear(&row);
	pending_of(pid, sizeof pid, run.id, 1);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"x\"}}",
	                &applied), DMCP_OK, "sampling: replay: the elicitation is answered");
	T_EQ_INT(provider_calls, 1, "sampling: replay: the provider was not asked again");
	T_EQ_INT(sample_steps, 2, "sampling: replay: the tool ran twice");
	T_EQ_STR(sample_seen[1], sample_seen[0], "sampling: replay: the same text at both steps");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "kept mock response to: Name a colour",
	         "sampling: replay: the result");
	row_run_clear(&run);

	/* no client sampling, no provider */
	env = env_of(&plain, NULL);
	dmcp_set_sampling_provider(reg, NULL);
	T_EQ_INT(start(&env, "sample", "6", NULL, &run), DMCP_OK, "sampling: no provider: rt_start");
	T_EQ_INT(sample_rc, DMCP_E_NO_SAMPLING, "sampling: no provider: DMCP_E_NO_SAMPLING");
	T_OK(result_is_error(run.id, 1), "sampling: no provider: isError");
	T_OK(has(result_text(run.id, 1, text, sizeof text), "DMCP_SAMPLING_FALLBACK"),
	     "sampling: no provider: the error names DMCP_SAMPLING_FALLBACK (%s)", text);
	row_run_clear(&run);

	/* tools need sampling.tools */
	env = env_of(&smp, NULL);
	T_EQ_INT(start(&env, "sample_tools", "7", NULL, &run), DMCP_OK, "sampling: tools: rt_start");
	T_EQ_INT(sample_rc, DMCP_E_CAPABILITY, "sampling: tools without sampling.tools: "
	         "DMCP_E_CAPABILITY");
	T_OK(result_is_error(run.id, 1), "sampling: ... isError");
	row_run_clear(&run);
	env = env_of(&stools, NULL);
	T_EQ_INT(start(&env, "sample_tools", "8", NULL, &run), DMCP_OK, "sampling: tools allowed");
	e = event_json(run.id, 1);
	T_OK(js_get(js_get(e, "params", json_type_object), "tools", json_type_array) != NULL,
	     "sampling: with sampling.tools the request carries the tools");
	json_object_put(e);
	row_run_clear(&run);

	sess_free(&smp);
	sess_free(&plain);
	sess_free(&stools);
	sess_free(&eli);
}

/* ---- replay ------------------------------------------------------------------------------ */

static void test_replay(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run, row;
	dmcp_registry *reg2, *reg3;
	struct rt_env env2;
	char pid[48], text[512], err[200];
	int applied;
	json_object *e;

	sess_make(&s, "alice", "{\"elicitation\":{},\"sampling\":{}}", 0);
	env = env_of(&s, NULL);
	memo_runs = 0;
	replay_rc = DMCP_OK;
	T_EQ_INT(start(&env, "replay", "1", "\"tok-1\"", &run), DMCP_OK, "replay: rt_start OK");
	T_EQ_INT(memo_runs, 1, "replay: the memo ran at step 1");
	pending_of(pid, sizeof pid, run.id, 1);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	                &applied), DMCP_OK, "replay: first answer applied");
	pending_of(pid, sizeof pid, run.id, 2);
	row = row_of(run.id);
	T_EQ_STR(row.pending_id, pid, "replay: the second elicitation is effect 2");
	row_run_clear(&row);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"b\"}}",
	                &applied), DMCP_OK, "replay: second answer applied");
	T_EQ_INT(replay_rc, DMCP_OK, "replay: no effect failed while replaying");
	if (replay_rc != DMCP_OK)
		printf("#   the tool saw %s\n", dmcp_rc_name(replay_rc));
	T_EQ_INT(memo_runs, 1, "replay: the memo function ran exactly once");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_COMPLETED, "replay: the run completed");
	T_EQ_INT(row.steps, 3, "replay: three steps");
	T_EQ_INT(count_method(run.id, "notifications/progress"), 3,
	         "replay: every progress notification exactly once");
	T_EQ_INT(count_method(run.id, "notifications/message"), 1, "replay: the log line once");
	T_EQ_INT(count_method(run.id, "elicitation/create"), 2, "replay: two requests");
	T_EQ_INT(n_events(run.id), 7, "replay: 3 progress + 1 log + 2 requests + 1 response");
	T_OK(gap_free(run.id), "replay: LSNs are 1..N without a gap");
	T_EQ_INT(row.notes, 4, "replay: notes equals the number of notifications");
	row_run_clear(&row);
	T_EQ_STR(result_text(run.id, 7, text, sizeof text), "memo=4242",
	         "replay: the memo's value reached the result");
	e = event_json(run.id, 1);
	T_EQ_STR(js_str(js_get(e, "params", json_type_object), "progressToken"), "tok-1",
	    "replay: the first progress echoes the token");
	T_OK(json_object_get_double(json_object_object_get(js_get(e, "params", json_type_object),
	                                                    "progress")) == 1.0,
	     "replay: ... with progress 1");
	T_OK(has(fake_store_event_body(run.id, 1), "\"progress\":1,\"total\":3,"),
	     "replay: integral progress and total are sent as integers");
	json_object_put(e);
	row_run_clear(&run);

	/* the code changes the order of its effects between steps */
	flip = 0;
	T_EQ_INT(start(&env, "flip", "2", NULL, &run), DMCP_OK, "replay: flip: rt_start");
	flip = 1;
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	                &applied), DMCP_OK, "replay: flip: the answer is applied");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_FAILED, "replay: flip: the run failed");
	T_OK(has(row.error, "journal"), "replay: flip: the error says the journal does not match "
	     "(%s)", row.error ? row.error : "(null)");
	row_run_clear(&row);
	T_OK(result_is_error(run.id, 2), "replay: flip: the client receives isError");
	flip = 0;
	row_run_clear(&run);

	/* the tool's version changed while the call waited */
	reg2 = dmcp_registry_new();
	T_OK(reg2 != NULL && dmcp_register_tool(reg2, &versioned_v2, err, sizeof err) == DMCP_OK,
	     "replay: a registry with version 2 of the tool");
	T_EQ_INT(start(&env, "versioned", "3", NULL, &run), DMCP_OK, "replay: version 1 waits");
	env2 = env;
	env2.reg = reg2;
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env2, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	                &applied), DMCP_OK, "replay: answered through version 2");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_FAILED, "replay: version change: the run failed");
	T_OK(has(row.error, "changed"), "replay: version change: the error says the tool changed "
	     "(%s)", row.error ? row.error : "(null)");
	row_run_clear(&row);
	T_OK(result_is_error(run.id, 2), "replay: version change: isError");
	row_run_clear(&run);

	/* the tool is gone altogether */
	reg3 = dmcp_registry_new();
	T_EQ_INT(start(&env, "versioned", "4", NULL, &run), DMCP_OK, "replay: another waiting call");
	env2.reg = reg3;
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env2, pid, "\"result\":{\"action\":\"decline\"}", &applied), DMCP_OK,
	         "replay: answered where the tool is gone");
	row = row_of(run.id);
	T_OK(row.status == RUN_FAILED && has(row.error, "changed"),
	     "replay: a removed tool fails the run cleanly");
	row_run_clear(&row);
	row_run_clear(&run);
	dmcp_registry_free(reg2);
	dmcp_registry_free(reg3);
	sess_free(&s);
}

/* ---- progress and logs --------------------------------------------------------------------- */

static void test_progress(void)
{
	struct tsess s, quiet;
	struct sink_rec rec = {0};
	struct rt_sink sink = {.arg = &rec, .committed = sink_committed};
	struct rt_env env;
	struct run_row run, row;
	char pid[48];
	int applied, i, ok;
	json_object *e;

	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	env = env_of(&s, &sink);
	T_EQ_INT(start(&env, "prog_strict", "1", "7", &run), DMCP_OK, "progress: rt_start OK");
	T_EQ_INT(prog_rc[0], DMCP_OK, "progress: the first value is accepted");
	T_EQ_INT(prog_rc[1], DMCP_E_PARAMS, "progress: an equal value gives DMCP_E_PARAMS");
	T_EQ_INT(prog_rc[2], DMCP_E_PARAMS, "progress: a smaller value gives DMCP_E_PARAMS");
	T_EQ_INT(prog_rc[3], DMCP_OK, "progress: a larger value is accepted");
	T_EQ_INT(count_method(run.id, "notifications/progress"), 2, "progress: two notifications");
	e = event_json(run.id, 1);
	T_OK(json_object_get_int(js_get(js_get(e, "params", json_type_object), "progressToken",
	                                json_type_int)) == 7,
	     "progress: an integer token is echoed as an integer");
	json_object_put(e);
	T_EQ_INT(rec.calls, 3, "progress: the sink got each progress, then the response, apart");
	ok = rec.n == 3;
	for (i = 0; i < rec.n; i++)
		ok = ok && rec.lsn[i] == i + 1;
	T_OK(ok, "progress: ... as LSNs 1, 2, 3");
	T_EQ_INT(rec.uncommitted, 0, "progress: every event was committed before the sink got it");
	T_EQ_INT(rec.mismatched, 0, "progress: ... with the stored bytes");
	row_run_clear(&run);
	sink_reset(&rec);

	/* with a progressToken, a progress sent before an elicitation replays at the next step */
	T_EQ_INT(start(&env, "prog_ask", "\"pt\"", "\"pt\"", &run), DMCP_OK,
	   "progress: token: progress, progress, elicitation");
	T_EQ_INT(count_method(run.id, "notifications/progress"), 2, "progress: token: two sent");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	          &applied), DMCP_OK, "progress: token: answered");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_COMPLETED, "progress: token: replaying the progress already sent is "
	   "not refused (dmcp.h: not emitted again), so the run completes");
	T_EQ_INT(count_method(run.id, "notifications/progress"), 3,
	   "progress: token: the third progress is sent once, the first two not again");
	row_run_clear(&row);
	row_run_clear(&run);
	sink_reset(&rec);
	/* without a progressToken: nothing is sent, the numbering stays stable */
	T_EQ_INT(start(&env, "prog_ask", "2", NULL, &run), DMCP_OK, "progress: no token: rt_start");
	T_EQ_INT(n_events(run.id), 1, "progress: no token: only the request");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	                &applied), DMCP_OK, "progress: no token: answered");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_COMPLETED, "progress: no token: completed");
	T_EQ_INT(row.notes, 3, "progress: no token: the three progress calls are counted");
	T_EQ_INT(count_method(run.id, "notifications/progress"), 0, "progress: no token: none sent");
	T_EQ_INT(n_events(run.id), 2, "progress: no token: request and response");
	row_run_clear(&row);
	row_run_clear(&run);
	sink_reset(&rec);

	/* log level 4 (error) drops info */
	sess_make(&quiet, "alice", "{\"elicitation\":{}}", 4);
	env = env_of(&quiet, &sink);
	T_EQ_INT(start(&env, "logs", "3", NULL, &run), DMCP_OK, "logs: rt_start OK");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	                &applied), DMCP_OK, "logs: answered");
	T_EQ_INT(count_method(run.id, "notifications/message"), 2,
	         "logs: only the two error lines were sent");
	e = event_json(run.id, 1);
	T_EQ_STR(js_str(js_get(e, "params", json_type_object), "level"), "error",
	         "logs: LSN 1 is the first error line");
	T_EQ_STR(js_str(js_get(e, "params", json_type_object), "data"), "error b",
	         "logs: ... with its text");
	json_object_put(e);
	e = event_json(run.id, 3);
	T_EQ_STR(js_str(js_get(e, "params", json_type_object), "data"), "error d",
	         "logs: LSN 3 is the second error line (not re-sent, not skipped)");
	json_object_put(e);
	row = row_of(run.id);
	T_EQ_INT(row.notes, 4, "logs: all four calls are counted");
	T_EQ_INT(row.status, RUN_COMPLETED, "logs: completed");
	row_run_clear(&row);
	T_OK(gap_free(run.id), "logs: LSNs without a gap");
	row_run_clear(&run);
	sink_reset(&rec);

	/* stream break */
	env = env_of(&s, NULL);
	T_EQ_INT(start(&env, "brk", "4", NULL, &run), DMCP_OK, "break: rt_start OK");
	T_EQ_INT(break_rc, DMCP_E_PARAMS, "break: a negative retry is DMCP_E_PARAMS");
	T_EQ_INT(event_kind_of(run.id, 1), EV_POLL, "break: LSN 1 is a poll event");
	T_EQ_STR(fake_store_event_body(run.id, 1), "500", "break: its body is the retry (500)");
	T_EQ_INT(event_kind_of(run.id, 2), EV_RESPONSE, "break: then the response");
	row_run_clear(&run);

	sess_free(&s);
	sess_free(&quiet);
}

/* ---- failures ---------------------------------------------------------------------------- */

/* dmcp_fail, dmcp_principal, dmcp_session_id. */
static void test_tool_api(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run;
	char text[1024], args[1200], want[200];
	size_t n;
	int i;

	sess_make(&s, "alice", "{}", 0);
	env = env_of(&s, NULL);

	T_EQ_INT(start_args(&env, "fail", "{\"host\":\"known\"}", &run), DMCP_OK,
	         "fail: a call that does not fail");
	T_EQ_STR(result_text(run.id, 1, text, sizeof text), "half a result",
	         "fail: ... keeps its result");
	T_EQ_INT(result_is_error(run.id, 1), 0, "fail: ... which is no error");
	row_run_clear(&run);

	T_EQ_INT(start_args(&env, "fail", "{\"host\":\"nowhere.example\"}", &run), DMCP_OK,
	         "fail: dmcp_fail from a helper, passed up with DMCP_TRY: the step is saved");
	T_EQ_INT(result_is_error(run.id, 1), 1, "fail: the result has isError: true");
	T_EQ_STR(result_text(run.id, 1, text, sizeof text), "no such host: nowhere.example",
	         "fail: its one text block is the message (the half result is gone)");
	{
		json_object *e = event_json(run.id, 1);
		json_object *content = js_get(js_get(e, "result", json_type_object), "content",
		                              json_type_array);
		T_OK(content != NULL && json_object_array_length(content) == 1,
		     "fail: exactly one content block");
		json_object_put(e);
	}
	/* A call finished in one step is not stored: the row rt_start hands back is its record. */
	T_EQ_INT(run.status, RUN_FAILED, "fail: the run failed");
	T_EQ_STR(run.error, "no such host: nowhere.example", "fail: its error is the message");
	row_run_clear(&run);

	/* A long message is cut at a character boundary: 14 bytes of "no such host: " and
	 * two-byte characters reach the 511-byte limit in the middle of one. */
	n = (size_t)snprintf(args, sizeof args, "{\"host\":\"");
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(args + n, sizeof args - n, "\xc3\xa9");
	snprintf(args + n, sizeof args - n, "\"}");
	T_EQ_INT(start_args(&env, "fail", args, &run), DMCP_OK, "fail: a 614-byte message");
	result_text(run.id, 1, text, sizeof text);
	n = strlen(text);
	T_OK(n == 510 && strncmp(text, "no such host: \xc3\xa9", 16) == 0 &&
	     strcmp(text + n - 2, "\xc3\xa9") == 0,
	     "fail: ... is cut to 510 bytes, whole characters only (%zu)", n);
	T_OK(run.error != NULL && strcmp(run.error, text) == 0, "fail: ... in the error too");
	row_run_clear(&run);

	T_EQ_INT(start_args(&env, "whoami", "{}", &run), DMCP_OK, "whoami: a call");
	snprintf(want, sizeof want, "alice|%s", s.id);
	T_EQ_STR(result_text(run.id, 1, text, sizeof text), want,
	         "whoami: dmcp_principal and dmcp_session_id name the caller");
	row_run_clear(&run);
	sess_free(&s);
}

/* A form declared with fields: accepted answers get the defaults of what they lack; the
 * journal keeps what the client sent. */
static void test_form_defaults(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run, row;
	char pid[48], text[512];
	int applied = -1;

	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	env = env_of(&s, NULL);
	T_EQ_INT(start(&env, "ask_typed", "1", NULL, &run), DMCP_OK, "form defaults: a call");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":"
	                "\"Ann\"}}", &applied), DMCP_OK, "form defaults: an answer with the name only");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "Ann 30 red vip=0 has_vip=0",
	         "form defaults: the tool read the defaults; a field without one stays absent");
	row = row_of(run.id);
	T_OK(row.journal != NULL && strstr(row.journal, "\"content\":{\"name\":\"Ann\"}") != NULL,
	     "form defaults: the journal keeps the answer as sent (%s)", row.journal);
	row_run_clear(&row);
	row_run_clear(&run);

	T_EQ_INT(start(&env, "ask_typed", "2", NULL, &run), DMCP_OK, "form defaults: another");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":"
	                "\"Bo\",\"age\":0,\"color\":\"blue\",\"vip\":true}}", &applied), DMCP_OK,
	         "form defaults: a full answer");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "Bo 0 blue vip=1 has_vip=1",
	         "form defaults: given values win, 0 included");
	row_run_clear(&run);

	T_EQ_INT(start(&env, "ask_typed", "3", NULL, &run), DMCP_OK, "form defaults: a third");
	pending_of(pid, sizeof pid, run.id, 0);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"decline\"}", &applied), DMCP_OK,
	         "form defaults: declined");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "no answer (has name: 0)",
	         "form defaults: a declined answer has nothing, defaults neither");
	row_run_clear(&run);
	sess_free(&s);
}

static void test_failures(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run, before, after;
	char pid[48];
	int runs0, events0, applied = -1, ev_before;
	dmcp_rc rc;

	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	env = env_of(&s, NULL);

	/* a one-step call never saves, so a failing store cannot fail it */
	runs0 = fake_store_count("runs");
	events0 = fake_store_count("events");
	fake_store_fail("store_run_save", 0, 1);
	rc = start(&env, "one", "1", NULL, &run);
	T_EQ_INT(rc, DMCP_OK, "fail: a one-step call does not touch the store");
	T_EQ_INT(fake_store_count("runs"), runs0, "fail: ... and no run row is stored");
	T_EQ_INT(fake_store_count("events"), events0, "fail: ... and no event");
	fake_store_fail("store_run_save", 0, 0);
	row_run_clear(&run);

	/* the commit of an elicitation call cannot fail (no transaction), but its save can */
	fake_store_fail("store_run_save", 0, 1);
	rc = start(&env, "ask", "2", NULL, &run);
	T_EQ_INT(rc, DMCP_E_DB, "fail: a suspended call whose save fails gives DMCP_E_DB");
	T_EQ_INT(fake_store_count("runs"), runs0, "fail: ... and stores nothing");
	row_run_clear(&run);

	/* an answer step whose save fails leaves the run exactly as it was */
	T_EQ_INT(start(&env, "ask", "3", NULL, &run), DMCP_OK, "fail: a waiting call");
	pending_of(pid, sizeof pid, run.id, 0);
	before = row_of(run.id);
	ev_before = n_events(run.id);
	fake_store_fail("store_run_save", 0, 1);
	rc = answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	            &applied);
	T_EQ_INT(rc, DMCP_E_DB, "fail: the answer's save fails: DMCP_E_DB");
	T_EQ_INT(applied, 0, "fail: ... not applied");
	after = row_of(run.id);
	T_OK(after.status == RUN_WAITING && after.pending_id != NULL &&
	     strcmp(after.pending_id, pid) == 0, "fail: the run still waits for the same request");
	T_OK(strcmp(after.journal, before.journal) == 0 && after.steps == before.steps &&
	     after.last_lsn == before.last_lsn && after.notes == before.notes,
	     "fail: journal, steps, LSN and notes as before");
	T_EQ_INT(n_events(run.id), ev_before, "fail: no event added");
	T_EQ_INT(fake_store_open_tx(), 0, "fail: the transaction was rolled back");
	row_run_clear(&after);

	/* the read of the run fails: the same */
	fake_store_fail("store_run_get", 0, 1);
	rc = answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	            &applied);
	T_EQ_INT(rc, DMCP_E_DB, "fail: the answer's read fails: DMCP_E_DB");
	after = row_of(run.id);
	T_OK(after.status == RUN_WAITING && strcmp(after.journal, before.journal) == 0 &&
	     after.last_lsn == before.last_lsn, "fail: ... and the run is as it was");
	row_run_clear(&after);

	rc = answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	            &applied);
	T_EQ_INT(rc, DMCP_OK, "fail: the retried answer succeeds");
	T_EQ_INT(applied, 1, "fail: ... and is applied");
	after = row_of(run.id);
	T_EQ_INT(after.status, RUN_COMPLETED, "fail: ... and completes the run");
	T_EQ_INT(after.steps, before.steps + 1, "fail: ... with one more step");
	row_run_clear(&after);
	row_run_clear(&before);
	row_run_clear(&run);

	/* A checkpoint inside an answer step fails (the progress save). runtime.h: rt_answer
	 * gives DMCP_OK "once the step committed"; applied 1 must mean the answer is in. */
	T_EQ_INT(start(&env, "ask_prog", "4", "\"p\"", &run), DMCP_OK, "fail: checkpoint: waiting");
	pending_of(pid, sizeof pid, run.id, 0);
	fake_store_fail("store_run_save", 0, 1);
	applied = -1;
	rc = answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	            &applied);
	after = row_of(run.id);
	T_OK(rc != DMCP_OK || !applied || after.status != RUN_WAITING,
	     "fail: checkpoint: rt_answer does not report an applied answer (rc %s, applied %d) "
	     "while the run still waits for it (status %s)", dmcp_rc_name(rc), applied,
	     row_status_name(after.status));
	T_EQ_INT(rc, DMCP_E_DB, "fail: checkpoint: the answer gives DMCP_E_DB");
	T_OK(after.status == RUN_WAITING && after.pending_id != NULL &&
	     strcmp(after.pending_id, pid) == 0, "fail: checkpoint: the run still waits for it");
	row_run_clear(&after);
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	          &applied), DMCP_OK, "fail: checkpoint: the retried answer succeeds");
	after = row_of(run.id);
	T_EQ_INT(after.status, RUN_COMPLETED, "fail: checkpoint: ... and completes the run");
	T_EQ_INT(count_method(run.id, "notifications/progress"), 1,
	   "fail: checkpoint: ... with its progress once");
	T_OK(gap_free(run.id), "fail: checkpoint: ... and no gap");
	row_run_clear(&after);
	row_run_clear(&run);

	/* the first checkpoint of a new call fails: nothing is stored */
	runs0 = fake_store_count("runs");
	fake_store_fail("store_run_save", 0, 1);
	rc = start(&env, "cp", "5", NULL, &run);
	T_EQ_INT(rc, DMCP_E_DB, "fail: first checkpoint: rt_start gives DMCP_E_DB");
	T_EQ_INT(fake_store_count("runs"), runs0, "fail: first checkpoint: ... and stores nothing");
	row_run_clear(&run);
	T_EQ_INT(fake_store_open_tx(), 0, "fail: checkpoint: no transaction left open");
	sess_free(&s);
}

/* ---- cancellation ------------------------------------------------------------------------ */

static void test_cancel(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run, row;
	char pid[48];
	int applied = -1, ev, notif0;

	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	env = env_of(&s, NULL);
	T_EQ_INT(start(&env, "ask", "\"c-1\"", NULL, &run), DMCP_OK, "cancel: a waiting call");
	pending_of(pid, sizeof pid, run.id, 0);
	ev = n_events(run.id);
	notif0 = fake_store_notifies(run.id);
	T_EQ_INT(rt_cancel(&env, "\"c-1\"", "changed my mind"), DMCP_OK, "cancel: rt_cancel OK");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_CANCELLED, "cancel: the run is cancelled");
	T_OK(row.pending_id == NULL && row.pending_method == NULL, "cancel: nothing pending");
	T_OK(has(row.error, "changed my mind"), "cancel: the reason is kept");
	row_run_clear(&row);
	T_EQ_INT(n_events(run.id), ev, "cancel: no event (the client receives no result)");
	T_EQ_INT(fake_store_notifies(run.id), notif0 + 1, "cancel: followers are woken");
	T_EQ_INT(answer(&env, pid, "\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"a\"}}",
	                &applied), DMCP_OK, "cancel: a later answer is OK");
	T_EQ_INT(applied, 0, "cancel: ... and not applied");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_CANCELLED, "cancel: the run stays cancelled");
	row_run_clear(&row);
	T_EQ_INT(rt_cancel(&env, "\"c-1\"", NULL), DMCP_E_NOT_FOUND,
	         "cancel: cancelling it again: NOT_FOUND");
	T_EQ_INT(rt_cancel(&env, "\"nope\"", NULL), DMCP_E_NOT_FOUND,
	         "cancel: an unknown request id: NOT_FOUND");
	T_EQ_INT(rt_cancel(&env, "1", NULL), DMCP_E_NOT_FOUND,
	         "cancel: ids compare as JSON (1 is not \"1\")");
	row_run_clear(&run);

	/* another worker cancels the run while its step runs */
	cancel_rc = DMCP_OK;
	T_EQ_INT(start(&env, "cancel_mid", "5", "1", &run), DMCP_OK,
	         "cancel: cancelled mid-step: rt_start OK");
	T_EQ_INT(cancel_rc, DMCP_CANCELLED, "cancel: the next progress call says DMCP_CANCELLED");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_CANCELLED, "cancel: the run stays cancelled");
	row_run_clear(&row);
	T_EQ_INT(n_events(run.id), 1, "cancel: only the first progress, no response");
	row_run_clear(&run);

	/* another worker committed meanwhile (took the run over) */
	conflict_rc = DMCP_OK;
	T_EQ_INT(start(&env, "conflict", "6", NULL, &run), DMCP_OK, "conflict: rt_start OK");
	T_EQ_INT(conflict_rc, DMCP_E_CONFLICT, "conflict: the next checkpoint says DMCP_E_CONFLICT");
	T_EQ_INT(n_events(run.id), 2, "conflict: our first line and the other worker's event only");
	T_OK(gap_free(run.id), "conflict: LSNs stay gap-free");
	row_run_clear(&run);
	T_EQ_INT(fake_store_open_tx(), 0, "cancel: no transaction left open");
	sess_free(&s);
}

/* ---- limits ------------------------------------------------------------------------------ */

static void test_limits(void)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run;
	char pid[48];
	int applied;

	sess_make(&s, "alice", "{\"elicitation\":{\"form\":{},\"url\":{}}}", 0);
	env = env_of(&s, NULL);
	T_EQ_INT(start(&env, "long_url", "\"lu\"", NULL, &run), DMCP_OK, "limit: a 9000-byte URL");
	T_EQ_INT(url_rc, DMCP_E_LIMIT, "limit: ... the tool receives DMCP_E_LIMIT (RT_URL_MAX)");
	T_EQ_INT(n_events(run.id), 1, "limit: ... and no request is sent, only the response");
	T_OK(result_is_error(run.id, 1), "limit: ... an isError result");
	row_run_clear(&run);
	sess_free(&s);
	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	env = env_of(&s, NULL);
	cfg.max_events = 4;
	many_rc = DMCP_OK;
	many_at = 0;
	T_EQ_INT(start(&env, "many", "1", "1", &run), DMCP_OK, "limit: rt_start OK");
	T_EQ_INT(many_rc, DMCP_E_LIMIT, "limit: a notification past the limit gives DMCP_E_LIMIT");
	T_EQ_INT(many_at, 4, "limit: ... at the 4th (room is left for the response)");
	T_EQ_INT(n_events(run.id), 4, "limit: the run holds max_events events");
	T_EQ_INT(event_kind_of(run.id, 4), EV_RESPONSE, "limit: the last is the response");
	row_run_clear(&run);

	/* requests after the limit: cfg.h says DMCP_MAX_EVENTS_PER_RUN is the events one run
	 * may append */
	T_EQ_INT(start(&env, "many_ask", "2", NULL, &run), DMCP_OK, "limit: many, then asks");
	pending_of(pid, sizeof pid, run.id, 0);
	if (answer(&env, pid, "\"result\":{\"action\":\"decline\"}", &applied) != DMCP_OK)
		applied = -1;
	T_OK(n_events(run.id) <= cfg.max_events,
	     "limit: a run never holds more than max_events events (holds %d, max %d)",
	     n_events(run.id), cfg.max_events);
	T_OK(result_is_error(run.id, n_events(run.id)),
	     "limit: the elicitation past the limit fails the call with isError");
	row_run_clear(&run);
	cfg.max_events = 10000;
	sess_free(&s);
}

/* ---- takeover ---------------------------------------------------------------------------- */

static void test_resume(void)
{
	struct tsess s, other;
	struct rt_env env, env_other, env_bare;
	dmcp_registry *bare;
	struct run_row run, row;
	char text[256];
	int taken = -1;
	dmcp_rc rc;

	sess_make(&s, "alice", "{\"elicitation\":{}}", 0);
	sess_make(&other, "alice", "{}", 0);
	env = env_of(&s, NULL);
	env_other = env_of(&other, NULL);

	/* the checkpoint commits, the final save fails: the run is left 'running' */
	fake_store_fail("store_run_save", 1, 1);
	rc = start(&env, "cp", "1", NULL, &run);
	T_EQ_INT(rc, DMCP_E_DB, "resume: the step failed after its checkpoint");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_RUNNING, "resume: the run is left running");
	T_EQ_INT(n_events(run.id), 1, "resume: with its checkpoint's event");
	row_run_clear(&row);
	T_EQ_INT(rt_resume(&env, run.id), DMCP_E_CONFLICT,
	         "resume: the lease has not passed: DMCP_E_CONFLICT");
	T_EQ_INT(rt_resume(&env_other, run.id), DMCP_E_NOT_FOUND,
	         "resume: from another session: NOT_FOUND");
	T_EQ_INT(fake_store_expire_lease(run.id, 1), DMCP_OK, "resume: the lease passes");
	T_EQ_INT(rt_resume(&env, run.id), DMCP_OK, "resume: rt_resume takes the run over");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_COMPLETED, "resume: the run completed");
	T_EQ_INT(row.steps, 3, "resume: in a third step (the takeover counts one)");
	row_run_clear(&row);
	T_EQ_INT(count_method(run.id, "notifications/message"), 1,
	         "resume: the checkpoint's notification is not sent twice");
	T_EQ_STR(result_text(run.id, 2, text, sizeof text), "cp done", "resume: the result");
	T_OK(gap_free(run.id), "resume: LSNs without a gap");
	T_EQ_INT(rt_resume(&env, run.id), DMCP_E_CONFLICT, "resume: a finished run: DMCP_E_CONFLICT");
	row_run_clear(&run);

	/* a waiting run is not an orphan */
	T_EQ_INT(start(&env, "ask", "2", NULL, &run), DMCP_OK, "resume: a waiting call");
	T_EQ_INT(fake_store_expire_lease(run.id, 1), DMCP_OK, "resume: (its lease flag set)");
	T_EQ_INT(rt_resume(&env, run.id), DMCP_E_CONFLICT, "resume: a waiting run: DMCP_E_CONFLICT");
	row_run_clear(&run);

	/* sweep's recovery finds orphans of any session */
	fake_store_fail("store_run_save", 1, 1);
	rc = start(&env, "cp", "3", NULL, &run);
	T_EQ_INT(rc, DMCP_E_DB, "recover: another orphan");
	T_EQ_INT(fake_store_expire_lease(run.id, 1), DMCP_OK, "recover: its lease passes");

	/* ... but a program without the run's tool leaves the run alone */
	bare = dmcp_registry_new();
	env_bare = env_other;
	env_bare.reg = bare;
	T_EQ_INT(rt_recover_orphans(&env_bare, 10, &taken), DMCP_OK,
	         "recover without the tool: OK");
	T_EQ_INT(taken, 0, "recover without the tool: nothing taken over");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_RUNNING, "recover without the tool: the run is still running");
	T_EQ_INT(row.steps, 1, "recover without the tool: no step ran");
	T_OK(row.error == NULL, "recover without the tool: no error recorded");
	row_run_clear(&row);
	T_EQ_INT(fake_store_open_tx(), 0, "recover without the tool: no transaction left open");
	dmcp_registry_free(bare);

	T_EQ_INT(rt_recover_orphans(&env_other, 10, &taken), DMCP_OK, "recover: OK");
	T_EQ_INT(taken, 1, "recover: one run taken over");
	row = row_of(run.id);
	T_EQ_INT(row.status, RUN_COMPLETED, "recover: the orphan completed");
	row_run_clear(&row);
	row_run_clear(&run);
	T_EQ_INT(fake_store_open_tx(), 0, "resume: no transaction left open");
	sess_free(&s);
	sess_free(&other);
}

int main(void)
{
	char err[256];
	size_t i;
	int bad = 0;

	cfg_defaults(&cfg);
	reg = dmcp_registry_new();
	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		if (dmcp_register_tool(reg, &tools[i], err, sizeof err) != DMCP_OK) {
			printf("# cannot register %s: %s\n", tools[i].name, err);
			bad++;
		}
	T_EQ_INT(bad, 0, "the test tools register");
	T_EQ_INT(store_open("", &st, err, sizeof err), DMCP_OK, "the fake store opens");

	test_one_step();
	test_elicitation();
	test_capabilities();
	test_sampling();
	test_replay();
	test_progress();
	test_failures();
	test_tool_api();
	test_form_defaults();
	test_cancel();
	test_limits();
	test_resume();

	T_EQ_INT(fake_store_anomalies(err, sizeof err), 0,
	         "the store saw nothing PostgreSQL would allow but dmcp must not do");
	if (err[0] != '\0')
		printf("#   last: %s\n", err);
	store_close(st);
	fake_store_reset();
	sink_reset(&quiet_rec);
	unstored_clear();
	dmcp_registry_free(reg);
	cfg_free(&cfg);
	return t_done();
}
