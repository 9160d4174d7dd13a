#!/usr/bin/env bats
# disk.bats — what the database holds is bounded: subscriptions per session
# (DMCP_MAX_SUBSCRIPTIONS), finished runs kept for DMCP_RUN_RETENTION while their session
# lives, a sweep that works in batches with FOR UPDATE SKIP LOCKED (a locked row is left for
# the next sweep; the sweep does not wait for it) through indexes; and what a session, a
# waiting call and a finished call cost on disk, measured (printed as TAP comments).

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	STACK_THREADS=4 stack_file_up
}

teardown_file() {
	stack_file_down
}

sweep() { # sweep VAR=VALUE... — the program's sweep with those settings; prints its line
	env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" "$@" "$(_stack_bin)" sweep
}

@test "a session holds at most DMCP_MAX_SUBSCRIPTIONS subscriptions" {
	local rc=0
	# A threaded server of the fixture program (plain CGI offers no subscriptions: it cannot
	# deliver their updates), then the demo program again for the other tests.
	DMCP_MAX_SUBSCRIPTIONS=2 stack_restart_dmcp "$STACK_DIR" "$(stack_program dmcp-conformance.fcgi)"
	subscriptions_capped || rc=$?
	stack_restart_dmcp "$STACK_DIR" "$(stack_program dmcp-demo.fcgi)"
	return "$rc"
}

subscriptions_capped() {
	local uri
	mcp_init
	for uri in test://static-text test://static-binary; do
		mcp_call '{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"'$uri'"}}'
		assert_rpc_result 2
	done
	# Again: already held, still fine.
	mcp_call '{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"test://static-text"}}'
	assert_rpc_result 3
	mcp_call '{"jsonrpc":"2.0","id":4,"method":"resources/subscribe","params":{"uri":"test://watched-resource"}}'
	assert_rpc_error -32000 DMCP_MAX_SUBSCRIPTIONS 4
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_subscriptions where session_id = '$SID'")" = 2 ]
}

@test "sweep deletes finished runs of a live session after DMCP_RUN_RETENTION; unfinished ones and tasks within their TTL stay" {
	mcp_init
	stack_psql "$STACK_DIR" "insert into dmcp_runs (id, session_id, principal, request_id, tool, tool_version, arguments, status, updated_at)
		select md5(g::text || 'ret'), '$SID', 'anonymous', g::text, 'echo', 1, '{}', case when g <= 3 then 'completed' else 'waiting' end, now() - interval '1 hour'
		from generate_series(1, 5) g" >/dev/null
	# A finished task of the session within its TTL (a week) stays: tasks/get must find it.
	stack_psql "$STACK_DIR" "insert into dmcp_runs (id, session_id, principal, request_id, tool, tool_version, arguments, status, updated_at, task, ttl_ms)
		values (md5('task-ret'), '$SID', 'anonymous', 't', 'echo', 1, '{}', 'completed', now() - interval '1 hour', true, 604800000)" >/dev/null
	run sweep DMCP_RUN_RETENTION=3600000
	[ "$status" -eq 0 ]
	[[ $output == *" 0 finished runs trimmed"* ]]
	run sweep DMCP_RUN_RETENTION=60
	[ "$status" -eq 0 ]
	echo "# $output" >&3
	[[ $output == *" 3 finished runs trimmed"* ]]
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_runs where session_id = '$SID'")" = 3 ]
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_runs where id = md5('task-ret')")" = 1 ]
	[ "$(stack_psql "$STACK_DIR" "select ended_at is null from dmcp_sessions where id = '$SID'")" = t ]
}

@test "sweep works in batches and skips rows another transaction holds, without waiting for them" {
	stack_psql "$STACK_DIR" "insert into dmcp_sessions (id, principal, protocol, client_info, client_caps, last_seen)
		select md5(g::text || 'idle'), 'anonymous', '2025-11-25', '{}', '{}', now() - interval '3 days'
		from generate_series(1, 1203) g" >/dev/null
	# Another transaction holds three of them.
	psql -XAtq -d "$DMCP_DATABASE_URL" -c "begin; select id from dmcp_sessions where id in (md5('1idle'), md5('2idle'), md5('3idle')) for update; select pg_sleep(8); commit" >/dev/null &
	holder=$!
	sleep 1
	t0=${EPOCHREALTIME//[!0-9]/}
	run sweep DMCP_SESSION_TTL=86400 DMCP_LOCK_TIMEOUT_MS=0
	ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
	echo "# $output ($ms ms, 3 rows locked elsewhere)" >&3
	[ "$status" -eq 0 ]
	[[ $output == *"sweep: 1200 sessions ended"* ]]
	[ "$ms" -lt 6000 ]
	wait "$holder"
	run sweep DMCP_SESSION_TTL=86400
	[[ $output == *"sweep: 3 sessions ended"* ]]
	# The indexes the sweep's batches go through.
	for ix in dmcp_sessions_idle dmcp_sessions_ended dmcp_runs_by_session dmcp_runs_finished dmcp_runs_sessionless_age; do
		[ "$(stack_psql "$STACK_DIR" "select count(*) from pg_indexes where indexname = '$ix'")" = 1 ]
	done
	stack_psql "$STACK_DIR" "delete from dmcp_sessions where id in (select md5(g::text || 'idle') from generate_series(1, 1203) g)" >/dev/null
}

# bytes — every dmcp table with its indexes and TOAST, after a VACUUM (so dead rows from the
# updates that make a call count as they stay).
bytes() {
	stack_psql "$STACK_DIR" "vacuum dmcp_sessions, dmcp_runs, dmcp_events, dmcp_subscriptions" >/dev/null
	stack_psql "$STACK_DIR" "select sum(pg_total_relation_size(c)) from unnest(array['dmcp_sessions','dmcp_runs','dmcp_events','dmcp_subscriptions']::regclass[]) c"
}

@test "measured: the disk a session, a waiting call and a finished call take" {
	local n=300 i b0 b1 b2 b3
	DMCP_STREAM_HOLD_MS=100 DMCP_RECORD_CALLS=all STACK_THREADS=4 stack_restart_dmcp "$STACK_DIR"
	stack_psql "$STACK_DIR" "delete from dmcp_sessions" >/dev/null
	stack_psql "$STACK_DIR" "delete from dmcp_runs" >/dev/null
	stack_psql "$STACK_DIR" "vacuum full dmcp_sessions, dmcp_runs, dmcp_events, dmcp_subscriptions" >/dev/null
	b0=$(bytes)
	sids=()
	for i in $(seq $n); do
		sids+=("$(curl -s -D - -o /dev/null "$DMCP_URL" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
			-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"disk","version":"1"}}}' |
			tr -d '\r' | awk 'tolower($1) == "mcp-session-id:" { print $2 }')")
	done
	b1=$(bytes)
	for i in $(seq $n); do
		curl -s -o /dev/null --max-time 5 "$DMCP_URL" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
			-H "Mcp-Session-Id: ${sids[$((i - 1))]}" -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"confirm","arguments":{}}}'
	done
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_runs where status = 'waiting'")" = "$n" ]
	b2=$(bytes)
	for i in $(seq $n); do
		curl -s -o /dev/null --max-time 5 "$DMCP_URL" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
			-H "Mcp-Session-Id: ${sids[$((i - 1))]}" -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'
	done
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_runs where status = 'completed'")" = "$n" ]
	b3=$(bytes)
	echo "# on disk (tables, indexes, TOAST; $n of each): a session $(((b1 - b0) / n)) B, a waiting call (confirm) $(((b2 - b1) / n)) B, a finished call recorded with DMCP_RECORD_CALLS=all (echo) $(((b3 - b2) / n)) B" >&3
	# Bounds the README states: well under these.
	[ $(((b1 - b0) / n)) -lt 2048 ]
	[ $(((b2 - b1) / n)) -lt 4096 ]
	[ $(((b3 - b2) / n)) -lt 4096 ]
	stack_restart_dmcp "$STACK_DIR"
}
