#!/usr/bin/env bats
# wake.bats — a call's stream ends as soon as its result is written, whoever wakes it: the
# step that answered it in this process (the local hand-over), or the listener. The stack
# polls the table only every 30 s (DMCP_POLL_MS) and sends no heartbeat for a minute, so a
# stream that waits for either of them instead of ending fails the bound here (10 s), on a
# loaded machine too.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

# The bound on "promptly": far below the poll, far above a busy machine's scheduling delays.
WAKE_BOUND_S=10

setup_file() {
	# 16 threads: eight followed streams, and threads to spare for the answers.
	export DMCP_POLL_MS=30000 DMCP_HEARTBEAT_MS=60000 DMCP_STREAM_HOLD_MS=45000 STACK_THREADS=16
	stack_file_up
}

teardown_file() {
	stack_file_down
}

# ask_confirm OUT ID — in a new session that declares elicitation, starts tools/call confirm
# with curl in the background, its stream going to OUT; waits for the elicitation/create on
# it. Sets SID, CURL_PID and REQ.
ask_confirm() {
	local out=$1 i
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"bats","version":"1"}}}'
	assert_status 200
	SID=$(header Mcp-Session-Id)
	mcp_call '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	assert_status 202
	curl -sS -N --max-time 60 -X POST "$DMCP_URL" -H 'Content-Type: application/json' \
		-H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" \
		--data '{"jsonrpc":"2.0","id":'"$2"',"method":"tools/call","params":{"name":"confirm","arguments":{"question":"Go?"}}}' \
		>"$out" 2>&1 &
	CURL_PID=$!
	REQ=
	for ((i = 0; i < 100; i++)); do
		REQ=$(grep -m1 '"method":"elicitation/create"' "$out" | grep -o '"id":"[^"]*"' |
			head -1 | cut -d'"' -f4)
		[ -z "$REQ" ] || break
		sleep 0.1
	done
	[ -n "$REQ" ] || { echo "no elicitation/create in: $(cat "$out")" >&2; return 1; }
}

# ended_within PID S — true when PID exits within S seconds; prints the milliseconds it took.
ended_within() {
	local pid=$1 start=$(date +%s%N) i
	for ((i = 0; i < $2 * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "stream ended $((($(date +%s%N) - start) / 1000000)) ms after the answer's 202"
			return 0
		fi
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	echo "stream still open ${2} s after the answer's 202" >&2
	return 1
}

@test "a stream ends right after its result when this process's step answered it (no poll)" {
	local out=$BATS_TEST_TMPDIR/stream
	ask_confirm "$out" 7
	mcp_call '{"jsonrpc":"2.0","id":"'"$REQ"'","result":{"action":"accept","content":{"ok":true}}}'
	assert_status 202
	ended_within "$CURL_PID" "$WAKE_BOUND_S"
	grep -q '"id":7,"result":{.*"accepted":true' "$out" || { cat "$out" >&2; false; }
}

@test "eight streams waiting at once each end promptly after their answer" {
	local i pids=() outs=() reqs=()
	for i in 1 2 3 4 5 6 7 8; do
		ask_confirm "$BATS_TEST_TMPDIR/s$i" "$((10 + i))"
		pids+=("$CURL_PID") outs+=("$BATS_TEST_TMPDIR/s$i") reqs+=("$SID $REQ")
	done
	for i in 0 1 2 3 4 5 6 7; do
		SID=${reqs[i]%% *}
		mcp_call '{"jsonrpc":"2.0","id":"'"${reqs[i]#* }"'","result":{"action":"accept","content":{"ok":true}}}'
		assert_status 202
	done
	for i in 0 1 2 3 4 5 6 7; do
		ended_within "${pids[i]}" "$WAKE_BOUND_S"
		grep -q '"accepted":true' "${outs[i]}" || { cat "${outs[i]}" >&2; false; }
	done
}
