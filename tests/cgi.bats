#!/usr/bin/env bats
# cgi.bats — the same program as plain CGI (RFC 3875): when fd 0 is not a socket it serves
# one request from its environment and stdin and writes "Status: ..." headers, a blank line
# and the body to stdout. Each cgi_request is one process; the session lives in PostgreSQL,
# so it carries over from one process to the next. Also the command line (--help, errors).

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"cgi","version":"1"}}}'

setup_file() {
	stack_file_up
}

teardown_file() {
	stack_file_down
}

# cgi_ok — the process exited 0 (its log lines on stderr are shown if not).
cgi_ok() {
	if [ "$cgi_rc" -ne 0 ]; then
		echo "exit status $cgi_rc; stderr: $cgi_stderr" >&2
		_http_show
		return 1
	fi
}

# cgi_init — initialize as CGI; sets $SID.
cgi_init() {
	cgi_request "$INIT"
	cgi_ok
	assert_status 200
	SID=$(header Mcp-Session-Id)
	[[ $SID =~ ^[0-9a-f]{32}$ ]] || { echo "session id '$SID'" >&2; _http_show; return 1; }
}

@test "CGI initialize: Status 200, an Mcp-Session-Id header, the result" {
	cgi_init
	[ "$(printf '%s\n' "$headers" | head -n 1)" = "Status: 200 OK" ]
	[[ $(header Content-Type) == application/json* ]]
	[ "$(header Content-Length)" = "${#body}" ]
	assert_rpc_result 1 'r["protocolVersion"] == "2025-11-25" and r["serverInfo"]["name"] == "dmcp"'
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_sessions where id = '$SID'")" = 1 ]
}

@test "CGI: tools/call echo in the session a previous process made" {
	cgi_init
	cgi_request '{"jsonrpc":"2.0","method":"notifications/initialized"}' "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 202
	assert_empty_body
	cgi_request '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"over cgi","uppercase":true}}}' \
		"HTTP_MCP_SESSION_ID=$SID" HTTP_MCP_PROTOCOL_VERSION=2025-11-25
	cgi_ok
	assert_status 200
	assert_rpc_result 2 'r["structuredContent"] == {"echoed": "OVER CGI", "length": 8}
		and json.loads(r["content"][0]["text"]) == r["structuredContent"]'
	cgi_request '{"jsonrpc":"2.0","id":3,"method":"ping"}' "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 200
	assert_rpc_result 3 'r == {}'
	# The same session over FastCGI through nginx.
	mcp_call '{"jsonrpc":"2.0","id":4,"method":"ping"}'
	assert_status 200
	assert_rpc_result 4 'r == {}'
}

@test "CGI: a body shorter than CONTENT_LENGTH is 400" {
	local data before
	cgi_init
	before=$(db_counts)
	data=$(head -c 460 /dev/zero | tr '\0' ' ')
	data='{"jsonrpc":"2.0","id":1,"method":"ping"}'$data
	[ ${#data} -eq 500 ]
	cgi_request "$data" CONTENT_LENGTH=1000 "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 400
	assert_rpc_error -32600 "the request body is shorter than its Content-Length (cut off)" null
	# The whole body with the right length is served.
	cgi_request "$data" CONTENT_LENGTH=500 "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 200
	assert_rpc_result 1 'r == {}'
	[ "$(db_counts)" = "$before" ]
}

@test "CGI: a body over DMCP_MAX_BODY is 413" {
	local data
	data=$(head -c 2000 /dev/zero | tr '\0' x)
	data='{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'$data'"}}'
	cgi_request "$data" DMCP_MAX_BODY=1024
	cgi_ok
	assert_status 413
	assert_rpc_error -32600 "request body larger than DMCP_MAX_BODY" null
}

@test "CGI: the transport rules apply (Origin, Accept, Content-Type, session)" {
	cgi_request "$INIT" HTTP_ORIGIN=http://evil.example.com
	cgi_ok
	assert_status 403
	assert_rpc_error -32000 "Host or Origin not allowed" null
	cgi_request "$INIT" HTTP_ACCEPT=application/json
	cgi_ok
	assert_status 406
	assert_rpc_error -32000 "Accept must list" null
	cgi_request "$INIT" CONTENT_TYPE=
	cgi_ok
	assert_status 415
	assert_rpc_error -32000 "Content-Type must be application/json" null
	cgi_request '{"jsonrpc":"2.0","id":1,"method":"ping"}'
	cgi_ok
	assert_status 400
	assert_rpc_error -32600 "Mcp-Session-Id header is required" 1
	cgi_request '{"jsonrpc":"2.0","id":1,"method":"ping"}' \
		HTTP_MCP_SESSION_ID=0123456789abcdef0123456789abcdef
	cgi_ok
	assert_status 404
	assert_rpc_error -32001 "Session not found" 1
}

@test "CGI: GET without Last-Event-ID is 405, DELETE ends the session" {
	cgi_init
	cgi_request "" REQUEST_METHOD=GET CONTENT_TYPE= CONTENT_LENGTH= \
		HTTP_ACCEPT=text/event-stream "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 405
	[ "$(header Allow)" = "GET, POST, DELETE" ]
	assert_rpc_error -32000 "GET without Last-Event-ID is not offered" null
	cgi_request "" REQUEST_METHOD=DELETE CONTENT_TYPE= CONTENT_LENGTH= "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 200
	assert_empty_body
	cgi_request '{"jsonrpc":"2.0","id":1,"method":"ping"}' "HTTP_MCP_SESSION_ID=$SID"
	cgi_ok
	assert_status 404
	assert_rpc_error -32001 "Session not found" 1
}

@test "CGI: an unreachable database is 503 -32603" {
	cgi_request "$INIT" "DMCP_DATABASE_URL=host=$BATS_TEST_TMPDIR/nowhere port=1 dbname=x connect_timeout=2"
	[ "$cgi_rc" -eq 0 ]
	assert_status 503
	assert_rpc_error -32603 "database unavailable" null
}

@test "--help prints the usage, naming the program, and exits 0" {
	local name
	name=$(basename "$(_stack_bin)")
	run "$(_stack_bin)" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: $name "* ]]
	[[ $output == *DMCP_DATABASE_URL* ]]
	[[ $output == *DMCP_MAX_BODY* ]]
	[[ $output == *"plain CGI"* ]]
	run "$(_stack_bin)" -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: $name "* ]]
}

@test "--version prints the version of dmcp.h and exits 0" {
	run "$(_stack_bin)" --version
	[ "$status" -eq 0 ]
	[ "$output" = "dmcp $(sed -n 's/^#define DMCP_VERSION "\(.*\)"$/\1/p' "$STACK_ROOT/core/dmcp.h")" ]
}

@test "an unknown argument exits 2 with the usage" {
	run "$(_stack_bin)" --no-such-option </dev/null
	[ "$status" -eq 2 ]
	[[ $output == *"bad argument '--no-such-option'"* ]]
	[[ $output == *"usage: $(basename "$(_stack_bin)") "* ]]
	run "$(_stack_bin)" --threads 0 </dev/null
	[ "$status" -eq 2 ]
	run "$(_stack_bin)" --threads </dev/null
	[ "$status" -eq 2 ]
	run "$(_stack_bin)" migrate migrate </dev/null
	[ "$status" -eq 2 ]
}

@test "as CGI without REQUEST_METHOD it prints the usage and exits 2" {
	local bin
	bin=$(_stack_bin)
	run env -i "PATH=$PATH" "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" "$bin" </dev/null
	[ "$status" -eq 2 ]
	[[ $output == *"usage: $(basename "$bin") "* ]]
}
