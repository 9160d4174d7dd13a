/* modern.c — the MCP 2026-07-28 wire on the same endpoint as the 2025-11-25 one: no session,
 * no initialize; every request carries its protocol version, the client's capabilities and
 * info in params._meta; tools that need the user or the client's LLM answer with an
 * input_required result and are called again (multi-round-trip requests).
 * Knows nothing of FastCGI or SQL; runs go through srv_tools_call and the runtime.
 * MCP 2026-07-28 basic/lifecycle (server/discover), basic/transports, server/tools. */
#include <stdio.h>
#include <string.h>
#include "err.h"
#include "http.h"
#include "js.h"
#include "mcp.h"
#include "srvint.h"

/* The _meta keys of a modern request. */
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"

/* Revisions of the sessionless era dmcp speaks, newest first. */
static const char *const modern_versions[] = {"2026-07-28"};

static int modern_version_ok(const char *v)
{
	size_t i;

	for (i = 0; v != NULL && i < sizeof modern_versions / sizeof modern_versions[0]; i++)
		if (strcmp(v, modern_versions[i]) == 0)
			return 1;
	return 0;
}

static json_object *request_meta(const struct req *r)
{
	return js_get(r->msg.params, "_meta", json_type_object);
}

int modern_claims(const struct req *r)
{
	json_object *meta;

	if (r->msg.kind == RPC_RESPONSE)
		return 0;
	meta = request_meta(r);
	if (meta != NULL && js_has(meta, META_VERSION))
		return 1;
	return modern_version_ok(r->rq->protocol_version);
}

void modern_handle(struct req *r)
{
	json_object *meta = request_meta(r), *caps;
	const char *v = js_str(meta, META_VERSION);

	if (r->msg.kind == RPC_NOTIFICATION) {
		srv_reply_empty(r, 202);
		return;
	}
	caps = js_get(meta, META_CAPS, json_type_object);
	if (v == NULL || caps == NULL) {
		srv_reply_error(r, 400, r->msg.id, RPC_INVALID_PARAMS, "Invalid params: _meta needs "
		                META_VERSION " and " META_CAPS, NULL);
		return;
	}
	if (!modern_version_ok(v)) {
		srv_reply_error(r, 400, r->msg.id, -32022, "Unsupported protocol version", NULL);
		return;
	}
	r->modern = 1;
	r->log_level = 8;
	r->caps = json_object_get(caps);
	if (strcmp(r->msg.method, "tools/call") == 0) {
		srv_tools_call(r);
		return;
	}
	if (strcmp(r->msg.method, "prompts/get") == 0 && srv_prompts_get(r))
		return;
	if (task_is_method(r->msg.method)) {
		task_modern(r);
		return;
	}
	srv_reply_error(r, 404, r->msg.id, RPC_METHOD_NOT_FOUND, "Method not found", NULL);
}
