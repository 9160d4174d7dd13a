/* test_mcp.c — TAP tests of core/mcp.c without a database: mcp_dispatch over the examples
 * registry (examples/examples.h) and the in-memory store of fake_store.c. initialize
 * (session row, version negotiation, capabilities), ping, logging/setLevel, the list
 * methods and their pages, resources (read, templates, subscribe), prompts/get, completion
 * and unknown methods; the 2026-07-28 table (server/discover, resultType, cache hints, the
 * removed methods) and capabilities that say what is served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "dmcp.h"
#include "err.h"
#include "examples.h"
#include "fake_store.h"
#include "http.h"
#include "js.h"
#include "mcp.h"
#include "registry.h"
#include "rnd.h"
#include "rpc.h"
#include "store.h"
#include "t.h"

/* Tools in the registry that needs three pages. */
#define BIG_TOOLS 120
/* Candidates of the completer that gives too many. */
#define MANY_VALUES 150

/* Whether a session read found last_seen old (unused here). */
static int stale;

static struct cfg cfg;
static dmcp_registry *reg;
static struct store *st;
static int modern;       /* dispatch on the 2026-07-28 wire */
static int notifies = 1; /* the process keeps change streams (as a threaded one does) */

/* The outcome of one dispatch. */
struct out {
	dmcp_rc rc;
	json_object *result;  /* owned, or NULL */
	int rpc_code;
	json_object *data;    /* owned: error data, or NULL */
	char err[256];
	rnd_hex_id new_session;
};

static void out_free(struct out *o)
{
	json_object_put(o->result);
	json_object_put(o->data);
	memset(o, 0, sizeof *o);
}

/* Dispatch the request text (a whole JSON-RPC request) against registry r for session sess
 * (NULL for initialize) as principal. */
static struct out dispatch_as(const dmcp_registry *r, struct session_row *sess,
                              const char *principal, const char *text)
{
	struct mcp_call c;
	struct rpc_msg msg;
	struct out o;
	char why[200];
	json_object *root = js_parse_trusted(text);

	memset(&o, 0, sizeof o);
	if (root == NULL || rpc_classify(root, &msg, why, sizeof why) != DMCP_OK) {
		printf("# bad test request: %s\n", text);
		abort();
	}
	memset(&c, 0, sizeof c);
	c.cfg = &cfg;
	c.reg = r;
	c.st = st;
	c.msg = &msg;
	c.sess = sess;
	c.principal = principal;
	c.modern = modern;
	c.notifies = notifies;
	o.rc = mcp_dispatch(&c, &o.result);
	o.rpc_code = c.rpc_code;
	o.data = c.error_data;
	snprintf(o.err, sizeof o.err, "%s", c.err);
	memcpy(o.new_session, c.new_session, sizeof o.new_session);
	rpc_free(&msg);
	return o;
}

static struct out dispatch(struct session_row *sess, const char *method, const char *params)
{
	size_t cap = strlen(method) + (params != NULL ? strlen(params) : 0) + 100;
	char *text = malloc(cap);
	struct out o;

	if (text == NULL)
		abort();
	if (params != NULL)
		snprintf(text, cap, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
		         method, params);
	else
		snprintf(text, cap, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}", method);
	o = dispatch_as(reg, sess, "alice", text);
	free(text);
	return o;
}

static int has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static size_t arr_len(json_object *o, const char *key)
{
	json_object *a = js_get(o, key, json_type_array);

	return a != NULL ? json_object_array_length(a) : (size_t)-1;
}

/* ---- a registry with many tools, and a completer with many values ---------------------- */

static char big_names[BIG_TOOLS][16];
static struct dmcp_tool big_defs[BIG_TOOLS];

static dmcp_rc big_run(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_text(res, "big");
}

static dmcp_rc many_values(const char *arg, const char *value, json_object *values)
{
	char v[32];
	int i;

	(void)arg;
	(void)value;
	for (i = 0; i < MANY_VALUES; i++) {
		snprintf(v, sizeof v, "value-%03d", i);
		json_object_array_add(values, json_object_new_string(v));
	}
	return DMCP_OK;
}

static dmcp_rc failing_complete(const char *arg, const char *value, json_object *values)
{
	(void)arg;
	(void)value;
	(void)values;
	return DMCP_E_INTERNAL;
}

static const struct dmcp_prompt_arg one_arg[] = {{"x", "anything", 0}, {NULL, NULL, 0}};

static dmcp_rc empty_prompt(json_object *args, json_object *messages)
{
	(void)args;
	(void)messages;
	return DMCP_OK;
}

static const struct dmcp_prompt many_prompt = {.name = "many", .description = "many candidates",
                                               .args = one_arg, .get = empty_prompt};
static const struct dmcp_prompt bad_prompt = {.name = "bad",
                                              .description = "a failing completer",
                                              .args = one_arg, .get = empty_prompt};
static const struct dmcp_completion many_completion = {"ref/prompt", "many", many_values};
static const struct dmcp_completion bad_completion = {"ref/prompt", "bad", failing_complete};

static dmcp_registry *big_registry(void)
{
	dmcp_registry *r = dmcp_registry_new();
	char err[200] = "";
	int i, ok = r != NULL;

	for (i = 0; ok && i < BIG_TOOLS; i++) {
		snprintf(big_names[i], sizeof big_names[i], "tool_%03d", i);
		big_defs[i].name = big_names[i];
		big_defs[i].description = "one of many";
		big_defs[i].version = 1;
		big_defs[i].run = big_run;
		ok = dmcp_register_tool(r, &big_defs[i], err, sizeof err) == DMCP_OK;
	}
	ok = ok && dmcp_register_prompt(r, &many_prompt, err, sizeof err) == DMCP_OK &&
	     dmcp_register_prompt(r, &bad_prompt, err, sizeof err) == DMCP_OK &&
	     dmcp_register_completion(r, &many_completion, err, sizeof err) == DMCP_OK &&
	     dmcp_register_completion(r, &bad_completion, err, sizeof err) == DMCP_OK;
	T_OK(ok, "a registry of %d tools and a completer of %d values", BIG_TOOLS, MANY_VALUES);
	if (!ok)
		printf("#   %s\n", err);
	return r;
}

/* ---- initialize --------------------------------------------------------------------------- */

static const char init_params[] =
	"{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"elicitation\":{}},"
	"\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}";

static void test_initialize(struct session_row *sess_out)
{
	struct out o;
	struct session_row s;
	json_object *caps, *si;
	int sessions0 = fake_store_count("sessions");
	dmcp_registry *empty;
	char big[20000], params[20200];

	o = dispatch(NULL, "initialize", init_params);
	T_EQ_INT(o.rc, DMCP_OK, "initialize: OK");
	T_EQ_STR(js_str(o.result, "protocolVersion"), "2025-06-18",
	    "initialize: a supported version is kept");
	T_OK(rnd_id_ok(o.new_session), "initialize: a new session id of 32 hex digits (%s)",
	     o.new_session);
	T_EQ_INT(fake_store_count("sessions"), sessions0 + 1, "initialize: one session row");
	T_EQ_INT(store_session_get(st, o.new_session, "alice", &s, &stale), DMCP_OK,
	   "initialize: the session is in the store for its principal");
	T_EQ_STR(s.protocol, "2025-06-18", "initialize: the store keeps the negotiated version");
	T_EQ_STR(s.client_caps, "{\"elicitation\":{}}", "initialize: ... and the client's capabilities");
	T_EQ_INT(s.log_level, 1, "initialize: the session starts at log level info");
	row_session_clear(&s);
	T_EQ_INT(store_session_get(st, o.new_session, "bob", &s, &stale), DMCP_E_NOT_FOUND,
	   "initialize: ... and answers no other principal");
	caps = js_get(o.result, "capabilities", json_type_object);
	T_OK(js_get(caps, "tools", json_type_object) != NULL, "initialize: capabilities.tools");
	T_OK(js_get(js_get(caps, "resources", json_type_object), "subscribe", json_type_boolean) &&
	     json_object_get_boolean(js_get(js_get(caps, "resources", json_type_object),
	                                    "subscribe", json_type_boolean)),
	     "initialize: resources.subscribe (the registry has resources)");
	T_OK(js_get(caps, "prompts", json_type_object) != NULL,
	     "initialize: prompts (the registry has prompts)");
	T_OK(js_get(caps, "logging", json_type_object) != NULL, "initialize: logging");
	T_OK(js_get(caps, "completions", json_type_object) != NULL, "initialize: completions");
	si = js_get(o.result, "serverInfo", json_type_object);
	T_EQ_STR(js_str(si, "name"), MCP_SERVER_NAME, "initialize: serverInfo.name");
	T_EQ_STR(js_str(si, "version"), MCP_SERVER_VERSION, "initialize: serverInfo.version");
	if (store_session_get(st, o.new_session, "alice", sess_out, &stale) != DMCP_OK)
		abort();
	out_free(&o);

	o = dispatch(NULL, "initialize", "{\"protocolVersion\":\"1999-01-01\",\"capabilities\":{},"
	             "\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}");
	T_EQ_INT(o.rc, DMCP_OK, "initialize: an unknown version is OK");
	T_EQ_STR(js_str(o.result, "protocolVersion"), "2025-11-25",
	    "initialize: ... answered with the latest");
	T_EQ_INT(store_session_get(st, o.new_session, "alice", &s, &stale), DMCP_OK,
	   "initialize: ... which the session keeps");
	T_EQ_STR(s.protocol, "2025-11-25", "initialize: ... as 2025-11-25");
	row_session_clear(&s);
	out_free(&o);

	sessions0 = fake_store_count("sessions");
	o = dispatch(NULL, "initialize", "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "initialize: without clientInfo: DMCP_E_PARAMS");
	T_OK(has(o.err, "clientInfo"), "initialize: ... saying what is missing (%s)", o.err);
	T_EQ_INT(fake_store_count("sessions"), sessions0, "initialize: ... and no session");
	out_free(&o);
	o = dispatch(NULL, "initialize", "{\"protocolVersion\":2025,\"capabilities\":{},"
	             "\"clientInfo\":{}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "initialize: a numeric protocolVersion: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(NULL, "initialize", NULL);
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "initialize: without params: DMCP_E_PARAMS");
	out_free(&o);

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(params, sizeof params, "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	         "{\"x\":\"%s\"},\"clientInfo\":{}}", big);
	o = dispatch(NULL, "initialize", params);
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "initialize: capabilities over 16 KiB: DMCP_E_PARAMS");
	T_EQ_INT(fake_store_count("sessions"), sessions0, "initialize: ... and no session");
	out_free(&o);

	fake_store_fail("store_session_create", 0, 1);
	o = dispatch(NULL, "initialize", init_params);
	T_EQ_INT(o.rc, DMCP_E_DB, "initialize: the insert fails: DMCP_E_DB");
	T_EQ_INT(fake_store_count("sessions"), sessions0, "initialize: ... and no session");
	T_OK(o.result == NULL, "initialize: ... and no result");
	out_free(&o);

	empty = dmcp_registry_new();
	o = dispatch_as(empty, NULL, "alice", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	                "\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
	                "\"capabilities\":{},\"clientInfo\":{}}}");
	caps = js_get(o.result, "capabilities", json_type_object);
	T_OK(o.rc == DMCP_OK && !js_has(caps, "resources") && !js_has(caps, "prompts") &&
	     js_has(caps, "tools"),
	     "initialize: a registry without resources or prompts does not offer them");
	out_free(&o);
	dmcp_registry_free(empty);
}

/* ---- small methods --------------------------------------------------------------------- */

static void test_ping_level(struct session_row *sess)
{
	struct out o;
	struct session_row s;

	o = dispatch(sess, "ping", NULL);
	T_OK(o.rc == DMCP_OK && json_object_is_type(o.result, json_type_object) &&
	     json_object_object_length(o.result) == 0, "ping: {}");
	out_free(&o);
	o = dispatch(sess, "ping", "{}");
	T_OK(o.rc == DMCP_OK && json_object_object_length(o.result) == 0, "ping with params: {}");
	out_free(&o);

	o = dispatch(sess, "logging/setLevel", "{\"level\":\"error\"}");
	T_OK(o.rc == DMCP_OK && json_object_object_length(o.result) == 0, "setLevel error: {}");
	out_free(&o);
	T_EQ_INT(store_session_get(st, sess->id, "alice", &s, &stale), DMCP_OK, "setLevel: session read");
	T_EQ_INT(s.log_level, 4, "setLevel: the store holds level 4 (error)");
	row_session_clear(&s);
	o = dispatch(sess, "logging/setLevel", "{\"level\":\"loud\"}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "setLevel: an unknown level: DMCP_E_PARAMS");
	T_OK(has(o.err, "debug"), "setLevel: ... listing the levels (%s)", o.err);
	T_EQ_INT(err_rpc_code(o.rc), RPC_INVALID_PARAMS, "setLevel: ... which is -32602");
	out_free(&o);
	o = dispatch(sess, "logging/setLevel", "{\"level\":3}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "setLevel: a number: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "logging/setLevel", "{}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "setLevel: no level: DMCP_E_PARAMS");
	out_free(&o);
	T_EQ_INT(store_session_get(st, sess->id, "alice", &s, &stale), DMCP_OK, "setLevel: session read");
	T_EQ_INT(s.log_level, 4, "setLevel: refused levels changed nothing");
	row_session_clear(&s);
	o = dispatch(sess, "logging/setLevel", "{\"level\":\"debug\"}");
	T_EQ_INT(o.rc, DMCP_OK, "setLevel debug: OK");
	out_free(&o);
	T_EQ_INT(store_session_get(st, sess->id, "alice", &s, &stale), DMCP_OK, "setLevel: session read");
	T_EQ_INT(s.log_level, 0, "setLevel: the store holds level 0 (debug)");
	row_session_clear(&s);

	fake_store_fail("store_session_set_level", 0, 1);
	o = dispatch(sess, "logging/setLevel", "{\"level\":\"info\"}");
	T_EQ_INT(o.rc, DMCP_E_DB, "setLevel: the update fails: DMCP_E_DB");
	out_free(&o);
}

/* ---- lists ----------------------------------------------------------------------------- */

static void test_lists(struct session_row *sess, dmcp_registry *big)
{
	struct out o;
	json_object *t;
	char names[BIG_TOOLS + 1] = {0};
	char text[200];
	int page, i, dup = 0, seen = 0;
	const char *cursor = NULL;
	char cur[16] = "";

	o = dispatch(sess, "tools/list", NULL);
	T_EQ_INT(o.rc, DMCP_OK, "tools/list: OK");
	T_EQ_INT(arr_len(o.result, "tools"), reg->n_tools, "tools/list: every example tool on one page");
	T_OK(!js_has(o.result, "nextCursor"), "tools/list: no nextCursor");
	t = json_object_array_get_idx(js_get(o.result, "tools", json_type_array), 0);
	T_OK(js_str(t, "name") != NULL && js_get(t, "inputSchema", json_type_object) != NULL,
	     "tools/list: a tool has a name and an inputSchema");
	out_free(&o);

	memset(names, 0, sizeof names);
	for (page = 0; page < 5; page++) {
		size_t n;
		if (cursor != NULL)
			snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
			         "\"params\":{\"cursor\":\"%s\"}}", cursor);
		else
			snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
		o = dispatch_as(big, sess, "alice", text);
		if (o.rc != DMCP_OK)
			break;
		n = arr_len(o.result, "tools");
		for (i = 0; i < (int)n; i++) {
			const char *nm = js_str(json_object_array_get_idx(js_get(o.result, "tools",
			                                                         json_type_array),
			                                                  (size_t)i), "name");
			int k = nm != NULL ? (int)strtol(nm + 5, NULL, 10) : -1; /* tool_NNN */
			if (k < 0 || k >= BIG_TOOLS || names[k])
				dup++;
			else
				names[k] = 1;
			seen++;
		}
		if (page == 0)
			T_EQ_INT(n, REG_PAGE_SIZE, "tools/list: the first page holds REG_PAGE_SIZE tools");
		cursor = js_str(o.result, "nextCursor");
		if (cursor != NULL)
			snprintf(cur, sizeof cur, "%s", cursor);
		cursor = cursor != NULL ? cur : NULL;
		out_free(&o);
		if (cursor == NULL)
			break;
	}
	T_EQ_INT(page + 1, 3, "tools/list: 120 tools come in 3 pages");
	T_EQ_INT(seen, BIG_TOOLS, "tools/list: every tool once");
	T_EQ_INT(dup, 0, "tools/list: no tool twice");

	o = dispatch_as(big, sess, "alice", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	                "\"params\":{\"cursor\":\"zz\"}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "tools/list: a bad cursor: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch_as(big, sess, "alice", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	                "\"params\":{\"cursor\":\"c500\"}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "tools/list: a cursor past the end: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch_as(big, sess, "alice", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	                "\"params\":{\"cursor\":50}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "tools/list: a numeric cursor: DMCP_E_PARAMS");
	out_free(&o);

	o = dispatch(sess, "resources/list", NULL);
	T_EQ_INT(o.rc, DMCP_OK, "resources/list: OK");
	T_EQ_INT(arr_len(o.result, "resources"), 3, "resources/list: the three example resources");
	T_EQ_STR(js_str(json_object_array_get_idx(js_get(o.result, "resources", json_type_array), 0),
	           "uri"), "test://static-text", "resources/list: with their uris");
	out_free(&o);
	o = dispatch(sess, "resources/templates/list", NULL);
	T_EQ_INT(o.rc, DMCP_OK, "resources/templates/list: OK");
	T_EQ_INT(arr_len(o.result, "resourceTemplates"), 1, "resources/templates/list: one template");
	T_EQ_STR(js_str(json_object_array_get_idx(js_get(o.result, "resourceTemplates",
	                                            json_type_array), 0), "uriTemplate"),
	    "test://template/{id}/data", "resources/templates/list: its uriTemplate");
	out_free(&o);
	o = dispatch(sess, "prompts/list", NULL);
	T_EQ_INT(o.rc, DMCP_OK, "prompts/list: OK");
	T_EQ_INT(arr_len(o.result, "prompts"), 5, "prompts/list: the five example prompts (one runs as a call)");
	out_free(&o);
}

/* ---- resources ------------------------------------------------------------------------- */

static void test_resources(struct session_row *sess)
{
	struct out o;
	json_object *c;
	int subs0 = fake_store_count("subscriptions");

	o = dispatch(sess, "resources/read", "{\"uri\":\"test://static-text\"}");
	c = json_object_array_get_idx(js_get(o.result, "contents", json_type_array), 0);
	T_EQ_INT(o.rc, DMCP_OK, "resources/read: OK");
	T_EQ_STR(js_str(c, "text"), "This is the content of the static text resource.",
	    "resources/read: the text");
	T_EQ_STR(js_str(c, "uri"), "test://static-text", "resources/read: ... with its uri");
	out_free(&o);
	o = dispatch(sess, "resources/read", "{\"uri\":\"test://static-binary\"}");
	c = json_object_array_get_idx(js_get(o.result, "contents", json_type_array), 0);
	T_OK(o.rc == DMCP_OK && js_str(c, "blob") != NULL && !js_has(c, "text"),
	     "resources/read: a binary resource comes as a blob");
	out_free(&o);
	o = dispatch(sess, "resources/read", "{\"uri\":\"test://template/42/data\"}");
	c = json_object_array_get_idx(js_get(o.result, "contents", json_type_array), 0);
	T_OK(o.rc == DMCP_OK && has(js_str(c, "text"), "Data for ID: 42"),
	     "resources/read: a templated resource is read with its variable");
	out_free(&o);
	o = dispatch(sess, "resources/read", "{\"uri\":\"test://nothing\"}");
	T_EQ_INT(o.rc, DMCP_E_NOT_FOUND, "resources/read: unknown: DMCP_E_NOT_FOUND");
	T_EQ_INT(o.rpc_code, RPC_RESOURCE_NOT_FOUND, "resources/read: ... as -32002");
	T_EQ_STR(js_str(o.data, "uri"), "test://nothing", "resources/read: ... with data.uri");
	out_free(&o);
	o = dispatch(sess, "resources/read", "{\"uri\":7}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "resources/read: a numeric uri: DMCP_E_PARAMS");
	out_free(&o);

	o = dispatch(sess, "resources/subscribe", "{\"uri\":\"test://watched-resource\"}");
	T_OK(o.rc == DMCP_OK && json_object_object_length(o.result) == 0, "subscribe: {}");
	out_free(&o);
	T_OK(fake_store_subscribed(sess->id, "test://watched-resource"),
	     "subscribe: the store holds the subscription");
	o = dispatch(sess, "resources/subscribe", "{\"uri\":\"test://watched-resource\"}");
	T_EQ_INT(o.rc, DMCP_OK, "subscribe: twice is OK");
	out_free(&o);
	T_EQ_INT(fake_store_count("subscriptions"), subs0 + 1, "subscribe: ... and one row");
	o = dispatch(sess, "resources/subscribe", "{\"uri\":\"test://template/9/data\"}");
	T_EQ_INT(o.rc, DMCP_OK, "subscribe: a uri of a template is OK");
	out_free(&o);
	o = dispatch(sess, "resources/subscribe", "{\"uri\":\"test://nothing\"}");
	T_EQ_INT(o.rc, DMCP_E_NOT_FOUND, "subscribe: unknown uri: DMCP_E_NOT_FOUND");
	T_EQ_INT(o.rpc_code, RPC_RESOURCE_NOT_FOUND, "subscribe: ... as -32002");
	T_EQ_STR(js_str(o.data, "uri"), "test://nothing", "subscribe: ... with data.uri");
	out_free(&o);
	T_OK(!fake_store_subscribed(sess->id, "test://nothing"), "subscribe: ... and no row");
	o = dispatch(sess, "resources/unsubscribe", "{\"uri\":\"test://watched-resource\"}");
	T_OK(o.rc == DMCP_OK && json_object_object_length(o.result) == 0, "unsubscribe: {}");
	out_free(&o);
	T_OK(!fake_store_subscribed(sess->id, "test://watched-resource"),
	     "unsubscribe: the row is gone");
	o = dispatch(sess, "resources/unsubscribe", "{\"uri\":\"test://nothing\"}");
	T_OK(o.rc == DMCP_E_NOT_FOUND && o.rpc_code == RPC_RESOURCE_NOT_FOUND &&
	     has(js_str(o.data, "uri"), "nothing"), "unsubscribe: unknown uri: -32002 with data.uri");
	out_free(&o);
	o = dispatch(sess, "resources/subscribe", "{}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "subscribe: no uri: DMCP_E_PARAMS");
	out_free(&o);
}

/* ---- prompts and completion ------------------------------------------------------------- */

static void test_prompts(struct session_row *sess, dmcp_registry *big)
{
	struct out o;
	json_object *m, *v;
	char text[300];

	o = dispatch(sess, "prompts/get", "{\"name\":\"test_simple_prompt\"}");
	m = json_object_array_get_idx(js_get(o.result, "messages", json_type_array), 0);
	T_EQ_INT(o.rc, DMCP_OK, "prompts/get: OK");
	T_EQ_STR(js_str(m, "role"), "user", "prompts/get: a user message");
	T_EQ_STR(js_str(js_get(m, "content", json_type_object), "text"),
	    "This is a simple prompt for testing.", "prompts/get: its text");
	T_EQ_STR(js_str(o.result, "description"), "A prompt without arguments",
	    "prompts/get: the description");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"test_prompt_with_arguments\","
	             "\"arguments\":{\"arg1\":\"a\",\"arg2\":\"b\"}}");
	m = json_object_array_get_idx(js_get(o.result, "messages", json_type_array), 0);
	T_EQ_STR(js_str(js_get(m, "content", json_type_object), "text"),
	    "Prompt with arguments: arg1='a', arg2='b'", "prompts/get: with its arguments");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"test_prompt_with_arguments\","
	             "\"arguments\":{\"arg1\":\"a\"}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "prompts/get: a required argument missing: DMCP_E_PARAMS");
	T_OK(has(o.err, "arg2"), "prompts/get: ... naming it (%s)", o.err);
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"test_prompt_with_arguments\"}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "prompts/get: no arguments at all: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"test_prompt_with_arguments\","
	             "\"arguments\":{\"arg1\":\"a\",\"arg2\":2}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "prompts/get: a non-string argument: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"test_simple_prompt\",\"arguments\":[]}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "prompts/get: arguments not an object: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"test_simple_prompt\",\"arguments\":null}");
	T_EQ_INT(o.rc, DMCP_OK, "prompts/get: arguments null: OK");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{\"name\":\"no_such_prompt\"}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "prompts/get: an unknown prompt: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "prompts/get", "{}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "prompts/get: no name: DMCP_E_PARAMS");
	out_free(&o);

	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/prompt\",\"name\":"
	             "\"test_prompt_with_arguments\"},\"argument\":{\"name\":\"arg1\",\"value\":"
	             "\"te\"}}");
	v = js_get(o.result, "completion", json_type_object);
	T_EQ_INT(o.rc, DMCP_OK, "complete: OK");
	T_EQ_STR(js_text(js_get(v, "values", json_type_array)), "[\"test\",\"testing\"]",
	    "complete: the values are filtered by the prefix");
	T_EQ_INT(json_object_get_int(js_get(v, "total", json_type_int)), 2, "complete: total 2");
	T_OK(js_get(v, "hasMore", json_type_boolean) != NULL &&
	     !json_object_get_boolean(js_get(v, "hasMore", json_type_boolean)),
	     "complete: hasMore false");
	out_free(&o);
	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/prompt\",\"name\":"
	             "\"test_prompt_with_arguments\"},\"argument\":{\"name\":\"arg1\",\"value\":\"\"}}");
	v = js_get(o.result, "completion", json_type_object);
	T_EQ_INT(arr_len(v, "values"), 4, "complete: an empty value gives every candidate");
	out_free(&o);
	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/prompt\",\"name\":"
	             "\"test_simple_prompt\"},\"argument\":{\"name\":\"x\",\"value\":\"\"}}");
	v = js_get(o.result, "completion", json_type_object);
	T_OK(o.rc == DMCP_OK && arr_len(v, "values") == 0 &&
	     json_object_get_int(js_get(v, "total", json_type_int)) == 0,
	     "complete: a ref without a completer: no values, total 0");
	out_free(&o);
	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/resource\",\"uri\":"
	             "\"test://template/{id}/data\"},\"argument\":{\"name\":\"id\",\"value\":\"1\"}}");
	T_EQ_INT(o.rc, DMCP_OK, "complete: ref/resource: OK");
	out_free(&o);
	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/prompt\"},"
	             "\"argument\":{\"name\":\"x\",\"value\":\"\"}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "complete: ref/prompt without a name: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/other\",\"name\":\"x\"},"
	             "\"argument\":{\"name\":\"x\",\"value\":\"\"}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "complete: an unknown ref type: DMCP_E_PARAMS");
	out_free(&o);
	o = dispatch(sess, "completion/complete", "{\"ref\":{\"type\":\"ref/prompt\",\"name\":"
	             "\"test_prompt_with_arguments\"}}");
	T_EQ_INT(o.rc, DMCP_E_PARAMS, "complete: no argument: DMCP_E_PARAMS");
	out_free(&o);

	snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	         "\"completion/complete\",\"params\":{\"ref\":{\"type\":\"ref/prompt\",\"name\":"
	         "\"many\"},\"argument\":{\"name\":\"x\",\"value\":\"\"}}}");
	o = dispatch_as(big, sess, "alice", text);
	v = js_get(o.result, "completion", json_type_object);
	T_EQ_INT(arr_len(v, "values"), 100, "complete: at most 100 values");
	T_EQ_INT(json_object_get_int(js_get(v, "total", json_type_int)), MANY_VALUES,
	   "complete: total counts them all");
	T_OK(js_get(v, "hasMore", json_type_boolean) != NULL &&
	     json_object_get_boolean(js_get(v, "hasMore", json_type_boolean)), "complete: hasMore");
	out_free(&o);
	snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	         "\"completion/complete\",\"params\":{\"ref\":{\"type\":\"ref/prompt\",\"name\":"
	         "\"bad\"},\"argument\":{\"name\":\"x\",\"value\":\"\"}}}");
	o = dispatch_as(big, sess, "alice", text);
	T_EQ_INT(o.rc, DMCP_E_TOOL, "complete: a failing completer: DMCP_E_TOOL");
	T_OK(o.result == NULL, "complete: ... and no result");
	out_free(&o);
}

static void test_unknown(struct session_row *sess)
{
	struct out o;

	o = dispatch(sess, "tools/frobnicate", NULL);
	T_EQ_INT(o.rc, DMCP_E_METHOD, "unknown method: DMCP_E_METHOD");
	T_EQ_STR(o.err, "Method not found", "unknown method: Method not found");
	T_EQ_INT(err_rpc_code(o.rc), RPC_METHOD_NOT_FOUND, "unknown method: -32601");
	T_OK(o.result == NULL, "unknown method: no result");
	out_free(&o);
	o = dispatch(sess, "tools/call", "{\"name\":\"echo\"}");
	T_EQ_INT(o.rc, DMCP_E_METHOD, "tools/call is not answered here (server.c streams it)");
	out_free(&o);
	o = dispatch(sess, "Ping", NULL);
	T_EQ_INT(o.rc, DMCP_E_METHOD, "method names are case-sensitive");
	out_free(&o);
}

/* The ttlMs and cacheScope of a result as "ttl/scope" in out[cap]. */
static const char *hints(json_object *r, char *out, size_t cap)
{
	json_object *t = js_get(r, "ttlMs", json_type_int);

	snprintf(out, cap, "%d/%s", t != NULL ? json_object_get_int(t) : -1,
	         js_str(r, "cacheScope") ? js_str(r, "cacheScope") : "(none)");
	return out;
}

static const char *result_type(json_object *r)
{
	return js_str(r, "resultType");
}

static void test_modern(void)
{
	static const char *const removed[] = {"initialize", "ping", "logging/setLevel",
	                                      "resources/subscribe", "resources/unsubscribe"};
	static const char *const lists[] = {"tools/list", "prompts/list", "resources/list",
	                                    "resources/templates/list"};
	struct mcp_call c;
	struct out o;
	json_object *caps, *si;
	char h[64];
	size_t i;

	modern = 1;
	o = dispatch(NULL, "server/discover", "{}");
	T_EQ_INT(o.rc, DMCP_OK, "discover: OK");
	T_EQ_STR(js_text(js_get(o.result, "supportedVersions", json_type_array)), "[\"2026-07-28\"]",
	         "discover: supportedVersions lists the modern revision only");
	caps = js_get(o.result, "capabilities", json_type_object);
	T_EQ_STR(js_text(js_get(caps, "tools", json_type_object)), "{\"listChanged\":true}",
	         "discover: tools.listChanged (a process with change streams)");
	T_OK(js_get(caps, "prompts", json_type_object) != NULL, "discover: prompts");
	T_OK(js_str(o.result, "instructions") != NULL, "discover: instructions");
	T_EQ_STR(result_type(o.result), "complete", "discover: resultType complete");
	T_EQ_STR(hints(o.result, h, sizeof h), "60000/public", "discover: ttlMs and cacheScope");
	si = js_get(js_get(o.result, "_meta", json_type_object), "io.modelcontextprotocol/serverInfo",
	            json_type_object);
	T_EQ_STR(js_str(si, "name"), MCP_SERVER_NAME, "discover: _meta serverInfo");
	out_free(&o);
	for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		o = dispatch(NULL, lists[i], "{}");
		T_EQ_INT(o.rc, DMCP_OK, lists[i]);
		T_EQ_STR(result_type(o.result), "complete", "... resultType complete");
		T_EQ_STR(hints(o.result, h, sizeof h), "60000/public", "... cached a minute, publicly");
		out_free(&o);
	}
	o = dispatch(NULL, "resources/read", "{\"uri\":\"test://static-text\"}");
	T_EQ_STR(hints(o.result, h, sizeof h), "60000/public", "read of a static resource: cached");
	out_free(&o);
	o = dispatch(NULL, "resources/read", "{\"uri\":\"test://template/7/data\"}");
	T_EQ_STR(hints(o.result, h, sizeof h), "0/private", "read of a templated resource: not cached");
	T_EQ_STR(result_type(o.result), "complete", "... resultType complete");
	out_free(&o);
	o = dispatch(NULL, "resources/read", "{\"uri\":\"test://nothing\"}");
	T_EQ_INT(o.rpc_code, RPC_INVALID_PARAMS, "read of an unknown uri: -32602 (SEP-2164)");
	T_EQ_STR(js_str(o.data, "uri"), "test://nothing", "... with data.uri");
	out_free(&o);
	o = dispatch(NULL, "prompts/get", "{\"name\":\"test_simple_prompt\"}");
	T_EQ_STR(result_type(o.result), "complete", "prompts/get: resultType complete");
	T_OK(js_get(o.result, "ttlMs", json_type_int) == NULL, "prompts/get: not cacheable");
	out_free(&o);
	for (i = 0; i < sizeof removed / sizeof removed[0]; i++) {
		o = dispatch(NULL, removed[i], "{\"uri\":\"test://static-text\"}");
		T_EQ_INT(o.rc, DMCP_E_METHOD, removed[i]);
		out_free(&o);
	}
	memset(&c, 0, sizeof c);
	c.reg = reg;
	c.modern = 1;
	c.notifies = 1;
	T_EQ_INT(mcp_method_kind(&c, "tools/call"), MCP_STREAM, "modern: tools/call streams");
	T_EQ_INT(mcp_method_kind(&c, "subscriptions/listen"), MCP_STREAM, "modern: listen streams");
	T_EQ_INT(mcp_method_kind(&c, "server/discover"), MCP_JSON, "modern: discover is JSON");
	c.notifies = 0;
	T_EQ_INT(mcp_method_kind(&c, "subscriptions/listen"), MCP_UNKNOWN,
	         "modern: no listen where no change is delivered (nothing declared)");
	c.modern = 0;
	c.notifies = 1;
	T_EQ_INT(mcp_method_kind(&c, "server/discover"), MCP_UNKNOWN, "legacy: no server/discover");
	T_EQ_INT(mcp_method_kind(&c, "subscriptions/listen"), MCP_UNKNOWN, "legacy: no listen");
	T_EQ_INT(mcp_method_kind(&c, "resources/subscribe"), MCP_JSON, "legacy: subscribe");
	c.notifies = 0;
	T_EQ_INT(mcp_method_kind(&c, "resources/subscribe"), MCP_UNKNOWN,
	         "legacy: no subscribe where no update is delivered");
	caps = mcp_server_caps(reg, 0, 0);
	T_EQ_STR(js_text(js_get(caps, "resources", json_type_object)),
	         "{\"subscribe\":false,\"listChanged\":false}",
	         "capabilities without change streams: no subscribe, no listChanged");
	json_object_put(caps);
	modern = 0;
}

/* A registry without prompts or resources: what is not declared is not served. */
static void test_declared(void)
{
	static const char *const absent[] = {"prompts/list", "prompts/get", "resources/list",
	                                     "resources/read", "resources/templates/list"};
	dmcp_registry *tools = dmcp_registry_new();
	struct mcp_call c;
	json_object *caps;
	char err[200];
	size_t i;

	T_OK(tools != NULL && dmcp_register_tool(tools, &big_defs[0], err, sizeof err) == DMCP_OK,
	     "a registry of one tool");
	caps = mcp_server_caps(tools, 1, 0);

	T_OK(js_get(caps, "prompts", json_type_object) == NULL && js_get(caps, "resources",
	     json_type_object) == NULL, "tools only: no prompts or resources capability");
	json_object_put(caps);
	memset(&c, 0, sizeof c);
	c.reg = tools;
	for (c.modern = 0; c.modern <= 1; c.modern++)
		for (i = 0; i < sizeof absent / sizeof absent[0]; i++)
			T_EQ_INT(mcp_method_kind(&c, absent[i]), MCP_UNKNOWN, absent[i]);
	T_EQ_INT(mcp_method_kind(&c, "tools/list"), MCP_JSON, "tools/list is served");
	dmcp_registry_free(tools);
}

int main(void)
{
	char err[256];
	struct session_row sess;
	dmcp_registry *big;
	long calls;

	cfg_defaults(&cfg);
	reg = dmcp_registry_new();
	T_OK(reg != NULL && dmcp_examples_register(reg, err, sizeof err) == DMCP_OK,
	     "the examples register");
	T_EQ_INT(store_open("", &st, err, sizeof err), DMCP_OK, "the fake store opens");
	big = big_registry();

	memset(&sess, 0, sizeof sess);
	test_initialize(&sess);
	test_ping_level(&sess);
	calls = fake_store_calls();
	test_lists(&sess, big);
	T_EQ_INT(fake_store_calls(), calls, "the list methods do not touch the store");
	test_resources(&sess);
	calls = fake_store_calls();
	test_prompts(&sess, big);
	test_unknown(&sess);
	T_EQ_INT(fake_store_calls(), calls, "prompts, completion and unknown methods do not touch it");
	test_modern();
	test_declared();
	T_EQ_INT(fake_store_calls(), calls, "no 2026-07-28 method touches it");
	T_EQ_INT(fake_store_open_tx(), 0, "no transaction left open");
	T_EQ_INT(fake_store_anomalies(err, sizeof err), 0,
	   "the store saw nothing PostgreSQL would allow but dmcp must not do");
	if (err[0] != '\0')
		printf("#   last: %s\n", err);

	row_session_clear(&sess);
	store_close(st);
	fake_store_reset();
	dmcp_registry_free(big);
	dmcp_registry_free(reg);
	cfg_free(&cfg);
	return t_done();
}
