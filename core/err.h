/* err.h — the one table that maps the library's return codes to JSON-RPC error codes and
 * HTTP statuses. Knows nothing of how either is written. JSON-RPC 2.0 §5.1; MCP 2025-11-25
 * basic/index (error codes) and elicitation (-32042). */
#ifndef DMCP_ERR_H
#define DMCP_ERR_H

#include "dmcp.h"

/* JSON-RPC codes used by dmcp. */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
	RPC_SERVER_ERROR = -32000,     /* transport-level refusals (HTTP 4xx) */
	RPC_SESSION_NOT_FOUND = -32001,
	RPC_RESOURCE_NOT_FOUND = -32002,
	RPC_URL_ELICITATION_REQUIRED = -32042,
	RPC_REQUEST_CANCELLED = -32800,    /* the server cancelled the call (an operator's `runs
	                                      cancel`): MCP names no code, LSP uses this one */
	RPC_HEADER_MISMATCH = -32020,      /* 2026-07-28: a header disagrees with the body */
	RPC_MISSING_CAPABILITY = -32021,   /* 2026-07-28: the call needs an undeclared capability */
	RPC_UNSUPPORTED_VERSION = -32022   /* 2026-07-28: data {supported, requested} */
};

/* The JSON-RPC code for rc when it ends a request. */
int err_rpc_code(dmcp_rc rc);
/* The HTTP status for rc when it ends a request before JSON-RPC dispatch. */
int err_http_status(dmcp_rc rc);

#endif
