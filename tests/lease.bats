#!/usr/bin/env bats
# lease.bats — a step that works longer than the lease between two checkpoints. The listener
# renews the leases of the runs its process steps, so a live worker is not taken over; when it
# cannot (no listener: here DMCP_LISTEN_URL names no database), another worker that follows the
# run takes it over once the lease passed, and the step count fences the first one: only one
# of the two steps' saves lands. Either way the run completes once, its events are gap-free,
# and the client's stream is complete. DMCP_LEASE_S=3; slow_progress sleeps 5 s between
# checkpoints.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	DMCP_LEASE_S=3 STACK_THREADS=4 stack_file_up
}

teardown_file() {
	stack_file_down
}

# slow_call — starts slow_progress {steps 3, delay 5000} in session $SID in the background
# (its stream into $STACK_DIR/post.out), waits for its first event and sets RUN; then resumes
# the stream from that event on another connection once the lease would have passed (in the
# 8th second of the call, between the 1st and 2nd checkpoints), into $STACK_DIR/get.out.
slow_call() {
	local i id
	rm -f "$STACK_DIR/post.out" "$STACK_DIR/get.out"
	curl -sN --max-time 40 "$DMCP_URL" -H 'Content-Type: application/json' \
		-H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" \
		-d '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow_progress","arguments":{"steps":3,"delay_ms":5000},"_meta":{"progressToken":"p"}}}' \
		>"$STACK_DIR/post.out" 2>/dev/null &
	POST_PID=$!
	for i in $(seq 80); do
		id=$(sed -n 's/^id: \([0-9a-f]\{32\}\):1$/\1/p' "$STACK_DIR/post.out" | head -n 1)
		[ -n "$id" ] && break
		sleep 0.1
	done
	[ -n "$id" ] || { echo "no first event" >&2; cat "$STACK_DIR/post.out" >&2; return 1; }
	RUN=$id
	# The first checkpoint was at 5 s: unrenewed, its lease (3 s) is over at 8 s, 2 s before
	# the next checkpoint. Resume as soon as it is over, or at 9.5 s.
	for i in $(seq 45); do
		[ "$(stack_psql "$STACK_DIR" "select lease_until < now() from dmcp_runs where id = '$RUN'")" = t ] && break
		sleep 0.1
	done
	curl -sN --max-time 30 "$DMCP_URL" -H "Accept: text/event-stream" -H "Mcp-Session-Id: $SID" \
		-H "MCP-Protocol-Version: $MCP_PV" -H "Last-Event-ID: $RUN:1" >"$STACK_DIR/get.out" 2>/dev/null &
	GET_PID=$!
	wait "$POST_PID" || true
	wait "$GET_PID" || true
}

# check_run — the run completed once: status completed, events 1..last_lsn with no gap, one
# response, progress 1, 2, 3 once each; the call's own stream carried all of it in order.
check_run() {
	local row
	row=$(stack_psql "$STACK_DIR" "select status, last_lsn, (select count(*) from dmcp_events where run_id = r.id), (select count(*) from dmcp_events where run_id = r.id and kind = 'response'), (select string_agg(lsn::text, ',' order by lsn) from dmcp_events where run_id = r.id) from dmcp_runs r where id = '$RUN'")
	echo "# run: $row" >&3
	[ "$row" = "completed|4|4|1|1,2,3,4" ]
	[ "$(grep -c '"method":"notifications/progress"' "$STACK_DIR/post.out")" -eq 3 ]
	[ "$(grep -c '"result"' "$STACK_DIR/post.out")" -eq 1 ]
	[ "$(sed -n "s/^id: $RUN://p" "$STACK_DIR/post.out" | tr '\n' ' ')" = "0 1 2 3 4 " ]
}

@test "a live worker's lease is renewed while its step works: the run is not taken over" {
	mcp_init
	slow_call
	check_run
	steps=$(stack_psql "$STACK_DIR" "select steps from dmcp_runs where id = '$RUN'")
	echo "# steps: $steps (1: never taken over)" >&3
	[ "$steps" -eq 1 ]
	! grep -q "lease passed; taking over" "$STACK_DIR/dmcp.log"
	# The resumed stream delivered the rest too.
	grep -q '"result"' "$STACK_DIR/get.out"
}

@test "without renewal, a takeover fences the live worker: only one step's saves land" {
	DMCP_LEASE_S=3 DMCP_LISTEN_URL="host=/nonexistent dbname=none" stack_restart_dmcp "$STACK_DIR"
	mcp_init
	: >"$STACK_DIR/dmcp.log.mark"
	before=$(wc -l <"$STACK_DIR/dmcp.log")
	slow_call
	check_run
	steps=$(stack_psql "$STACK_DIR" "select steps from dmcp_runs where id = '$RUN'")
	echo "# steps: $steps (a takeover counted one)" >&3
	[ "$steps" -ge 2 ] || { tail -n 30 "$STACK_DIR/dmcp.log" >&2; cat "$STACK_DIR/get.out" >&2; return 1; }
	log=$(tail -n +"$((before + 1))" "$STACK_DIR/dmcp.log")
	[[ $log == *"run $RUN: lease passed; taking over its step"* ]]
	[[ $log == *"run $RUN: another worker moved the run on"* ]]
	DMCP_LEASE_S=3 stack_restart_dmcp "$STACK_DIR"
}
