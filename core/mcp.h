/* mcp.h — the MCP methods answered with one JSON result: initialize, ping, logging/setLevel,
 * tools/list, resources (list, read, subscribe), prompts, completion/complete. Dispatched
 * from a static table.
 * Knows nothing of HTTP framing or SSE; tools/call lives in server.c because it streams.
 * MCP 2025-11-25 basic/lifecycle, server (tools, resources, prompts), basic/utilities. */
#ifndef DMCP_MCP_H
#define DMCP_MCP_H

#include <json-c/json.h>
#include "cfg.h"
#include "registry.h"
#include "rnd.h"
#include "rpc.h"
#include "store.h"

struct mcp_call {
	const struct cfg *cfg;        /* borrowed */
	const dmcp_registry *reg;     /* borrowed */
	struct store *st;             /* the worker's connection */
	struct rpc_msg *msg;          /* the request */
	struct session_row *sess;     /* the session, or NULL for initialize */
	const char *principal;        /* who asks */
	rnd_hex_id new_session;       /* set by initialize: the new session's id */
	struct session_row created;   /* set by initialize: the new session (client_caps
	                                 borrowed from msg, valid while it lives) */
	int rpc_code;                 /* when non-zero: the JSON-RPC code of an error reply */
	json_object *error_data;      /* owned: data of an error reply, or NULL */
	char err[256];                /* the message of an error reply */
};

/* Answer a request: DMCP_OK with a new *result, or an error code with c->err (and maybe
 * c->rpc_code) set. DMCP_E_METHOD for methods not in the table. */
dmcp_rc mcp_dispatch(struct mcp_call *c, json_object **result) DMCP_MUST_CHECK;

/* 2026-07-28: mark result (a result object being built) with "resultType": type
 * ("complete", "input_required", "task") and the server's identity in
 * _meta["io.modelcontextprotocol/serverInfo"]. Every modern result goes through it. */
void mcp_modern_result(json_object *result, const char *type);

/* prompts/get's params: the prompt and its arguments (an object of strings with every
 * required one; *owned is an {} made here when there were none: put it). DMCP_E_PARAMS with
 * the -32602 message in err otherwise. */
dmcp_rc mcp_prompt_call(const dmcp_registry *reg, json_object *params,
                        const struct dmcp_prompt **prompt, json_object **args,
                        json_object **owned, char *err, size_t errlen) DMCP_MUST_CHECK;

/* The server's name and version in serverInfo. */
#define MCP_SERVER_NAME "dmcp"
#define MCP_SERVER_VERSION DMCP_VERSION

#endif
