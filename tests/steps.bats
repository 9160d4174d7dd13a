#!/usr/bin/env bats
# steps.bats — a tool's step cannot pin threads without bound: its wall time is bounded
# (DMCP_STEP_MAX_MS: past it every effect fails with DMCP_E_TIMEOUT and the call fails), and
# at most three threads in four run new calls' steps at once, so a thread is left for answers
# and pings (a new call that finds none gets 503 with Retry-After). Four worker threads.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	STACK_THREADS=4 stack_file_up
}

teardown_file() {
	stack_file_down
}

# timed BODY — POST BODY in $SID with curl alone; sets code, ms (curl's own total time) and
# retry_after.
timed() {
	local out
	out=$(curl -s -o "$STACK_DIR/timed.body" -D "$STACK_DIR/timed.head" -w '%{http_code} %{time_total}' \
		--max-time 20 "$DMCP_URL" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" -d "$1")
	code=${out%% *}
	ms=$(awk -v t="${out#* }" 'BEGIN { printf "%d", t * 1000 }')
	retry_after=$(tr -d '\r' <"$STACK_DIR/timed.head" | awk 'tolower($1) == "retry-after:" { print $2 }')
}

slow() { # slow STEPS DELAY_MS [ID]
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"slow_progress","arguments":{"steps":%s,"delay_ms":%s},"_meta":{"progressToken":"t"}}}' \
		"${3:-3}" "$1" "$2"
}

@test "a step past DMCP_STEP_MAX_MS fails at the tool's next effect, with isError naming the limit" {
	DMCP_STEP_MAX_MS=1500 stack_restart_dmcp "$STACK_DIR"
	mcp_init
	timed "$(slow 5 1000)"
	echo "# a 5 s step with a 1.5 s bound answered in $ms ms" >&3
	[ "$code" = 200 ]
	[ "$ms" -lt 4000 ] # well before the 5 s the step would take
	events=$(sse_json "$(cat "$STACK_DIR/timed.body")")
	json_check 'j[-1]["data"] and "DMCP_STEP_MAX_MS" in j[-1]["data"] and "\"isError\":true" in j[-1]["data"]' "$events"
	[ "$(stack_psql "$STACK_DIR" "select status from dmcp_runs order by created_at desc limit 1")" = failed ]
	grep -q 'its step ran longer than DMCP_STEP_MAX_MS (1500 ms)' "$STACK_DIR/dmcp.log"
}

@test "three long steps on four threads: a fourth new call gets 503 with Retry-After at once; a ping is answered at once" {
	DMCP_STEP_MAX_MS=20000 stack_restart_dmcp "$STACK_DIR"
	mcp_init
	pids=''
	for i in 1 2 3; do
		curl -s --max-time 20 "$DMCP_URL" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
			-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" -d "$(slow 1 5000 $((10 + i)))" \
			>"$STACK_DIR/long$i.out" &
		pids="$pids $!"
	done
	sleep 1
	timed "$(slow 1 0 20)"
	echo "# a fourth call while three steps work: $code in $ms ms" >&3
	[ "$code" = 503 ]
	[ "$retry_after" -ge 1 ]
	[ "$ms" -lt 1000 ]
	timed '{"jsonrpc":"2.0","id":"p","method":"ping"}'
	echo "# a ping meanwhile: $code in $ms ms" >&3
	[ "$code" = 200 ]
	[ "$ms" -lt 1000 ]
	wait $pids
	for i in 1 2 3; do grep -q 'Finished 1 steps' "$STACK_DIR/long$i.out"; done
	# Once they are done, calls run again.
	mcp_call "$(slow 1 0 21)"
	assert_status 200
}
