/* test_tools.c — TAP tests of the tool kinds made while serving, over the in-memory store of
 * fake_store.c: registry views and reg_add_tool, confirmation before a destructive tool
 * (core/effects.c rt_confirm, for C, SQL and program tools), SQL functions as tools
 * (core/sqltool.c: definitions from a catalog, hostile catalogs, what a call sends, every
 * result shape, errors, exactly-once writes under duplicate answers and lost races), programs
 * as tools (core/exectool.c, with real /bin/sh scripts: describe, results, two questions
 * across steps, bad output, exit status, time and output limits, the sampling fallback, the
 * environment) and the dynamic registry (core/dynreg.c: views held across a rebuild). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cfg.h"
#include "dmcp.h"
#include "dynreg.h"
#include "exectool.h"
#include "fake_store.h"
#include "js.h"
#include "registry.h"
#include "rnd.h"
#include "runtime.h"
#include "sqltool.h"
#include "store.h"
#include "t.h"

static struct cfg cfg;
static struct store *st;
static char dir[128]; /* the programs' directory */

/* ---- sessions, calls, answers ----------------------------------------------------------- */

struct tsess {
	rnd_hex_id id;
	json_object *caps;
	struct rt_session rs;
};

static void sess_make(struct tsess *s, const char *caps, int modern)
{
	struct session_row row;

	memset(s, 0, sizeof *s);
	memset(&row, 0, sizeof row);
	if (rnd_id(s->id) != DMCP_OK)
		abort();
	snprintf(row.id, sizeof row.id, "%s", s->id);
	snprintf(row.principal, sizeof row.principal, "alice");
	snprintf(row.protocol, sizeof row.protocol, "2025-11-25");
	row.client_caps = (char *)caps;
	if (!modern && store_session_create(st, &row, "{}", 0) != DMCP_OK)
		abort();
	s->caps = js_parse_trusted(caps);
	s->rs.id = modern ? "" : s->id;
	s->rs.modern = modern;
	s->rs.principal = "alice";
	s->rs.protocol = "2025-11-25";
	s->rs.caps = s->caps;
}

/* The last response a sink was handed (JSON text). */
static char last[65536];

static void sink_committed(void *arg, const char *run_id, int64_t first, int n,
                           const enum event_kind *kinds, const char *const *bodies)
{
	int i;

	(void)arg;
	(void)run_id;
	(void)first;
	for (i = 0; i < n; i++)
		if (kinds[i] == EV_RESPONSE)
			snprintf(last, sizeof last, "%s", bodies[i]);
}

static struct rt_sink sink = {.committed = sink_committed};

static struct rt_env env_of(const dmcp_registry *reg, struct tsess *s)
{
	struct rt_env e;

	memset(&e, 0, sizeof e);
	e.cfg = &cfg;
	e.reg = reg;
	e.st = st;
	e.sess = &s->rs;
	e.sink = &sink;
	return e;
}

static dmcp_rc call(struct rt_env *env, const char *tool, const char *args, struct run_row *run)
{
	struct rt_call c;
	json_object *id = js_new_int(7), *a = js_parse_trusted(args);
	char why[300];
	dmcp_rc rc;

	memset(&c, 0, sizeof c);
	last[0] = '\0';
	c.tool = reg_tool(env->reg, tool);
	if (c.tool == NULL || a == NULL) {
		printf("# no tool %s, or bad arguments %s\n", tool, args);
		abort();
	}
	rc = reg_args_check(c.tool, a, why, sizeof why);
	if (rc == DMCP_OK) {
		c.request_id = id;
		c.args = a;
		rc = rt_call(env, &c, run);
	} else {
		memset(run, 0, sizeof *run);
		snprintf(last, sizeof last, "invalid: %s", why);
	}
	json_object_put(id);
	json_object_put(a);
	return rc;
}

/* Answer request k of run with the result given as JSON text. */
static dmcp_rc answer(struct rt_env *env, const char *run_id, int k, const char *result,
                      int *applied)
{
	char id[64], text[4096];
	json_object *msg;
	dmcp_rc rc;

	snprintf(id, sizeof id, "%s/%d", run_id, k);
	snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":%s}", id, result);
	msg = js_parse_trusted(text);
	last[0] = '\0';
	rc = rt_answer(env, id, msg, applied);
	json_object_put(msg);
	return rc;
}

static int has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static enum run_status status_of(const char *run_id)
{
	struct run_row r;
	enum run_status s = RUN_CANCELLED;

	if (fake_store_run(run_id, &r)) {
		s = r.status;
		row_run_clear(&r);
	}
	return s;
}

/* The request event the run sent last (JSON text), or "". */
static const char *last_request(const char *run_id, char *out, size_t cap)
{
	struct event_row ev[64];
	int n = fake_store_events(run_id, ev, 64), i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		if (ev[i].kind == EV_REQUEST)
			snprintf(out, cap, "%s", ev[i].body);
	row_events_clear(ev, n);
	return out;
}

/* ---- registry views --------------------------------------------------------------------- */

static dmcp_rc c_one(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_text(res, "one");
}

static int wipes; /* how often "wipe" really ran */

static dmcp_rc c_wipe(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	wipes++;
	return dmcp_result_textf(res, "wiped %s", dmcp_arg_str(args, "what"));
}

static const struct dmcp_param wipe_params[] = {DMCP_STRING("what", .required = 1), DMCP_END};

static const struct dmcp_tool base_tools[] = {
	{.name = "one", .description = "One step", .version = 1, .run = c_one},
	{.name = "wipe", .description = "Wipes something, once the user confirms",
	 .params = wipe_params, .annotations = "{\"destructiveHint\":true}", .confirm = 1,
	 .version = 1, .run = c_wipe},
};

static int impl_frees;

static void count_free(void *p)
{
	impl_frees++;
	free(p);
}

static void test_views(dmcp_registry *base)
{
	static const struct dmcp_tool extra = {.name = "extra", .description = "Made later",
	                                       .version = 1, .run = c_one};
	static const struct dmcp_tool unsafe = {.name = "unsafe", .description = "Asks first",
	                                        .confirm = 1, .version = 1, .run = c_one};
	dmcp_registry *v = reg_view_new(base);
	json_object *flat = js_parse_trusted("{\"type\":\"object\",\"properties\":{\"ok\":"
	                                     "{\"type\":\"boolean\"}}}");
	json_object *deep = js_parse_trusted("{\"type\":\"object\",\"properties\":{\"o\":"
	                                     "{\"type\":\"object\"}}}");
	struct schema *check = NULL;
	char err[300];

	T_OK(v != NULL && v->n_tools == base->n_tools, "a view starts with the base's tools");
	T_EQ_INT(reg_add_tool(v, &extra, malloc(8), count_free, err, sizeof err), DMCP_OK,
	         "a tool made at run time goes into the view");
	T_OK(reg_tool(v, "extra") != NULL && reg_tool(base, "extra") == NULL,
	     "the view has it, the base does not");
	T_OK(reg_tool(v, "one") == reg_tool(v, "one") && reg_tool(v, "one") != NULL,
	     "the base's tools are found in the view");
	T_EQ_INT(reg_add_tool(v, &extra, malloc(8), count_free, err, sizeof err), DMCP_E_PARAMS,
	         "a second tool of the same name is refused");
	T_EQ_INT(impl_frees, 1, "and its data freed at once");
	T_EQ_INT(reg_add_tool(v, &unsafe, NULL, NULL, err, sizeof err), DMCP_E_PARAMS,
	         "confirm without destructiveHint is refused");
	T_OK(has(err, "destructiveHint"), "saying why: %s", err);
	dmcp_registry_free(v);
	T_EQ_INT(impl_frees, 2, "freeing the view frees what was added");
	T_OK(reg_tool(base, "one") != NULL && reg_tool(base, "wipe")->listing != NULL,
	     "and leaves the base's entries alone");
	T_EQ_INT(reg_form_compile(flat, &check, err, sizeof err), DMCP_OK, "a flat form compiles");
	schema_free(check);
	check = NULL;
	T_EQ_INT(reg_form_compile(deep, &check, err, sizeof err), DMCP_E_SCHEMA,
	         "a nested one is no form");
	json_object_put(flat);
	json_object_put(deep);
}

/* ---- confirmation ----------------------------------------------------------------------- */

static void test_confirm(const dmcp_registry *reg)
{
	struct tsess s, no, mod;
	struct rt_env env;
	struct run_row run;
	char req[4096];
	int applied = 0;

	sess_make(&s, "{\"elicitation\":{}}", 0);
	env = env_of(reg, &s);
	wipes = 0;
	T_EQ_INT(call(&env, "wipe", "{\"what\":\"disk\"}", &run), DMCP_OK, "confirm: the call");
	T_EQ_INT(run.status, RUN_WAITING, "confirm: it waits for the user first");
	T_EQ_INT(wipes, 0, "confirm: the tool did not run");
	last_request(run.id, req, sizeof req);
	T_OK(has(req, "elicitation/create") && has(req, "wipe") && has(req, "disk") &&
	     has(req, "\"confirm\":{\"type\":\"boolean\""), "confirm: a form naming the tool and "
	     "its arguments, with one boolean: %.300s", req);
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":true}}",
	                &applied), DMCP_OK, "confirm: accepted");
	T_OK(applied && wipes == 1 && has(last, "wiped disk") && !has(last, "isError"),
	     "confirm: then it ran, once: %.200s", last);
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":true}}",
	                &applied), DMCP_OK, "confirm: the same answer again");
	T_OK(!applied && wipes == 1, "confirm: changes nothing");
	row_run_clear(&run);

	T_EQ_INT(call(&env, "wipe", "{\"what\":\"db\"}", &run), DMCP_OK, "decline: the call");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"decline\"}", &applied), DMCP_OK,
	         "decline: answered");
	T_OK(wipes == 1 && has(last, "\"isError\":true") && has(last, "did not confirm wipe") &&
	     has(last, "declined"), "decline: an isError result, and nothing ran: %.200s", last);
	T_EQ_INT(status_of(run.id), RUN_FAILED, "decline: the run failed");
	row_run_clear(&run);
	T_EQ_INT(call(&env, "wipe", "{\"what\":\"db\"}", &run), DMCP_OK, "unticked: the call");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":false}}",
	                &applied), DMCP_OK, "unticked: accepted without the tick");
	T_OK(wipes == 1 && has(last, "left unticked"), "unticked: nothing ran: %.200s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "wipe", "{\"what\":\"db\"}", &run), DMCP_OK, "cancel: the call");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"cancel\"}", &applied), DMCP_OK,
	         "cancel: answered");
	T_OK(wipes == 1 && has(last, "cancelled"), "cancel: nothing ran: %.200s", last);
	row_run_clear(&run);

	sess_make(&no, "{}", 0);
	env = env_of(reg, &no);
	T_EQ_INT(call(&env, "wipe", "{\"what\":\"db\"}", &run), DMCP_OK, "no elicitation: the call");
	T_OK(wipes == 1 && has(last, "\"isError\":true") && has(last, "cannot be asked"),
	     "no elicitation: a clear error, and nothing ran: %.200s", last);
	row_run_clear(&run);
	sess_make(&mod, "{}", 1);
	env = env_of(reg, &mod);
	T_EQ_INT(call(&env, "wipe", "{\"what\":\"db\"}", &run), DMCP_OK, "2026-07-28: the call");
	T_OK(wipes == 1 && has(last, "-32021") && has(last, "requiredCapabilities"),
	     "2026-07-28 without elicitation: -32021: %.200s", last);
	row_run_clear(&run);
	json_object_put(s.caps);
	json_object_put(no.caps);
	json_object_put(mod.caps);
}

/* ---- SQL functions ---------------------------------------------------------------------- */

#define T_INT "{\"sql\":\"integer\",\"array\":false,\"name\":\"int4\",\"kind\":\"b\",\"enum\":null}"
#define T_TEXT "{\"sql\":\"text\",\"array\":false,\"name\":\"text\",\"kind\":\"b\",\"enum\":null}"
#define ARG(n, t, d) "{\"name\":\"" n "\",\"ident\":\"" n "\",\"mode\":\"i\",\"default\":" d \
	",\"type\":" t "}"
#define FN(name, vol, ret, args, comment) "{\"name\":\"" name "\",\"ident\":\"dmcp_tools.\\\"" \
	name "\\\"\",\"kind\":\"f\",\"volatility\":\"" vol "\",\"overloaded\":false,\"comment\":" \
	comment ",\"returns\":" ret ",\"args\":[" args "]}"
#define RET(set, t) "{\"set\":" set ",\"type\":" t "}"
#define T_VOID "{\"sql\":\"void\",\"array\":false,\"name\":\"void\",\"kind\":\"p\",\"enum\":null}"
#define T_REC "{\"sql\":\"record\",\"array\":false,\"name\":\"record\",\"kind\":\"p\",\"enum\":null}"
#define T_JSONB "{\"sql\":\"jsonb\",\"array\":false,\"name\":\"jsonb\",\"kind\":\"b\",\"enum\":null}"

static const char catalog[] = "["
	FN("everything", "v", RET("false", T_TEXT),
	   ARG("a", T_INT, "false") ","
	   ARG("b", "{\"sql\":\"character varying(10)\",\"array\":false,\"name\":\"varchar\","
	       "\"kind\":\"b\",\"enum\":null}", "false") ","
	   ARG("c", "{\"sql\":\"numeric\",\"array\":false,\"name\":\"numeric\",\"kind\":\"b\","
	       "\"enum\":null}", "true") ","
	   ARG("d", "{\"sql\":\"boolean\",\"array\":false,\"name\":\"bool\",\"kind\":\"b\","
	       "\"enum\":null}", "true") ","
	   ARG("e", T_JSONB, "true") ","
	   ARG("g", "{\"sql\":\"integer[]\",\"array\":true,\"name\":\"int4\",\"kind\":\"b\","
	       "\"enum\":null}", "true") ","
	   ARG("h", "{\"sql\":\"dmcp_tools.color\",\"array\":false,\"name\":\"color\","
	       "\"kind\":\"e\",\"enum\":[\"red\",\"green\"]}", "true") ","
	   ARG("i", "{\"sql\":\"dmcp_tools.posint\",\"array\":false,\"name\":\"int4\","
	       "\"kind\":\"b\",\"enum\":null}", "true") ","
	   ARG("k", "{\"sql\":\"json[]\",\"array\":true,\"name\":\"json\",\"kind\":\"b\","
	       "\"enum\":null}", "true") ","
	   ARG("s", "{\"sql\":\"smallint\",\"array\":false,\"name\":\"int2\",\"kind\":\"b\","
	       "\"enum\":null}", "true"),
	   "\"Takes every type\\n@title Every type\\n@idempotent\"") ","
	FN("report", "s", RET("true", T_REC), ARG("n", T_INT, "false"), "\"Rows\"") ","
	FN("doc", "i", RET("false", T_JSONB), "", "null") ","
	FN("pair", "v", RET("false", T_REC), "", "null") ","
	FN("nothing", "v", RET("false", T_VOID), "", "null") ","
	FN("wipe_sql", "v", RET("false", T_INT), ARG("what", T_TEXT, "false"),
	   "\"Deletes\\n@confirm\"") ","
	FN("bad name!", "v", RET("false", T_INT), "", "null") ","
	FN("pointy", "v", RET("false", T_INT),
	   ARG("p", "{\"sql\":\"point\",\"array\":false,\"name\":\"point\",\"kind\":\"b\","
	       "\"enum\":null}", "false"), "null") ","
	FN("anon", "v", RET("false", T_INT), ARG("", T_INT, "false"), "null") ","
	FN("typo", "v", RET("false", T_INT), "", "\"@confrim\"") ","
	FN("trig", "v", RET("false", "{\"sql\":\"trigger\",\"array\":false,\"name\":\"trigger\","
	   "\"kind\":\"p\",\"enum\":null}"), "", "null") ","
	"{\"name\":\"proc\",\"ident\":\"x.proc\",\"kind\":\"p\",\"volatility\":\"v\","
	"\"overloaded\":false,\"comment\":null,\"returns\":" RET("false", T_VOID) ",\"args\":[]},"
	"{\"name\":\"one\",\"ident\":\"x.one\",\"kind\":\"f\",\"volatility\":\"v\","
	"\"overloaded\":false,\"comment\":null,\"returns\":" RET("false", T_INT) ",\"args\":[]},"
	"{\"name\":\"twice\",\"ident\":\"x.twice\",\"kind\":\"f\",\"volatility\":\"v\","
	"\"overloaded\":true,\"comment\":null,\"returns\":" RET("false", T_INT) ",\"args\":[]}"
	"]";

/* What the fake function call saw and gives back. */
static struct {
	char seen[4096];     /* the call as text */
	const char *value;   /* what it returns */
	int fail, too_big;   /* it raises an error, or returns too much */
	const char *cancel;  /* a run id to cancel while the function runs (a lost race) */
} fn;

static dmcp_rc fake_fn(void *arg, const struct store_call *c, struct store_call_out *out)
{
	size_t n;
	int i;

	(void)arg;
	n = (size_t)snprintf(fn.seen, sizeof fn.seen, "%s ret=%d role=%s timeout=%d rows=%d "
	                     "principal=%s run=%s:", c->function, (int)c->ret, c->role,
	                     c->timeout_ms, c->max_rows, c->principal, c->run_id);
	for (i = 0; i < c->n_args && n < sizeof fn.seen; i++)
		n += (size_t)snprintf(fn.seen + n, sizeof fn.seen - n, " %s::%s/%d=%s",
		                      c->args[i].ident, c->args[i].type, (int)c->args[i].form,
		                      c->args[i].value);
	if (fn.cancel != NULL)
		(void)fake_store_cancel_run(fn.cancel, "cancelled meanwhile");
	if (fn.fail) {
		out->failed = 1;
		snprintf(out->sqlstate, sizeof out->sqlstate, "P0001");
		snprintf(out->message, sizeof out->message, "no such customer");
		snprintf(out->detail, sizeof out->detail, "customer 42 was deleted");
		return DMCP_OK;
	}
	out->too_big = fn.too_big;
	out->value = fn.value != NULL ? strdup(fn.value) : NULL;
	return DMCP_OK;
}

static const char *listing_of(const dmcp_registry *r, const char *name)
{
	const struct reg_tool *t = reg_tool(r, name);

	return t != NULL ? t->listing : "";
}

static void test_sql_definitions(dmcp_registry *v)
{
	const char *l = listing_of(v, "everything");
	int added = -1;

	T_EQ_INT(sqlt_register(v, catalog, &cfg, &added), DMCP_OK, "sql: the catalog registers");
	T_EQ_INT(added, 6, "sql: six of its functions are tools, the rest are skipped");
	l = listing_of(v, "everything");
	T_OK(has(l, "\"a\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}") &&
	     has(l, "\"b\":{\"type\":\"string\"}") && has(l, "\"c\":{\"type\":\"number\"}") &&
	     has(l, "\"d\":{\"type\":\"boolean\"}") && has(l, "\"e\":{}") &&
	     has(l, "\"g\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"") &&
	     has(l, "\"h\":{\"type\":\"string\",\"enum\":[\"red\",\"green\"]}") &&
	     has(l, "\"i\":{\"type\":\"integer\"") && has(l, "\"k\":{\"type\":\"array\",\"items\":{}}") &&
	     has(l, "\"s\":{\"type\":\"integer\",\"minimum\":-32768,\"maximum\":32767}"),
	     "sql: every argument type maps: %.600s", l);
	T_OK(has(l, "\"required\":[\"a\",\"b\"]") && has(l, "\"additionalProperties\":false"),
	     "sql: arguments without a DEFAULT are required, no others are allowed");
	T_OK(has(l, "\"title\":\"Every type\"") && has(l, "\"description\":\"Takes every type\"") &&
	     has(l, "\"idempotentHint\":true") && has(l, "\"readOnlyHint\":false") &&
	     has(l, "\"openWorldHint\":false"), "sql: the comment gives description, title and "
	     "hints");
	l = listing_of(v, "report");
	T_OK(has(l, "\"readOnlyHint\":true") && has(l, "\"outputSchema\":{\"type\":\"object\","
	     "\"properties\":{\"rows\""), "sql: a STABLE set-returning function is read-only, with "
	     "rows as its output: %.400s", l);
	T_OK(has(listing_of(v, "doc"), "Calls the SQL function dmcp_tools.\\\"doc\\\""),
	     "sql: no comment: a description all the same");
	T_OK(reg_tool(v, "wipe_sql") != NULL && reg_tool(v, "wipe_sql")->def->confirm &&
	     has(listing_of(v, "wipe_sql"), "\"destructiveHint\":true"),
	     "sql: @confirm asks first, and is destructive");
	T_OK(reg_tool(v, "bad name!") == NULL && reg_tool(v, "pointy") == NULL &&
	     reg_tool(v, "anon") == NULL && reg_tool(v, "typo") == NULL &&
	     reg_tool(v, "trig") == NULL && reg_tool(v, "proc") == NULL &&
	     reg_tool(v, "twice") == NULL,
	     "sql: a bad name, a type dmcp cannot map, an unnamed argument, an unknown @word, a "
	     "trigger, a procedure and an overloaded name are each skipped");
	T_OK(reg_tool(v, "one") != NULL && reg_tool(v, "one")->impl == NULL,
	     "sql: a function named like a tool of the program does not replace it");
	T_EQ_INT(sqlt_register(v, "{\"not\":\"an array\"}", &cfg, &added), DMCP_E_PARSE,
	         "sql: a catalog that is not an array is refused");
}

static void test_sql_calls(const dmcp_registry *v)
{
	struct tsess s;
	struct rt_env env;
	struct run_row run;
	long writes;
	int applied = 0;

	sess_make(&s, "{\"elicitation\":{}}", 0);
	env = env_of(v, &s);
	fake_store_tools(catalog, fake_fn, NULL);
	fn.value = "x";
	T_EQ_INT(call(&env, "everything", "{\"a\":1,\"b\":\"it's \\\"q\\\"\",\"g\":[1,2],"
	              "\"h\":\"red\",\"d\":false,\"k\":[{\"x\":1}]}", &run), DMCP_OK,
	         "sql: a call with some arguments");
	T_OK(has(fn.seen, "dmcp_tools.\"everything\" ret=1 role=dmcp_tools timeout=10000 rows=1000 "
	         "principal=alice run=") && has(fn.seen, run.id),
	     "sql: the function, its result form, role, limits and caller: %s", fn.seen);
	T_OK(has(fn.seen, " a::integer/0=1") && has(fn.seen, " b::character varying(10)/0=it's \"q\"") &&
	     has(fn.seen, " d::boolean/0=false") && has(fn.seen, " g::integer[]/1=[1,2]") &&
	     has(fn.seen, " h::dmcp_tools.color/0=red") && has(fn.seen, " k::json[]/2=[{\"x\":1}]") &&
	     !has(fn.seen, " c::") && !has(fn.seen, " e::"), "sql: the arguments given, as text, and "
	     "not the others (their DEFAULTs apply): %s", fn.seen);
	T_OK(has(last, "\"text\":\"x\""), "sql: a scalar is text: %.200s", last);
	row_run_clear(&run);
	fn.value = "[{\"i\":1}, \n{\"i\":2}]";
	T_EQ_INT(call(&env, "report", "{\"n\":2}", &run), DMCP_OK, "sql: a set");
	T_OK(has(last, "\"text\":\"[{\\\"i\\\":1},{\\\"i\\\":2}]\"") &&
	     has(last, "\"structuredContent\":{\"rows\":[{\"i\":1},{\"i\":2}]}"),
	     "sql: rows are a JSON array, and {\"rows\": ...}: %.300s", last);
	row_run_clear(&run);
	fn.value = "{\"total\": 3}";
	T_EQ_INT(call(&env, "doc", "{}", &run), DMCP_OK, "sql: jsonb");
	T_OK(has(last, "\"structuredContent\":{\"total\":3}"), "sql: a JSON object is structured: "
	     "%.300s", last);
	row_run_clear(&run);
	fn.value = "[1,2]";
	T_EQ_INT(call(&env, "pair", "{}", &run), DMCP_OK, "sql: a record");
	T_OK(has(fn.seen, "ret=2") && has(last, "\"text\":\"[1,2]\"") &&
	     !has(last, "structuredContent"), "sql: JSON that is no object is text: %.300s", last);
	row_run_clear(&run);
	fn.value = NULL;
	T_EQ_INT(call(&env, "nothing", "{}", &run), DMCP_OK, "sql: void");
	T_OK(has(last, "\"text\":\"done\""), "sql: a void function says done");
	row_run_clear(&run);
	fn.fail = 1;
	writes = fake_store_tool_writes();
	T_EQ_INT(call(&env, "doc", "{}", &run), DMCP_OK, "sql: a function that raises");
	T_OK(has(last, "\"isError\":true") && has(last, "no such customer") &&
	     has(last, "DETAIL: customer 42 was deleted"), "sql: an isError result with the "
	     "message and the detail: %.300s", last);
	T_EQ_INT(fake_store_tool_writes(), writes, "sql: and the function's writes are undone");
	fn.fail = 0;
	row_run_clear(&run);
	fn.too_big = 1;
	T_EQ_INT(call(&env, "report", "{\"n\":5000}", &run), DMCP_OK, "sql: too many rows");
	T_OK(has(last, "\"isError\":true") && has(last, "DMCP_SQL_TOOLS_MAX_ROWS"),
	     "sql: an isError result naming the limit: %.300s", last);
	fn.too_big = 0;
	row_run_clear(&run);
	T_EQ_INT(call(&env, "everything", "{\"a\":\"1\",\"b\":\"x\"}", &run),
	         DMCP_E_VALIDATION, "sql: a string for an integer");
	T_OK(has(last, "invalid: /a"), "sql: is refused by the schema before any SQL: %s", last);

	/* Exactly once: a destructive function behind a confirmation, answered twice. */
	writes = fake_store_tool_writes();
	fn.value = "1";
	T_EQ_INT(call(&env, "wipe_sql", "{\"what\":\"t\"}", &run), DMCP_OK, "once: the call");
	T_OK(run.status == RUN_WAITING && fake_store_tool_writes() == writes,
	     "once: it waits for the confirmation; nothing written");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":true}}",
	                &applied), DMCP_OK, "once: confirmed");
	T_OK(applied && fake_store_tool_writes() == writes + 1 && status_of(run.id) == RUN_COMPLETED,
	     "once: the function wrote, committed with the run's result");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":true}}",
	                &applied), DMCP_OK, "once: the same answer again");
	T_OK(!applied && fake_store_tool_writes() == writes + 1, "once: nothing written twice");
	row_run_clear(&run);
	/* A lost race: the run is cancelled while the function runs; its writes go. */
	T_EQ_INT(call(&env, "wipe_sql", "{\"what\":\"u\"}", &run), DMCP_OK, "race: the call");
	fn.cancel = run.id;
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":true}}",
	                &applied), DMCP_OK, "race: confirmed while it is cancelled");
	fn.cancel = NULL;
	T_OK(fake_store_tool_writes() == writes + 1 && status_of(run.id) == RUN_CANCELLED,
	     "race: the save lost, and the function's write was rolled back with it");
	row_run_clear(&run);
	T_EQ_INT(fake_store_open_tx(), 0, "sql: no transaction left open");
	/* One step, no row: the transaction commits all the same. */
	cfg.record_all = 0;
	fn.value = "7";
	T_EQ_INT(call(&env, "doc", "{}", &run), DMCP_OK, "sql: a one-step call without a row");
	T_OK(fake_store_tool_writes() == writes + 2 && fake_store_open_tx() == 0,
	     "sql: its write committed (no row kept)");
	cfg.record_all = 1;
	row_run_clear(&run);
	json_object_put(s.caps);
	fake_store_tools(NULL, NULL, NULL);
}

/* ---- programs --------------------------------------------------------------------------- */

/* Write an executable script name in dir. */
static void script(const char *name, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

#define DESCRIBE(json) "if [ \"$1\" = --mcp-describe ]; then echo '" json "'; exit 0; fi\n"

static void write_scripts(void)
{
	script("hello", DESCRIBE("{\"title\":\"Hello\",\"description\":\"Says hello\","
	       "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}}")
	       "cat > /dev/null\n"
	       "echo '{\"progress\": 1, \"total\": 2, \"message\": \"half\"}'\n"
	       "echo '{\"log\": \"greeting\", \"level\": \"info\"}'\n"
	       "echo '{\"result\": {\"greeting\": \"hi\"}}'");
	script("asker", DESCRIBE("{\"description\":\"Asks twice\",\"elicitations\":{\"pick\":"
	       "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}}}")
	       "n=$(grep -o '\"action\"' | wc -l)\n"
	       "case $n in\n"
	       "0) echo '{\"elicit\": {\"schema\": {\"type\":\"object\",\"properties\":{\"ok\":"
	       "{\"type\":\"boolean\"}},\"required\":[\"ok\"]}, \"message\": \"Go on?\"}}' ;;\n"
	       "1) echo '{\"elicit\": {\"schema\": \"pick\", \"message\": \"Which?\"}}' ;;\n"
	       "*) echo \"{\\\"result\\\": {\\\"answers\\\": $n}}\" ;;\n"
	       "esac");
	script("badjson", DESCRIBE("{\"description\":\"Prints garbage\"}") "echo not json");
	script("fails", DESCRIBE("{\"description\":\"Fails\"}") "echo boom >&2; exit 3");
	script("slow", DESCRIBE("{\"description\":\"Never ends\"}") "sleep 30");
	script("chatty", DESCRIBE("{\"description\":\"Megabytes\"}")
	       "head -c 3000000 /dev/zero | tr '\\0' a");
	script("sampler", DESCRIBE("{\"description\":\"Asks the LLM\"}")
	       "if grep -q model; then echo '{\"result\": \"sampled\"}'; else "
	       "echo '{\"sample\": {\"prompt\": \"hi\", \"maxTokens\": 5}}'; fi");
	script("envdump", DESCRIBE("{\"description\":\"Shows its environment\"}")
	       "printf '{\"result\": \"%s\"}\\n' \"$(env | sort | tr '\\n' ' ')\"");
	script("destroy", DESCRIBE("{\"description\":\"Destroys\",\"confirm\":true,"
	       "\"annotations\":{\"destructiveHint\":true}}") "echo '{\"result\": \"destroyed\"}'");
	script("nodesc", "exit 1");
	script("bad name", DESCRIBE("{\"description\":\"Its name has a space\"}"));
	script("unknown", DESCRIBE("{\"description\":\"x\",\"confrim\":true}"));
	script(".hidden", DESCRIBE("{\"description\":\"hidden\"}"));
}

static void test_programs(dmcp_registry *v)
{
	struct exec_scan *scan;
	struct tsess s, plain;
	struct rt_env env;
	struct run_row run;
	char req[4096];
	int added = -1, applied = 0;

	write_scripts();
	cfg.exec_dir = dir;
	cfg.exec_timeout_ms = 1000;
	cfg.exec_max_output = 100000;
	scan = exec_scan(&cfg);
	T_EQ_INT(exec_scan_count(scan), 11, "exec: the programs that describe themselves are kept "
	         "(not the one that fails, not the hidden one)");
	T_EQ_INT(exec_register(v, scan, &cfg, &added), DMCP_OK, "exec: they register");
	T_EQ_INT(added, 9, "exec: all but a bad name and an unknown member");
	exec_scan_free(scan);
	T_OK(has(listing_of(v, "hello"), "\"title\":\"Hello\"") &&
	     has(listing_of(v, "hello"), "\"name\":{\"type\":\"string\"}"),
	     "exec: the definition is the program's: %s", listing_of(v, "hello"));

	sess_make(&s, "{\"elicitation\":{}}", 0);
	env = env_of(v, &s);
	T_EQ_INT(call(&env, "hello", "{\"name\":\"x\"}", &run), DMCP_OK, "exec: hello");
	T_OK(has(last, "\"structuredContent\":{\"greeting\":\"hi\"}"), "exec: its result: %.300s",
	     last);
	T_OK(fake_store_count("events") > 0, "exec: its log line became a notification");
	row_run_clear(&run);

	T_EQ_INT(call(&env, "asker", "{}", &run), DMCP_OK, "exec: a program that asks twice");
	T_EQ_INT(run.status, RUN_WAITING, "exec: waits for the first answer");
	last_request(run.id, req, sizeof req);
	T_OK(has(req, "Go on?") && has(req, "\"ok\":{\"type\":\"boolean\"}"),
	     "exec: its own form went out: %.300s", req);
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"ok\":true}}",
	                &applied), DMCP_OK, "exec: first answer");
	T_EQ_INT(status_of(run.id), RUN_WAITING, "exec: waits for the second");
	last_request(run.id, req, sizeof req);
	T_OK(has(req, "Which?") && has(req, "\"n\":{\"type\":\"integer\"}"),
	     "exec: the named form went out: %.300s", req);
	T_EQ_INT(answer(&env, run.id, 1, "{\"action\":\"accept\",\"content\":{\"n\":\"no\"}}",
	                &applied), DMCP_OK, "exec: an answer that does not fit the form");
	T_OK(has(last, "\"isError\":true") && has(last, "does not fit"),
	     "exec: fails the call, as for a C tool: %.300s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "asker", "{}", &run), DMCP_OK, "exec: asks twice again");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"ok\":true}}",
	                &applied), DMCP_OK, "exec: first answer");
	T_EQ_INT(answer(&env, run.id, 1, "{\"action\":\"accept\",\"content\":{\"n\":3}}",
	                &applied), DMCP_OK, "exec: second answer");
	T_OK(status_of(run.id) == RUN_COMPLETED && has(last, "\"answers\":2"),
	     "exec: ran again from the top with both answers: %.300s", last);
	row_run_clear(&run);

	T_EQ_INT(call(&env, "badjson", "{}", &run), DMCP_OK, "exec: bad output");
	T_OK(has(last, "\"isError\":true") && has(last, "badjson wrote line 1, which is not a JSON object"),
	     "exec: is an isError result: %.300s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "fails", "{}", &run), DMCP_OK, "exec: a non-zero exit");
	T_OK(has(last, "exited with status 3") && has(last, "stderr ends: boom"),
	     "exec: is an isError result with its stderr: %.300s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "slow", "{}", &run), DMCP_OK, "exec: a program that never ends");
	T_OK(has(last, "DMCP_EXEC_TIMEOUT_MS (1000 ms)"), "exec: is killed at its time limit: "
	     "%.300s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "chatty", "{}", &run), DMCP_OK, "exec: megabytes of output");
	T_OK(has(last, "DMCP_EXEC_MAX_OUTPUT (100000 bytes)"), "exec: are cut off: %.300s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "envdump", "{}", &run), DMCP_OK, "exec: the environment");
	T_OK(has(last, "DMCP_RUN_ID=") && has(last, run.id) && has(last, "DMCP_PRINCIPAL=alice") &&
	     has(last, "PATH=/usr/local/bin:/usr/bin:/bin") && !has(last, "HOME="),
	     "exec: is clean, with the run's ids: %.400s", last);
	row_run_clear(&run);

	sess_make(&plain, "{}", 0);
	env = env_of(v, &plain);
	T_EQ_INT(call(&env, "sampler", "{}", &run), DMCP_OK, "exec: sampling without a client "
	         "that samples");
	T_OK(has(last, "\"text\":\"sampled\""), "exec: the fallback answered in the step, and "
	     "the program ran again: %.300s", last);
	row_run_clear(&run);
	T_EQ_INT(call(&env, "destroy", "{}", &run), DMCP_OK, "exec: a destructive program, no "
	         "elicitation");
	T_OK(has(last, "cannot be asked"), "exec: does not run: %.200s", last);
	row_run_clear(&run);
	env = env_of(v, &s);
	T_EQ_INT(call(&env, "destroy", "{}", &run), DMCP_OK, "exec: a destructive program");
	T_EQ_INT(answer(&env, run.id, 0, "{\"action\":\"accept\",\"content\":{\"confirm\":true}}",
	                &applied), DMCP_OK, "exec: confirmed");
	T_OK(has(last, "destroyed"), "exec: then it ran: %.200s", last);
	row_run_clear(&run);
	json_object_put(s.caps);
	json_object_put(plain.caps);
}

/* ---- the dynamic registry --------------------------------------------------------------- */

static void test_dynreg(dmcp_registry *base)
{
	static const char one_fn[] = "[" FN("doc", "i", RET("false", T_JSONB), "", "null") "]";
	struct cfg none;
	struct dyn *d = NULL;
	const dmcp_registry *a, *b;

	cfg_defaults(&none);
	T_OK(dyn_new(base, &none, &d) == DMCP_OK && d == NULL, "dyn: nothing configured, nothing "
	     "made");
	cfg.sql_schema = "dmcp_tools";
	T_EQ_INT(dyn_new(base, &cfg, &d), DMCP_OK, "dyn: SQL and programs");
	dyn_rescan(d, 0);
	fake_store_tools(catalog, fake_fn, NULL);
	a = dyn_acquire(d, st);
	T_OK(a != base && reg_tool(a, "report") != NULL && reg_tool(a, "hello") != NULL &&
	     reg_tool(a, "one") != NULL, "dyn: the view has the program's, the SQL and the program "
	     "tools");
	fake_store_tools(one_fn, fake_fn, NULL);
	b = dyn_acquire(d, st);
	T_OK(b == a, "dyn: nothing changed: the same view");
	dyn_release(d, b);
	dyn_stale(d);
	b = dyn_acquire(d, st);
	T_OK(b != a && reg_tool(b, "report") == NULL && reg_tool(b, "doc") != NULL,
	     "dyn: after a change, a new view without the dropped function");
	T_OK(reg_tool(a, "report") != NULL && reg_tool(a, "report")->listing != NULL,
	     "dyn: the old view, still held, is intact");
	dyn_release(d, a);
	dyn_release(d, b);
	dyn_free(d);
	fake_store_tools(NULL, NULL, NULL);
	cfg.sql_schema = NULL;
	cfg.exec_dir = NULL;
}

int main(void)
{
	dmcp_registry *base, *v;
	char err[300], cmd[200];
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	cfg_defaults(&cfg);
	cfg.record_all = 1;
	cfg.sql_role = "dmcp_tools";
	snprintf(dir, sizeof dir, "/tmp/test_tools.%ld", (long)getpid());
	if (mkdir(dir, 0755) != 0)
		abort();
	base = dmcp_registry_new();
	for (i = 0; i < sizeof base_tools / sizeof base_tools[0]; i++)
		if (dmcp_register_tool(base, &base_tools[i], err, sizeof err) != DMCP_OK)
			printf("# %s\n", err);
	dmcp_set_sampling_provider(base, dmcp_mock_sampling_provider());
	T_EQ_INT(base->n_tools, 2, "the base tools register");
	T_EQ_INT(store_open("", &st, err, sizeof err), DMCP_OK, "the fake store opens");
	test_views(base);
	test_confirm(base);
	v = reg_view_new(base);
	test_sql_definitions(v);
	test_sql_calls(v);
	test_programs(v);
	dmcp_registry_free(v);
	test_dynreg(base);
	T_EQ_INT(fake_store_anomalies(err, sizeof err), 0, "the store saw nothing dmcp must not do");
	if (err[0] != '\0')
		printf("#   last: %s\n", err);
	store_close(st);
	fake_store_reset();
	dmcp_registry_free(base);
	cfg.sql_role = NULL;
	cfg_free(&cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return t_done();
}
