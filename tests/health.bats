#!/usr/bin/env bats
# health.bats — the process around the requests: start-up against a database that is down,
# behind or ahead; 503 with Retry-After, at once, while it is down, and service by itself once
# it is back; statement and lock timeouts under a held table lock; a clean SIGTERM that leaves
# a shared or kept listening socket to the other processes; the listener's retries; the rules
# of --socket and --user; origins that follow DMCP_ALLOWED_HOSTS; plain CGI on one connection.
# Each test starts its own program on its own socket (raw FastCGI, no web server) against the
# file's PostgreSQL, which some tests stop and start again.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	HEALTH_DIR=$(stack_mktemp)
	export HEALTH_DIR
	stack_db_start "$HEALTH_DIR" >&2
}

teardown_file() {
	stack_stop "$HEALTH_DIR"
	case $HEALTH_DIR in /tmp/dmcp-test.*) rm -rf "$HEALTH_DIR" ;; esac
}

setup() {
	T=$HEALTH_DIR/t$BATS_TEST_NUMBER
	mkdir -p "$T" && chmod 0777 "$T"
	_stack_load "$HEALTH_DIR"
	# Tests that stop PostgreSQL start it again; make sure it runs for the next one.
	pg_up
}

teardown() {
	local p
	for p in $(cat "$T"/*.pid 2>/dev/null); do _stack_kill "$p" "$T"; done
	true
}

pg_down() { _stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$HEALTH_DIR/pg/data" -m fast -w stop >/dev/null 2>&1; }
pg_up() {
	_stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$HEALTH_DIR/pg/data" status >/dev/null 2>&1 && return 0
	_stack_pg_ctl_start "$HEALTH_DIR"
}

# prog NAME [VAR=VALUE...] [-- ARGS...] — starts the demo program on $T/NAME.sock (its log
# $T/NAME.log, its PID $T/NAME.pid), as nobody when root.
prog() {
	local name=$1 envs=() args=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	args=("$@")
	# shellcheck disable=SC2046
	(cd "$T" && exec env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" DMCP_ALLOWED_HOSTS=localhost \
		"${envs[@]}" "$(_stack_bin)" --socket "$T/$name.sock" --threads 2 \
		$(_stack_user_args) "${args[@]}") </dev/null >>"$T/$name.log" 2>&1 3>&- &
	echo $! >"$T/$name.pid"
}

wait_sock() {
	local i
	for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
	echo "no socket $1" >&2
	return 1
}

# req SOCK BODY — one POST straight to the program (FastCGI); sets status_code, headers,
# body, and ms: how long the request took from connect to the end of the reply (the
# client's own start-up, slow on a loaded machine, is not counted).
req() {
	local sock=$1 data=$2
	printf '%s' "$data" >"$T/req.json"
	rm -f "$T/req.ms"
	FCGI_MS_FILE="$T/req.ms" timeout 30 "$MCP_PYTHON" -c "$_FCGI_PY" "$sock" "$T/req.json" \
		full REQUEST_METHOD=POST CONTENT_TYPE=application/json "CONTENT_LENGTH=${#data}" \
		"HTTP_ACCEPT=$MCP_ACCEPT" HTTP_HOST=localhost "${@:3}" >"$T/req.out"
	ms=$(cat "$T/req.ms" 2>/dev/null || echo 99999)
	_http_parse_cgi "$T/req.out"
}

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"health","version":"1"}}}'

@test "started while PostgreSQL is down: 503 with Retry-After at once, then exit 1 with one clear line after DMCP_START_TIMEOUT" {
	pg_down
	t0=${EPOCHREALTIME//[!0-9]/}
	prog a DMCP_START_TIMEOUT=3
	wait_sock "$T/a.sock"
	req "$T/a.sock" "$INIT"
	echo "# a request with the database down: $status_code in $ms ms" >&3
	[ "$status_code" = 503 ]
	[ "$(header Retry-After)" -ge 1 ]
	[ "$ms" -lt 1000 ]
	pid=$(cat "$T/a.pid")
	for i in $(seq 100); do _stack_alive "$pid" || break; sleep 0.1; done
	! _stack_alive "$pid"
	rc=0
	wait "$pid" || rc=$?
	took=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
	echo "# exit status $rc after $took ms" >&3
	[ "$rc" -eq 1 ]
	[ "$took" -ge 3000 ] && [ "$took" -lt 9000 ]
	[ "$(grep -c 'dmcp error: no database within DMCP_START_TIMEOUT (3 s)' "$T/a.log")" -eq 1 ]
}

@test "PostgreSQL coming up within DMCP_START_TIMEOUT: the program serves" {
	pg_down
	prog a DMCP_START_TIMEOUT=60
	wait_sock "$T/a.sock"
	sleep 1
	pg_up
	for i in $(seq 50); do
		req "$T/a.sock" "$INIT"
		[ "$status_code" = 200 ] && break
		sleep 0.2
	done
	[ "$status_code" = 200 ]
	_stack_alive "$(cat "$T/a.pid")"
}

@test "PostgreSQL stopped while serving: 503 with Retry-After within a second; service comes back by itself" {
	prog a
	wait_sock "$T/a.sock"
	for i in $(seq 50); do req "$T/a.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	[ "$status_code" = 200 ]
	pg_down
	for i in 1 2 3; do
		req "$T/a.sock" "$INIT"
		echo "# database stopped: $status_code in $ms ms" >&3
		[ "$status_code" = 503 ] && [ "$ms" -lt 1000 ] && [ -n "$(header Retry-After)" ]
	done
	pg_up
	t0=${EPOCHREALTIME//[!0-9]/}
	for i in $(seq 100); do
		req "$T/a.sock" "$INIT"
		[ "$status_code" = 200 ] && break
		sleep 0.1
	done
	echo "# database back: 200 after $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms" >&3
	[ "$status_code" = 200 ]
}

@test "migrations behind or ahead of the program: it refuses to serve, saying which" {
	stack_psql "$HEALTH_DIR" "drop database if exists h_empty" >/dev/null
	stack_psql "$HEALTH_DIR" "create database h_empty" >/dev/null
	url=${DMCP_DATABASE_URL/dbname=dmcp/dbname=h_empty}
	prog a "DMCP_DATABASE_URL=$url"
	pid=$(cat "$T/a.pid")
	for i in $(seq 100); do _stack_alive "$pid" || break; sleep 0.1; done
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q 'refusing to serve: the database has no dmcp tables (no migration applied): run migrate' "$T/a.log"
	# Behind: the newest migration not applied.
	env "DMCP_DATABASE_URL=$url" "$(_stack_bin)" migrate >/dev/null
	newest=$(ls "$STACK_ROOT"/sql/*.sql | sed 's|.*/||' | sort | tail -n 1 | sed 's/^0*\([0-9]*\).*/\1/')
	name=$(psql -XAtq -d "$url" -c "select name from dmcp_migrations where version = $newest")
	psql -XAtq -d "$url" -c "delete from dmcp_migrations where version = $newest" >/dev/null
	prog b "DMCP_DATABASE_URL=$url"
	pid=$(cat "$T/b.pid")
	for i in $(seq 100); do _stack_alive "$pid" || break; sleep 0.1; done
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	grep -E "refusing to serve: the database's migrations are behind this program: 1 not applied \(first: 0*$newest" "$T/b.log"
	# Ahead: a migration this program does not know.
	psql -XAtq -d "$url" -c "insert into dmcp_migrations (version, name) values ($newest, '$name')" >/dev/null
	psql -XAtq -d "$url" -c "insert into dmcp_migrations (version, name) values (999, '999_future')" >/dev/null
	prog c "DMCP_DATABASE_URL=$url"
	pid=$(cat "$T/c.pid")
	for i in $(seq 100); do _stack_alive "$pid" || break; sleep 0.1; done
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "refusing to serve: the database's migrations are ahead of this program: it has 1 migration(s) the program does not know (first: 999" "$T/c.log"
	stack_psql "$HEALTH_DIR" "drop database h_empty" >/dev/null
}

@test "a table lock held elsewhere: the request fails after DMCP_LOCK_TIMEOUT_MS with 503, it does not hang; then works" {
	prog a DMCP_LOCK_TIMEOUT_MS=500
	wait_sock "$T/a.sock"
	for i in $(seq 50); do req "$T/a.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	[ "$status_code" = 200 ]
	# The lock is held 10 s; an answer well before that (6 s leaves room for a loaded
	# machine) is the lock timeout's, not the lock's release.
	psql -XAtq -d "$DMCP_DATABASE_URL" -c "begin; lock table dmcp_sessions in access exclusive mode; select pg_sleep(10); commit" >/dev/null &
	locker=$!
	sleep 0.5
	req "$T/a.sock" "$INIT"
	echo "# initialize under a held lock: $status_code in $ms ms" >&3
	[ "$status_code" = 503 ]
	[ -n "$(header Retry-After)" ]
	[ "$ms" -lt 6000 ]
	grep -q 'lock timeout' "$T/a.log"
	wait "$locker"
	req "$T/a.sock" "$INIT"
	[ "$status_code" = 200 ]
}

@test "a statement that runs past DMCP_STATEMENT_TIMEOUT_MS is cancelled by PostgreSQL" {
	prog a DMCP_STATEMENT_TIMEOUT_MS=300
	wait_sock "$T/a.sock"
	for i in $(seq 50); do req "$T/a.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	[ "$status_code" = 200 ]
	# An ACCESS EXCLUSIVE lock with lock_timeout off would wait forever; statement_timeout ends it.
	prog b DMCP_STATEMENT_TIMEOUT_MS=300 DMCP_LOCK_TIMEOUT_MS=0
	wait_sock "$T/b.sock"
	for i in $(seq 50); do req "$T/b.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	# Held 10 s: an answer within 6 s (room for a loaded machine) is the statement timeout's.
	psql -XAtq -d "$DMCP_DATABASE_URL" -c "begin; lock table dmcp_sessions in access exclusive mode; select pg_sleep(10); commit" >/dev/null &
	locker=$!
	sleep 0.5
	req "$T/b.sock" "$INIT"
	echo "# initialize under a held lock, no lock_timeout: $status_code in $ms ms" >&3
	[ "$status_code" = 503 ]
	[ "$ms" -lt 6000 ]
	grep -q 'statement timeout' "$T/b.log"
	wait "$locker"
}

@test "SIGTERM to one of two spawn-fcgi processes sharing a socket: the other keeps serving" {
	command -v spawn-fcgi >/dev/null || skip "spawn-fcgi not installed"
	# shellcheck disable=SC2046
	(cd "$T" && exec env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" DMCP_THREADS=2 \
		DMCP_LOG_FILE="$T/w.log" spawn-fcgi -s "$T/w.sock" -M 0666 -F 2 -P "$T/w.pids" \
		$(_stack_spawn_user_args) -- "$(_stack_bin)") </dev/null >/dev/null 2>&1
	pids=$(cat "$T/w.pids")
	cp "$T/w.pids" "$T/w.pid"
	[ "$(echo $pids | wc -w)" -eq 2 ]
	# They really share one socket: each serves what the other leaves.
	for i in $(seq 50); do req "$T/w.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	[ "$status_code" = 200 ]
	first=$(head -n 1 "$T/w.pids")
	kill -TERM "$first"
	for i in $(seq 100); do _stack_alive "$first" || break; sleep 0.1; done
	! _stack_alive "$first"
	for i in $(seq 20); do
		req "$T/w.sock" "$INIT"
		[ "$status_code" = 200 ] || { echo "request $i after the SIGTERM: '$status_code'" >&2; cat "$T/w.log" >&2; return 1; }
	done
}

# A stand-in for systemd's kept socket: binds SOCK, runs the program on it (fd 0); on SIGHUP
# stops it (SIGTERM) and starts a new one on the same socket; on SIGTERM stops it and exits.
KEEPER_PY='
import os, signal, socket, subprocess, sys, time
path, log, pidfile = sys.argv[1], sys.argv[2], sys.argv[3]
cmd = sys.argv[4:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); os.chmod(path, 0o666); s.listen(64)
out = open(log, "ab")
def start():
    p = subprocess.Popen(cmd, stdin=s.fileno(), stdout=out, stderr=out)
    open(pidfile, "w").write(str(p.pid))
    return p
child = [start()]
def hup(*a):
    child[0].send_signal(signal.SIGTERM); child[0].wait(); child[0] = start()
def term(*a):
    child[0].send_signal(signal.SIGTERM); child[0].wait(); sys.exit(0)
signal.signal(signal.SIGHUP, hup); signal.signal(signal.SIGTERM, term)
while True:
    time.sleep(1)
'

@test "a kept listening socket (systemd-style): after SIGTERM a new process on the same socket serves" {
	user=()
	[ "$(id -u)" -ne 0 ] || user=(--user nobody)
	env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" DMCP_ALLOWED_HOSTS=localhost DMCP_THREADS=2 \
		"$MCP_PYTHON" -c "$KEEPER_PY" "$T/k.sock" "$T/k.log" "$T/k.child" "$(_stack_bin)" "${user[@]}" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$T/k.pid"
	wait_sock "$T/k.sock"
	for i in $(seq 50); do req "$T/k.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	[ "$status_code" = 200 ]
	old=$(cat "$T/k.child")
	kill -HUP "$(cat "$T/k.pid")"
	for i in $(seq 100); do [ "$(cat "$T/k.child")" != "$old" ] && break; sleep 0.1; done
	[ "$(cat "$T/k.child")" != "$old" ]
	! _stack_alive "$old"
	for i in $(seq 5); do
		req "$T/k.sock" "$INIT"
		[ "$status_code" = 200 ] || { echo "after the restart: '$status_code'" >&2; cat "$T/k.log" >&2; return 1; }
	done
	grep -q stopped "$T/k.log"
}

@test "the listener retrying a database that is down holds no more file descriptors over time" {
	pg_down
	prog a DMCP_START_TIMEOUT=60
	wait_sock "$T/a.sock"
	pid=$(cat "$T/a.pid")
	sleep 1
	n1=$(ls "/proc/$pid/fd" | wc -l)
	for i in $(seq 20); do req "$T/a.sock" "$INIT"; sleep 0.3; done
	n2=$(ls "/proc/$pid/fd" | wc -l)
	attempts=$(grep -c 'listener' "$T/a.log" || true)
	echo "# open fds: $n1, then $n2 after 8 s of retries and 20 refused requests" >&3
	[ "$n2" -le "$n1" ]
}

@test "--socket :PORT listens on 127.0.0.1 only" {
	port=$(_stack_free_port)
	prog a -- --socket ":$port"
	for i in $(seq 50); do grep -q "listening on TCP" "$T/a.log" && break; sleep 0.1; done
	grep -q "listening on TCP 127.0.0.1:$port" "$T/a.log"
	hexport=$(printf '%04X' "$port")
	# /proc/net/tcp: local address 0100007F:PORT (127.0.0.1), state 0A (LISTEN).
	grep -q ": 0100007F:$hexport 00000000:0000 0A" /proc/net/tcp
	! grep -q ": 00000000:$hexport 00000000:0000 0A" /proc/net/tcp
}

@test "--socket PATH: a file that is not a socket, or a socket in use, is refused and left alone" {
	echo precious >"$T/file.sock"
	rc=0
	env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" "$(_stack_bin)" --socket "$T/file.sock" \
		$(_stack_user_args) </dev/null >"$T/f.log" 2>&1 || rc=$?
	[ "$rc" -ne 0 ]
	grep -q 'exists and is not a socket' "$T/f.log"
	[ "$(cat "$T/file.sock")" = precious ]
	prog a
	wait_sock "$T/a.sock"
	for i in $(seq 50); do req "$T/a.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	rc=0
	env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" "$(_stack_bin)" --socket "$T/a.sock" \
		$(_stack_user_args) </dev/null >"$T/g.log" 2>&1 || rc=$?
	[ "$rc" -ne 0 ]
	grep -q 'in use by another server' "$T/g.log"
	req "$T/a.sock" "$INIT"
	[ "$status_code" = 200 ]
}

@test "a server started as root refuses to run without --user" {
	[ "$(id -u)" -eq 0 ] || skip "not root"
	rc=0
	env "DMCP_DATABASE_URL=$DMCP_DATABASE_URL" timeout 10 "$(_stack_bin)" --socket "$T/r.sock" \
		</dev/null >"$T/r.log" 2>&1 || rc=$?
	[ "$rc" -eq 1 ]
	grep -q 'refusing to serve as root' "$T/r.log"
	prog a -- --user nobody
	wait_sock "$T/a.sock"
	for i in $(seq 50); do req "$T/a.sock" "$INIT"; [ "$status_code" = 200 ] && break; sleep 0.1; done
	[ "$status_code" = 200 ]
	[ "$(stat -c %U "/proc/$(cat "$T/a.pid")")" = nobody ]
}

@test "without DMCP_ALLOWED_ORIGINS the allowed origins follow DMCP_ALLOWED_HOSTS" {
	cgi_request "$INIT" HTTP_HOST=mcp.example.com DMCP_ALLOWED_HOSTS=mcp.example.com \
		HTTP_ORIGIN=https://mcp.example.com
	assert_status 200
	cgi_request "$INIT" HTTP_HOST=mcp.example.com DMCP_ALLOWED_HOSTS=mcp.example.com \
		HTTP_ORIGIN=https://evil.example.net
	assert_status 403
	# Named origins replace them.
	cgi_request "$INIT" HTTP_HOST=mcp.example.com DMCP_ALLOWED_HOSTS=mcp.example.com \
		DMCP_ALLOWED_ORIGINS=https://app.example.org HTTP_ORIGIN=https://mcp.example.com
	assert_status 403
}

@test "plain CGI: a stream that follows a waiting call uses one database connection" {
	req_body='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"cgi","version":"1"}}}'
	url="$DMCP_DATABASE_URL application_name=cgi_one"
	cgi_request "$req_body" "DMCP_DATABASE_URL=$url"
	assert_status 200
	sid=$(header Mcp-Session-Id)
	call='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"confirm","arguments":{}}}'
	printf '%s' "$call" >"$T/call.json"
	env -i PATH="$PATH" "DMCP_DATABASE_URL=$url" DMCP_STREAM_HOLD_MS=3000 \
		GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		"CONTENT_LENGTH=${#call}" "HTTP_ACCEPT=$MCP_ACCEPT" HTTP_HOST=localhost \
		"HTTP_MCP_SESSION_ID=$sid" HTTP_MCP_PROTOCOL_VERSION=2025-11-25 \
		"$(_stack_bin)" <"$T/call.json" >"$T/cgi.out" 2>"$T/cgi.err" &
	cgi=$!
	max=0
	for i in $(seq 20); do
		n=$(stack_psql "$HEALTH_DIR" "select count(*) from pg_stat_activity where application_name = 'cgi_one'")
		[ "$n" -gt "$max" ] && max=$n
		sleep 0.1
	done
	wait "$cgi"
	echo "# connections of the CGI process while its stream followed: $max" >&3
	[ "$max" -eq 1 ]
	grep -q '^retry: ' "$T/cgi.out"
}
