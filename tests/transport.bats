#!/usr/bin/env bats
# transport.bats — the Streamable HTTP transport rules (MCP 2025-11-25 basic/transports and
# basic/lifecycle), one test per rule, each sent with curl through nginx. Every test checks
# the HTTP status and the JSON-RPC body (error code, a fragment of the message, the id).

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

PING='{"jsonrpc":"2.0","id":1,"method":"ping"}'
INIT_PARAMS='"capabilities":{},"clientInfo":{"name":"bats","version":"1"}'

setup_file() {
	stack_file_up
}

teardown_file() {
	stack_file_down
}

setup() {
	mcp_init
}

# init_as VERSION [ID] — an initialize request asking for VERSION.
init_as() {
	mcp_post '{"jsonrpc":"2.0","id":'"${2:-1}"',"method":"initialize","params":{"protocolVersion":"'"$1"'",'"$INIT_PARAMS"'}}'
}

# ping_with [curl args...] — a ping in $SID with Content-Type json and the given headers
# (no default Accept: curl's own "*/*" unless the args set one or remove it with 'Accept:').
ping_with() {
	mcp_send POST "$PING" -H 'Content-Type: application/json' -H "Mcp-Session-Id: $SID" "$@"
}

assert_pong() {
	assert_status 200
	assert_rpc_result 1 'r == {}'
}

# ---- Accept ------------------------------------------------------------------------------

@test "POST without Accept is 406" {
	ping_with -H 'Accept:'
	assert_status 406
	assert_rpc_error -32000 "Accept must list application/json and text/event-stream" null
}

@test "POST accepting only application/json is 406" {
	ping_with -H 'Accept: application/json'
	assert_status 406
	assert_rpc_error -32000 "Accept must list" null
}

@test "POST accepting only text/event-stream is 406" {
	ping_with -H 'Accept: text/event-stream'
	assert_status 406
	assert_rpc_error -32000 "Accept must list" null
}

@test "POST Accept in reversed order, with spaces and q-values, is accepted" {
	ping_with -H 'Accept:  text/event-stream ; q=0.5 ,application/json;q=0.9 '
	assert_pong
}

@test "POST Accept */* is accepted" {
	ping_with -H 'Accept: */*'
	assert_pong
}

@test "POST Accept application/*, text/* is accepted" {
	ping_with -H 'Accept: application/*, text/*'
	assert_pong
}

@test "POST Accept with application/json;q=0 is 406" {
	ping_with -H 'Accept: application/json;q=0, text/event-stream'
	assert_status 406
	assert_rpc_error -32000 "Accept must list" null
}

# ---- Content-Type ------------------------------------------------------------------------

@test "POST Content-Type text/plain is 415" {
	mcp_send POST "$PING" -H 'Content-Type: text/plain' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_status 415
	assert_rpc_error -32000 "Content-Type must be application/json" null
}

@test "POST without Content-Type is 415" {
	mcp_send POST "$PING" -H 'Content-Type:' -H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID"
	assert_status 415
	assert_rpc_error -32000 "Content-Type must be application/json" null
}

@test "POST Content-Type application/json; charset=utf-8 is accepted" {
	mcp_send POST "$PING" -H 'Content-Type: application/json; charset=utf-8' \
		-H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID"
	assert_pong
}

@test "POST Content-Type Application/JSON is accepted" {
	mcp_send POST "$PING" -H 'Content-Type: Application/JSON' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_pong
}

# ---- the body ----------------------------------------------------------------------------

@test "a JSON array (batch) is 400 -32600 with id null" {
	mcp_call '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
	assert_status 400
	assert_rpc_error -32600 "batches are not supported" null
}

@test "a parse error is 400 -32700 with id null" {
	mcp_call '{"jsonrpc":"2.0","id":1,"method":'
	assert_status 400
	assert_rpc_error -32700 "parse error" null
	mcp_call '{"jsonrpc":"2.0","id":1,"method":"ping"'
	assert_status 400
	assert_rpc_error -32700 "parse error" null
}

@test "a body that is not an object is 400 -32600" {
	mcp_call '"x"'
	assert_status 400
	assert_rpc_error -32600 "must be a JSON object" null
	mcp_call '42'
	assert_status 400
	assert_rpc_error -32600 "must be a JSON object" null
}

@test "an empty body is 400 -32700" {
	mcp_send POST "" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_status 400
	assert_rpc_error -32700 "parse error" null
}

@test "jsonrpc other than \"2.0\" is 400 -32600" {
	mcp_call '{"jsonrpc":"1.0","id":1,"method":"ping"}'
	assert_status 400
	assert_rpc_error -32600 'jsonrpc must be "2.0"' 1
}

# ---- Host and Origin ---------------------------------------------------------------------

@test "Origin http://evil.example.com is 403" {
	mcp_call "$PING" -H 'Origin: http://evil.example.com'
	assert_status 403
	assert_rpc_error -32000 "Host or Origin not allowed" null
}

@test "Host evil.example.com is 403 (DNS rebinding)" {
	mcp_call "$PING" -H 'Host: evil.example.com'
	assert_status 403
	assert_rpc_error -32000 "Host or Origin not allowed" null
	mcp_call "$PING" -H "Host: evil.example.com:$STACK_PORT"
	assert_status 403
	assert_rpc_error -32000 "Host or Origin not allowed" null
}

@test "Origin http://localhost:PORT is accepted" {
	mcp_call "$PING" -H "Origin: http://localhost:$STACK_PORT"
	assert_pong
	mcp_call "$PING" -H "Origin: http://127.0.0.1:$STACK_PORT"
	assert_pong
}

@test "Origin null is 403" {
	mcp_call "$PING" -H 'Origin: null'
	assert_status 403
	assert_rpc_error -32000 "Host or Origin not allowed" null
}

@test "no Origin is accepted" {
	mcp_call "$PING"
	assert_pong
	[[ $last_request != *Origin* ]]
}

# ---- sessions ----------------------------------------------------------------------------

@test "a request other than initialize without Mcp-Session-Id is 400" {
	mcp_post "$PING"
	assert_status 400
	assert_rpc_error -32600 "Mcp-Session-Id header is required" 1
}

@test "an unknown session id is 404 -32001" {
	SID=0123456789abcdef0123456789abcdef
	mcp_call "$PING"
	assert_status 404
	assert_rpc_error -32001 "Session not found" 1
}

@test "a malformed session id is 404 -32001" {
	local bad
	for bad in abc "${SID^^}" "${SID}0" "${SID:0:31}" "${SID:0:31}g"; do
		SID=$bad mcp_call "$PING"
		assert_status 404
		assert_rpc_error -32001 "Session not found" 1
	done
}

@test "DELETE ends the session: 200, then the session is 404" {
	mcp_delete -H "Mcp-Session-Id: $SID"
	assert_status 200
	assert_empty_body
	mcp_call "$PING"
	assert_status 404
	assert_rpc_error -32001 "Session not found" 1
	mcp_delete -H "Mcp-Session-Id: $SID"
	assert_status 404
	assert_rpc_error -32001 "Session not found" null
}

@test "DELETE without Mcp-Session-Id is 400" {
	mcp_delete
	assert_status 400
	assert_rpc_error -32600 "Mcp-Session-Id header is required" null
}

@test "DELETE of an unknown session is 404" {
	mcp_delete -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef'
	assert_status 404
	assert_rpc_error -32001 "Session not found" null
	mcp_delete -H 'Mcp-Session-Id: abc'
	assert_status 404
	assert_rpc_error -32001 "Session not found" null
}

# ---- MCP-Protocol-Version ----------------------------------------------------------------

@test "MCP-Protocol-Version 1999-01-01 is 400" {
	MCP_PV=1999-01-01 mcp_call "$PING"
	assert_status 400
	assert_rpc_error -32600 "unsupported MCP-Protocol-Version" 1
}

@test "MCP-Protocol-Version 2025-03-26, 2025-06-18 and 2025-11-25 are accepted" {
	local v
	for v in 2025-03-26 2025-06-18 2025-11-25; do
		MCP_PV=$v mcp_call "$PING"
		assert_pong
	done
}

@test "no MCP-Protocol-Version is accepted" {
	ping_with -H "Accept: $MCP_ACCEPT"
	assert_pong
	[[ $last_request != *MCP-Protocol-Version* ]]
}

# ---- notifications and responses ---------------------------------------------------------

@test "notifications/initialized is 202 with an empty body" {
	mcp_call '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	assert_status 202
	assert_empty_body
}

@test "an unknown notification is 202 with an empty body" {
	mcp_call '{"jsonrpc":"2.0","method":"notifications/no_such_thing","params":{"x":1}}'
	assert_status 202
	assert_empty_body
}

@test "a notification without Mcp-Session-Id is 400" {
	mcp_post '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	assert_status 400
	assert_rpc_error -32600 "Mcp-Session-Id header is required" null
}

@test "a response to a request the server never sent is 404" {
	mcp_call '{"jsonrpc":"2.0","id":"0123456789abcdef0123456789abcdef","result":{}}'
	assert_status 404
	assert_rpc_error -32602 "no request of ours has this id" '"0123456789abcdef0123456789abcdef"'
	mcp_call '{"jsonrpc":"2.0","id":5,"result":{}}'
	assert_status 404
	assert_rpc_error -32602 "no request of ours has this id" 5
	mcp_call '{"jsonrpc":"2.0","id":"nope","error":{"code":-1,"message":"no"}}'
	assert_status 404
	assert_rpc_error -32602 "no request of ours has this id" '"nope"'
}

@test "a response without id is 400 -32600" {
	mcp_call '{"jsonrpc":"2.0","result":{}}'
	assert_status 400
	assert_rpc_error -32600 "needs the id" null
}

# ---- GET and other methods ---------------------------------------------------------------

@test "GET without Last-Event-ID opens the session's standalone stream (no event ids)" {
	mcp_get -H "Mcp-Session-Id: $SID" --max-time 1
	assert_status 200
	[ "$(header Content-Type)" = text/event-stream ] || { _http_show; return 1; }
	! grep -q '^id:' <<<"$body"
}

@test "GET without Last-Event-ID needs a session: none is 405 with Allow, an unknown one 404" {
	mcp_get
	assert_status 405
	[ "$(header Allow)" = "GET, POST, DELETE" ] || { _http_show; return 1; }
	assert_rpc_error -32000 "needs Mcp-Session-Id" null
	mcp_get -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef'
	assert_status 404
	assert_rpc_error -32001 "Session not found" null
}

@test "GET with a malformed Last-Event-ID is 400" {
	local bad
	for bad in nonsense "0123456789abcdef0123456789abcdef" "0123456789abcdef0123456789abcdef:" \
		"0123456789ABCDEF0123456789ABCDEF:1" "0123456789abcdef0123456789abcdef:-1" \
		"0123456789abcdef0123456789abcdef:1x" "0123456789abcdef0123456789abcdef:1234567890123456789"; do
		mcp_get -H "Mcp-Session-Id: $SID" \
			-H "Last-Event-ID: $bad"
		assert_status 400
		assert_rpc_error -32600 "malformed Last-Event-ID" null
	done
}

@test "GET with the Last-Event-ID of a run that does not exist is 404" {
	mcp_get -H "Mcp-Session-Id: $SID" \
		-H 'Last-Event-ID: 0123456789abcdef0123456789abcdef:1'
	assert_status 404
	assert_rpc_error -32602 "no such stream in this session" null
}

# A finished run with a stored stream: one progress notification (LSN 1), then the response
# (LSN 2). A call that finishes in one step with nothing to stream is not stored at all.
progress_run() {
	mcp_call '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"slow_progress","arguments":{"steps":1,"delay_ms":0},"_meta":{"progressToken":"p"}}}'
	assert_status 200
	run=$(stack_psql "$STACK_DIR" "select id from dmcp_runs where session_id = '$SID'")
	[[ $run =~ ^[0-9a-f]{32}$ ]]
}

# assert_replay EVENTS_PYEXPR — the GET answered 200 text/event-stream whose events (a list
# of {"id", "data"}, bound to `j`) satisfy EVENTS_PYEXPR; the last one carries the response.
assert_replay() {
	local events
	assert_status 200
	[[ $(header Content-Type) == text/event-stream* ]] || { _http_show; return 1; }
	events=$(sse_json)
	json_check "$1" "$events" || { echo "events: $events" >&2; _http_show; return 1; }
	body=$(json_get -1.data "$events")
	assert_rpc_result 11 'r["content"] == [{"type": "text", "text": "Finished 1 steps."}]'
}

@test "GET with the Last-Event-ID of a finished run replays its events; another session gets 404" {
	local run
	progress_run
	# 2025-11-25: a priming event (the client's cursor again, empty data), the progress, then
	# the response.
	mcp_get -H "Mcp-Session-Id: $SID" -H "Last-Event-ID: $run:0"
	assert_replay 'j == [{"id": "'"$run"':0", "data": ""},
		{"id": "'"$run"':1", "data": j[1]["data"]}, {"id": "'"$run"':2", "data": j[2]["data"]}]
		and "notifications/progress" in j[1]["data"] and "result" in j[2]["data"]'
	# Past the last event: nothing to resume.
	mcp_get -H "Mcp-Session-Id: $SID" -H "Last-Event-ID: $run:3"
	assert_status 404
	assert_rpc_error -32602 "no such stream in this session" null
	# The run belongs to its session only.
	mcp_init
	mcp_get -H "Mcp-Session-Id: $SID" -H "Last-Event-ID: $run:0"
	assert_status 404
	assert_rpc_error -32602 "no such stream in this session" null
}

@test "GET resumption in a 2025-06-18 session has no priming event" {
	local run
	mcp_init 2025-06-18
	MCP_PV=2025-06-18 progress_run
	mcp_get -H "Mcp-Session-Id: $SID" -H "Last-Event-ID: $run:0" -H 'MCP-Protocol-Version: 2025-06-18'
	assert_replay 'len(j) == 2 and j[0]["id"] == "'"$run"':1"'
}

@test "GET with Last-Event-ID but without Mcp-Session-Id is 400" {
	mcp_get \
		-H 'Last-Event-ID: 0123456789abcdef0123456789abcdef:1'
	assert_status 400
	assert_rpc_error -32600 "Mcp-Session-Id header is required" null
}

@test "GET that does not accept text/event-stream is 406" {
	mcp_send GET "" -H 'Accept: application/json' -H "Mcp-Session-Id: $SID" \
		-H 'Last-Event-ID: 0123456789abcdef0123456789abcdef:1'
	assert_status 406
	assert_rpc_error -32000 "Accept must list text/event-stream" null
}

@test "PUT is 405 with Allow" {
	mcp_send PUT "$PING" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_status 405
	[ "$(header Allow)" = "GET, POST, DELETE" ] || { _http_show; return 1; }
	assert_rpc_error -32000 "method not allowed" null
}

# ---- initialize --------------------------------------------------------------------------

@test "initialize answers 200 JSON with a session id of 32 lowercase hex, and the demo's capabilities" {
	local sid
	init_as 2025-11-25
	assert_status 200
	[[ $(header Content-Type) == application/json* ]] || { _http_show; return 1; }
	sid=$(header Mcp-Session-Id)
	[[ $sid =~ ^[0-9a-f]{32}$ ]] || { echo "session id '$sid'" >&2; _http_show; return 1; }
	assert_rpc_result 1 'r["protocolVersion"] == "2025-11-25"
		and r["serverInfo"]["name"] == "dmcp" and r["serverInfo"]["version"] != ""
		and isinstance(r["capabilities"]["tools"], dict)
		and r["capabilities"]["logging"] == {} and r["capabilities"]["completions"] == {}
		and "resources" not in r["capabilities"] and "prompts" not in r["capabilities"]'
	# The new session works.
	SID=$sid mcp_call "$PING"
	assert_pong
}

@test "initialize negotiates the protocol version" {
	init_as 2025-06-18
	assert_status 200
	assert_rpc_result 1 'r["protocolVersion"] == "2025-06-18"'
	init_as 2025-03-26
	assert_status 200
	assert_rpc_result 1 'r["protocolVersion"] == "2025-03-26"'
	init_as 2024-01-01
	assert_status 200
	assert_rpc_result 1 'r["protocolVersion"] == "2025-11-25"'
}

@test "initialize twice gives two different session ids" {
	local a b
	init_as 2025-11-25
	assert_status 200
	a=$(header Mcp-Session-Id)
	init_as 2025-11-25
	assert_status 200
	b=$(header Mcp-Session-Id)
	[[ $a =~ ^[0-9a-f]{32}$ && $b =~ ^[0-9a-f]{32}$ ]]
	[ "$a" != "$b" ]
	[ "$a" != "$SID" ] && [ "$b" != "$SID" ]
}

@test "initialize without its required params is -32602" {
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}'
	assert_status 200
	assert_rpc_error -32602 "initialize needs protocolVersion, capabilities and clientInfo" 1
	[ -z "$(header Mcp-Session-Id)" ]
}

@test "request ids are echoed exactly" {
	init_as 2025-11-25 '"abc"'
	assert_status 200
	assert_rpc_result '"abc"'
	init_as 2025-11-25 9007199254740991
	assert_status 200
	assert_rpc_result 9007199254740991
	[[ $body == *'"id":9007199254740991'* ]]
	mcp_call '{"jsonrpc":"2.0","id":-9007199254740991,"method":"ping"}'
	assert_status 200
	assert_rpc_result -9007199254740991
	[[ $body == *'"id":-9007199254740991'* ]]
	mcp_call '{"jsonrpc":"2.0","id":-7,"method":"ping"}'
	assert_rpc_result -7
	mcp_call '{"jsonrpc":"2.0","id":"","method":"ping"}'
	assert_rpc_result '""'
	mcp_call '{"jsonrpc":"2.0","id":"a \"quoted\" \u00e9 id","method":"ping"}'
	assert_status 200
	assert_rpc_result '' 'j["id"] == "a \"quoted\" \u00e9 id"'
	mcp_call '{"jsonrpc":"2.0","id":0,"method":"no/such/method"}'
	assert_rpc_error -32601 "Method not found" 0
}
