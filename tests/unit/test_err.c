/* test_err.c — TAP tests of core/err.c: every return code has its own name, a JSON-RPC code
 * and an HTTP status, and codes outside the enum fall back safely. Knows nothing else. */
#include <string.h>
#include "err.h"
#include "t.h"

/* The enum constants and how they are spelled: dmcp_rc_name must give exactly this. */
#define RC(x) {x, #x}
static const struct {
	dmcp_rc rc;
	const char *name;
} names[] = {
	RC(DMCP_OK), RC(DMCP_SUSPENDED), RC(DMCP_CANCELLED), RC(DMCP_E_NOMEM), RC(DMCP_E_LIMIT),
	RC(DMCP_E_PARSE), RC(DMCP_E_INVALID_REQUEST), RC(DMCP_E_METHOD), RC(DMCP_E_PARAMS),
	RC(DMCP_E_INTERNAL), RC(DMCP_E_DB), RC(DMCP_E_NOT_FOUND), RC(DMCP_E_SCHEMA),
	RC(DMCP_E_VALIDATION), RC(DMCP_E_CAPABILITY), RC(DMCP_E_ANSWER), RC(DMCP_E_REJECTED),
	RC(DMCP_E_VERSION), RC(DMCP_E_TOOL), RC(DMCP_E_IO), RC(DMCP_E_CONFLICT),
	RC(DMCP_E_URL_REQUIRED), RC(DMCP_E_NO_SAMPLING), RC(DMCP_E_UNAUTHORIZED), RC(DMCP_E_FORBIDDEN),
	RC(DMCP_E_TIMEOUT), RC(DMCP_E_DEPTH), RC(DMCP_E_BUDGET),
};

/* JSON-RPC 2.0 §5.1: -32768 to -32000 are reserved for pre-defined errors. */
#define RPC_RESERVED_LO (-32768)
#define RPC_RESERVED_HI (-32000)

static int rpc_sane(int code)
{
	/* 0 means "no error" (success and suspension); -32042 is MCP's URL elicitation code. */
	return code == 0 || (code >= RPC_RESERVED_LO && code <= RPC_RESERVED_HI);
}

static void test_every_code(void)
{
	int i, j;

	T_EQ_INT(sizeof names / sizeof names[0], DMCP_RC_COUNT, "the test knows every code");
	for (i = 0; i < DMCP_RC_COUNT; i++) {
		dmcp_rc rc = (dmcp_rc)i;
		const char *n = dmcp_rc_name(rc);
		int code = err_rpc_code(rc), http = err_http_status(rc);
		T_OK(n != NULL && strncmp(n, "DMCP_", 5) == 0 && strcmp(n, "DMCP_RC_UNKNOWN") != 0,
		     "code %d has a name (%s)", i, n != NULL ? n : "(null)");
		T_OK(rpc_sane(code), "%s: JSON-RPC code %d is reserved-range or 0", n, code);
		T_OK(http >= 200 && http <= 599, "%s: HTTP status %d is 2xx-5xx", n, http);
		T_OK((code == 0) == (rc == DMCP_OK || rc == DMCP_SUSPENDED),
		     "%s: only success and suspension map to no error", n);
		for (j = 0; j < i; j++)
			if (strcmp(dmcp_rc_name((dmcp_rc)j), n) == 0)
				break;
		T_OK(j == i, "%s: the name is unique", n);
	}
	for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		T_EQ_STR(dmcp_rc_name(names[i].rc), names[i].name, "name matches the enum spelling");
}

static void test_out_of_range(void)
{
	const dmcp_rc bad[] = {DMCP_RC_COUNT, (dmcp_rc)(DMCP_RC_COUNT + 1), (dmcp_rc)-1,
	                       (dmcp_rc)1000000};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_EQ_STR(dmcp_rc_name(bad[i]), "DMCP_RC_UNKNOWN", "out-of-range code has no name");
		T_EQ_INT(err_rpc_code(bad[i]), RPC_INTERNAL_ERROR, "out-of-range code: internal error");
		T_EQ_INT(err_http_status(bad[i]), 500, "out-of-range code: HTTP 500");
	}
}

static void test_mapping(void)
{
	/* The codes the protocol fixes (JSON-RPC 2.0 §5.1, MCP elicitation -32042). */
	T_EQ_INT(err_rpc_code(DMCP_E_PARSE), -32700, "parse error");
	T_EQ_INT(err_rpc_code(DMCP_E_INVALID_REQUEST), -32600, "invalid request");
	T_EQ_INT(err_rpc_code(DMCP_E_METHOD), -32601, "method not found");
	T_EQ_INT(err_rpc_code(DMCP_E_PARAMS), -32602, "invalid params");
	T_EQ_INT(err_rpc_code(DMCP_E_INTERNAL), -32603, "internal error");
	T_EQ_INT(err_rpc_code(DMCP_E_URL_REQUIRED), -32042, "URL elicitation required");
	T_EQ_INT(err_http_status(DMCP_OK), 200, "OK is 200");
	T_EQ_INT(err_http_status(DMCP_E_PARSE), 400, "bad JSON is 400");
	T_EQ_INT(err_http_status(DMCP_E_INVALID_REQUEST), 400, "invalid request is 400");
	T_EQ_INT(err_http_status(DMCP_E_LIMIT), 413, "a crossed limit is 413");
	T_EQ_INT(err_http_status(DMCP_E_NOT_FOUND), 404, "not found is 404");
	T_EQ_INT(err_http_status(DMCP_E_DB), 503, "database trouble is 503 (retry)");
	T_EQ_INT(err_http_status(DMCP_E_CONFLICT), 409, "conflict is 409");
	T_EQ_INT(err_http_status(DMCP_E_NOMEM), 500, "out of memory is 500");
}

int main(void)
{
	test_every_code();
	test_out_of_range();
	test_mapping();
	return t_done();
}
