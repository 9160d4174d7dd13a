#!/usr/bin/env bats
# hosts.bats — past one host. Two "hosts", each the threaded demo program in a network
# namespace and a process group of its own (STACK_HOSTS="a b": unshare --net, setsid), behind one
# nginx upstream that round-robins between their FastCGI sockets with nothing sticky; they
# share only PostgreSQL, through its unix socket (the tests stay on loopback and unix
# sockets; the namespaces prove that nothing else is shared). A call started on one host is
# answered and resumed on the other; a host stopped, or killed with kill -9 of its process
# group, mid-call loses nothing. Then the workers (spawn-fcgi, four single-threaded
# processes) through PgBouncer in transaction mode (STACK_POOLER=1, two server connections):
# DMCP_POOLER=transaction for the workers, DMCP_LISTEN_URL straight to PostgreSQL.
# The hosts' tests skip, saying why, where a network namespace cannot be made (not root).

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

# The program's settings come from this file only, never from the caller's environment
# (once, before setup_file, which exports this file's own).
if [ -z "${HOSTS_ENV_CLEAN:-}" ]; then
	for _v in $(compgen -e); do
		case $_v in
		DMCP_BIN) ;;
		DMCP_* | STACK_AUTH | STACK_PG_DURABLE | STACK_EXTERNAL_DB | STACK_HOSTS | STACK_POOLER) unset "$_v" ;;
		esac
	done
	unset _v
fi

setup_file() {
	# Debug logs: each host's log names the runs it followed and the answers it applied.
	# A lease of 3 s: a killed host's running step is taken over within seconds.
	export DMCP_LOG_LEVEL=debug DMCP_LEASE_S=3 HOSTS_ENV_CLEAN=1
	POOL_DIR=$(stack_mktemp) || return 1
	export POOL_DIR
	STACK_POOLER=1 STACK_POOL_SIZE=2 stack_start "$POOL_DIR" >&2 || return 1
	stack_spawn_workers "$POOL_DIR" 4 >&2 || return 1
	export POOL_URL=$DMCP_URL
	if HOSTS_SKIP=$(stack_netns_ok); then
		HOSTS_SKIP=
		STACK_HOSTS="a b" STACK_THREADS=4 stack_file_up || return 1
	else
		STACK_DIR=
	fi
	export HOSTS_SKIP STACK_DIR
}

teardown_file() {
	[ -z "${STACK_DIR:-}" ] || stack_file_down
	if [ -n "${POOL_DIR:-}" ]; then
		stack_stop "$POOL_DIR"
		case $POOL_DIR in /tmp/dmcp-test.*) rm -rf "$POOL_DIR" ;; esac
	fi
}

# need_hosts — skips the test where the hosts could not be made.
need_hosts() {
	[ -z "$HOSTS_SKIP" ] || skip "$HOSTS_SKIP"
}

# init — initialize, declaring elicitation; sets SID.
init() {
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"bats","version":"1"}}}'
	assert_status 200
	SID=$(header Mcp-Session-Id)
	[ -n "$SID" ]
	mcp_call '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	assert_status 202
}

# call OUT ID TOOL ARGS — tools/call TOOL with ARGS (JSON) and progress token "p" in $SID,
# with curl in the background (its stream into OUT, at most 60 s); sets CALL_PID.
call() {
	curl -sS -N --max-time 60 -X POST "$DMCP_URL" -H 'Content-Type: application/json' \
		-H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" \
		--data '{"jsonrpc":"2.0","id":'"$2"',"method":"tools/call","params":{"name":"'"$3"'","arguments":'"$4"',"_meta":{"progressToken":"p"}}}' \
		>"$1" 2>&1 &
	CALL_PID=$!
}

# resume OUT LAST — a GET that resumes the stream after event LAST (Last-Event-ID), in the
# background into OUT (at most 60 s); sets GET_PID.
resume() {
	curl -sS -N --max-time 60 "$DMCP_URL" -H 'Accept: text/event-stream' \
		-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" -H "Last-Event-ID: $2" \
		>"$1" 2>&1 &
	GET_PID=$!
}

# wait_for OUT REGEX — waits (≤20 s) until OUT has a line matching REGEX (grep -E).
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing matching $2 in $1 after 20 s:" >&2
	cat "$1" >&2
	return 1
}

# ended PID S — true when PID exits within S seconds (then reaped); else kills it, false.
ended() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null || true
			return 0
		fi
		sleep 0.1
	done
	kill "$1" 2>/dev/null || true
	echo "pid $1 still running after $2 s" >&2
	return 1
}

# run_of OUT — the run of the stream in OUT (from its first event id RUN:N).
run_of() {
	sed -n 's/^id: \([0-9a-f]\{32\}\):[0-9]*$/\1/p' "$1" | head -n 1
}

# last_id OUT — the last event id of the stream in OUT.
last_id() {
	sed -n 's/^id: //p' "$1" | tail -n 1
}

# ask OUT ID — tools/call confirm in the background; waits for its elicitation/create. Sets
# CALL_PID, RUN and REQ (the elicitation's id).
ask() {
	call "$1" "$2" confirm '{"question":"Go?"}'
	wait_for "$1" '"method":"elicitation/create"'
	REQ=$(grep -m1 '"method":"elicitation/create"' "$1" | grep -o '"id":"[^"]*"' | head -n 1 |
		cut -d'"' -f4)
	RUN=$(run_of "$1")
	[ -n "$REQ" ] && [ -n "$RUN" ]
}

# answer — accepts the elicitation $REQ in $SID (through nginx, to whichever host).
answer() {
	mcp_call '{"jsonrpc":"2.0","id":"'"$REQ"'","result":{"action":"accept","content":{"ok":true}}}'
	assert_status 202
}

# host_with PATTERN — the host (a or b) whose log has a line containing PATTERN (grep -F).
host_with() {
	local h
	for h in a b; do
		if grep -qF "$1" "$STACK_DIR/$h/dmcp.log"; then
			echo "$h"
			return 0
		fi
	done
	echo "no host logged: $1" >&2
	return 1
}

other() {
	if [ "$1" = a ]; then echo b; else echo a; fi
}

# check_runs DIR SID — every run of the session completed once, its events 1..last_lsn
# with no gap and one response among them.
check_runs() {
	local bad
	bad=$(stack_psql "$1" "select r.id || ' ' || r.status || ' lsn ' || r.last_lsn || ' events ' || count(e.lsn) || ' max ' || coalesce(max(e.lsn), 0) || ' responses ' || count(*) filter (where e.kind = 'response') from dmcp_runs r left join dmcp_events e on e.run_id = r.id where r.session_id = '$2' group by r.id having r.status <> 'completed' or count(e.lsn) <> r.last_lsn or coalesce(max(e.lsn), 0) <> r.last_lsn or count(*) filter (where e.kind = 'response') <> 1")
	[ -z "$bad" ] || { echo "runs not completed once, gap-free: $bad" >&2; return 1; }
	[ "$(stack_psql "$1" "select count(*) from dmcp_runs where session_id = '$2'")" -ge 1 ]
}

# kill_host H — kill -9 of host H's whole process group (setsid made it one); waits until
# it is gone.
kill_host() {
	local pid pgid
	pid=$(cat "$STACK_DIR/$1/dmcp.pid")
	pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
	[ "$pgid" = "$pid" ] && [ "$pgid" != "$(ps -o pgid= -p $$ | tr -d ' ')" ] || {
		echo "host $1 (pid $pid) does not head its own process group ($pgid)" >&2
		return 1
	}
	kill -KILL -- "-$pgid"
	ended "$pid" 10 || true
	! _stack_alive "$pid"
}

@test "calls started on one host are answered and resumed through the other (round robin, nothing sticky)" {
	need_hosts
	local i out crossed=0 from to
	init
	for i in 1 2 3 4; do
		out=$BATS_TEST_TMPDIR/call$i
		ask "$out" "1$i"
		from=$(host_with "following run $RUN")
		answer
		ended "$CALL_PID" 20
		grep -q '"id":1'"$i"',"result":{.*"accepted":true' "$out" || { cat "$out" >&2; false; }
		to=$(host_with "answer $REQ applied")
		[ "$from" = "$to" ] || crossed=$((crossed + 1))
		# The finished call's stream again, from the table, on whichever host nginx picks.
		mcp_get -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" -H "Last-Event-ID: $RUN:1"
		assert_status 200
		[[ $body == *"id: $RUN:2"*'"id":1'"$i"',"result"'*'"accepted":true'* ]] || { _http_show; false; }
	done
	echo "# $crossed of 4 answers were applied on the other host than the call's stream" >&3
	[ "$crossed" -ge 1 ]
	# Both hosts served requests, and neither sees the other's network.
	grep -q 'request done' "$STACK_DIR/a/dmcp.log"
	grep -q 'request done' "$STACK_DIR/b/dmcp.log"
	[ "$(readlink "/proc/$(cat "$STACK_DIR/a/dmcp.pid")/ns/net")" != "$(readlink "/proc/$(cat "$STACK_DIR/b/dmcp.pid")/ns/net")" ]
	[ "$(readlink "/proc/$(cat "$STACK_DIR/a/dmcp.pid")/ns/net")" != "$(readlink /proc/self/ns/net)" ]
	check_runs "$STACK_DIR" "$SID"
}

@test "the host of a call's stream stops: the other host resumes the stream and applies the answer" {
	need_hosts
	local out=$BATS_TEST_TMPDIR/post get=$BATS_TEST_TMPDIR/get x y last
	init
	ask "$out" 21
	x=$(host_with "following run $RUN")
	y=$(other "$x")
	# SIGTERM: the host ends its streams (retry:) and exits.
	_stack_dmcp_stop "$STACK_DIR/$x"
	ended "$CALL_PID" 10
	! grep -q '"result"' "$out"
	last=$(last_id "$out")
	resume "$get" "$last"
	wait_for "$STACK_DIR/$y/dmcp.log" "following run $RUN after 1"
	answer
	ended "$GET_PID" 20
	grep -q '"id":21,"result":{.*"accepted":true' "$get" || { cat "$get" >&2; false; }
	grep -qF "answer $REQ applied" "$STACK_DIR/$y/dmcp.log"
	check_runs "$STACK_DIR" "$SID"
	stack_restart_dmcp "$STACK_DIR/$x" >&2
}

@test "kill -9 of one host mid-run (a call waiting for its answer, calls in a progress tool): the other finishes them, nothing lost" {
	need_hosts
	local x i t out runs=() outs=() pids=() broken=() gets=() gpids=() ok
	init
	ask "$BATS_TEST_TMPDIR/ask" 31
	x=$(host_with "following run $RUN")
	# Three calls of a tool that reports progress 4 times, 1.5 s apart: round robin puts
	# one of them, at least, on host x.
	for i in 1 2 3; do
		out=$BATS_TEST_TMPDIR/slow$i
		call "$out" "3$((i + 1))" slow_progress '{"steps":4,"delay_ms":1500}'
		pids+=("$CALL_PID")
		outs+=("$out")
		wait_for "$out" '"progress":1,'
		runs+=("$(run_of "$out")")
	done
	kill_host "$x"
	# The streams host x held break; the others go on.
	ended "$CALL_PID" 10
	! grep -q '"result"' "$BATS_TEST_TMPDIR/ask"
	for i in 0 1 2; do
		ended "${pids[i]}" 20
		grep -q '"result"' "${outs[i]}" || broken+=("$i")
	done
	echo "# host $x killed; broken progress streams: ${#broken[@]} of 3" >&3
	[ "${#broken[@]}" -ge 1 ] || { grep -H 'request done' "$STACK_DIR"/[ab]/dmcp.log >&2; cat "$STACK_DIR/nginx/error.log" >&2; false; }
	# Resume each broken stream through nginx (host x is gone: the other host serves).
	resume "$BATS_TEST_TMPDIR/ask.get" "$(last_id "$BATS_TEST_TMPDIR/ask")"
	t=$GET_PID
	for i in "${broken[@]}"; do
		resume "${outs[i]}.get" "$(last_id "${outs[i]}")"
		gpids+=("$GET_PID")
	done
	answer || { tail -n 20 "$STACK_DIR/nginx/error.log" >&2; tail -n 30 "$STACK_DIR/$(other "$x")/dmcp.log" >&2; false; }
	ended "$t" 30
	grep -q '"id":31,"result":{.*"accepted":true' "$BATS_TEST_TMPDIR/ask.get" ||
		{ cat "$BATS_TEST_TMPDIR/ask.get" >&2; false; }
	for i in "${gpids[@]}"; do ended "$i" 40; done
	# Every progress call: its four progress notifications and its result, across the
	# stream it started and the one that resumed it.
	for i in 0 1 2; do
		ok=$(cat "${outs[i]}" "${outs[i]}.get" 2>/dev/null | grep -o '"progress":[0-9]*,\|Finished 4 steps' | sort -u | tr '\n' ' ')
		[ "$ok" = '"progress":1, "progress":2, "progress":3, "progress":4, Finished 4 steps ' ] ||
			{ echo "call $i: $ok" >&2; cat "${outs[i]}" "${outs[i]}.get" >&2; false; }
	done
	check_runs "$STACK_DIR" "$SID"
	[ "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_runs where session_id = '$SID'")" -eq 4 ]
	stack_restart_dmcp "$STACK_DIR/$x" >&2
}

# xacts — transactions PgBouncer passed to PostgreSQL for the database dmcp (SHOW STATS).
xacts() {
	stack_pooler_psql "$POOL_DIR" "SHOW STATS" | awk -F'|' '$1 == "dmcp" { print $2 }'
}

# pool_env — the pooled stack's URL for the http.bash functions.
pool_env() {
	DMCP_URL=$POOL_URL
	DMCP_HOSTPORT=${POOL_URL#http://}
	DMCP_HOSTPORT=${DMCP_HOSTPORT%/mcp}
}

@test "through PgBouncer in transaction mode (2 server connections, 4 workers): initialize, tools, echo, elicitation, progress" {
	local x0 x1 i out=$BATS_TEST_TMPDIR/ask slow=$BATS_TEST_TMPDIR/slow servers clients
	pool_env
	x0=$(xacts)
	init
	mcp_call '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
	assert_rpc_result 2 '"echo" in [t["name"] for t in r["tools"]]'
	# Eight echo calls at once: four workers, two server connections between them.
	for i in 1 2 3 4 5 6 7 8; do
		curl -s --max-time 20 "$DMCP_URL" -H 'Content-Type: application/json' \
			-H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" \
			-d '{"jsonrpc":"2.0","id":'"$i"',"method":"tools/call","params":{"name":"echo","arguments":{"message":"m'"$i"'"}}}' \
			>"$BATS_TEST_TMPDIR/echo$i" &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		grep -q '"echoed":"m'"$i"'"' "$BATS_TEST_TMPDIR/echo$i" || { cat "$BATS_TEST_TMPDIR/echo$i" >&2; false; }
	done
	ask "$out" 20
	answer
	ended "$CALL_PID" 20
	grep -q '"id":20,"result":{.*"accepted":true' "$out" || { cat "$out" >&2; false; }
	call "$slow" 21 slow_progress '{"steps":3,"delay_ms":300}'
	ended "$CALL_PID" 20
	[ "$(grep -c '"method":"notifications/progress"' "$slow")" -eq 3 ]
	grep -q '"id":21,"result":{.*Finished 3 steps' "$slow"
	check_runs "$POOL_DIR" "$SID"
	sleep 1.5 # SHOW STATS adds up every second (stats_period)
	x1=$(xacts)
	echo "# PgBouncer: $((x1 - x0)) transactions for this test" >&3
	[ "$((x1 - x0))" -ge 15 ]
	# The pooler shared its two server connections among more clients than that.
	servers=$(stack_pooler_psql "$POOL_DIR" "SHOW SERVERS" | grep -c '|dmcp|dmcp|') || servers=0
	clients=$(stack_pooler_psql "$POOL_DIR" "SHOW CLIENTS" | grep -c '|dmcp|dmcp|') || clients=0
	echo "# PgBouncer: $clients client connections, $servers server connections" >&3
	[ "$servers" -ge 1 ] && [ "$servers" -le 2 ]
	[ "$clients" -gt 2 ]
	# No worker logged a database error.
	! grep -q 'database:' "$POOL_DIR/dmcp.log" || { grep 'database:' "$POOL_DIR/dmcp.log" >&2; false; }
}

@test "through PgBouncer: a call waiting for its answer survives kill -9 of every worker" {
	local out=$BATS_TEST_TMPDIR/ask get=$BATS_TEST_TMPDIR/get pid
	pool_env
	init
	ask "$out" 30
	for pid in $(cat "$POOL_DIR/workers.pids"); do kill -KILL "$pid"; done
	ended "$CALL_PID" 10
	stack_restart_dmcp "$POOL_DIR" >&2
	resume "$get" "$(last_id "$out")"
	sleep 0.5
	answer
	ended "$GET_PID" 20
	grep -q '"id":30,"result":{.*"accepted":true' "$get" || { cat "$get" >&2; false; }
	check_runs "$POOL_DIR" "$SID"
}

@test "idle workers behind PgBouncer ask the database almost nothing (the scheduler sleeps)" {
	local x0 x1
	sleep 1.5
	x0=$(xacts)
	sleep 3
	x1=$(xacts)
	echo "# PgBouncer: $((x1 - x0)) transactions in 3 idle seconds" >&3
	[ "$((x1 - x0))" -le 12 ]
}

@test "without DMCP_POOLER, the same workers through PgBouncer fail as documented: their prepared statements meet other clients' server connections" {
	local i codes
	# This test's own workers: the pooled URL, but not DMCP_POOLER=transaction.
	_stack_prog_env() {
		STACK_PENV=("DMCP_DATABASE_URL=$STACK_POOLURL" "DMCP_LISTEN_URL=$STACK_DBURL")
	}
	stack_spawn_workers "$POOL_DIR" 4 >&2
	pool_env
	for i in 1 2 3 4 5 6 7 8; do
		curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' "$DMCP_URL" \
			-H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
			-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \
			>"$BATS_TEST_TMPDIR/code$i" &
	done
	wait
	codes=$(cat "$BATS_TEST_TMPDIR"/code* | sort | uniq -c | tr -s ' \n' '  ')
	echo "# initialize without DMCP_POOLER: $codes(count status)" >&3
	grep -qx 503 "$BATS_TEST_TMPDIR"/code*
	grep -Eq 'prepared statement "s[0-9]+" (already exists|does not exist)' "$POOL_DIR/dmcp.log"
	# Back to the file's workers (DMCP_POOLER=transaction).
	unset -f _stack_prog_env
	source "$BATS_TEST_DIRNAME/lib/stack.sh"
	stack_spawn_workers "$POOL_DIR" 4 >&2
}
