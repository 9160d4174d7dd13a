#!/usr/bin/env bats
# lifecycle.bats — the MCP methods with one JSON answer, in a session, through nginx, served
# by the demo program: ping, logging/setLevel, tools/list, tools/call of echo (a one-step
# tool); and how each refuses bad params (a JSON-RPC error, or for tool arguments a result
# with isError). Resources, prompts and completion: resources.bats. MCP 2025-11-25
# basic/lifecycle, basic/utilities, server/tools.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	stack_file_up
}

teardown_file() {
	stack_file_down
}

setup() {
	mcp_init
}

# rpc ID METHOD [PARAMS] — a request in the session.
rpc() {
	if [ $# -ge 3 ]; then
		mcp_call '{"jsonrpc":"2.0","id":'"$1"',"method":"'"$2"'","params":'"$3"'}'
	else
		mcp_call '{"jsonrpc":"2.0","id":'"$1"',"method":"'"$2"'"}'
	fi
}

# call_echo ID ARGUMENTS_JSON — tools/call of echo.
call_echo() {
	rpc "$1" tools/call '{"name":"echo","arguments":'"$2"'}'
}

@test "ping answers exactly {}" {
	rpc 1 ping
	assert_status 200
	assert_rpc_result 1 'r == {} and set(j) == {"jsonrpc", "id", "result"}'
	rpc '"p"' ping '{}'
	assert_status 200
	assert_rpc_result '"p"' 'r == {}'
}

@test "logging/setLevel debug answers {}; an invalid level is -32602" {
	local lvl
	rpc 1 logging/setLevel '{"level":"debug"}'
	assert_status 200
	assert_rpc_result 1 'r == {}'
	for lvl in info notice warning error critical alert emergency; do
		rpc 2 logging/setLevel '{"level":"'"$lvl"'"}'
		assert_rpc_result 2 'r == {}'
	done
	[ "$(stack_psql "$STACK_DIR" "select log_level from dmcp_sessions where id = '$SID'")" = 7 ]
	rpc 3 logging/setLevel '{"level":"verbose"}'
	assert_status 200
	assert_rpc_error -32602 "level must be one of debug" 3
	rpc 4 logging/setLevel '{"level":3}'
	assert_rpc_error -32602 "level must be one of" 4
	rpc 5 logging/setLevel '{}'
	assert_rpc_error -32602 "level must be one of" 5
}

@test "tools/list has the demo tools, each with a description and an inputSchema, and no fixture" {
	rpc 1 tools/list
	assert_status 200
	assert_rpc_result 1 'all(isinstance(t.get("description"), str) and t["description"] != ""
		and isinstance(t.get("inputSchema"), dict) and t["inputSchema"].get("type") == "object"
		for t in r["tools"]) and "nextCursor" not in r'
	assert_rpc_result 1 '{"echo", "confirm"} <= {t["name"] for t in r["tools"]}
		and not any(t["name"].startswith("test_") or t["name"] == "json_schema_2020_12_tool"
		for t in r["tools"])'
	assert_rpc_result 1 '[t for t in r["tools"] if t["name"] == "echo"][0]["inputSchema"]
		["required"] == ["message"]'
}

@test "tools/list with cursor bogus is -32602" {
	rpc 1 tools/list '{"cursor":"bogus"}'
	assert_status 200
	assert_rpc_error -32602 "unknown or expired cursor" 1
	rpc 2 tools/list '{"cursor":7}'
	assert_rpc_error -32602 "cursor must be a string" 2
}

@test "tools/call echo: structuredContent {echoed,length} and the same JSON as text" {
	call_echo 1 '{"message":"hello"}'
	assert_status 200
	[[ $(header Content-Type) == application/json* ]]
	assert_rpc_result 1 'r["structuredContent"] == {"echoed": "hello", "length": 5}
		and r["content"][0]["type"] == "text"
		and json.loads(r["content"][0]["text"]) == r["structuredContent"]
		and not r.get("isError", False)'
}

@test "tools/call echo with uppercase" {
	call_echo 1 '{"message":"Hello, World","uppercase":true}'
	assert_status 200
	assert_rpc_result 1 'r["structuredContent"] == {"echoed": "HELLO, WORLD", "length": 12}
		and json.loads(r["content"][0]["text"]) == r["structuredContent"]'
	call_echo 2 '{"message":"Hello","uppercase":false}'
	assert_rpc_result 2 'r["structuredContent"] == {"echoed": "Hello", "length": 5}'
}

@test "tools/call of an unknown tool is -32602 Unknown tool" {
	rpc 1 tools/call '{"name":"no_such_tool","arguments":{}}'
	assert_status 200
	assert_rpc_error -32602 "Unknown tool: no_such_tool" 1
	rpc 2 tools/call '{"arguments":{}}'
	assert_rpc_error -32602 "name must be a string" 2
}

@test "tools/call echo with a wrong argument type is a result with isError" {
	call_echo 1 '{"message":42}'
	assert_status 200
	assert_rpc_result 1 'r["isError"] is True and r["content"][0]["type"] == "text"
		and "Invalid arguments" in r["content"][0]["text"]
		and "/message" in r["content"][0]["text"]'
	call_echo 2 '{"message":"x","uppercase":"yes"}'
	assert_rpc_result 2 'r["isError"] is True and "/uppercase" in r["content"][0]["text"]'
}

@test "tools/call echo without message is a result with isError" {
	call_echo 1 '{}'
	assert_status 200
	assert_rpc_result 1 'r["isError"] is True
		and "Invalid arguments" in r["content"][0]["text"]
		and "message" in r["content"][0]["text"]'
	# No arguments at all is the same as {}.
	rpc 2 tools/call '{"name":"echo"}'
	assert_rpc_result 2 'r["isError"] is True and "message" in r["content"][0]["text"]'
}

@test "tools/call echo with an extra property is a result with isError" {
	call_echo 1 '{"message":"x","extra":1}'
	assert_status 200
	assert_rpc_result 1 'r["isError"] is True
		and "Invalid arguments" in r["content"][0]["text"]
		and "extra" in r["content"][0]["text"]'
}

@test "tools/call with arguments that are not an object is -32602" {
	local a
	for a in '"x"' '[]' 1 true null; do
		rpc 1 tools/call '{"name":"echo","arguments":'"$a"'}'
		assert_status 200
		assert_rpc_error -32602 "arguments must be an object" 1
	done
}

@test "an unknown method is -32601 with HTTP 200" {
	rpc 1 no/such/method
	assert_status 200
	assert_rpc_error -32601 "Method not found" 1
	rpc '"x"' tools/lists
	assert_status 200
	assert_rpc_error -32601 "Method not found" '"x"'
}
