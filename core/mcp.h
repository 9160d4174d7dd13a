/* mcp.h — the MCP methods answered with one JSON result, per era: 2025-11-25 (initialize,
 * ping, logging/setLevel, resources/subscribe) and 2026-07-28 (server/discover), and both
 * (tools/list, resources, prompts, completion/complete). Dispatched from a static table per
 * era, which also names the methods the transport streams (tools/call, subscriptions/listen).
 * Knows nothing of HTTP framing or SSE.
 * MCP 2025-11-25 basic/lifecycle, server (tools, resources, prompts), basic/utilities;
 * MCP 2026-07-28 basic/lifecycle (server/discover), SEP-2549 (cache hints). */
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
	struct session_row *sess;     /* the session, or NULL (initialize, the 2026-07-28 wire) */
	const char *principal;        /* who asks */
	int modern;                   /* the 2026-07-28 wire: its method table, resultType on
	                                 every result, cache hints on cacheable ones */
	int notifies;                 /* this process keeps change streams open (list_changed
	                                 and resource updates reach clients): say so in the
	                                 capabilities, serve subscriptions */
	int ttl_ms;                   /* a cacheable result's ttlMs (handlers may lower it) */
	int cache_public;             /* ... and its cacheScope: 1 public, 0 private */
	rnd_hex_id new_session;       /* set by initialize: the new session's id */
	struct session_row created;   /* set by initialize: the new session (client_caps
	                                 borrowed from msg, valid while it lives) */
	int rpc_code;                 /* when non-zero: the JSON-RPC code of an error reply */
	json_object *error_data;      /* owned: data of an error reply, or NULL */
	char err[256];                /* the message of an error reply */
};

/* How an era serves a method. */
enum mcp_kind {
	MCP_UNKNOWN, /* not in the era's table, or its capability is not declared: -32601 */
	MCP_JSON,    /* one JSON result: mcp_dispatch */
	MCP_STREAM   /* the transport serves it (tools/call, subscriptions/listen) */
};
enum mcp_kind mcp_method_kind(const struct mcp_call *c, const char *method);

/* Answer a request: DMCP_OK with a new *result, or an error code with c->err (and maybe
 * c->rpc_code) set. DMCP_E_METHOD for methods the era does not serve (see mcp_method_kind). */
dmcp_rc mcp_dispatch(struct mcp_call *c, json_object **result) DMCP_MUST_CHECK;

/* The capabilities the server declares, as a new object: tools always; resources, prompts
 * when registered; listChanged and subscribe when notifies; when a tool may run as a task,
 * tasks (2025-11-25) or, when modern, the tasks extension under extensions (2026-07-28). */
json_object *mcp_server_caps(const dmcp_registry *reg, int notifies, int modern);

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

/* 1 when v is a revision of the sessionless era dmcp speaks (2026-07-28). */
int mcp_modern_version(const char *v);
/* Those revisions, newest first, as a new JSON array. */
json_object *mcp_modern_versions(void);

/* Cache hints of cacheable results on the 2026-07-28 wire (ttlMs, cacheScope). The registry
 * is built before serving and never changes while the process runs, and nothing in a list
 * depends on who asks: lists, server/discover and static resources may be cached by anyone
 * ("public") for a minute, which bounds how long a client keeps a stale list after a
 * deploy replaces the program while sparing clients that re-list before every call. A
 * templated resource is computed at each read: not cached (0, "private"). */
#define MCP_LIST_TTL_MS 60000

/* The server's name and version in serverInfo. */
#define MCP_SERVER_NAME "dmcp"
#define MCP_SERVER_VERSION DMCP_VERSION

#endif
