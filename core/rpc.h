/* rpc.h — JSON-RPC 2.0 messages: classify one parsed body, build replies and requests.
 * Knows nothing of HTTP or MCP methods. JSON-RPC 2.0; MCP 2025-11-25 basic/index (ids are
 * strings or integers, never null; no batches). */
#ifndef DMCP_RPC_H
#define DMCP_RPC_H

#include <json-c/json.h>
#include "dmcp.h"

enum rpc_kind { RPC_REQUEST, RPC_NOTIFICATION, RPC_RESPONSE };

struct rpc_msg {
	enum rpc_kind kind;
	json_object *root;   /* owned: the whole message */
	json_object *id;     /* borrowed from root: request/response id, or NULL */
	const char *method;  /* borrowed: request/notification method, or NULL */
	json_object *params; /* borrowed: params object, or NULL when absent */
	json_object *result; /* borrowed: a response's result, or NULL */
	json_object *error;  /* borrowed: a response's error, or NULL */
};

/* Classify the parsed value root (ownership moves into m, also on failure). A bad message
 * gives DMCP_E_INVALID_REQUEST and a one-line reason; m->id is still set when the id itself
 * was readable, so the error can echo it. A JSON array gives DMCP_E_INVALID_REQUEST too. */
dmcp_rc rpc_classify(json_object *root, struct rpc_msg *m, char *err,
                     size_t errlen) DMCP_MUST_CHECK;
void rpc_free(struct rpc_msg *m);

/* New reply objects (owned by the caller). id is copied (json_object_get); NULL means null. */
json_object *rpc_result(json_object *id, json_object *result /* taken */);
json_object *rpc_error(json_object *id, int code, const char *message,
                       json_object *data /* taken */);
/* A server->client request or notification (id NULL). params taken. */
json_object *rpc_request(const char *id, const char *method, json_object *params);

/* 1 when o is an acceptable request id: a string or an integer within +-(2^53-1). */
int rpc_id_valid(json_object *o);

#endif
