/* rpc.c — JSON-RPC 2.0 classification and message building (see rpc.h).
 * Knows nothing of HTTP or MCP. Checks types before reading values (json-c coerces). */
#include <stdio.h>
#include <string.h>
#include "js.h"
#include "rpc.h"

int rpc_id_valid(json_object *o)
{
	int64_t v;

	if (o == NULL)
		return 0;
	if (json_object_is_type(o, json_type_string))
		return 1;
	return json_object_is_type(o, json_type_int) && js_int53(o, &v);
}

static dmcp_rc bad(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "invalid request: %s", why);
	return DMCP_E_INVALID_REQUEST;
}

static dmcp_rc classify_response(struct rpc_msg *m, char *err, size_t errlen)
{
	json_object *code;

	m->kind = RPC_RESPONSE;
	m->result = js_get(m->root, "result", json_type_object);
	m->error = js_get(m->root, "error", json_type_object);
	if (js_has(m->root, "result") && js_has(m->root, "error"))
		return bad(err, errlen, "a response has either result or error, not both");
	if (m->result == NULL && m->error == NULL)
		return bad(err, errlen, "result must be an object");
	if (m->error != NULL) {
		code = js_get(m->error, "code", json_type_int);
		if (code == NULL || js_get(m->error, "message", json_type_string) == NULL)
			return bad(err, errlen, "error needs an integer code and a string message");
	}
	if (m->id == NULL)
		return bad(err, errlen, "a response needs the id of the request it answers");
	return DMCP_OK;
}

dmcp_rc rpc_classify(json_object *root, struct rpc_msg *m, char *err, size_t errlen)
{
	json_object *idv = NULL, *method;
	const char *ver;

	memset(m, 0, sizeof *m);
	m->root = root;
	if (json_object_is_type(root, json_type_array))
		return bad(err, errlen, "batches are not supported (MCP 2025-06-18 removed them)");
	if (!json_object_is_type(root, json_type_object))
		return bad(err, errlen, "the message must be a JSON object");
	if (json_object_object_get_ex(root, "id", &idv)) {
		if (!rpc_id_valid(idv))
			return bad(err, errlen, "id must be a string or an integer within +-(2^53-1)");
		m->id = idv;
	}
	ver = js_str(root, "jsonrpc");
	if (ver == NULL || strcmp(ver, "2.0") != 0)
		return bad(err, errlen, "jsonrpc must be \"2.0\"");
	if (!js_has(root, "method"))
		return classify_response(m, err, errlen);
	method = js_get(root, "method", json_type_string);
	if (method == NULL || json_object_get_string_len(method) == 0)
		return bad(err, errlen, "method must be a non-empty string");
	m->method = json_object_get_string(method);
	if (js_has(root, "result") || js_has(root, "error"))
		return bad(err, errlen, "a request carries no result or error");
	if (js_has(root, "params")) {
		m->params = js_get(root, "params", json_type_object);
		if (m->params == NULL)
			return bad(err, errlen, "params must be an object");
	}
	m->kind = m->id != NULL ? RPC_REQUEST : RPC_NOTIFICATION;
	return DMCP_OK;
}

void rpc_free(struct rpc_msg *m)
{
	json_object_put(m->root);
	memset(m, 0, sizeof *m);
}

static json_object *envelope(json_object *id)
{
	json_object *o = js_new_object();

	js_object_add(o, "jsonrpc", js_new_string("2.0"));
	js_object_add(o, "id", id != NULL ? json_object_get(id) : NULL);
	return o;
}

json_object *rpc_result(json_object *id, json_object *result)
{
	json_object *o = envelope(id);

	js_object_add(o, "result", result != NULL ? result : js_new_object());
	return o;
}

json_object *rpc_error(json_object *id, int code, const char *message, json_object *data)
{
	json_object *o = envelope(id), *e = js_new_object();

	js_object_add(e, "code", js_new_int(code));
	js_object_add(e, "message", js_new_string(message));
	if (data != NULL)
		js_object_add(e, "data", data);
	js_object_add(o, "error", e);
	return o;
}

json_object *rpc_request(const char *id, const char *method, json_object *params)
{
	json_object *o = js_new_object();

	js_object_add(o, "jsonrpc", js_new_string("2.0"));
	if (id != NULL)
		js_object_add(o, "id", js_new_string(id));
	js_object_add(o, "method", js_new_string(method));
	if (params != NULL)
		js_object_add(o, "params", params);
	return o;
}
