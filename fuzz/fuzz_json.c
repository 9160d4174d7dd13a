/* fuzz_json.c — libFuzzer target: a request body through strict JSON (js_parse) and JSON-RPC
 * classification (rpc_classify), as the server meets it.
 * Knows nothing of HTTP or MCP methods. Properties, beyond "no crash, no sanitizer report":
 * an accepted text has no NUL and is valid UTF-8; its tree keeps the depth and count limits
 * and holds only finite numbers and NUL-free UTF-8 strings and keys; serializing and parsing
 * it again gives an equal tree and the same text (a fixed point); js_parse_trusted agrees; a
 * classified message has the fields its kind promises; and every reply built for it (result
 * or error, echoing its id) parses and classifies as a response. */
#include <math.h>
#include <string.h>
#include "fuzz.h"
#include "js.h"
#include "rpc.h"

/* Bytes of the one-line error messages, as the server keeps them. */
#define ERR_LEN 200

struct shape {
	int depth;         /* deepest nesting of containers seen */
	size_t containers; /* objects and arrays */
	size_t values;     /* every value: the root, array items and object members */
};

static void check_string(const char *s, size_t len, const char *what)
{
	FUZZ_CHECK(strlen(s) == len, "%s with a NUL inside", what);
	FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)s, len), "%s that is not UTF-8", what);
}

/* Walks o (at nesting level, counting containers around it) and checks each value. */
static void walk(json_object *o, int level, struct shape *sh)
{
	size_t i, n;

	sh->values++;
	switch (json_object_get_type(o)) {
	case json_type_double:
		FUZZ_CHECK(isfinite(json_object_get_double(o)), "a non-finite number");
		return;
	case json_type_string:
		check_string(json_object_get_string(o), (size_t)json_object_get_string_len(o),
		             "a string");
		return;
	case json_type_array:
		sh->containers++;
		if (level + 1 > sh->depth)
			sh->depth = level + 1;
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			walk(json_object_array_get_idx(o, i), level + 1, sh);
		return;
	case json_type_object: {
		sh->containers++;
		if (level + 1 > sh->depth)
			sh->depth = level + 1;
		json_object_object_foreach(o, key, val) {
			check_string(key, strlen(key), "a key");
			walk(val, level + 1, sh);
		}
		return;
	}
	default:
		return;
	}
}

/* The accepted tree o of text[0..len): its shape, its round trip, the trusted parser. */
static void check_tree(const uint8_t *text, size_t len, json_object *o)
{
	struct shape sh = {0, 0, 0};
	json_object *again = NULL, *trusted;
	char err[ERR_LEN], *copy, *out;
	dmcp_rc rc;

	FUZZ_CHECK(memchr(text, '\0', len) == NULL, "accepted a NUL byte");
	FUZZ_CHECK(fuzz_utf8_ok(text, len), "accepted invalid UTF-8");
	walk(o, 0, &sh);
	FUZZ_CHECK(sh.depth <= JS_MAX_DEPTH, "depth %d", sh.depth);
	FUZZ_CHECK(sh.containers <= JS_MAX_CONTAINERS, "%zu containers", sh.containers);
	FUZZ_CHECK(sh.values <= JS_MAX_VALUES, "%zu values", sh.values);

	out = strdup(js_text(o));
	FUZZ_CHECK(out != NULL, "out of memory");
	rc = js_parse(out, strlen(out), JS_MAX_DEPTH, &again, err, sizeof err);
	FUZZ_CHECK(rc == DMCP_OK, "our own text %s is refused: %s", out, err);
	FUZZ_CHECK(js_equal(o, again), "the text %s parses to another value", out);
	FUZZ_CHECK(strcmp(out, js_text(again)) == 0, "text is not a fixed point: %s -> %s", out,
	           js_text(again));
	json_object_put(again);
	free(out);

	copy = strndup((const char *)text, len);
	FUZZ_CHECK(copy != NULL, "out of memory");
	trusted = js_parse_trusted(copy);
	/* (JSON null is NULL to both) */
	FUZZ_CHECK(o == NULL ? trusted == NULL : trusted != NULL && js_equal(o, trusted),
	           "js_parse_trusted disagrees");
	json_object_put(trusted);
	free(copy);
}

/* A reply the server would write (taken): it must parse and be a response, with id's value. */
static void check_reply(json_object *reply, json_object *id)
{
	struct rpc_msg m;
	json_object *root = NULL;
	char err[ERR_LEN];
	const char *text = js_text(reply);
	dmcp_rc rc;

	rc = js_parse(text, strlen(text), JS_MAX_DEPTH, &root, err, sizeof err);
	FUZZ_CHECK(rc == DMCP_OK, "our reply %s does not parse: %s", text, err);
	rc = rpc_classify(root, &m, err, sizeof err);
	if (id != NULL) {
		FUZZ_CHECK(rc == DMCP_OK && m.kind == RPC_RESPONSE, "our reply %s is not a response",
		           text);
		FUZZ_CHECK(js_equal(m.id, id), "our reply %s lost the id", text);
	} else {
		/* Without an id (null) a reply is for the client only; it classifies as invalid. */
		FUZZ_CHECK(rc == DMCP_E_INVALID_REQUEST, "a reply with id null classified");
	}
	rpc_free(&m);
	json_object_put(reply);
}

static void check_message(json_object *root)
{
	struct rpc_msg m;
	char err[ERR_LEN];
	dmcp_rc rc;

	err[0] = '\0';
	rc = rpc_classify(root, &m, err, sizeof err);
	if (rc != DMCP_OK) {
		FUZZ_CHECK(rc == DMCP_E_INVALID_REQUEST, "rpc_classify gave %s", dmcp_rc_name(rc));
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof err, "no reason given");
		FUZZ_CHECK(m.id == NULL || rpc_id_valid(m.id), "an invalid id kept for the reply");
		check_reply(rpc_error(m.id, -32600, err, NULL), m.id);
		rpc_free(&m);
		return;
	}
	FUZZ_CHECK(json_object_is_type(m.root, json_type_object), "a message that is not an object");
	FUZZ_CHECK(js_str(m.root, "jsonrpc") != NULL && strcmp(js_str(m.root, "jsonrpc"), "2.0") == 0,
	           "jsonrpc is not 2.0");
	FUZZ_CHECK(m.params == NULL || json_object_is_type(m.params, json_type_object),
	           "params that are not an object");
	switch (m.kind) {
	case RPC_REQUEST:
		FUZZ_CHECK(m.id != NULL && rpc_id_valid(m.id), "a request without a valid id");
		FUZZ_CHECK(m.method != NULL && m.method[0] != '\0', "a request without a method");
		FUZZ_CHECK(m.result == NULL && m.error == NULL, "a request with a result or error");
		check_reply(rpc_result(m.id, NULL), m.id);
		break;
	case RPC_NOTIFICATION:
		FUZZ_CHECK(m.id == NULL, "a notification with an id");
		FUZZ_CHECK(m.method != NULL && m.method[0] != '\0', "a notification without a method");
		break;
	case RPC_RESPONSE:
		FUZZ_CHECK(m.id != NULL && rpc_id_valid(m.id), "a response without a valid id");
		FUZZ_CHECK(m.method == NULL, "a response with a method");
		FUZZ_CHECK((m.result != NULL) != (m.error != NULL), "a response needs one of both");
		FUZZ_CHECK(m.result == NULL || json_object_is_type(m.result, json_type_object),
		           "a result that is not an object");
		break;
	}
	rpc_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = (json_object *)&o;
	char err[ERR_LEN];
	dmcp_rc rc;

	err[0] = '\0';
	rc = js_parse((const char *)data, size, JS_MAX_DEPTH, &o, err, sizeof err);
	if (rc != DMCP_OK) {
		FUZZ_CHECK(o == NULL, "a value left after a failure");
		FUZZ_CHECK(rc == DMCP_E_PARSE || rc == DMCP_E_LIMIT || rc == DMCP_E_INVALID_REQUEST,
		           "js_parse gave %s", dmcp_rc_name(rc));
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof err, "no reason given");
		return 0;
	}
	check_tree(data, size, o);
	check_message(o);
	return 0;
}
