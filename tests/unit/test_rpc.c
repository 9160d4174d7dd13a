/* test_rpc.c — TAP tests of core/rpc.c: classification of requests, notifications and
 * responses, every malformed shape (batches, ids of the wrong type, params, jsonrpc), which
 * id survives a refusal, and the exact text of replies and server requests. */
#include <string.h>
#include "err.h"
#include "js.h"
#include "rpc.h"
#include "t.h"

/* One-line reasons: what callers keep. */
#define ERR_LEN 256

/* Parses text (which must be JSON) and classifies it into m; m must be freed. */
static dmcp_rc classify(const char *text, struct rpc_msg *m, char *err)
{
	json_object *root = NULL;
	dmcp_rc rc;

	err[0] = '\0';
	rc = js_parse(text, strlen(text), JS_MAX_DEPTH, &root, err, ERR_LEN);
	if (rc != DMCP_OK) {
		memset(m, 0, sizeof *m);
		return DMCP_RC_COUNT; /* a broken fixture */
	}
	return rpc_classify(root, m, err, ERR_LEN);
}

/* Classify text; expect DMCP_E_INVALID_REQUEST with a reason, and whether the id survives. */
static void invalid(const char *text, int id_kept, const char *name)
{
	struct rpc_msg m;
	char err[ERR_LEN];
	dmcp_rc rc = classify(text, &m, err);

	T_OK(rc == DMCP_E_INVALID_REQUEST && strncmp(err, "invalid request: ", 17) == 0,
	     "%s: refused with a reason (%s; %s)", name, dmcp_rc_name(rc), err);
	T_OK((m.id != NULL) == (id_kept != 0), "%s: id %s", name,
	     id_kept ? "kept for the error" : "not kept");
	rpc_free(&m);
}

static void test_request(void)
{
	struct rpc_msg m;
	char err[ERR_LEN];
	dmcp_rc rc;
	int64_t v;

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{}}", &m,
	              err);
	T_EQ_INT(rc, DMCP_OK, "a request");
	T_EQ_INT(m.kind, RPC_REQUEST, "kind request");
	T_OK(m.id != NULL && js_int53(m.id, &v) && v == 7, "id 7");
	T_EQ_STR(m.method, "tools/list", "method");
	T_OK(m.params != NULL && json_object_is_type(m.params, json_type_object), "params object");
	T_OK(m.result == NULL && m.error == NULL, "no result or error");
	T_OK(m.root != NULL, "root kept");
	rpc_free(&m);
	T_OK(m.root == NULL && m.id == NULL && m.method == NULL, "rpc_free clears the message");

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST && m.params == NULL &&
	     strcmp(json_object_get_string(m.id), "abc") == 0, "string id, no params");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST, "an empty string id is a string id");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST, "id 0");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":-9007199254740991,\"method\":\"ping\"}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST, "id -(2^53-1)");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,\"method\":\"ping\"}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST, "id 2^53-1");
	rpc_free(&m);

	rc = classify("{\"method\":\"ping\",\"id\":1,\"jsonrpc\":\"2.0\",\"extra\":[1]}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST, "any member order, unknown members ignored");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &m, err);
	T_EQ_INT(rc, DMCP_OK, "a notification");
	T_OK(m.kind == RPC_NOTIFICATION && m.id == NULL &&
	     strcmp(m.method, "notifications/initialized") == 0, "notification without id");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{\"a\":1}}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_NOTIFICATION && m.params != NULL,
	     "a notification with params");
	rpc_free(&m);
}

static void test_response(void)
{
	struct rpc_msg m;
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"result\":{\"action\":\"accept\"}}", &m,
	              err);
	T_EQ_INT(rc, DMCP_OK, "a result response");
	T_OK(m.kind == RPC_RESPONSE && m.result != NULL && m.error == NULL && m.method == NULL &&
	     m.id != NULL, "result response fields");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_RESPONSE, "an empty result object");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":\"r2\",\"error\":{\"code\":-1,\"message\":\"no\"}}",
	              &m, err);
	T_EQ_INT(rc, DMCP_OK, "an error response");
	T_OK(m.kind == RPC_RESPONSE && m.error != NULL && m.result == NULL, "error response fields");
	rpc_free(&m);

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"x\","
	              "\"data\":[1,2]}}", &m, err);
	T_OK(rc == DMCP_OK && m.kind == RPC_RESPONSE, "an error with data");
	rpc_free(&m);

	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,\"message\":\"m\"}}",
	        1, "a response with both result and error");
	invalid("{\"jsonrpc\":\"2.0\",\"result\":{}}", 0, "a response without id");
	invalid("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"m\"}}", 0,
	        "an error response without id");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1,\"message\":\"m\"}}", 0,
	        "an error response with id null");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"1\",\"message\":\"m\"}}", 1,
	        "an error with a string code");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1.5,\"message\":\"m\"}}", 1,
	        "an error with a fractional code");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"m\"}}", 1,
	        "an error without code");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}", 1,
	        "an error without message");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,\"message\":2}}", 1,
	        "an error with a numeric message");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}", 1, "an error that is a string");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":5}", 1, "a result that is a number");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}", 1, "a null result");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1}", 1, "neither method, result nor error");
}

static void test_invalid(void)
{
	struct rpc_msg m;
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = classify("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", &m, err);
	T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "batches") != NULL,
	     "a batch array is refused and the reason mentions batches (%s)", err);
	T_OK(m.id == NULL && m.root != NULL, "a batch: no id, root owned by m");
	rpc_free(&m);
	rc = classify("[]", &m, err);
	T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "batches") != NULL, "an empty batch");
	rpc_free(&m);

	invalid("\"ping\"", 0, "a string message");
	invalid("42", 0, "a number message");
	invalid("null", 0, "a null message");
	invalid("true", 0, "a boolean message");
	rc = rpc_classify(NULL, &m, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_INVALID_REQUEST, "a NULL root (parsed JSON null) is refused");
	rpc_free(&m);

	/* jsonrpc. */
	invalid("{\"id\":1,\"method\":\"ping\"}", 1, "missing jsonrpc");
	invalid("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", 1, "jsonrpc 1.0");
	invalid("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}", 1, "jsonrpc as a number");
	invalid("{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"ping\"}", 1, "jsonrpc with a space");
	invalid("{\"jsonrpc\":null,\"id\":1,\"method\":\"ping\"}", 1, "jsonrpc null");
	invalid("{\"jsonrpc\":\"\",\"method\":\"n\"}", 0, "empty jsonrpc on a notification");

	/* Ids of every wrong type: refused, and not echoed. */
	invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", 0, "id null");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", 0, "id 1.5");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"ping\"}", 0, "id 1.0 (a double)");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", 0, "id true");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":false,\"method\":\"ping\"}", 0, "id false");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", 0, "id object");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", 0, "id array");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9007199254740992,\"method\":\"ping\"}", 0, "id 2^53");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":-9007199254740992,\"method\":\"ping\"}", 0,
	        "id -(2^53)");
	{
		static const char big[] = "{\"jsonrpc\":\"2.0\",\"id\":12345678901234567890123,"
		                          "\"method\":\"ping\"}";
		json_object *root = NULL;
		rc = js_parse(big, strlen(big), JS_MAX_DEPTH, &root, err, ERR_LEN);
		T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "64 bits") != NULL && root == NULL,
		     "id beyond int64: refused by the parser before classification (%s)", err);
	}
	invalid("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}", 0, "id 1e3 (a double)");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", 0, "a response with id null");
	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", &m, err);
	T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "id") != NULL,
	     "the reason names the id (%s)", err);
	rpc_free(&m);

	/* A valid id with something else wrong: the id is kept so the error can echo it. */
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"\"}", 1, "empty method");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":5}", 1, "numeric method");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":null}", 1, "null method");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":[\"ping\"]}", 1, "array method");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"ping\",\"params\":[1,2]}", 1,
	        "params array");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":\"x\"}", 1,
	        "params string");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":null}", 1,
	        "params null");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"result\":{}}", 1,
	        "a request carrying a result");
	invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"error\":{}}", 1,
	        "a request carrying an error");
	invalid("{\"jsonrpc\":\"1.0\",\"id\":9,\"method\":\"ping\"}", 1, "bad jsonrpc keeps the id");
	invalid("{\"jsonrpc\":\"2.0\",\"method\":\"\"}", 0, "a notification with an empty method");
	invalid("{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":[]}", 0,
	        "a notification with params array");

	rc = classify("{\"jsonrpc\":\"2.0\",\"id\":\"keep\",\"method\":\"\"}", &m, err);
	T_OK(rc == DMCP_E_INVALID_REQUEST && m.id != NULL &&
	     strcmp(json_object_get_string(m.id), "keep") == 0, "the kept id is the message's id");
	rpc_free(&m);
}

static void test_id_valid(void)
{
	json_object *o;

	T_EQ_INT(rpc_id_valid(NULL), 0, "rpc_id_valid(NULL)");
	o = json_object_new_int64(9007199254740991LL);
	T_EQ_INT(rpc_id_valid(o), 1, "2^53-1 built in memory");
	json_object_put(o);
	o = json_object_new_int64(9007199254740992LL);
	T_EQ_INT(rpc_id_valid(o), 0, "2^53 built in memory");
	json_object_put(o);
	o = json_object_new_double(3.0);
	T_EQ_INT(rpc_id_valid(o), 0, "a double is not an id, even an integral one");
	json_object_put(o);
	o = json_object_new_string("x");
	T_EQ_INT(rpc_id_valid(o), 1, "a string");
	json_object_put(o);
}

static void test_build(void)
{
	json_object *id, *o, *p;

	id = json_object_new_int(1);
	o = rpc_result(id, NULL);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
	         "rpc_result with no result gives {}");
	json_object_put(o);
	p = json_object_new_object();
	json_object_object_add(p, "tools", json_object_new_array());
	o = rpc_result(id, p);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}",
	         "rpc_result text");
	json_object_put(o);
	T_OK(json_object_get_int(id) == 1, "the id is copied, still ours after the reply is freed");
	json_object_put(id);

	id = json_object_new_string("a/\"b\"");
	o = rpc_error(id, RPC_INVALID_PARAMS, "bad \"x\"\n", NULL);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":\"a/\\\"b\\\"\",\"error\":{\"code\":-32602,"
	         "\"message\":\"bad \\\"x\\\"\\n\"}}", "rpc_error text, escaped, slash kept");
	json_object_put(o);
	json_object_put(id);

	o = rpc_error(NULL, RPC_PARSE_ERROR, "parse error", NULL);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
	         "\"message\":\"parse error\"}}", "rpc_error with id null");
	json_object_put(o);

	p = json_object_new_object();
	json_object_object_add(p, "k", json_object_new_int(2));
	o = rpc_error(NULL, RPC_URL_ELICITATION_REQUIRED, "m", p);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32042,"
	         "\"message\":\"m\",\"data\":{\"k\":2}}}", "rpc_error with data");
	json_object_put(o);

	o = rpc_result(NULL, NULL);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", "rpc_result id null");
	json_object_put(o);

	p = json_object_new_object();
	json_object_object_add(p, "message", json_object_new_string("hi"));
	o = rpc_request("r-1", "elicitation/create", p);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"id\":\"r-1\",\"method\":\"elicitation/create\","
	         "\"params\":{\"message\":\"hi\"}}", "rpc_request text");
	json_object_put(o);

	o = rpc_request(NULL, "notifications/progress", NULL);
	T_EQ_STR(js_text(o), "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}",
	         "a notification has no id and no params when none given");
	json_object_put(o);

	/* What we build, we classify as what it is. */
	{
		struct rpc_msg m;
		char err[ERR_LEN];
		dmcp_rc rc;
		o = rpc_request("q", "ping", json_object_new_object());
		rc = rpc_classify(o, &m, err, sizeof err);
		T_OK(rc == DMCP_OK && m.kind == RPC_REQUEST, "rpc_request classifies as a request");
		rpc_free(&m);
		id = json_object_new_string("q");
		o = rpc_error(id, -1, "no", NULL);
		json_object_put(id);
		rc = rpc_classify(o, &m, err, sizeof err);
		T_OK(rc == DMCP_OK && m.kind == RPC_RESPONSE && m.error != NULL,
		     "rpc_error classifies as an error response");
		rpc_free(&m);
	}
}

int main(void)
{
	test_request();
	test_response();
	test_invalid();
	test_id_valid();
	test_build();
	return t_done();
}
