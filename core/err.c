/* err.c — names of return codes and their JSON-RPC/HTTP mapping (see err.h).
 * Knows nothing of requests. One static table, indexed by the code. */
#include "err.h"

struct err_row {
	const char *name; /* the enum constant's name */
	int rpc;          /* JSON-RPC error code */
	int http;         /* HTTP status */
};

static const struct err_row err_table[DMCP_RC_COUNT] = {
	[DMCP_OK] = {"DMCP_OK", 0, 200},
	[DMCP_SUSPENDED] = {"DMCP_SUSPENDED", 0, 200},
	[DMCP_CANCELLED] = {"DMCP_CANCELLED", RPC_INTERNAL_ERROR, 200},
	[DMCP_E_NOMEM] = {"DMCP_E_NOMEM", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_LIMIT] = {"DMCP_E_LIMIT", RPC_INVALID_REQUEST, 413},
	[DMCP_E_PARSE] = {"DMCP_E_PARSE", RPC_PARSE_ERROR, 400},
	[DMCP_E_INVALID_REQUEST] = {"DMCP_E_INVALID_REQUEST", RPC_INVALID_REQUEST, 400},
	[DMCP_E_METHOD] = {"DMCP_E_METHOD", RPC_METHOD_NOT_FOUND, 200},
	[DMCP_E_PARAMS] = {"DMCP_E_PARAMS", RPC_INVALID_PARAMS, 200},
	[DMCP_E_INTERNAL] = {"DMCP_E_INTERNAL", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_DB] = {"DMCP_E_DB", RPC_INTERNAL_ERROR, 503},
	[DMCP_E_NOT_FOUND] = {"DMCP_E_NOT_FOUND", RPC_INVALID_PARAMS, 404},
	[DMCP_E_SCHEMA] = {"DMCP_E_SCHEMA", RPC_INVALID_PARAMS, 500},
	[DMCP_E_VALIDATION] = {"DMCP_E_VALIDATION", RPC_INVALID_PARAMS, 400},
	[DMCP_E_CAPABILITY] = {"DMCP_E_CAPABILITY", RPC_INVALID_PARAMS, 400},
	[DMCP_E_ANSWER] = {"DMCP_E_ANSWER", RPC_INVALID_PARAMS, 400},
	[DMCP_E_REJECTED] = {"DMCP_E_REJECTED", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_VERSION] = {"DMCP_E_VERSION", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_TOOL] = {"DMCP_E_TOOL", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_IO] = {"DMCP_E_IO", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_CONFLICT] = {"DMCP_E_CONFLICT", RPC_INVALID_REQUEST, 409},
	[DMCP_E_URL_REQUIRED] = {"DMCP_E_URL_REQUIRED", RPC_URL_ELICITATION_REQUIRED, 200},
	[DMCP_E_NO_SAMPLING] = {"DMCP_E_NO_SAMPLING", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_UNAUTHORIZED] = {"DMCP_E_UNAUTHORIZED", RPC_SERVER_ERROR, 401},
	[DMCP_E_FORBIDDEN] = {"DMCP_E_FORBIDDEN", RPC_SERVER_ERROR, 403},
	[DMCP_E_TIMEOUT] = {"DMCP_E_TIMEOUT", RPC_INTERNAL_ERROR, 503},
	[DMCP_E_DEPTH] = {"DMCP_E_DEPTH", RPC_INTERNAL_ERROR, 500},
	[DMCP_E_BUDGET] = {"DMCP_E_BUDGET", RPC_INTERNAL_ERROR, 500},
};

static const struct err_row *row(dmcp_rc rc)
{
	if ((int)rc < 0 || rc >= DMCP_RC_COUNT || err_table[rc].name == NULL)
		return &err_table[DMCP_E_INTERNAL];
	return &err_table[rc];
}

const char *dmcp_rc_name(dmcp_rc rc)
{
	if ((int)rc < 0 || rc >= DMCP_RC_COUNT || err_table[rc].name == NULL)
		return "DMCP_RC_UNKNOWN";
	return err_table[rc].name;
}

int err_rpc_code(dmcp_rc rc)
{
	return row(rc)->rpc;
}

int err_http_status(dmcp_rc rc)
{
	return row(rc)->http;
}
