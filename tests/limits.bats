#!/usr/bin/env bats
# limits.bats — DMCP_MAX_RUNS_PER_PRINCIPAL: the unfinished (running or waiting) tool calls
# one principal may hold, over all its sessions. The stack authenticates with HTTP basic auth
# (STACK_AUTH=1: principals alice and bob) and allows each principal two unfinished calls. A
# call beyond them is not stored and gets a JSON-RPC error naming the setting; another
# principal is not affected; a call that ends frees its place; concurrent calls never pass it.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	# 24 threads: the streams the first tests leave open (held 30 s) must not take the
	# threads the lock test's five calls need at once.
	export STACK_AUTH=1 DMCP_MAX_RUNS_PER_PRINCIPAL=2 DMCP_STREAM_HOLD_MS=30000 STACK_THREADS=24
	stack_file_up
}

teardown_file() {
	local p
	for p in $(cat "$STACK_DIR/curl.pids" 2>/dev/null); do
		kill "$p" 2>/dev/null || true
	done
	stack_file_down
}

# session USER — a new session of USER that declares elicitation; sets SID.
session() {
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"bats","version":"1"}}}' -u "$1:$1-pw"
	assert_status 200
	SID=$(header Mcp-Session-Id)
	mcp_call '{"jsonrpc":"2.0","method":"notifications/initialized"}' -u "$1:$1-pw"
	assert_status 202
}

# ask USER OUT ID — in session $SID, starts tools/call confirm as USER with curl in the
# background, its stream going to OUT. Sets CURL_PID.
ask() {
	curl -sS -N --max-time 60 -u "$1:$1-pw" -X POST "$DMCP_URL" \
		-H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID" \
		-H "MCP-Protocol-Version: $MCP_PV" \
		--data '{"jsonrpc":"2.0","id":'"$3"',"method":"tools/call","params":{"name":"confirm","arguments":{"question":"Go?"}}}' \
		>"$2" 2>&1 &
	CURL_PID=$!
	echo "$CURL_PID" >>"$STACK_DIR/curl.pids"
}

# asked OUT — waits for the elicitation/create on the stream in OUT (the call is stored and
# waits); sets REQ to its id. Fails with the stream's text when none comes.
asked() {
	local i
	REQ=
	for ((i = 0; i < 100; i++)); do
		REQ=$(grep -m1 '"method":"elicitation/create"' "$1" | grep -o '"id":"[^"]*"' |
			head -1 | cut -d'"' -f4)
		[ -z "$REQ" ] || return 0
		sleep 0.1
	done
	echo "no elicitation/create in: $(cat "$1")" >&2
	return 1
}

# outcome FILE — waits (≤10 s) for the stream in FILE to show the call stored (its
# elicitation/create) or refused (a JSON-RPC error), then prints ok, limit (refused naming
# DMCP_MAX_RUNS_PER_PRINCIPAL), busy (refused before the step: a loaded machine) or other
# (with the stream on stderr).
outcome() {
	local k
	for ((k = 0; k < 100; k++)); do
		grep -q 'elicitation/create\|"error"' "$1" && break
		sleep 0.1
	done
	if grep -q '"method":"elicitation/create"' "$1"; then
		echo ok
	elif grep -q '"code":-32000.*DMCP_MAX_RUNS_PER_PRINCIPAL' "$1"; then
		echo limit
	elif grep -q '"code":-32000.*worker thread that may run a tool is busy' "$1"; then
		echo busy
	else
		echo "call: $(cat "$1")" >&2
		echo other
	fi
}

# unfinished USER — how many unfinished runs USER holds in the database.
unfinished() {
	stack_psql "$STACK_DIR" "SELECT count(*) FROM dmcp_runs WHERE principal = '$1' AND status IN ('running', 'waiting')"
}

@test "two waiting calls of alice are stored, a third is refused naming DMCP_MAX_RUNS_PER_PRINCIPAL while bob still can; answering one of alice's frees a place" {
	local t=$BATS_TEST_TMPDIR i sa1 sa2 sb req1
	session alice
	sa1=$SID
	ask alice "$t/a1" 11
	asked "$t/a1"
	req1=$REQ
	# The second in another session of alice: the limit is the principal's, not the session's.
	session alice
	sa2=$SID
	ask alice "$t/a2" 12
	asked "$t/a2"
	[ "$(unfinished alice)" = 2 ]

	SID=$sa1
	mcp_call '{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"confirm","arguments":{"question":"Go?"}}}' -u alice:alice-pw
	assert_status 200
	assert_rpc_error -32000 DMCP_MAX_RUNS_PER_PRINCIPAL 13
	SID=$sa2
	mcp_call '{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"confirm","arguments":{"question":"Go?"}}}' -u alice:alice-pw
	assert_rpc_error -32000 DMCP_MAX_RUNS_PER_PRINCIPAL 14
	[ "$(unfinished alice)" = 2 ]
	# A call that ends in its first step is never stored, so never refused.
	mcp_call '{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}' -u alice:alice-pw
	assert_status 200
	assert_rpc_result 15

	session bob
	sb=$SID
	ask bob "$t/b1" 21
	asked "$t/b1"
	[ "$(unfinished bob)" = 1 ]

	# Alice answers her first call: it completes, and her next call is stored.
	SID=$sa1
	mcp_call '{"jsonrpc":"2.0","id":"'"$req1"'","result":{"action":"accept","content":{"ok":true}}}' -u alice:alice-pw
	assert_status 202
	for ((i = 0; i < 100; i++)); do
		[ "$(unfinished alice)" = 1 ] && break
		sleep 0.1
	done
	[ "$(unfinished alice)" = 1 ]
	ask alice "$t/a3" 16
	asked "$t/a3"
	[ "$(unfinished alice)" = 2 ]
	[ -n "$sb" ]
}

@test "concurrent calls of one principal never pass the limit: of 10 concurrent calls of bob, exactly as many as he has places for are stored" {
	local t=$BATS_TEST_TMPDIR i sids=() n_ok=0 n_limit=0 n_busy=0 held
	held=$(unfinished bob) # 1 after the test above, 0 when run alone
	[ "$held" -lt 2 ]
	for i in 0 1 2 3 4 5 6 7 8 9; do
		session bob
		sids+=("$SID")
	done
	for i in 0 1 2 3 4 5 6 7 8 9; do
		SID=${sids[i]}
		ask bob "$t/c$i" "$((30 + i))"
	done
	# A stored call's stream carries the elicitation/create; a refused one is a JSON error.
	for i in 0 1 2 3 4 5 6 7 8 9; do
		case $(outcome "$t/c$i") in
		ok) n_ok=$((n_ok + 1)) ;;
		limit) n_limit=$((n_limit + 1)) ;;
		busy) n_busy=$((n_busy + 1)) ;;
		esac
	done
	echo "stored $n_ok, refused $n_limit by the limit, $n_busy as busy" >&3
	[ "$n_ok" = $((2 - held)) ]
	[ "$n_limit" -ge 1 ]
	[ $((n_ok + n_limit + n_busy)) = 10 ]
	[ "$(unfinished bob)" = 2 ]
}

@test "calls that all wait on the principal's lock at once still stop at the limit: each counts after the lock, not in its statement's snapshot" {
	local t=$BATS_TEST_TMPDIR i k sids=() n_ok=0 n_limit=0 n_busy=0 holder waiting=0
	# alice starts from nothing (the calls the tests above left are closed here by hand).
	stack_psql "$STACK_DIR" "UPDATE dmcp_runs SET status = 'cancelled' WHERE principal = 'alice' AND status IN ('running', 'waiting')" >/dev/null
	[ "$(unfinished alice)" = 0 ]
	for i in 0 1 2 3 4; do
		session alice
		sids+=("$SID")
	done
	# Another transaction holds alice's lock (migration 009's class): every insert of hers
	# queues behind it, each statement's snapshot taken before the lock is granted.
	psql -XAtq -d "$DMCP_DATABASE_URL" -c "BEGIN; SELECT pg_advisory_xact_lock(7368303, hashtext('alice')); SELECT pg_sleep(4); COMMIT" >/dev/null &
	holder=$!
	for ((k = 0; k < 50; k++)); do
		[ "$(stack_psql "$STACK_DIR" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7368303 AND granted")" = 1 ] && break
		sleep 0.1
	done
	for i in 0 1 2 3 4; do
		SID=${sids[i]}
		ask alice "$t/r$i" "$((50 + i))"
	done
	# All five wait for the lock before it goes (at least three at once, or no race).
	for ((k = 0; k < 30; k++)); do
		waiting=$(stack_psql "$STACK_DIR" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7368303 AND NOT granted")
		[ "$waiting" -ge 5 ] && break
		sleep 0.1
	done
	echo "# $waiting inserts waited for the lock at once" >&3
	[ "$waiting" -ge 3 ]
	wait "$holder"
	for i in 0 1 2 3 4; do
		case $(outcome "$t/r$i") in
		ok) n_ok=$((n_ok + 1)) ;;
		limit) n_limit=$((n_limit + 1)) ;;
		busy) n_busy=$((n_busy + 1)) ;;
		esac
	done
	echo "# stored $n_ok, refused $n_limit by the limit, $n_busy as busy" >&3
	[ "$n_ok" = 2 ]
	[ $((n_ok + n_limit + n_busy)) = 5 ]
	[ "$(unfinished alice)" = 2 ]
}

@test "the count uses the partial index of migration 009" {
	run stack_psql "$STACK_DIR" "SELECT indexdef FROM pg_indexes WHERE indexname = 'dmcp_runs_unfinished_by_principal'"
	[ "$status" -eq 0 ]
	[[ $output == *"(principal) WHERE (status = ANY"* ]]
	! stack_san_errors "$STACK_DIR"
}
