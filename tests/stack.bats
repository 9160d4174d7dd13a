#!/usr/bin/env bats
# stack.bats — the test stack itself (tests/lib/stack.sh): PostgreSQL, the program, nginx come
# up, answer, and stack_stop leaves no process behind.

source "$BATS_TEST_DIRNAME/lib/stack.sh"

setup_file() {
	stack_file_up
}

teardown_file() {
	stack_file_down
}

# Processes that belong to the stack: command line naming its directory, or working
# directory inside it (PostgreSQL's backends run in DIR/pg/data).
stack_processes() {
	local p cmd cwd
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		cwd=$(readlink "$p/cwd" 2>/dev/null) || cwd=""
		case "$cmd|$cwd/" in
		*"$STACK_DIR/"*) [ -n "$cmd" ] && echo "${p#/proc/}: $cmd" ;;
		esac
	done
}

@test "PostgreSQL answers select 1" {
	run stack_psql "$STACK_DIR" "select 1"
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
}

@test "the migrations are recorded in dmcp_migrations" {
	run stack_psql "$STACK_DIR" "select count(*) > 0 from dmcp_migrations"
	[ "$status" -eq 0 ]
	[ "$output" = t ]
}

@test "nginx answers on /mcp" {
	run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$DMCP_URL"
	[ "$output" != 000 ]
	[ "$output" != 502 ]
}

@test "an unknown path gets 404 from nginx" {
	run curl -s -i --max-time 5 "http://$DMCP_HOSTPORT/nope"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "HTTP/1.1 404"* ]]
	[[ $output == *"Server: nginx"* ]]
}

@test "stack_stop leaves no process of the stack running" {
	local pids p
	pids="$(cat "$STACK_DIR/dmcp.pid") $(cat "$STACK_DIR/nginx/nginx.run.pid")"
	pids="$pids $(head -n 1 "$STACK_DIR/pg/data/postmaster.pid")"
	[ -n "$(stack_processes)" ]
	stack_stop "$STACK_DIR"
	for p in $pids; do
		if _stack_alive "$p"; then
			echo "pid $p still runs" >&2
			return 1
		fi
	done
	run stack_processes
	[ -z "$output" ] || { echo "left running: $output" >&2; return 1; }
	# Safe to call again.
	stack_stop "$STACK_DIR"
}

@test "no sanitizer reports in the program's logs" {
	stack_stop "$STACK_DIR"
	run stack_san_errors "$STACK_DIR"
	[ "$status" -ne 0 ] || { echo "$output" >&2; return 1; }
}
