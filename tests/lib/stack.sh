# shellcheck shell=bash
# stack.sh — start and stop a private dmcp stack: PostgreSQL, the FastCGI program, nginx.
# Sourced (bash) by the tests and by tests/lib/run.sh; defines functions only. Works under
# `set -e` (bats) and `set -u`.
#
#   stack_start DIR [PORT]          PostgreSQL under DIR/pg, the program's `migrate`, the program on
#                                   DIR/fcgi.sock, nginx on 127.0.0.1:PORT (default: a free port).
#                                   Exports DMCP_DATABASE_URL, STACK_PORT, DMCP_URL, DMCP_HOSTPORT.
#   stack_stop DIR                  Stops all of it, by recorded PIDs only. Safe twice, safe on a
#                                   half-started stack.
#   stack_restart_dmcp DIR [BIN]    Starts the program again (threaded, or the workers if
#                                   stack_spawn_workers was used last), e.g. after a kill -9;
#                                   BIN instead of the stack's program, from then on, if given.
#   stack_spawn_workers DIR N       Replaces the threaded program by N single-threaded processes
#                                   sharing DIR/fcgi.sock (spawn-fcgi); PIDs in DIR/workers.pids.
#   stack_pg_restart_immediate DIR  pg_ctl stop -m immediate, then start again.
#   stack_psql DIR SQL              Runs SQL on the stack's database; prints rows (psql -XAtq).
#   stack_db_start DIR              Only the database part of stack_start (PostgreSQL, migrate).
#   stack_file_up, stack_file_down  setup_file/teardown_file of a bats file: a stack in a new
#                                   temporary directory, STACK_DIR.
#   stack_mktemp                    Prints a new 0755 directory under /tmp for a test stack.
#   stack_program NAME              Prints the path of the program NAME built next to DMCP_BIN's
#                                   (dmcp.fcgi, dmcp-demo.fcgi, dmcp-conformance.fcgi).
#   stack_san_errors DIR            Prints sanitizer reports (ASan, LSan, UBSan) found in the
#                                   program's logs; false if there are none.
#   stack_netns_ok                  True when this shell may run a program in a network
#                                   namespace of its own (unshare --net: root); else prints why.
#   stack_pooler_psql DIR SQL       Runs SQL on PgBouncer's admin console (STACK_POOLER=1):
#                                   SHOW STATS, SHOW POOLS, ...; prints rows (psql -XAtq, "|").
#
# Environment read:
#   DMCP_BIN           the program (default: build/dmcp-demo.fcgi in this tree, the demo tools;
#                      tests of the conformance fixtures use build/dmcp-conformance.fcgi)
#   STACK_THREADS      worker threads of the program (default 8)
#   STACK_PG_DURABLE   1: keep PostgreSQL's crash-safe settings (default: fsync and
#                      synchronous_commit off, for speed)
#   STACK_PG_PORT      the number naming PostgreSQL's unix socket (default 5432; it only
#                      names DIR/pg/sock/.s.PGSQL.N, nothing listens on TCP)
#   STACK_EXTERNAL_DB  1: use the database in DMCP_DATABASE_URL instead of a private cluster
#   STACK_INTERRUPTED  1: stop waiting (a signal trap of the caller sets it)
#   STACK_SQL          SQL files run on the database after the migrations, before the program
#                      starts (space-separated paths; `make run` installs examples/sql/ so)
#   STACK_AUTH         1: nginx asks for HTTP basic auth (auth_basic, DIR/nginx/htpasswd) with
#                      two users: alice (password alice-pw) and bob (password bob-pw); the
#                      program sees the user as REMOTE_USER, its principal (the recipe's
#                      REMOTE_USER line is turned on). Default: no basic auth, no REMOTE_USER
#                      (a request is "anonymous", or whoever DMCP_AUTH's bearer methods say).
#   STACK_HOSTS        names, e.g. "a b": instead of one program on DIR/fcgi.sock, stack_start
#                      starts one "host" per name, each the program in a network namespace of
#                      its own (unshare --net: no network but its own loopback, which nothing
#                      uses) and a process group of its own (setsid: kill -9 of that group
#                      takes the whole host), on DIR/NAME/fcgi.sock; they reach PostgreSQL (and
#                      PgBouncer) through unix sockets, which cross namespaces. nginx passes
#                      /mcp to an upstream of their sockets: round robin, nothing sticky. Each
#                      DIR/NAME is a stack directory of its own for stack_restart_dmcp and
#                      stack_spawn_workers (which keep it in its namespace); stack_stop DIR
#                      stops them all. Needs root (stack_netns_ok).
#   STACK_POOLER       1: PgBouncer (Debian's package) in transaction mode between the program's
#                      workers and PostgreSQL, run as PostgreSQL's user, on a unix socket only
#                      (DIR/pgbouncer/.s.PGSQL.6432, no TCP): the program gets
#                      DMCP_DATABASE_URL through it, DMCP_POOLER=transaction, and
#                      DMCP_LISTEN_URL straight to PostgreSQL (LISTEN needs a connection of its
#                      own). migrate, stack_psql and the exported DMCP_DATABASE_URL stay direct.
#   STACK_POOL_SIZE    PgBouncer's default_pool_size: server connections per database and user
#                      (default 2, fewer than the program's threads: they take turns)
#
# Layout of DIR: pg/data (cluster), pg/sock (its socket), pg/postgres.log, fcgi.sock,
# dmcp.pid, dmcp.log, migrate.log, workers.pids, nginx/ (config, pid, logs, temp), stack.env,
# pgbouncer/ (config, socket, pid, log), and one directory per name of STACK_HOSTS.
# When run as root, PostgreSQL runs as the user `postgres` (or `nobody`), which must be able
# to enter DIR.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_stack_say() { printf 'stack: %s\n' "$*" >&2; }

# _stack_tail FILE... — the last lines of each log that exists, to stderr.
_stack_tail() {
	local f
	for f in "$@"; do
		if [ -s "$f" ]; then
			printf -- '--- last lines of %s ---\n' "$f" >&2
			tail -n 30 "$f" >&2
		fi
	done
}

# _stack_abs PATH — PATH made absolute against the current directory.
_stack_abs() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

# _stack_bin — the program to run: DMCP_BIN (relative to the current directory if it exists
# there, else to the tree's root), default build/dmcp-demo.fcgi.
_stack_bin() {
	local b=${DMCP_BIN:-build/dmcp-demo.fcgi}
	case $b in
	/*) ;;
	*) if [ -e "$b" ]; then b=$(_stack_abs "$b"); else b=$STACK_ROOT/$b; fi ;;
	esac
	printf '%s\n' "$b"
}

# _stack_pgbin — the directory holding pg_ctl: pg_config --bindir, else the newest
# /usr/lib/postgresql/*/bin, else pg_ctl on PATH.
_stack_pgbin() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null)
		if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then printf '%s\n' "$d"; return 0; fi
	fi
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then printf '%s\n' "$d"; return 0; fi
	d=$(command -v pg_ctl 2>/dev/null) && { dirname "$d"; return 0; }
	_stack_say "PostgreSQL server programs (pg_ctl) not found; run: make deps"
	return 1
}

# _stack_psql_bin — psql from the server's bindir when there is one, else from PATH.
_stack_psql_bin() {
	if [ -n "${STACK_PGBIN:-}" ] && [ -x "$STACK_PGBIN/psql" ]; then
		printf '%s\n' "$STACK_PGBIN/psql"
	else
		command -v psql
	fi
}

# _stack_pguser — empty when not root; else the unprivileged user PostgreSQL runs as.
_stack_pguser() {
	[ "$(id -u)" -eq 0 ] || return 0
	if id -u postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

# _stack_as_pg CMD... — runs CMD as the PostgreSQL user (from /, which it can always enter).
_stack_as_pg() {
	if [ -n "${STACK_PGUSER:-}" ]; then
		(cd / && runuser -u "$STACK_PGUSER" -- "$@")
	else
		"$@"
	fi
}

# _stack_blocker PATH — the first directory on the way to PATH that the PostgreSQL user
# cannot enter (empty if none).
_stack_blocker() {
	local p=$1 acc='' part
	local IFS=/
	for part in $p; do
		[ -n "$part" ] || continue
		acc=$acc/$part
		[ -d "$acc" ] || break
		if ! _stack_as_pg test -x "$acc" 2>/dev/null; then
			printf '%s\n' "$acc"
			return 0
		fi
	done
}

# _stack_interrupted — true once the caller set STACK_INTERRUPTED=1 (e.g. from a signal trap):
# the waiting loops give up at once.
_stack_interrupted() { [ "${STACK_INTERRUPTED:-0}" = 1 ]; }

# _stack_alive PID — true if PID runs (a zombie counts as gone).
_stack_alive() {
	local pid=$1 st
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [ -r "/proc/$pid/stat" ]; then
		st=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
		st=${st##*) }
		case $st in Z* | X*) return 1 ;; esac
	fi
	return 0
}

# _stack_is PID TEXT — true if PID runs and its command line contains TEXT (guards against
# a recycled PID from a stale pid file).
_stack_is() {
	local pid=$1 text=$2 cmd
	_stack_alive "$pid" || return 1
	[ -r "/proc/$pid/cmdline" ] || return 0
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	case $cmd in *"$text"*) return 0 ;; esac
	return 1
}

# _stack_kill PID TEXT — SIGTERM, up to 5 s, then SIGKILL; only if PID is still TEXT.
_stack_kill() {
	local pid=$1 text=$2 i
	_stack_is "$pid" "$text" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		_stack_alive "$pid" || break
		sleep 0.1
	done
	if _stack_alive "$pid"; then
		_stack_say "pid $pid did not stop in 5 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		for i in $(seq 20); do
			_stack_alive "$pid" || break
			sleep 0.1
		done
	fi
	# Reap it if it is this shell's child (never blocks: it is gone or a zombie by now).
	if ! _stack_alive "$pid"; then wait "$pid" 2>/dev/null || true; fi
	return 0
}

# _stack_kill_recorded PIDFILE TEXT — _stack_kill of the PID recorded in PIDFILE (nothing when
# there is no such file), then the file goes.
_stack_kill_recorded() {
	[ -f "$1" ] || return 0
	_stack_kill "$(cat "$1")" "$2"
	rm -f "$1"
}

# _stack_q VALUE — VALUE quoted for a libpq conninfo string when it needs it.
_stack_q() {
	case $1 in
	*[\ \'\\]* | '') local v=${1//\\/\\\\}; v=${v//\'/\\\'}; printf "'%s'" "$v" ;;
	*) printf '%s' "$1" ;;
	esac
}

_stack_save() {
	local dir=$1
	{
		printf 'STACK_BIN=%q\n' "$STACK_BIN"
		printf 'STACK_PGBIN=%q\n' "${STACK_PGBIN:-}"
		printf 'STACK_PGUSER=%q\n' "${STACK_PGUSER:-}"
		printf 'STACK_DBURL=%q\n' "${STACK_DBURL:-}"
		printf 'STACK_EXTERNAL=%q\n' "${STACK_EXTERNAL:-}"
		printf 'STACK_PORT=%q\n' "${STACK_PORT:-}"
		printf 'STACK_THREADS=%q\n' "${STACK_THREADS:-8}"
		printf 'STACK_HOSTS=%q\n' "${STACK_HOSTS:-}"
		printf 'STACK_NETNS=%q\n' "${STACK_NETNS:-}"
		printf 'STACK_POOLER=%q\n' "${STACK_POOLER:-}"
		printf 'STACK_POOLURL=%q\n' "${STACK_POOLURL:-}"
	} >"$dir/stack.env"
}

# _stack_load DIR — the state stack_start recorded; exports the client variables.
_stack_load() {
	local dir=$1
	if [ ! -f "$dir/stack.env" ]; then
		_stack_say "$dir holds no stack (no stack.env)"
		return 1
	fi
	# shellcheck disable=SC1091
	. "$dir/stack.env"
	export DMCP_DATABASE_URL=$STACK_DBURL
	if [ -n "$STACK_PORT" ]; then
		export STACK_PORT DMCP_HOSTPORT=127.0.0.1:$STACK_PORT
		export DMCP_URL=http://$DMCP_HOSTPORT/mcp
	fi
}

# _stack_http URL — the HTTP status of a GET (000 when nothing answers).
_stack_http() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- PostgreSQL

_stack_pg_ctl_start() {
	local dir=$1
	if ! _stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" \
		-w -t 60 start </dev/null >/dev/null 2>"$dir/pg/pg_ctl.err" 3>&-; then
		_stack_say "PostgreSQL did not start"
		_stack_tail "$dir/pg/pg_ctl.err" "$dir/pg/postgres.log"
		return 1
	fi
}

_stack_pg_start() {
	local dir=$1 pg=$1/pg data=$1/pg/data sock=$1/pg/sock port=${STACK_PG_PORT:-5432}
	local blocker url exists
	STACK_PGBIN=$(_stack_pgbin) || return 1
	STACK_PGUSER=$(_stack_pguser)
	mkdir -p "$sock" || return 1
	if [ -n "$STACK_PGUSER" ]; then
		blocker=$(_stack_blocker "$pg")
		if [ -n "$blocker" ]; then
			_stack_say "PostgreSQL runs as user '$STACK_PGUSER' (it refuses to run as root)," \
				"and that user cannot enter $blocker."
			_stack_say "Fix: chmod o+x $blocker (every directory above $pg must be" \
				"traversable), or use a directory under /tmp, or run as a non-root user."
			return 1
		fi
		chown "$STACK_PGUSER:" "$pg" "$sock" || return 1
		[ -d "$data" ] && chown -R "$STACK_PGUSER:" "$data"
		[ -f "$pg/postgres.log" ] && chown "$STACK_PGUSER:" "$pg/postgres.log"
	fi
	if [ ! -s "$data/PG_VERSION" ]; then
		rm -rf "$data"
		if ! _stack_as_pg "$STACK_PGBIN/initdb" -D "$data" -A trust -E UTF8 --locale=C.UTF-8 \
			-U dmcp </dev/null >"$pg/initdb.log" 2>&1 3>&-; then
			_stack_say "initdb failed"
			_stack_tail "$pg/initdb.log"
			return 1
		fi
		printf "\n# The stack's own settings, rewritten at each start.\ninclude_if_exists 'dmcp.conf'\n" \
			>>"$data/postgresql.conf"
	fi
	{
		echo "# Written by tests/lib/stack.sh at each start."
		echo "listen_addresses = ''"
		printf "unix_socket_directories = '%s'\n" "$(printf '%s' "$sock" | sed "s/'/''/g")"
		echo "port = $port"
		echo "max_connections = 200"
		if [ "${STACK_PG_DURABLE:-0}" = 1 ]; then
			echo "fsync = on"
			echo "synchronous_commit = on"
		else
			echo "fsync = off"
			echo "synchronous_commit = off"
		fi
	} >"$data/dmcp.conf"
	[ -n "$STACK_PGUSER" ] && chown "$STACK_PGUSER:" "$data/dmcp.conf"
	# A cluster left running by an earlier, killed session: restart it with these settings.
	if _stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		_stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1
	fi
	_stack_pg_ctl_start "$dir" || return 1
	url="host=$(_stack_q "$sock") port=$port user=dmcp"
	exists=$("$STACK_PGBIN/psql" -XAtq -d "$url dbname=postgres" \
		-c "select 1 from pg_database where datname = 'dmcp'" 2>"$pg/psql.err") || exists=""
	if [ "$exists" != 1 ]; then
		if ! "$STACK_PGBIN/psql" -XAtq -d "$url dbname=postgres" -c 'create database dmcp' \
			>/dev/null 2>>"$pg/psql.err"; then
			_stack_say "could not create database dmcp"
			_stack_tail "$pg/psql.err" "$pg/postgres.log"
			return 1
		fi
	fi
	STACK_DBURL="host=$(_stack_q "$sock") port=$port dbname=dmcp user=dmcp"
}

_stack_pg_stop() {
	local dir=$1 data=$1/pg/data pid i
	[ -f "$data/postmaster.pid" ] || return 0
	[ -n "${STACK_PGBIN:-}" ] || STACK_PGBIN=$(_stack_pgbin) || return 1
	pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
	if ! _stack_alive "$pid"; then
		return 0
	fi
	if _stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$data" -m fast -w -t 30 stop \
		</dev/null >/dev/null 2>"$dir/pg/pg_ctl.err" 3>&-; then
		return 0
	fi
	# pg_ctl failed (e.g. interrupted, or the server was already shutting down): give the
	# postmaster 30 s, then an immediate shutdown (SIGQUIT), then SIGKILL.
	for i in $(seq 300); do
		_stack_alive "$pid" || return 0
		sleep 0.1
	done
	_stack_say "PostgreSQL (pid $pid) did not stop; immediate shutdown"
	_stack_tail "$dir/pg/pg_ctl.err"
	if _stack_is "$pid" "$data"; then kill -QUIT "$pid" 2>/dev/null || true; fi
	for i in $(seq 50); do
		_stack_alive "$pid" || return 0
		sleep 0.1
	done
	if _stack_is "$pid" "$data"; then kill -KILL "$pid" 2>/dev/null || true; fi
	return 0
}

# ---------------------------------------------------------------- PgBouncer

# _stack_pgb_start DIR — with STACK_POOLER=1, PgBouncer in transaction mode on
# DIR/pgbouncer/.s.PGSQL.6432 (no TCP), as PostgreSQL's user, in front of the stack's
# PostgreSQL; sets STACK_POOLURL. Users: dmcp (trust, as PostgreSQL's own), also the admin.
_stack_pgb_start() {
	local dir=$1 pb=$1/pgbouncer bin pid i
	[ "${STACK_POOLER:-}" = 1 ] || return 0
	if [ -n "${STACK_EXTERNAL:-}" ]; then
		_stack_say "STACK_POOLER=1 puts PgBouncer in front of the stack's own PostgreSQL only"
		return 1
	fi
	bin=$(command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer)
	if [ ! -x "$bin" ]; then
		_stack_say "pgbouncer not found; run: make deps"
		return 1
	fi
	mkdir -p "$pb" || return 1
	printf '"dmcp" ""\n' >"$pb/users.txt"
	cat >"$pb/pgbouncer.ini" <<EOF || return 1
; Written by tests/lib/stack.sh: PgBouncer for one test stack, on a unix socket only.
[databases]
dmcp = host=$dir/pg/sock port=${STACK_PG_PORT:-5432} dbname=dmcp user=dmcp

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $pb
unix_socket_mode = 0777
auth_type = trust
auth_file = $pb/users.txt
admin_users = dmcp
pool_mode = transaction
default_pool_size = ${STACK_POOL_SIZE:-2}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
logfile = $pb/pgbouncer.log
pidfile = $pb/pgbouncer.pid
; SHOW STATS totals every second (the default, 60 s, would hide a test's traffic)
stats_period = 1
EOF
	[ -z "${STACK_PGUSER:-}" ] || chown -R "$STACK_PGUSER:" "$pb" || return 1
	rm -f "$pb/.s.PGSQL.6432" "$pb/pgbouncer.pid"
	# As root, pgbouncer -u drops to PostgreSQL's user itself (no fork: $! is pgbouncer).
	"$bin" -q ${STACK_PGUSER:+-u "$STACK_PGUSER"} "$pb/pgbouncer.ini" </dev/null \
		>>"$pb/pgbouncer.out" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$pb/pgbouncer.run.pid"
	for i in $(seq 100); do
		if [ -S "$pb/.s.PGSQL.6432" ]; then
			STACK_POOLURL="host=$(_stack_q "$pb") port=6432 dbname=dmcp user=dmcp"
			return 0
		fi
		_stack_alive "$pid" || break
		_stack_interrupted && break
		sleep 0.1
	done
	_stack_say "PgBouncer did not start"
	_stack_tail "$pb/pgbouncer.out" "$pb/pgbouncer.log"
	return 1
}

_stack_pgb_stop() {
	_stack_kill_recorded "$1/pgbouncer/pgbouncer.run.pid" "$1/pgbouncer/pgbouncer.ini"
}

stack_pooler_psql() {
	local dir=${1:?usage: stack_pooler_psql DIR SQL} sql=${2:?usage: stack_pooler_psql DIR SQL}
	local psql
	_stack_load "$dir" >/dev/null || return 1
	psql=$(_stack_psql_bin) || { _stack_say "psql not found"; return 1; }
	"$psql" -XAtq -d "host=$(_stack_q "$dir/pgbouncer") port=6432 dbname=pgbouncer user=dmcp" \
		-c "$sql" </dev/null
}

# ---------------------------------------------------------------- the program

# _stack_wait_socket DIR PID... — waits (≤10 s) for DIR/fcgi.sock while the PIDs live.
_stack_wait_socket() {
	local dir=$1 i p
	shift
	for i in $(seq 100); do
		for p in "$@"; do
			if ! _stack_alive "$p"; then
				_stack_say "the program (pid $p) exited during start"
				_stack_tail "$dir/dmcp.log"
				return 1
			fi
		done
		[ -S "$dir/fcgi.sock" ] && return 0
		_stack_interrupted && return 1
		sleep 0.1
	done
	_stack_say "no socket $dir/fcgi.sock after 10 s"
	_stack_tail "$dir/dmcp.log"
	return 1
}

_stack_dmcp_start() {
	local dir=$1 pid
	if [ ! -x "$STACK_BIN" ]; then
		_stack_say "no program at $STACK_BIN (build it: make)"
		return 1
	fi
	rm -f "$dir/fcgi.sock"
	_stack_prog_env
	# shellcheck disable=SC2046 # _stack_user_args, _stack_host_wrap print whole words
	(cd "$dir" && exec env "${STACK_PENV[@]}" $(_stack_host_wrap) "$STACK_BIN" \
		--socket "$dir/fcgi.sock" --threads "${STACK_THREADS:-8}" \
		$(_stack_user_args)) </dev/null >>"$dir/dmcp.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$dir/dmcp.pid"
	echo threads >"$dir/mode"
	_stack_wait_socket "$dir" "$pid"
}

# _stack_prog_env — sets STACK_PENV, the VAR=VALUE words env(1) adds to the program's
# environment: with the pooler, its workers' way through PgBouncer and its listener's straight
# to PostgreSQL; nothing otherwise.
_stack_prog_env() {
	STACK_PENV=()
	[ "${STACK_POOLER:-}" = 1 ] || return 0
	STACK_PENV=("DMCP_DATABASE_URL=$STACK_POOLURL" DMCP_POOLER=transaction
		"DMCP_LISTEN_URL=$STACK_DBURL")
}

# _stack_host_wrap — for a host of STACK_HOSTS (STACK_NETNS=1), the words that start the
# program in a process group and a network namespace of its own: "setsid unshare --net --".
# Both exec (no fork: a non-interactive shell's background subshell heads no process group),
# so the PID recorded is the program's, and it heads its own group. Nothing otherwise.
_stack_host_wrap() {
	[ "${STACK_NETNS:-}" = 1 ] && echo "setsid unshare --net --"
	return 0
}

# _stack_user_args — as root, "--user nobody": a dmcp server refuses to run as root, and
# drops to that user once its socket is open (the socket stays root's, which nginx, run as
# root here, can use). Nothing otherwise.
_stack_user_args() {
	[ "$(id -u)" -eq 0 ] && echo "--user nobody"
	return 0
}

# _stack_spawn_user_args — the same for spawn-fcgi (-u/-g: it changes user before it execs the
# program; the socket is made mode 0666 anyway).
_stack_spawn_user_args() {
	[ "$(id -u)" -eq 0 ] && echo "-u nobody -g $(id -gn nobody)"
	return 0
}

_stack_workers_stop() {
	local dir=$1 pid
	[ -f "$dir/workers.pids" ] || return 0
	for pid in $(cat "$dir/workers.pids"); do
		if _stack_is "$pid" "$STACK_BIN"; then kill -TERM "$pid" 2>/dev/null || true; fi
	done
	for pid in $(cat "$dir/workers.pids"); do
		_stack_kill "$pid" "$STACK_BIN"
	done
	rm -f "$dir/workers.pids" "$dir/spawn.pid"
}

_stack_dmcp_stop() {
	local dir=$1
	if [ -f "$dir/dmcp.pid" ]; then
		_stack_kill "$(cat "$dir/dmcp.pid")" "$dir/fcgi.sock"
		rm -f "$dir/dmcp.pid"
	fi
	_stack_workers_stop "$dir"
}

# _stack_wait_ready DIR — waits (≤10 s) until a GET of /mcp through nginx reaches the program
# (any status but 000 and 502).
_stack_wait_ready() {
	local dir=$1 i code=000 npid
	npid=$(cat "$dir/nginx/nginx.run.pid" 2>/dev/null) || npid=""
	for i in $(seq 50); do
		code=$(_stack_http "http://127.0.0.1:$STACK_PORT/mcp")
		case $code in 000 | 502) ;; *) return 0 ;; esac
		_stack_interrupted && return 1
		if [ -n "$npid" ] && ! _stack_alive "$npid"; then
			_stack_say "nginx exited"
			_stack_tail "$dir/nginx/error.log"
			return 1
		fi
		sleep 0.2
	done
	_stack_say "GET /mcp through nginx still gives $code after 10 s"
	_stack_tail "$dir/dmcp.log" "$dir/nginx/error.log"
	return 1
}

# ---------------------------------------------------------------- nginx

_stack_free_port() {
	local i p
	for i in $(seq 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

_stack_nginx_conf() {
	local dir=$1 port=$2 ng=$1/nginx
	cat >"$ng/nginx.conf" <<EOF
# Written by tests/lib/stack.sh: nginx for one test stack, everything under this directory.
daemon off;
master_process off;
worker_processes 1;
pid $ng/nginx.pid;
lock_file $ng/nginx.lock;
error_log $ng/error.log notice;

events {
    worker_connections 1024;
}

http {
    access_log off; # one line a request costs nginx CPU on the hot path; errors go to error.log
    client_body_temp_path $ng/tmp/body;
    fastcgi_temp_path $ng/tmp/fastcgi;
    proxy_temp_path $ng/tmp/proxy;
    scgi_temp_path $ng/tmp/scgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    default_type application/octet-stream;
$(_stack_nginx_upstream "$dir")
    server {
        listen 127.0.0.1:$port;
        server_name _;
$(_stack_nginx_auth "$ng")
        include $ng/dmcp-location.conf;
        location / {
            return 404;
        }
    }
}
EOF
}

# _stack_nginx_upstream DIR — with STACK_HOSTS, the upstream block of the hosts' sockets,
# dmcp_hosts: nginx's default balancing (round robin), no ip_hash, hash or sticky. A host
# that refuses the connection (stopped, killed) is skipped for the next one
# (fastcgi_next_upstream's default, error timeout). max_fails=0: nginx never marks a host
# unavailable for fail_timeout, which would outlast a restart (the first request after it
# probes the host, and a probe that is a long stream keeps the host marked until it ends).
_stack_nginx_upstream() {
	local h
	[ -n "${STACK_HOSTS:-}" ] || return 0
	printf '    upstream dmcp_hosts {\n'
	for h in $STACK_HOSTS; do
		printf '        server unix:%s/%s/fcgi.sock max_fails=0;\n' "$1" "$h"
	done
	printf '    }\n'
}

# _stack_nginx_auth NG — with STACK_AUTH=1, the server-level auth_basic lines (else nothing).
_stack_nginx_auth() {
	[ "${STACK_AUTH:-0}" = 1 ] || return 0
	printf '        auth_basic "dmcp test stack";\n'
	printf '        auth_basic_user_file %s/htpasswd;\n' "$1"
}

# _stack_nginx_htpasswd NG — with STACK_AUTH=1, writes NG/htpasswd: alice and bob, apr1 hashes.
_stack_nginx_htpasswd() {
	local ng=$1 u h
	[ "${STACK_AUTH:-0}" = 1 ] || return 0
	: >"$ng/htpasswd" || return 1
	for u in alice bob; do
		h=$(openssl passwd -apr1 "$u-pw") && [ -n "$h" ] || {
			_stack_say "openssl passwd -apr1 failed (STACK_AUTH=1 needs openssl)"
			return 1
		}
		printf '%s:%s\n' "$u" "$h" >>"$ng/htpasswd"
	done
}

_stack_nginx_start() {
	local dir=$1 want=${2:-} ng=$1/nginx port try pid i code sock
	local nginx
	nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
	if [ ! -x "$nginx" ]; then
		_stack_say "nginx not found; run: make deps"
		return 1
	fi
	mkdir -p "$ng/tmp" || return 1
	sock=$dir/fcgi.sock
	sock=${sock//\\/\\\\}
	sock=${sock//&/\\&}
	sock=${sock//|/\\|}
	# With STACK_AUTH=1 nginx authenticates (auth_basic), so the recipe's REMOTE_USER line is
	# uncommented, as its comment says to; without, it stays out (any Basic header would
	# otherwise name the principal).
	# With STACK_HOSTS, fastcgi_pass names the upstream of the hosts instead of one socket.
	sed -e "$([ -z "${STACK_HOSTS:-}" ] || echo 's|unix:@FCGI_SOCKET@|dmcp_hosts|')" \
		-e "s|@FCGI_SOCKET@|$sock|g" \
		-e "$([ "${STACK_AUTH:-0}" = 1 ] && echo 's|^    #fastcgi_param  REMOTE_USER|    fastcgi_param  REMOTE_USER|')" \
		"$STACK_ROOT/deploy/nginx/dmcp-location.conf" >"$ng/dmcp-location.conf" || return 1
	if [ "${STACK_AUTH:-0}" = 1 ] && ! grep -q '^    fastcgi_param  REMOTE_USER' "$ng/dmcp-location.conf"; then
		_stack_say "deploy/nginx/dmcp-location.conf has no REMOTE_USER line to turn on"
		return 1
	fi
	_stack_nginx_htpasswd "$ng" || return 1
	for try in 1 2 3 4 5; do
		if [ -n "$want" ]; then port=$want; else port=$(_stack_free_port) || return 1; fi
		_stack_nginx_conf "$dir" "$port"
		: >"$ng/error.log"
		"$nginx" -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" </dev/null \
			>>"$ng/nginx.out" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$ng/nginx.run.pid"
		for i in $(seq 100); do
			_stack_alive "$pid" || break
			_stack_interrupted && break
			code=$(_stack_http "http://127.0.0.1:$port/")
			if [ "$code" != 000 ]; then
				STACK_PORT=$port
				export STACK_PORT DMCP_HOSTPORT=127.0.0.1:$port
				export DMCP_URL=http://$DMCP_HOSTPORT/mcp
				return 0
			fi
			sleep 0.1
		done
		_stack_kill "$pid" "$ng"
		if [ -z "$want" ] && grep -q 'Address already in use' "$ng/error.log" 2>/dev/null; then
			continue # lost a race for the port; pick another
		fi
		break
	done
	_stack_say "nginx did not start on 127.0.0.1:$port"
	_stack_tail "$ng/nginx.out" "$ng/error.log"
	return 1
}

_stack_nginx_stop() {
	_stack_kill_recorded "$1/nginx/nginx.run.pid" "$1/nginx"
}

# ---------------------------------------------------------------- public functions

# stack_file_up / stack_file_down — a bats file's setup_file and teardown_file: a stack in a
# new temporary directory (STACK_DIR, exported); settings come from the caller's environment
# (e.g. `STACK_THREADS=4 stack_file_up`).
stack_file_up() {
	STACK_DIR=$(stack_mktemp) || return 1
	export STACK_DIR
	stack_start "$STACK_DIR" >&2
}

stack_file_down() {
	stack_stop "$STACK_DIR"
	case $STACK_DIR in /tmp/dmcp-test.*) rm -rf "$STACK_DIR" ;; esac
}

stack_program() {
	local b
	b=$(_stack_bin) || return 1
	printf '%s/%s\n' "$(dirname "$b")" "${1:?usage: stack_program NAME}"
}

stack_mktemp() {
	local d
	d=$(mktemp -d /tmp/dmcp-test.XXXXXX) || return 1
	chmod 0755 "$d" || return 1
	printf '%s\n' "$d"
}

# stack_db_start DIR — the database part of stack_start: PostgreSQL under DIR/pg (or the
# external database), then the program's `migrate`. Exports DMCP_DATABASE_URL. Sets dir.
stack_db_start() {
	dir=${1:?usage: stack_db_start DIR}
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	STACK_BIN=$(_stack_bin)
	STACK_PORT=
	# Unix socket paths are limited to 107 bytes; the longest is PostgreSQL's.
	if [ $((${#dir} + 25)) -gt 107 ]; then
		_stack_say "$dir is too long a path for unix sockets (over 80 bytes); use a shorter one"
		return 1
	fi
	if [ ! -x "$STACK_BIN" ]; then
		_stack_say "no program at $STACK_BIN (build it: make; or set DMCP_BIN)"
		return 1
	fi
	if [ "${STACK_EXTERNAL_DB:-0}" = 1 ]; then
		if [ -z "${DMCP_DATABASE_URL:-}" ]; then
			_stack_say "STACK_EXTERNAL_DB=1 needs DMCP_DATABASE_URL"
			return 1
		fi
		STACK_EXTERNAL=1 STACK_DBURL=$DMCP_DATABASE_URL STACK_PGBIN='' STACK_PGUSER=''
	else
		STACK_EXTERNAL=
		if ! _stack_pg_start "$dir"; then
			_stack_save "$dir" 2>/dev/null
			stack_stop "$dir"
			return 1
		fi
	fi
	export DMCP_DATABASE_URL=$STACK_DBURL
	_stack_save "$dir"
	if ! (cd "$dir" && exec "$STACK_BIN" migrate) </dev/null >"$dir/migrate.log" 2>&1 3>&-; then
		_stack_say "$STACK_BIN migrate failed"
		_stack_tail "$dir/migrate.log"
		stack_stop "$dir"
		return 1
	fi
	_stack_sql "$dir" || { stack_stop "$dir"; return 1; }
}

# _stack_sql DIR — runs the files of STACK_SQL on the stack's database (after migrate).
_stack_sql() {
	local dir=$1 f psql
	[ -n "${STACK_SQL:-}" ] || return 0
	psql=$(_stack_psql_bin) || { _stack_say "psql not found"; return 1; }
	for f in $STACK_SQL; do
		if ! "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$STACK_DBURL" -f "$f" </dev/null \
			>>"$dir/migrate.log" 2>&1 3>&-; then
			_stack_say "$f failed"
			_stack_tail "$dir/migrate.log"
			return 1
		fi
		echo "installed $f" >>"$dir/migrate.log"
	done
}

stack_start() {
	local dir port=${2:-} h
	stack_db_start "${1:?usage: stack_start DIR [PORT]}" || return 1
	if ! _stack_pgb_start "$dir" || ! _stack_programs_start "$dir" ||
		! _stack_nginx_start "$dir" "$port"; then
		_stack_save "$dir"
		stack_stop "$dir"
		return 1
	fi
	_stack_save "$dir"
	for h in ${STACK_HOSTS:-}; do
		STACK_HOSTS='' STACK_NETNS=1 _stack_save "$dir/$h"
	done
	if ! _stack_wait_ready "$dir"; then
		stack_stop "$dir"
		return 1
	fi
	return 0
}

# _stack_programs_start DIR — the program on DIR/fcgi.sock, or one host per name of STACK_HOSTS.
_stack_programs_start() {
	local dir=$1 h
	if [ -z "${STACK_HOSTS:-}" ]; then
		_stack_dmcp_start "$dir"
		return
	fi
	_stack_save "$dir" # now, so that stack_stop finds the hosts if one fails to start
	for h in $STACK_HOSTS; do
		mkdir -p "$dir/$h" && chmod 0755 "$dir/$h" || return 1
		STACK_HOSTS='' STACK_NETNS=1 _stack_save "$dir/$h"
		STACK_NETNS=1 _stack_dmcp_start "$dir/$h" || return 1
	done
}

stack_netns_ok() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "a network namespace of its own for each host needs root (unshare --net)"
		return 1
	fi
	if ! unshare --net true 2>/dev/null; then
		echo "unshare --net fails here (no CAP_SYS_ADMIN in this container?)"
		return 1
	fi
}

stack_stop() {
	local dir=${1:?usage: stack_stop DIR} h
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd) || return 1
	if [ -f "$dir/stack.env" ]; then
		# shellcheck disable=SC1091
		. "$dir/stack.env"
	else
		STACK_BIN=$(_stack_bin) STACK_PGBIN='' STACK_PGUSER=$(_stack_pguser) STACK_EXTERNAL=''
	fi
	_stack_nginx_stop "$dir"
	_stack_dmcp_stop "$dir"
	for h in ${STACK_HOSTS:-}; do
		if [ -d "$dir/$h" ]; then _stack_dmcp_stop "$dir/$h"; fi
	done
	_stack_pgb_stop "$dir"
	[ -n "${STACK_EXTERNAL:-}" ] || _stack_pg_stop "$dir"
	return 0
}

stack_restart_dmcp() {
	local dir=${1:?usage: stack_restart_dmcp DIR [BIN]} bin=${2:-} mode
	dir=$(cd "$dir" && pwd) || return 1
	_stack_load "$dir" || return 1
	mode=$(cat "$dir/mode" 2>/dev/null || echo threads)
	if [ -n "$bin" ]; then
		# Stop the old program while STACK_BIN still names it, then record the new one.
		_stack_dmcp_stop "$dir"
		STACK_BIN=$(DMCP_BIN=$bin _stack_bin)
		_stack_save "$dir"
	fi
	case $mode in
	workers\ *) stack_spawn_workers "$dir" "${mode#workers }"; return ;;
	esac
	_stack_dmcp_stop "$dir"
	_stack_dmcp_start "$dir" || return 1
	if [ -n "$STACK_PORT" ]; then _stack_wait_ready "$dir" || return 1; fi
	return 0
}

stack_spawn_workers() {
	local dir=${1:?usage: stack_spawn_workers DIR N} n=${2:?usage: stack_spawn_workers DIR N}
	local pids
	dir=$(cd "$dir" && pwd) || return 1
	_stack_load "$dir" || return 1
	_stack_dmcp_stop "$dir"
	rm -f "$dir/fcgi.sock" "$dir/spawn.pid"
	if ! command -v spawn-fcgi >/dev/null 2>&1; then
		_stack_say "spawn-fcgi not found; run: make deps"
		return 1
	fi
	# spawn-fcgi forks N children on one listening socket (their fd 0) and writes one PID a
	# line to -P, leaving out any child that died in its first 100 ms.
	# spawn-fcgi points the workers' stderr at /dev/null: DMCP_LOG_FILE keeps their log.
	# The workers open DMCP_LOG_FILE themselves, as the user they run as.
	touch "$dir/dmcp.log" && { [ "$(id -u)" -ne 0 ] || chown nobody "$dir/dmcp.log"; } || return 1
	_stack_prog_env
	# shellcheck disable=SC2046 # _stack_spawn_user_args, _stack_host_wrap print whole words
	if ! (cd "$dir" && DMCP_THREADS=1 DMCP_LOG_FILE="$dir/dmcp.log" exec env "${STACK_PENV[@]}" \
		$(_stack_host_wrap) spawn-fcgi -s "$dir/fcgi.sock" -M 0666 -F "$n" \
		$(_stack_spawn_user_args) -P "$dir/spawn.pid" -- "$STACK_BIN") \
		</dev/null >>"$dir/dmcp.log" 2>&1 3>&-; then
		_stack_say "spawn-fcgi failed"
		_stack_tail "$dir/dmcp.log"
		return 1
	fi
	pids=$(tr -s ' \n' '\n\n' <"$dir/spawn.pid" 2>/dev/null | grep -E '^[0-9]+$') || pids=""
	printf '%s\n' $pids >"$dir/workers.pids"
	echo "workers $n" >"$dir/mode"
	if [ "$(wc -l <"$dir/workers.pids")" -ne "$n" ] || [ -z "$pids" ]; then
		_stack_say "spawn-fcgi started $(printf '%s\n' $pids | grep -c .) of $n workers"
		_stack_tail "$dir/dmcp.log"
		return 1
	fi
	# shellcheck disable=SC2086
	_stack_wait_socket "$dir" $pids || return 1
	if [ -n "$STACK_PORT" ]; then _stack_wait_ready "$dir" || return 1; fi
	return 0
}

stack_pg_restart_immediate() {
	local dir=${1:?usage: stack_pg_restart_immediate DIR}
	dir=$(cd "$dir" && pwd) || return 1
	_stack_load "$dir" || return 1
	if [ -n "$STACK_EXTERNAL" ]; then
		_stack_say "the stack uses an external database; not restarting it"
		return 1
	fi
	_stack_as_pg "$STACK_PGBIN/pg_ctl" -D "$dir/pg/data" -m immediate -w -t 30 stop \
		</dev/null >/dev/null 2>&1 3>&- || true
	_stack_pg_ctl_start "$dir"
}

stack_psql() {
	local dir=${1:?usage: stack_psql DIR SQL} sql=${2:?usage: stack_psql DIR SQL} psql
	_stack_load "$dir" >/dev/null || return 1
	psql=$(_stack_psql_bin) || { _stack_say "psql not found"; return 1; }
	"$psql" -XAtq -v ON_ERROR_STOP=1 -d "$STACK_DBURL" -c "$sql" </dev/null
}

stack_san_errors() {
	local dir=${1:?usage: stack_san_errors DIR} f
	local re='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)'
	for f in "$dir/dmcp.log" "$dir/migrate.log"; do
		[ -f "$f" ] || continue
		grep -E -A 30 "$re" "$f" && return 0
	done
	return 1
}
