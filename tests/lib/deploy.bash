# shellcheck shell=bash
# deploy.bash — helpers for tests/deploy.bats: run the files of deploy/ with real web servers
# (Apache, lighttpd, nginx, spawn-fcgi) on 127.0.0.1, against one private PostgreSQL.
# Sourced after tests/lib/stack.sh and tests/lib/http.bash.
#
#   deploy_need CMD PACKAGE          fails with "install PACKAGE" when CMD is not there.
#   deploy_subst SRC DST NAME=VALUE...
#                                    DST = SRC with every @NAME@ replaced by VALUE (sed); fails
#                                    when a placeholder @[A-Z_]+@ is left over.
#   deploy_pg_start DIR              PostgreSQL only (stack.sh's), then `dmcp.fcgi migrate`;
#                                    exports DMCP_DATABASE_URL. stack_stop DIR stops it.
#   deploy_bin DIR                   copies the program to DIR/bin/dmcp.fcgi, readable and
#                                    runnable by everyone (the web servers' users); prints it.
#   deploy_user / deploy_group       the user and group the web servers and the program run as
#                                    in the tests: www-data when run as root, else ourselves.
#   deploy_free_port                 a free TCP port on 127.0.0.1, below the ephemeral range.
#   deploy_wait_http URL [PID]       waits (≤10 s) until URL answers anything (not 000, not
#                                    502/503) while PID lives.
#   deploy_stream_check URL NAME     (a) initialize → 200 + Mcp-Session-Id; (b) tools/call of
#                                    slow_progress {steps 3, delay 400 ms} with a progressToken,
#                                    timestamping each line as it arrives: 3 progress events, then
#                                    the result ≥ 400 ms after the first progress event (no
#                                    buffering on the way). Sets DEPLOY_GAP_MS and prints a TAP
#                                    comment "NAME: first progress → response N ms" on fd 3.
#                                    First, deploy_well_known_check for the same server.
#   deploy_well_known_check URL      the protected resource metadata paths of the endpoint URL
#                                    (/.well-known/oauth-protected-resource, and that + /mcp)
#                                    reach the program: with DMCP_AUTH=remote-user (the
#                                    default) it answers them 404 {"error":"not_found"} (the
#                                    web server's own 404 would not be that JSON).
#   deploy_pids BIN                  PIDs of the running processes whose executable is BIN.
#   deploy_children PID              PIDs of the running children of PID (from /proc).
#   deploy_wait_gone PID...          waits (≤10 s) for the PIDs to end; false if some still run.
#   deploy_kill DIR PID...           SIGTERM, then after 10 s SIGKILL, to those PIDs whose command
#                                    line names DIR (processes this test started, never others).
#   deploy_need_apache_module NAME PACKAGE
#                                    fails with "install PACKAGE" when Apache's module NAME is
#                                    not there.
#   deploy_activate SOCKET_UNIT SERVICE_UNIT ENV_FILE LOG
#                                    does what systemd does for socket activation, then becomes
#                                    the service's program (exec, same PID): see
#                                    _DEPLOY_ACTIVATE_PY.
#   unit_get FILE SECTION KEY        the last value of KEY in [SECTION] of a systemd unit file
#                                    (awk; comments and empty lines skipped; status 1 if none).
#   apache_modules NAME...           the LoadModule lines for NAME (from Debian's
#                                    mods-available/NAME.load; skips compiled-in modules).
#   apache_start DIR SITE MODULES EXTRA
#                                    writes DIR/apache/httpd.conf — ServerRoot, PidFile, logs,
#                                    Listen 127.0.0.1:<free port>, the MODULES, EXTRA (config
#                                    text), and `Include SITE` — and runs `apache2 -f ... -k
#                                    start` (another port when it loses a race for one); sets
#                                    DEPLOY_PORT.
#   apache_stop DIR                  `apache2 -k stop`, then waits for the parent to end.
#   lighttpd_start DIR SITE          writes DIR/lighttpd/lighttpd.conf (127.0.0.1:<free port>,
#                                    pid, logs, include SITE) and runs `lighttpd -D` in the
#                                    background; PID in DIR/lighttpd/lighttpd.pid; sets
#                                    DEPLOY_PORT.

DEPLOY_DIR=$STACK_ROOT/deploy
DEPLOY_STEPS=3
DEPLOY_DELAY_MS=400
DEPLOY_MIN_GAP_MS=400

_deploy_say() { printf 'deploy: %s\n' "$*" >&2; }

# _deploy_cmd NAME — the command NAME: from PATH, else /usr/sbin/NAME (where Debian puts the
# servers, outside a normal user's PATH).
_deploy_cmd() { command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"; }

deploy_need() {
	local cmd=$1 pkg=$2
	if [ ! -x "$(_deploy_cmd "$cmd")" ]; then
		_deploy_say "$cmd not found: install $pkg (apt-get install $pkg)"
		return 1
	fi
}

# _deploy_sed_escape VALUE — VALUE safe on the right-hand side of s|...|...|.
_deploy_sed_escape() {
	local v=$1
	v=${v//\\/\\\\}
	v=${v//&/\\&}
	v=${v//|/\\|}
	printf '%s' "$v"
}

deploy_subst() {
	local src=$1 dst=$2 kv name args=()
	shift 2
	for kv in "$@"; do
		name=${kv%%=*}
		args+=(-e "s|@${name}@|$(_deploy_sed_escape "${kv#*=}")|g")
	done
	sed "${args[@]}" "$src" >"$dst" || return 1
	if grep -n -E '@[A-Z_]+@' "$dst" >&2; then
		_deploy_say "placeholders left in $dst (from $src)"
		return 1
	fi
}

deploy_pg_start() {
	local dir
	stack_db_start "$1"
}

deploy_bin() {
	local dir=$1
	mkdir -p "$dir/bin" && chmod 0755 "$dir/bin" || return 1
	if [ ! -x "$dir/bin/dmcp.fcgi" ]; then
		cp "$(_stack_bin)" "$dir/bin/dmcp.fcgi" && chmod 0755 "$dir/bin/dmcp.fcgi" || return 1
	fi
	printf '%s\n' "$dir/bin/dmcp.fcgi"
}

deploy_user() {
	if [ "$(id -u)" -eq 0 ] && id -u www-data >/dev/null 2>&1; then echo www-data; else id -un; fi
}

deploy_group() {
	if [ "$(id -u)" -eq 0 ] && getent group www-data >/dev/null 2>&1; then echo www-data; else id -gn; fi
}

deploy_free_port() {
	local lo i p
	# Below the kernel's ephemeral range, so no client connection holds the port as its local
	# end (a listener cannot bind that, even with SO_REUSEADDR).
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) || lo=""
	case $lo in '' | *[!0-9]*) lo=0 ;; esac
	if [ "$lo" -le 12000 ]; then _stack_free_port; return; fi
	for i in $(seq 50); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

deploy_wait_http() {
	local url=$1 pid=${2:-} i code=000
	for i in $(seq 50); do
		code=$(_stack_http "$url")
		case $code in 000 | 502 | 503) ;; *) return 0 ;; esac
		if [ -n "$pid" ] && ! _stack_alive "$pid"; then
			_deploy_say "pid $pid exited while waiting for $url"
			return 1
		fi
		sleep 0.2
	done
	_deploy_say "$url still gives $code after 10 s"
	return 1
}

deploy_well_known_check() {
	local url=$1 base p got
	base=${url%/mcp}
	for p in /.well-known/oauth-protected-resource /.well-known/oauth-protected-resource/mcp; do
		got=$(curl -s --max-time 10 -w ' %{http_code}' "$base$p") || got="curl failed"
		if [ "$got" != '{"error":"not_found"} 404' ]; then
			_deploy_say "$base$p does not reach the program: got '$got'"
			return 1
		fi
	done
}

deploy_stream_check() {
	local url=$1 name=$2 t req line rc=0 ctype enc
	deploy_well_known_check "$url" || return 1
	DMCP_URL=$url
	t=$(_http_tmp) || return 1
	rm -f "$t/stream.ts" "$t/stream.h"
	# (a) initialize: 200 and a session id (then notifications/initialized: 202).
	mcp_init || return 1
	# (b) the streamed call. Accept-Encoding asks for compression: a compressor on the way would
	# hold the events back (and garble the lines), so the file must keep it off.
	req='{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow_progress",'
	req=$req'"arguments":{"steps":'$DEPLOY_STEPS',"delay_ms":'$DEPLOY_DELAY_MS'},'
	req=$req'"_meta":{"progressToken":"deploy-'$name'"}}}'
	# Each line is stamped when its newline arrives: curl -N writes what it receives at once,
	# and bash's read takes a pipe byte by byte.
	curl -sN --max-time 20 -D "$t/stream.h" -H 'Content-Type: application/json' \
		-H "Accept: $MCP_ACCEPT" -H 'Accept-Encoding: gzip, br' -H "Mcp-Session-Id: $SID" \
		-H "MCP-Protocol-Version: $MCP_PV" --data-binary "$req" "$url" |
		while IFS= read -r line || [ -n "$line" ]; do
			printf '%s %s\n' "${EPOCHREALTIME//[!0-9]/}" "${line%$'\r'}"
		done >"$t/stream.ts" || rc=$?
	_http_split "$t/stream.h"
	ctype=$(header Content-Type)
	enc=$(header Content-Encoding)
	if [[ $ctype != text/event-stream* ]] || [ -n "$enc" ]; then
		_deploy_say "$name: expected an uncompressed text/event-stream, got" \
			"Content-Type '$ctype', Content-Encoding '$enc' (curl status $rc)"
		printf '%s\n' "$headers" >&2
		cat "$t/stream.ts" >&2
		return 1
	fi
	DEPLOY_GAP_MS=$(awk -v steps="$DEPLOY_STEPS" '
		/"method":"notifications\/progress"/ { n++; if (n == 1) first = $1; next }
		/"id":7,/ && /"result"/ { if (!res) res = $1; if (n < steps) early = 1 }
		END {
			if (n != steps || !res || early || !first) { print "bad " n " " (res ? 1 : 0) " " early; exit }
			printf "%d\n", (res - first) / 1000
		}' "$t/stream.ts")
	case $DEPLOY_GAP_MS in
	bad*)
		_deploy_say "$name: expected $DEPLOY_STEPS progress events, then the result (got: $DEPLOY_GAP_MS)"
		cat "$t/stream.ts" >&2
		return 1
		;;
	esac
	printf '# %s: first progress event -> response %s ms\n' "$name" "$DEPLOY_GAP_MS" >&3
	if [ "$DEPLOY_GAP_MS" -lt "$DEPLOY_MIN_GAP_MS" ]; then
		_deploy_say "$name: the result came $DEPLOY_GAP_MS ms after the first progress event" \
			"(< $DEPLOY_MIN_GAP_MS ms): the stream was buffered on the way"
		cat "$t/stream.ts" >&2
		return 1
	fi
	if [ -n "${DEPLOY_GAP_LOG:-}" ]; then
		printf '%s %s\n' "$name" "$DEPLOY_GAP_MS" >>"$DEPLOY_GAP_LOG"
	fi
}

deploy_pids() {
	local bin=$1 p
	# One find over /proc/*/exe (a zombie has no exe and is not listed).
	for p in $(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$bin" 2>/dev/null); do
		p=${p#/proc/}
		p=${p%/exe}
		_stack_alive "$p" && echo "$p"
	done
	return 0
}

deploy_children() {
	# One awk over every /proc/*/stat: field 4 (after the command name in parentheses) is the
	# parent PID, field 3 the state.
	awk -v parent="$1" '{
		rest = $0
		sub(/^.*\) /, "", rest)
		split(rest, f, " ")
		if (f[2] == parent && f[1] != "Z" && f[1] != "X") {
			pid = FILENAME
			gsub(/[^0-9]/, "", pid)
			print pid
		}
		nextfile
	}' /proc/[0-9]*/stat 2>/dev/null
	return 0
}

deploy_wait_gone() {
	local i p left
	for i in $(seq 100); do
		left=""
		for p in "$@"; do _stack_alive "$p" && left="$left $p"; done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	_deploy_say "still running after 10 s:$left"
	return 1
}

deploy_kill() {
	local dir=$1 p ours=()
	shift
	for p in "$@"; do
		_stack_is "$p" "$dir" && ours+=("$p")
	done
	[ ${#ours[@]} -gt 0 ] || return 0
	kill -TERM "${ours[@]}" 2>/dev/null
	deploy_wait_gone "${ours[@]}" 2>/dev/null && return 0
	for p in "${ours[@]}"; do
		_stack_is "$p" "$dir" && kill -KILL "$p" 2>/dev/null
	done
	deploy_wait_gone "${ours[@]}" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- systemd

unit_get() {
	awk -v sec="$2" -v key="$3" '
		/^[ \t]*([#;]|$)/ { next }
		/^[ \t]*\[.*\][ \t]*$/ { s = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", s); next }
		{
			i = index($0, "=")
			if (i == 0) { print FILENAME ": not KEY=VALUE: " $0 > "/dev/stderr"; bad = 1; exit }
			k = substr($0, 1, i - 1); v = substr($0, i + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
			if (s == sec && k == key) { val = v; found = 1 }
		}
		END { if (bad || !found) exit 1; print val }' "$1"
}

# What systemd does when a connection arrives on dmcp.socket, for a machine without systemd:
# argv = socket unit, service unit, environment file (stands in for the EnvironmentFile= of the
# service), log file (stands in for the journal). From the socket unit: ListenStream= (a unix
# socket path), SocketMode=, SocketUser=/SocketGroup= (when root), Backlog=; from the service: StandardInput= must be "socket",
# ExecStart= (split like a shell would; prefixes such as "-" dropped), Environment=, UMask=;
# a DynamicUser=/User= service runs as "nobody" when we are root. Then: bind and listen, the
# socket on fd 0, stdout and stderr to the log, a clean environment (PATH + the file's and the
# unit's variables), and exec — so this process becomes the service's program, same PID.
_DEPLOY_ACTIVATE_PY='
import os, pwd, shlex, socket, sys
sock_unit, svc_unit, env_file, log = sys.argv[1:5]
def parse(path):
    d, sec = {}, None
    for raw in open(path):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            sec = line[1:-1]
            continue
        k, _, v = line.partition("=")
        d.setdefault(sec, {}).setdefault(k.strip(), []).append(v.strip())
    return d
def last(d, sec, key, default=None):
    v = d.get(sec, {}).get(key)
    return v[-1] if v else default
so, sv = parse(sock_unit), parse(svc_unit)
path = last(so, "Socket", "ListenStream")
if not path or not path.startswith("/"):
    sys.exit("ListenStream= is not a unix socket path: %r" % path)
if last(so, "Socket", "Accept", "no") not in ("no", "false", "0"):
    sys.exit("Accept= must be no")
if last(sv, "Service", "StandardInput") != "socket":
    sys.exit("StandardInput= must be socket")
env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
for raw in open(env_file):
    line = raw.strip()
    if not line or line[0] in "#;":
        continue
    k, _, v = line.partition("=")
    words = shlex.split(v)
    env[k.strip()] = words[0] if words else ""
for e in sv.get("Service", {}).get("Environment", []):
    for w in shlex.split(e):
        k, _, v = w.partition("=")
        env[k] = v
argv = shlex.split(last(sv, "Service", "ExecStart"))
argv[0] = argv[0].lstrip("-@:+!")
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, int(last(so, "Socket", "SocketMode", "0666"), 8))
if os.getuid() == 0:
    import grp
    os.chown(path, pwd.getpwnam(last(so, "Socket", "SocketUser", "root")).pw_uid,
             grp.getgrnam(last(so, "Socket", "SocketGroup", "root")).gr_gid)
s.listen(int(last(so, "Socket", "Backlog", "4096")))
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.dup2(s.fileno(), 0)
os.dup2(fd, 1)
os.dup2(fd, 2)
os.umask(int(last(sv, "Service", "UMask", "0022"), 8))
if os.getuid() == 0 and (last(sv, "Service", "DynamicUser") == "yes" or last(sv, "Service", "User")):
    pw = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
os.execve(argv[0], argv, env)
'

deploy_activate() { exec python3 -c "$_DEPLOY_ACTIVATE_PY" "$@"; }

# ---------------------------------------------------------------- Apache

_deploy_apache_bin() { _deploy_cmd apache2; }

deploy_need_apache_module() {
	local m=$1 pkg=$2
	case $("$(_deploy_apache_bin)" -l 2>/dev/null) in *"mod_$m.c"*) return 0 ;; esac
	if [ ! -f "/etc/apache2/mods-available/$m.load" ] &&
		[ ! -f "/usr/lib/apache2/modules/mod_$m.so" ]; then
		_deploy_say "Apache module $m not found: install $pkg (apt-get install $pkg)"
		return 1
	fi
}

apache_modules() {
	local m f
	[ -n "${_DEPLOY_APACHE_BUILTIN:-}" ] || _DEPLOY_APACHE_BUILTIN=$("$(_deploy_apache_bin)" -l 2>/dev/null)
	for m in "$@"; do
		case $_DEPLOY_APACHE_BUILTIN in *"mod_$m.c"*) continue ;; esac
		f=/etc/apache2/mods-available/$m.load
		if [ -f "$f" ]; then
			while IFS= read -r line; do
				case $line in LoadModule*) printf '%s\n' "$line" ;; esac
			done <"$f"
		elif [ -f "/usr/lib/apache2/modules/mod_$m.so" ]; then
			echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
		else
			_deploy_say "Apache module $m not found"
			return 1
		fi
	done
}

apache_start() {
	local dir=$1 site=$2 modules=$3 extra=$4 a=$1/apache user group i pid try port
	mkdir -p "$a/run" "$a/htdocs" || return 1
	user=$(deploy_user) group=$(deploy_group)
	for try in 1 2 3 4 5; do
		port=$(deploy_free_port) || return 1
		_apache_conf "$a" "$port" "$site" "$modules" "$extra" "$user" "$group"
		: >"$a/error.log"
		if ! "$(_deploy_apache_bin)" -f "$a/httpd.conf" -k start </dev/null >"$a/start.log" 2>&1 3>&-; then
			# Lost a race for the port: take another.
			grep -q 'Address already in use' "$a/start.log" "$a/error.log" 2>/dev/null && continue
			_deploy_say "apache2 -k start failed"
			_stack_tail "$a/start.log" "$a/error.log"
			return 1
		fi
		for i in $(seq 100); do
			pid=$(cat "$a/httpd.pid" 2>/dev/null) || pid=""
			if [ -n "$pid" ] && [ "$(_stack_http "http://127.0.0.1:$port/")" != 000 ]; then
				DEPLOY_PORT=$port
				return 0
			fi
			sleep 0.1
		done
		_deploy_say "Apache did not answer on 127.0.0.1:$port"
		_stack_tail "$a/start.log" "$a/error.log"
		return 1
	done
	_deploy_say "Apache found no free port in 5 tries"
	_stack_tail "$a/start.log" "$a/error.log"
	return 1
}

_apache_conf() {
	local a=$1 port=$2 site=$3 modules=$4 extra=$5 user=$6 group=$7
	{
		echo "# Written by tests/lib/deploy.bash: one Apache for one test, all under $a."
		echo "ServerRoot \"$a\""
		echo "PidFile \"$a/httpd.pid\""
		echo "DefaultRuntimeDir \"$a/run\""
		echo "Mutex file:$a/run default"
		echo "ErrorLog \"$a/error.log\""
		echo "LogLevel warn"
		echo "Listen 127.0.0.1:$port"
		echo "ServerName 127.0.0.1"
		printf '%s\n' "$modules"
		if [ "$(id -u)" -eq 0 ]; then
			echo "User $user"
			echo "Group $group"
		fi
		echo "StartServers 1"
		echo "ServerLimit 2"
		echo "ThreadsPerChild 16"
		echo "MaxRequestWorkers 32"
		echo "MinSpareThreads 1"
		echo "MaxSpareThreads 32"
		echo "TypesConfig /etc/mime.types"
		echo "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b %D\" timed"
		echo "CustomLog \"$a/access.log\" timed"
		echo "DocumentRoot \"$a/htdocs\""
		echo "<Directory />"
		echo "    AllowOverride None"
		echo "    Require all denied"
		echo "</Directory>"
		printf '%s\n' "$extra"
		echo "Include \"$site\""
	} >"$a/httpd.conf"
}

apache_stop() {
	local a=$1/apache pid
	[ -f "$a/httpd.conf" ] || return 0
	pid=$(cat "$a/httpd.pid" 2>/dev/null) || pid=""
	[ -n "$pid" ] && _stack_is "$pid" "$a/httpd.conf" || return 0
	"$(_deploy_apache_bin)" -f "$a/httpd.conf" -k stop </dev/null >/dev/null 2>&1 3>&- ||
		kill -TERM "$pid" 2>/dev/null
	deploy_wait_gone "$pid" || deploy_kill "$a" "$pid"
}

# ---------------------------------------------------------------- lighttpd

lighttpd_start() {
	local dir=$1 site=$2 l=$1/lighttpd user group i pid try port
	mkdir -p "$l/htdocs" || return 1
	user=$(deploy_user) group=$(deploy_group)
	for try in 1 2 3 4 5; do
		port=$(deploy_free_port) || return 1
		{
			echo "# Written by tests/lib/deploy.bash: one lighttpd for one test, all under $l."
			echo "server.document-root = \"$l/htdocs\""
			echo "server.bind = \"127.0.0.1\""
			echo "server.port = $port"
			echo "server.errorlog = \"$l/error.log\""
			echo "server.modules = ( \"mod_accesslog\" )"
			echo "accesslog.filename = \"$l/access.log\""
			if [ "$(id -u)" -eq 0 ]; then
				echo "server.username = \"$user\""
				echo "server.groupname = \"$group\""
			fi
			echo "include \"$site\""
		} >"$l/lighttpd.conf"
		: >"$l/error.log"
		: >"$l/lighttpd.out"
		# lighttpd opens its logs after dropping to server.username.
		if [ "$(id -u)" -eq 0 ]; then chown -R "$user:$group" "$l" || return 1; fi
		"$(_deploy_cmd lighttpd)" -D -f "$l/lighttpd.conf" </dev/null >>"$l/lighttpd.out" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$l/lighttpd.pid"
		for i in $(seq 100); do
			_stack_alive "$pid" || break
			if [ "$(_stack_http "http://127.0.0.1:$port/")" != 000 ]; then
				DEPLOY_PORT=$port
				return 0
			fi
			sleep 0.1
		done
		_stack_alive "$pid" && deploy_kill "$l" "$pid"
		wait "$pid" 2>/dev/null
		# Lost a race for the port: take another.
		grep -q 'Address already in use' "$l/lighttpd.out" "$l/error.log" 2>/dev/null && continue
		break
	done
	_deploy_say "lighttpd did not start on 127.0.0.1:$port"
	_stack_tail "$l/lighttpd.out" "$l/error.log"
	return 1
}
