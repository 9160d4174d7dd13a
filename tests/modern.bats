#!/usr/bin/env bats
# modern.bats — the 2026-07-28 wire on the same endpoint as the 2025-11-25 one, with curl
# through nginx: the validation ladder (every rung: its HTTP status, JSON-RPC code and the
# echoed id), server/discover, resultType and cache hints, the standard headers, the
# per-request log level, each round of a multi-round-trip call answered with its own id,
# subscriptions/listen (acknowledgement, filter, subscription id,
# list and resource changes, its end), that a sessionless request writes no row, and the
# 2025-11-25 session's standalone GET stream that the same changes reach.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

# The conformance fixtures' program where the build makes one per set of examples; else the
# one program that has them all.
if type stack_program >/dev/null 2>&1; then
	DMCP_BIN=$(stack_program dmcp-conformance.fcgi)
	export DMCP_BIN
fi

V=2026-07-28
# The envelope of a well-formed request, and its pieces.
META_V='"io.modelcontextprotocol/protocolVersion":"'$V'"'
META_C='"io.modelcontextprotocol/clientCapabilities":{}'
META_I='"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}'
META="\"_meta\":{$META_V,$META_C,$META_I}"

setup_file() {
	# Short holds and heartbeats, so the ends of streams are seen within a test.
	DMCP_STREAM_HOLD_MS=6000 DMCP_HEARTBEAT_MS=1000 stack_file_up
}

teardown_file() {
	stack_file_down
}

# post26 METHOD PARAMS [ID [curl args...]] — a 2026-07-28 request as a client sends it: the
# version header, Mcp-Method, and Mcp-Name mirroring params.name or params.uri. PARAMS is the
# inside of the params object (without braces); the standard _meta is added in front.
post26() {
	local method=$1 params=$2 id=${3:-1} name
	shift 3 2>/dev/null || shift $#
	name=$(printf '{%s}' "$params" | "$MCP_PYTHON" -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("name") or p.get("uri") or "")' 2>/dev/null || true)
	local h=(-H "MCP-Protocol-Version: $V" -H "Mcp-Method: $method")
	[ -n "$name" ] && h+=(-H "Mcp-Name: $name")
	mcp_post '{"jsonrpc":"2.0","id":'"$id"',"method":"'"$method"'","params":{'"$META${params:+,$params}"'}}' \
		"${h[@]}" "$@"
}

# raw26 BODY [curl args...] — a body sent as it is, with only the given headers.
raw26() {
	local data=$1
	shift
	mcp_post "$data" "$@"
}

# stream_start SECONDS BODY HEADERS... — POST (BODY) or GET (BODY "") in the background for SECONDS; sets
# STREAM_PID and STREAM_FILE (the raw response with headers). stream_wait ends it.
stream_start() {
	local secs=$1 data=$2
	shift 2
	STREAM_FILE=$BATS_TEST_TMPDIR/stream.$RANDOM
	if [ -n "$data" ]; then
		curl -s -N -i --max-time "$secs" -X POST -H 'Content-Type: application/json' \
			-H "Accept: $MCP_ACCEPT" "$@" --data-binary "$data" "$DMCP_URL" >"$STREAM_FILE" 2>&1 &
	else
		curl -s -N -i --max-time "$secs" -H 'Accept: text/event-stream' "$@" "$DMCP_URL" \
			>"$STREAM_FILE" 2>&1 &
	fi
	STREAM_PID=$!
	# The head (and, for listen, the acknowledgement) is written at once.
	for _ in $(seq 50); do
		grep -q '^HTTP/' "$STREAM_FILE" 2>/dev/null && grep -q $'^\r$' "$STREAM_FILE" && break
		sleep 0.05
	done
}

# stream_until TEXT — waits (at most 15 s) until the stream carries TEXT, then ends it.
# Streams are read until what a test waits for came, not for a fixed time: a loaded machine
# may take a while for the triggers, and anything a filter should have kept out was sent
# before (one stream is in order).
stream_until() {
	for _ in $(seq 150); do
		grep -qF -- "$1" "$STREAM_FILE" && break
		kill -0 "$STREAM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$STREAM_PID" 2>/dev/null || true
	stream_wait
}

# stream_wait — waits for the background stream to end; $status_code, $headers, $body.
stream_wait() {
	wait "$STREAM_PID" || true
	_http_split <(sed -n '1,/^\r$/p' "$STREAM_FILE")
	status_code=$(printf '%s\n' "$headers" | awk 'NR == 1 { print $2 }')
	body=$(sed '1,/^\r$/d' "$STREAM_FILE")
}

# listen_body FILTER [ID] — a subscriptions/listen request body with that notifications filter.
listen_body() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"subscriptions/listen","params":{%s,"notifications":%s}}' \
		"${2:-\"L1\"}" "$META" "$1"
}

LISTEN_H=(-H "MCP-Protocol-Version: $V" -H "Mcp-Method: subscriptions/listen")

# events_json — $body's SSE events as JSON (data parsed), for json_check.
events_json() {
	sse_json | "$MCP_PYTHON" -c '
import json, sys
print(json.dumps([json.loads(e["data"]) for e in json.load(sys.stdin) if "data" in e]))'
}

# trigger TOOL [ARGS] — calls a fixture that announces a change (no Python on the way: the
# streams it is for are open meanwhile).
# events_check PYEXPR — json_check on the stream's events (j); shows the stream when false.
events_check() {
	json_check "$1" "$(events_json)" || {
		echo "the stream was:" >&2
		cat "$STREAM_FILE" >&2
		false
	}
}

trigger() {
	raw26 '{"jsonrpc":"2.0","id":90,"method":"tools/call","params":{"name":"'"$1"'","arguments":'"${2:-{\}}"','"$META"'}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H "Mcp-Name: $1"
	assert_status 200
}

# ---- the ladder: the envelope ------------------------------------------------------------

@test "a modern header without _meta is 400 -32602 naming _meta, with the id" {
	raw26 '{"jsonrpc":"2.0","id":101,"method":"server/discover","params":{}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
	assert_status 400
	assert_rpc_error -32602 "_meta" 101
	json_check 'j["error"]["data"]["envelope"]["missing"] == ["_meta"]'
}

@test "a modern header with _meta lacking protocolVersion is 400 -32602" {
	raw26 '{"jsonrpc":"2.0","id":102,"method":"server/discover","params":{"_meta":{'"$META_C"'}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
	assert_status 400
	assert_rpc_error -32602 "io.modelcontextprotocol/protocolVersion" 102
}

@test "_meta lacking clientCapabilities is 400 -32602 naming the key" {
	raw26 '{"jsonrpc":"2.0","id":"x4","method":"server/discover","params":{"_meta":{'"$META_V"'}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
	assert_status 400
	assert_rpc_error -32602 "clientCapabilities: missing" '"x4"'
	json_check 'j["error"]["data"]["envelope"] == {"key": "io.modelcontextprotocol/clientCapabilities", "problem": "missing"}'
}

@test "malformed envelope values are 400 -32602 naming the key" {
	local bad
	for bad in '"io.modelcontextprotocol/clientCapabilities":[]' \
		'"io.modelcontextprotocol/clientCapabilities":{"sampling":true}' \
		"$META_C"',"io.modelcontextprotocol/logLevel":"loud"' \
		"$META_C"',"io.modelcontextprotocol/clientInfo":{"name":1}' \
		"$META_C"',"progressToken":1.5'; do
		raw26 '{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{'"$META_V,$bad"'}}}' \
			-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/list'
		assert_status 400
		assert_rpc_error -32602 "Invalid _meta envelope" 7
	done
	raw26 '{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":5,'"$META_C"'}}}' \
		-H 'Mcp-Method: tools/list'
	assert_status 400
	assert_rpc_error -32602 "protocolVersion" 8
}

@test "_meta without clientInfo is served" {
	raw26 '{"jsonrpc":"2.0","id":105,"method":"server/discover","params":{"_meta":{'"$META_V,$META_C"'}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
	assert_status 200
	assert_rpc_result 105
}

# ---- the ladder: versions and headers ----------------------------------------------------

@test "header 2026-07-28 with _meta v999.0.0 is 400 -32020" {
	raw26 '{"jsonrpc":"2.0","id":302,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0",'"$META_C"'}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: server/discover'
	assert_status 400
	assert_rpc_error -32020 "disagree" 302
}

@test "an unsupported version in header and _meta is 400 -32022 with supported and requested" {
	raw26 '{"jsonrpc":"2.0","id":301,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0",'"$META_C"'}}}' \
		-H 'MCP-Protocol-Version: v999.0.0' -H 'Mcp-Method: server/discover'
	assert_status 400
	assert_rpc_error -32022 "Unsupported protocol version" 301
	json_check 'j["error"]["data"] == {"supported": ["2026-07-28"], "requested": "v999.0.0"}'
}

@test "a 2025-11-25 version in _meta is 400 -32022 (the envelope is of the new era only)" {
	raw26 '{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25",'"$META_C"'}}}' \
		-H 'MCP-Protocol-Version: 2025-11-25' -H 'Mcp-Method: tools/list'
	assert_status 400
	assert_rpc_error -32022 "2025-11-25" 3
}

@test "a claim without MCP-Protocol-Version is 400 -32020" {
	raw26 '{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{'"$META"'}}' -H 'Mcp-Method: tools/list'
	assert_status 400
	assert_rpc_error -32020 "MCP-Protocol-Version header is absent" 4
}

@test "Mcp-Method missing, different, or differently cased is 400 -32020" {
	raw26 '{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{'"$META"'}}' -H "MCP-Protocol-Version: $V"
	assert_status 400
	assert_rpc_error -32020 "Mcp-Method header is absent" 5
	raw26 '{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{'"$META"'}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: prompts/list'
	assert_status 400
	assert_rpc_error -32020 "Mcp-Method" 6
	raw26 '{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{'"$META"'}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: TOOLS/LIST'
	assert_status 400
	assert_rpc_error -32020 "Mcp-Method" 7
}

@test "header names in any case and values with spaces around them are accepted" {
	raw26 '{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{'"$META"'}}' \
		-H "mcp-protocol-version: $V" -H 'MCP-METHOD:   tools/list  '
	assert_status 200
	assert_rpc_result 8
}

@test "Mcp-Name missing or different on tools/call is 400 -32020" {
	local req='{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"test_simple_text",'"$META"'}}'
	raw26 "$req" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call'
	assert_status 400
	assert_rpc_error -32020 "Mcp-Name header is absent" 9
	raw26 "$req" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: wrong_tool_name'
	assert_status 400
	assert_rpc_error -32020 "Mcp-Name" 9
	raw26 "$req" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name:   test_simple_text  '
	assert_status 200
	assert_rpc_result 9
}

@test "Mcp-Name may carry the name in base64; invalid base64 is 400 -32020" {
	local req='{"jsonrpc":"2.0","id":10,"method":"resources/read","params":{"uri":"test://static-text",'"$META"'}}'
	raw26 "$req" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: resources/read' \
		-H "Mcp-Name: =?base64?$(printf 'test://static-text' | base64)?="
	assert_status 200
	assert_rpc_result 10
	raw26 "$req" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: resources/read' \
		-H 'Mcp-Name: =?base64?dGVzdDovL3N0YXRpYy10ZXh?='
	assert_status 400
	assert_rpc_error -32020 "invalid Base64" 10
	raw26 "$req" -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: resources/read' \
		-H 'Mcp-Name: =?base64?SGVs!!!bG8=?='
	assert_status 400
	assert_rpc_error -32020 "invalid Base64" 10
}

# ---- the ladder: methods -------------------------------------------------------------------

@test "initialize, ping, logging/setLevel, resources/subscribe and unsubscribe are 404 -32601" {
	local m
	for m in initialize ping logging/setLevel resources/subscribe resources/unsubscribe; do
		post26 "$m" '"level":"info"' 500
		assert_status 404
		assert_rpc_error -32601 "Method not found" 500
	done
}

@test "an unknown method is 404 -32601" {
	post26 unknown/method '' 601
	assert_status 404
	assert_rpc_error -32601 "Method not found" 601
}

@test "initialize: a 2026-07-28 header without a valid 2026-07-28 envelope is 400 -32020; with one, 404" {
	raw26 '{"jsonrpc":"2.0","id":11,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: initialize'
	assert_status 400
	assert_rpc_error -32020 "initialize" 11
	raw26 '{"jsonrpc":"2.0","id":12,"method":"initialize","params":{"_meta":{'"$META_V"'}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: initialize'
	assert_status 400
	assert_rpc_error -32020 "initialize" 12
	post26 initialize '"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}' 13
	assert_status 404
	assert_rpc_error -32601 "Method not found" 13
}

@test "a notification on the modern wire is 202 with no body and needs no session" {
	raw26 '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,'"$META"'}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: notifications/cancelled'
	assert_status 202
	assert_empty_body
	raw26 '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "MCP-Protocol-Version: $V"
	assert_status 202
	assert_empty_body
	raw26 '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "MCP-Protocol-Version: $V" \
		-H 'Mcp-Method: notifications/progress'
	assert_status 400
	assert_rpc_error -32020 "Mcp-Method" null
}

@test "the same URL still speaks 2025-11-25: initialize without _meta opens a session" {
	mcp_init
	mcp_call '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
	assert_status 200
	assert_rpc_result 2 '"resultType" not in r and "ttlMs" not in r'
}

# ---- results -------------------------------------------------------------------------------

@test "server/discover: versions, capabilities, instructions, serverInfo, resultType, cache hints" {
	post26 server/discover '' 201
	assert_status 200
	assert_rpc_result 201 'r["supportedVersions"] == ["2026-07-28"] and r["resultType"] == "complete"'
	assert_rpc_result 201 'r["ttlMs"] == 60000 and r["cacheScope"] == "public" and r["instructions"]'
	assert_rpc_result 201 'r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "dmcp"'
	assert_rpc_result 201 'r["capabilities"]["tools"] == {"listChanged": True}'
	assert_rpc_result 201 'r["capabilities"]["resources"] == {"subscribe": True, "listChanged": True}'
	assert_rpc_result 201 'r["capabilities"]["prompts"] == {"listChanged": True} and "logging" in r["capabilities"]'
}

@test "lists and static reads say ttlMs 60000 public; templated reads 0 private" {
	local m
	for m in tools/list prompts/list resources/list resources/templates/list; do
		post26 "$m" '' 12
		assert_status 200
		assert_rpc_result 12 'r["ttlMs"] == 60000 and r["cacheScope"] == "public" and r["resultType"] == "complete"'
	done
	post26 resources/read '"uri":"test://static-text"' 13
	assert_rpc_result 13 'r["ttlMs"] == 60000 and r["cacheScope"] == "public"'
	post26 resources/read '"uri":"test://template/4/data"' 14
	assert_rpc_result 14 'r["ttlMs"] == 0 and r["cacheScope"] == "private" and r["contents"]'
}

@test "every result carries resultType complete and serverInfo" {
	post26 tools/call '"name":"test_simple_text"' 15
	assert_rpc_result 15 'r["resultType"] == "complete" and r["content"][0]["type"] == "text"'
	assert_rpc_result 15 'r["_meta"]["io.modelcontextprotocol/serverInfo"]["version"]'
	post26 prompts/get '"name":"test_simple_prompt"' 16
	assert_rpc_result 16 'r["resultType"] == "complete" and r["messages"]'
	post26 completion/complete '"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},"argument":{"name":"arg1","value":"te"}' 17
	assert_rpc_result 17 'r["resultType"] == "complete" and r["completion"]["values"]'
}

@test "in-band errors stay HTTP 200: an unknown tool, an unknown resource (-32602 with data.uri)" {
	post26 tools/call '"name":"no_such_tool"' 18
	assert_status 200
	assert_rpc_error -32602 "Unknown tool" 18
	post26 resources/read '"uri":"test://nonexistent"' 19
	assert_status 200
	assert_rpc_error -32602 "Resource not found" 19
	json_check 'j["error"]["data"]["uri"] == "test://nonexistent"'
}

@test "a sessionless tools/list and one-step tools/call write no row in any dmcp_* table" {
	local before after
	before=$(db_counts)
	post26 tools/list '' 20
	assert_status 200
	post26 tools/call '"name":"test_multiple_content_types"' 21
	assert_rpc_result 21 'r["content"]'
	post26 tools/call '"name":"test_tool_with_progress"' 22
	assert_status 200
	after=$(db_counts)
	[ "$before" = "$after" ] || { echo "before: $before"; echo "after:  $after"; false; }
}

# ---- multi-round-trip calls ---------------------------------------------------------------

# round26 ID STATE INPUTS — a round of test_input_required_result_multi_round from a client
# that can elicit: STATE and INPUTS empty for the first round.
round26() {
	local extra=""
	[ -n "$2" ] && extra=',"requestState":"'"$2"'","inputResponses":'"$3"
	raw26 '{"jsonrpc":"2.0","id":'"$1"',"method":"tools/call","params":{"name":"test_input_required_result_multi_round","arguments":{}'"$extra"',"_meta":{'"$META_V"',"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{}}},'"$META_I"'}}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' \
		-H 'Mcp-Name: test_input_required_result_multi_round'
	assert_status 200
}

@test "every round of a call is answered with its own id, a repeated retry too" {
	local s1 s2
	round26 31 "" ""
	assert_rpc_result 31 'r["resultType"] == "input_required" and "user_name" in r["inputRequests"]'
	s1=$(json_get result.requestState)
	round26 32 "$s1" '{"user_name":{"action":"accept","content":{"name":"Ada"}}}'
	assert_rpc_result 32 'r["resultType"] == "input_required" and "favorite_color" in r["inputRequests"]'
	s2=$(json_get result.requestState)
	# The same retry again: what the first got, under the new id.
	round26 33 "$s1" '{"user_name":{"action":"accept","content":{"name":"Ada"}}}'
	assert_rpc_result 33 'r["requestState"] == "'"$s2"'"'
	round26 34 "$s2" '{"favorite_color":{"action":"accept","content":{"color":"green"}}}'
	assert_rpc_result 34 'r["resultType"] == "complete" and r["content"][0]["text"] == "Ada likes green."'
	round26 35 "$s2" '{"favorite_color":{"action":"accept","content":{"color":"green"}}}'
	assert_rpc_result 35 'r["content"][0]["text"] == "Ada likes green."'
}

# ---- logging -------------------------------------------------------------------------------

@test "without a logLevel in _meta a tool's logs are not sent" {
	post26 tools/call '"name":"test_logging_tool"' 23
	assert_status 200
	[ "$(header Content-Type)" = application/json ] # one response, nothing streamed
	assert_rpc_result 23 'r["content"][0]["text"] == "Logged three messages."'
}

@test "logLevel info sends the three info logs on the response stream; warning sends none" {
	local m="\"_meta\":{$META_V,$META_C,\"io.modelcontextprotocol/logLevel\":\"info\"}"
	raw26 '{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"test_logging_tool",'"$m"'}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: test_logging_tool'
	assert_status 200
	body=$(events_json)
	json_check '[e["params"]["data"] for e in j if e.get("method") == "notifications/message"] == ["Log message 1", "Log message 2", "Log message 3"]'
	json_check 'j[-1]["id"] == 24 and j[-1]["result"]["resultType"] == "complete"'
	m="\"_meta\":{$META_V,$META_C,\"io.modelcontextprotocol/logLevel\":\"warning\"}"
	raw26 '{"jsonrpc":"2.0","id":25,"method":"tools/call","params":{"name":"test_logging_tool",'"$m"'}}' \
		-H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: test_logging_tool'
	assert_status 200
	assert_rpc_result 25
}

# ---- subscriptions/listen ------------------------------------------------------------------

@test "listen: the acknowledgement comes first, with the honored filter and the subscription id" {
	stream_start 20 "$(listen_body '{"toolsListChanged":true,"promptsListChanged":false,"resourceSubscriptions":["test://watched-resource"]}')" "${LISTEN_H[@]}"
	stream_until acknowledged
	[ "$status_code" = 200 ]
	[ "$(header Content-Type)" = text/event-stream ]
	events_check 'j[0]["method"] == "notifications/subscriptions/acknowledged"'
	events_check 'j[0]["params"]["notifications"] == {"toolsListChanged": True, "resourceSubscriptions": ["test://watched-resource"]}'
	events_check 'j[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1"'
}

@test "listen: a tool's list change reaches the stream, stamped with the subscription id" {
	stream_start 20 "$(listen_body '{"toolsListChanged":true}' 77)" "${LISTEN_H[@]}"
	trigger test_trigger_tool_change
	stream_until tools/list_changed
	events_check '[e["method"] for e in j] == ["notifications/subscriptions/acknowledged", "notifications/tools/list_changed"]'
	events_check 'all(e["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77 for e in j)'
}

@test "listen: the filter is honored (a prompts-only stream gets no tool change)" {
	stream_start 20 "$(listen_body '{"promptsListChanged":true}')" "${LISTEN_H[@]}"
	trigger test_trigger_tool_change
	trigger test_trigger_prompt_change
	stream_until prompts/list_changed
	events_check '[e["method"] for e in j] == ["notifications/subscriptions/acknowledged", "notifications/prompts/list_changed"]'
}

@test "listen: resources/updated only for the URIs the stream watches" {
	stream_start 20 "$(listen_body '{"resourceSubscriptions":["test://watched-resource"]}')" "${LISTEN_H[@]}"
	trigger test_trigger_resource_update '{"uri":"test://static-text"}'
	trigger test_trigger_resource_update '{"uri":"test://watched-resource"}'
	stream_until resources/updated
	events_check '[(e["method"], e["params"].get("uri")) for e in j] == [("notifications/subscriptions/acknowledged", None), ("notifications/resources/updated", "test://watched-resource")]'
}

@test "listen: at the hold time the stream ends with the request's result, after heartbeats" {
	stream_start 20 "$(listen_body '{"toolsListChanged":true}' '"end"')" "${LISTEN_H[@]}"
	stream_wait
	grep -q '^: keepalive' <<<"$body"
	events_check 'len(j) == 2 and j[1]["id"] == "end" and j[1]["result"]["resultType"] == "complete"'
	events_check 'j[1]["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "end"'
}

@test "listen: a filter nothing of which is delivered is acknowledged and answered at once" {
	raw26 "$(listen_body '{}' 30)" "${LISTEN_H[@]}"
	assert_status 200
	body=$(events_json)
	json_check 'j[0]["params"]["notifications"] == {} and j[1]["id"] == 30 and j[1]["result"]["resultType"] == "complete"'
}

@test "listen: a missing or malformed filter is -32602" {
	raw26 '{"jsonrpc":"2.0","id":31,"method":"subscriptions/listen","params":{'"$META"'}}' "${LISTEN_H[@]}"
	assert_status 200
	assert_rpc_error -32602 "notifications" 31
	raw26 "$(listen_body '{"toolsListChanged":"yes"}' 32)" "${LISTEN_H[@]}"
	assert_rpc_error -32602 "booleans" 32
	raw26 "$(listen_body '{"resourceSubscriptions":"test://x"}' 33)" "${LISTEN_H[@]}"
	assert_rpc_error -32602 "resourceSubscriptions" 33
}

@test "listen writes no row either" {
	local before after
	before=$(db_counts)
	stream_start 20 "$(listen_body '{"toolsListChanged":true}')" "${LISTEN_H[@]}"
	stream_until acknowledged
	after=$(db_counts)
	[ "$before" = "$after" ]
}

# ---- the 2025-11-25 standalone stream ------------------------------------------------------

@test "2025-11-25: GET without Last-Event-ID opens the session's stream: list changes and its subscriptions' updates" {
	mcp_init
	mcp_call '{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"test://watched-resource"}}'
	assert_rpc_result 2 'r == {}'
	stream_start 20 "" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25"
	trigger test_trigger_tool_change
	trigger test_trigger_resource_update '{"uri":"test://static-text"}'
	trigger test_trigger_resource_update '{"uri":"test://watched-resource"}'
	stream_until resources/updated
	[ "$status_code" = 200 ]
	[ "$(header Content-Type)" = text/event-stream ]
	events_check '[(e["method"], e.get("params", {}).get("uri")) for e in j] == [("notifications/tools/list_changed", None), ("notifications/resources/updated", "test://watched-resource")]'
	events_check 'all("_meta" not in e.get("params", {}) for e in j)'
}

@test "2025-11-25: the standalone stream ends with retry: at the hold time and has no event ids" {
	mcp_init
	stream_start 20 "" -H "Mcp-Session-Id: $SID"
	stream_wait
	[ "$status_code" = 200 ]
	grep -q '^retry: ' <<<"$body"
	! grep -q '^id:' <<<"$body"
}

@test "2025-11-25: the standalone stream needs a session: none is 405, an unknown one 404" {
	mcp_get
	assert_status 405
	assert_rpc_error -32000 "Mcp-Session-Id" null
	mcp_get -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef'
	assert_status 404
	assert_rpc_error -32001 "Session not found" null
}

@test "2025-11-25: initialize declares listChanged and subscribe (this process keeps streams)" {
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}'
	assert_rpc_result 1 'r["capabilities"]["tools"] == {"listChanged": True} and r["capabilities"]["resources"]["subscribe"] is True'
}

@test "a single-threaded program (CGI) keeps no change streams: GET is 405 and nothing is declared" {
	cgi_request '' REQUEST_METHOD=GET HTTP_ACCEPT=text/event-stream HTTP_MCP_SESSION_ID=0123456789abcdef0123456789abcdef CONTENT_LENGTH= CONTENT_TYPE=
	[ "$status_code" = 405 ]
	cgi_request '{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{'"$META"'}}' \
		HTTP_MCP_PROTOCOL_VERSION=$V HTTP_MCP_METHOD=server/discover
	[ "$status_code" = 200 ]
	json_check 'j["result"]["capabilities"]["tools"] == {"listChanged": False} and j["result"]["capabilities"]["resources"]["subscribe"] is False'
	cgi_request "$(listen_body '{"toolsListChanged":true}' 5)" HTTP_MCP_PROTOCOL_VERSION=$V \
		HTTP_MCP_METHOD=subscriptions/listen
	[ "$status_code" = 404 ]
	assert_rpc_error -32601 "Method not found" 5
}
