#!/usr/bin/env bats
# deploy.bats — every file in deploy/ serves MCP with the real web server it is written for.
# Each test substitutes the file's @PLACEHOLDERS@ (sed), includes it from a generated top-level
# configuration (own ServerRoot/pid/logs under a temporary directory, 127.0.0.1:<free port>),
# and checks with curl: (a) initialize answers 200 with an Mcp-Session-Id; (b) a slow_progress
# call streams: its progress events arrive one by one, the response ≥ 400 ms after the first
# one (nothing buffers on the way; the measured gaps are printed as TAP comments); (d) the
# program stops cleanly and no process of it is left (checked by PID).
# Files: deploy/apache/dmcp-proxy-fcgi.conf, deploy/apache/dmcp-fcgid.conf,
# deploy/apache/htaccess, deploy/apache/dmcp-cgi.conf, deploy/lighttpd/dmcp.conf,
# deploy/spawn-fcgi/dmcp.sh, deploy/nginx/dmcp-location.conf (through stack.sh's nginx),
# deploy/systemd/dmcp.socket, deploy/systemd/dmcp.service, deploy/systemd/dmcp-sweep.service,
# deploy/systemd/dmcp-sweep.timer, deploy/systemd/dmcp.env.example, deploy/README.md.
# A missing web server fails its test with "install PACKAGE" (tests/lib/deps.sh installs them).
# All processes run from one private PostgreSQL; run as root, the servers and the program run
# as www-data (the systemd emulation as nobody). The program, @DMCP_BIN@ in the files, is the
# demo's (DMCP_BIN, dmcp-demo.fcgi), standing in for an author's own: its slow_progress tool
# is what streams.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"
source "$BATS_TEST_DIRNAME/lib/deploy.bash"

setup_file() {
	DEPLOY_TMP=$(stack_mktemp)
	export DEPLOY_TMP
	deploy_pg_start "$DEPLOY_TMP/db" >&2
}

teardown_file() {
	stack_stop "$DEPLOY_TMP/db"
	case $DEPLOY_TMP in /tmp/dmcp-test.*) rm -rf "$DEPLOY_TMP" ;; esac
}

setup() {
	# The test's own directory (servers, logs, sockets, its copy of the program), which the
	# servers' user can enter.
	[ -d "${DEPLOY_TMP:-}" ] || { echo "no test directory (setup_file failed)" >&2; return 1; }
	T=$DEPLOY_TMP/t$BATS_TEST_NUMBER
	mkdir -p "$T" && chmod 0755 "$T"
	WUSER=$(deploy_user) WGROUP=$(deploy_group)
}

teardown() {
	apache_stop "$T"
	[ -f "$T/lighttpd/lighttpd.pid" ] && deploy_kill "$T" "$(cat "$T/lighttpd/lighttpd.pid")"
	_stack_nginx_stop "$T"
	# Programs this test started: recorded PIDs, and any process running this test's own copies
	# of the program (only if they still name $T).
	[ -f "$T/started.pids" ] && deploy_kill "$T" $(cat "$T/started.pids")
	deploy_kill "$T" $(deploy_pids "$T/bin/dmcp.fcgi") $(deploy_pids "$T/apache/htdocs/dmcp.fcgi")
	true
}

# spawn_script — deploy/spawn-fcgi/dmcp.sh for this test as $T/dmcp.sh, socket
# $T/fcgi.sock, and its environment file $T/dmcp.env (database, 127.0.0.1 allowed).
spawn_script() {
	deploy_subst "$DEPLOY_DIR/spawn-fcgi/dmcp.sh" "$T/dmcp.sh" DMCP_BIN="$BIN" \
		FCGI_SOCKET="$T/fcgi.sock" DMCP_USER="$WUSER" DMCP_GROUP="$WGROUP" \
		WEB_USER="$WUSER" WEB_GROUP="$WGROUP"
	printf 'DMCP_DATABASE_URL="%s"\nDMCP_ALLOWED_HOSTS=127.0.0.1\nDMCP_THREADS=4\n' \
		"$DMCP_DATABASE_URL" >"$T/dmcp.env"
}

# log_file FILE — FILE, empty, writable by the program's user (for DMCP_LOG_FILE).
log_file() {
	: >"$1"
	[ "$(id -u)" -ne 0 ] || chown "$WUSER:$WGROUP" "$1"
}

# wait_socket PATH [PID] — waits (≤10 s) for the unix socket PATH while PID lives.
wait_socket() {
	local i
	for i in $(seq 100); do
		[ -S "$1" ] && return 0
		if [ -n "${2:-}" ] && ! _stack_alive "$2"; then
			echo "pid $2 exited before creating $1" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "no socket $1 after 10 s" >&2
	return 1
}

@test "spawn-fcgi script, supervised mode (-n) + nginx: streams; SIGTERM stops the program" {
	deploy_need spawn-fcgi spawn-fcgi
	deploy_need nginx nginx
	BIN=$(deploy_bin "$T")
	spawn_script
	DMCP_ENV_FILE=$T/dmcp.env sh "$T/dmcp.sh" </dev/null >"$T/dmcp.log" 2>&1 &
	pid=$!
	echo "$pid" >"$T/started.pids"
	wait_socket "$T/fcgi.sock" "$pid"
	# -n: spawn-fcgi became the program (same PID), as a supervisor needs it.
	[ "$(readlink "/proc/$pid/exe")" = "$BIN" ]
	if [ "$(id -u)" -eq 0 ]; then
		[ "$(stat -c '%U:%G %a' "$T/fcgi.sock")" = "$WUSER:$WGROUP 660" ]
		[ "$(stat -c %U "/proc/$pid")" = "$WUSER" ]
	fi
	# nginx with deploy/nginx/dmcp-location.conf on $T/fcgi.sock (stack.sh's nginx).
	_stack_nginx_start "$T"
	deploy_stream_check "http://127.0.0.1:$STACK_PORT/mcp" nginx+spawn-fcgi
	kill -TERM "$pid"
	deploy_wait_gone "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { echo "the program exited with $rc" >&2; cat "$T/dmcp.log" >&2; return 1; }
	grep -q 'stopped' "$T/dmcp.log"
	[ -z "$(deploy_pids "$BIN")" ]
}

@test "spawn-fcgi script, forking mode (-F 2) + Apache mod_proxy_fcgi (with mod_deflate loaded): streams" {
	deploy_need apache2 apache2
	deploy_need spawn-fcgi spawn-fcgi
	BIN=$(deploy_bin "$T")
	spawn_script
	# spawn-fcgi sends the forked processes' stderr to /dev/null: their log goes to a file.
	log_file "$T/workers.log"
	echo "DMCP_LOG_FILE=$T/workers.log" >>"$T/dmcp.env"
	DMCP_ENV_FILE=$T/dmcp.env sh "$T/dmcp.sh" 2 </dev/null >"$T/dmcp.log" 2>&1
	pids=$(cat "$T/fcgi.sock.pids")
	echo $pids >"$T/started.pids"
	[ "$(echo $pids | wc -w)" -eq 2 ]
	for p in $pids; do [ "$(readlink "/proc/$p/exe")" = "$BIN" ]; done
	wait_socket "$T/fcgi.sock"
	deploy_subst "$DEPLOY_DIR/apache/dmcp-proxy-fcgi.conf" "$T/site.conf" \
		FCGI_SOCKET="$T/fcgi.sock"
	# mod_deflate is on for event streams server-wide: the file must keep it off /mcp.
	apache_start "$T" "$T/site.conf" \
		"$(apache_modules mpm_event authz_core mime env proxy proxy_fcgi filter deflate)" \
		"AddOutputFilterByType DEFLATE text/event-stream application/json"
	deploy_wait_http "http://127.0.0.1:$DEPLOY_PORT/mcp"
	deploy_stream_check "http://127.0.0.1:$DEPLOY_PORT/mcp" apache-proxy-fcgi
	# Only exactly /mcp goes to the program.
	case $(_stack_http "http://127.0.0.1:$DEPLOY_PORT/mcpx") in 403 | 404) ;; *) false ;; esac
	apache_stop "$T"
	kill -TERM $pids
	deploy_wait_gone $pids
	[ -z "$(deploy_pids "$BIN")" ]
	[ "$(grep -c 'stopped' "$T/workers.log")" -eq 2 ]
}

@test "Apache mod_fcgid (dmcp-fcgid.conf in a VirtualHost + htaccess): streams; stopping Apache stops the program" {
	deploy_need apache2 apache2
	deploy_need_apache_module fcgid libapache2-mod-fcgid
	W=$T/apache/htdocs
	mkdir -p "$W" "$T/apache/fcgid"
	BIN=$W/dmcp.fcgi
	cp "$(_stack_bin)" "$BIN"
	chmod 0755 "$BIN"
	cp "$DEPLOY_DIR/apache/htaccess" "$W/.htaccess"
	[ "$(id -u)" -ne 0 ] || chown "$WUSER:$WGROUP" "$T/apache/fcgid"
	deploy_subst "$DEPLOY_DIR/apache/dmcp-fcgid.conf" "$T/site.conf" DMCP_DIR="$W" \
		DATABASE_URL="$DMCP_DATABASE_URL" ALLOWED_HOSTS=127.0.0.1
	printf '<VirtualHost *:*>\n    DocumentRoot "%s"\n    Include "%s"\n</VirtualHost>\n' \
		"$W" "$T/site.conf" >"$T/vhost.conf"
	apache_start "$T" "$T/vhost.conf" \
		"$(apache_modules mpm_event authz_core mime env rewrite fcgid filter deflate)" \
		"AddOutputFilterByType DEFLATE text/event-stream application/json
FcgidIPCDir \"$T/apache/fcgid\"
FcgidProcessTableFile \"$T/apache/fcgid/shm\""
	deploy_wait_http "http://127.0.0.1:$DEPLOY_PORT/mcp"
	deploy_stream_check "http://127.0.0.1:$DEPLOY_PORT/mcp" apache-fcgid
	# FcgidMaxRequestLen is DMCP_MAX_BODY: a 300 kB body (over mod_fcgid's default, 128 KiB)
	# reaches the program, which answers it (400: no session id) — not mod_fcgid (500).
	{
		printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'
		head -c 300000 /dev/zero | tr '\0' a
		printf '"}}'
	} >"$T/big.json"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H 'Content-Type: application/json' \
		-H "Accept: $MCP_ACCEPT" --data-binary "@$T/big.json" "http://127.0.0.1:$DEPLOY_PORT/mcp")
	[ "$code" = 400 ] || { echo "a 300 kB body got $code" >&2; return 1; }
	# mod_fcgid started the program; stopping Apache stops it.
	pids=$(deploy_pids "$BIN")
	[ -n "$pids" ]
	echo $pids >"$T/started.pids"
	apache_stop "$T"
	deploy_wait_gone $pids
	[ -z "$(deploy_pids "$BIN")" ]
}

@test "Apache plain CGI (mod_cgid, dmcp-cgi.conf): streams; no process outlives its request" {
	deploy_need apache2 apache2
	deploy_need_apache_module cgid apache2
	BIN=$(deploy_bin "$T")
	deploy_subst "$DEPLOY_DIR/apache/dmcp-cgi.conf" "$T/site.conf" DMCP_BIN="$BIN" \
		DATABASE_URL="$DMCP_DATABASE_URL" ALLOWED_HOSTS=127.0.0.1
	apache_start "$T" "$T/site.conf" \
		"$(apache_modules mpm_event authz_core mime env alias cgid filter deflate)" \
		"AddOutputFilterByType DEFLATE text/event-stream application/json
ScriptSock \"$T/apache/run/cgid.sock\""
	deploy_wait_http "http://127.0.0.1:$DEPLOY_PORT/mcp"
	deploy_stream_check "http://127.0.0.1:$DEPLOY_PORT/mcp" apache-cgi
	# One process per request, gone when its response is.
	for i in $(seq 50); do
		[ -z "$(deploy_pids "$BIN")" ] && break
		sleep 0.1
	done
	[ -z "$(deploy_pids "$BIN")" ]
}

@test "lighttpd spawning the program (dmcp.conf): streams; restarts it after kill -9; SIGTERM to lighttpd leaves no program behind" {
	deploy_need lighttpd lighttpd
	BIN=$(deploy_bin "$T")
	mkdir -p "$T/run"
	[ "$(id -u)" -ne 0 ] || chown "$WUSER:$WGROUP" "$T/run"
	deploy_subst "$DEPLOY_DIR/lighttpd/dmcp.conf" "$T/site.conf" DMCP_BIN="$BIN" \
		FCGI_SOCKET="$T/run/dmcp.sock" DATABASE_URL="$DMCP_DATABASE_URL" ALLOWED_HOSTS=127.0.0.1
	lighttpd_start "$T" "$T/site.conf"
	lpid=$(cat "$T/lighttpd/lighttpd.pid")
	deploy_wait_http "http://127.0.0.1:$DEPLOY_PORT/mcp" "$lpid"
	deploy_stream_check "http://127.0.0.1:$DEPLOY_PORT/mcp" lighttpd
	# The program is lighttpd's child (bin-path), given the socket as fd 0.
	kids=$(deploy_children "$lpid")
	[ "$(echo $kids | wc -w)" -eq 1 ]
	[ "$(readlink "/proc/$kids/exe")" = "$BIN" ]
	# lighttpd restarts it when it dies: kill -9, and the program answers again (GET /mcp
	# without Last-Event-ID or a session: its 405) from a new process.
	kill -KILL $kids
	deploy_wait_gone $kids
	deploy_wait_http "http://127.0.0.1:$DEPLOY_PORT/mcp" "$lpid"
	[ "$(_stack_http "http://127.0.0.1:$DEPLOY_PORT/mcp")" = 405 ]
	kids2=$(deploy_children "$lpid")
	[ -n "$kids2" ] && [ "$kids2" != "$kids" ]
	for p in $kids2; do [ "$(readlink "/proc/$p/exe")" = "$BIN" ]; done
	echo $kids2 >"$T/started.pids"
	# SIGTERM to lighttpd: lighttpd and its program end, nothing is left.
	kill -TERM "$lpid"
	deploy_wait_gone "$lpid" $kids2
	[ -z "$(deploy_pids "$BIN")" ]
}

@test "systemd socket activation, emulated from dmcp.socket + dmcp.service: serves on fd 0, stops on SIGTERM within TimeoutStopSec; the sweep unit's command runs" {
	deploy_need nginx nginx
	BIN=$(deploy_bin "$T")
	for u in dmcp.socket dmcp.service dmcp-sweep.service; do
		deploy_subst "$DEPLOY_DIR/systemd/$u" "$T/$u" DMCP_BIN="$BIN" \
			FCGI_SOCKET="$T/fcgi.sock" WEB_GROUP="$WGROUP"
	done
	# /etc/dmcp/dmcp.env, from the example with this test's database and host.
	{
		cat "$DEPLOY_DIR/systemd/dmcp.env.example"
		printf 'DMCP_DATABASE_URL="%s"\nDMCP_ALLOWED_HOSTS=127.0.0.1\n' "$DMCP_DATABASE_URL"
	} >"$T/dmcp.env"
	: >"$T/journal.log"
	deploy_activate "$T/dmcp.socket" "$T/dmcp.service" "$T/dmcp.env" "$T/journal.log" &
	pid=$!
	echo "$pid" >"$T/started.pids"
	wait_socket "$T/fcgi.sock" "$pid"
	[ "$(stat -c %a "$T/fcgi.sock")" = "$(unit_get "$T/dmcp.socket" Socket SocketMode | sed 's/^0*//')" ]
	[ "$(id -u)" -ne 0 ] || [ "$(stat -c %G "$T/fcgi.sock")" = "$WGROUP" ]
	for i in $(seq 50); do
		[ "$(readlink "/proc/$pid/exe")" = "$BIN" ] && break
		sleep 0.1
	done
	[ "$(readlink "/proc/$pid/exe")" = "$BIN" ]
	_stack_nginx_start "$T"
	deploy_stream_check "http://127.0.0.1:$STACK_PORT/mcp" systemd-socket+nginx
	stop_s=$(unit_get "$T/dmcp.service" Service TimeoutStopSec)
	stop_s=${stop_s%s}
	t0=${EPOCHREALTIME//[!0-9]/}
	kill -TERM "$pid"
	deploy_wait_gone "$pid"
	ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
	rc=0
	wait "$pid" || rc=$?
	echo "# systemd emulation: SIGTERM -> exit $rc in $ms ms (TimeoutStopSec=${stop_s}s)" >&3
	[ "$rc" -eq 0 ]
	[ "$ms" -lt $((stop_s * 1000)) ]
	grep -q 'stopped' "$T/journal.log"
	# The sweep unit's command, with the same environment.
	read -r -a sweep <<<"$(unit_get "$T/dmcp-sweep.service" Service ExecStart)"
	run env -i PATH="$PATH" bash -c 'set -a; . "$1"; shift; exec "$@"' _ "$T/dmcp.env" "${sweep[@]}"
	[ "$status" -eq 0 ]
	[[ $output == *"sweep: "*" sessions ended, "*" deleted"* ]]
}

@test "systemd units: the directives that matter, the env example, systemd-analyze verify" {
	local d=$DEPLOY_DIR/systemd hold stop
	# dmcp.socket: a unix socket the web server's group may use; one service gets it.
	[ "$(unit_get "$d/dmcp.socket" Socket ListenStream)" = @FCGI_SOCKET@ ]
	[ "$(unit_get "$d/dmcp.socket" Socket SocketMode)" = 0660 ]
	[ "$(unit_get "$d/dmcp.socket" Socket SocketGroup)" = @WEB_GROUP@ ]
	[ "$(unit_get "$d/dmcp.socket" Socket Accept)" = no ]
	[ "$(unit_get "$d/dmcp.socket" Install WantedBy)" = sockets.target ]
	# dmcp.service: the socket on fd 0, the log not on the socket, restarts, clean stop.
	[[ " $(unit_get "$d/dmcp.service" Unit Requires) " == *" dmcp.socket "* ]]
	[ "$(unit_get "$d/dmcp.service" Service ExecStart)" = @DMCP_BIN@ ]
	[ "$(unit_get "$d/dmcp.service" Service StandardInput)" = socket ]
	[ "$(unit_get "$d/dmcp.service" Service StandardOutput)" = journal ]
	[ "$(unit_get "$d/dmcp.service" Service StandardError)" = journal ]
	[ "$(unit_get "$d/dmcp.service" Service Restart)" = on-failure ]
	[ "$(unit_get "$d/dmcp.service" Service KillSignal)" = SIGTERM ]
	[ "$(unit_get "$d/dmcp.service" Service EnvironmentFile)" = /etc/dmcp/dmcp.env ]
	stop=$(unit_get "$d/dmcp.service" Service TimeoutStopSec)
	[[ $stop =~ ^[0-9]+s$ ]]
	hold=$(sed -n 's/^DMCP_STREAM_HOLD_MS=//p' "$d/dmcp.env.example")
	[ "${stop%s}" -gt $((hold / 1000)) ]
	for kv in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ProtectHome=yes \
		PrivateDevices=yes RestrictSUIDSGID=yes CapabilityBoundingSet=; do
		[ "$(unit_get "$d/dmcp.service" Service "${kv%%=*}")" = "${kv#*=}" ] ||
			{ echo "dmcp.service lacks $kv" >&2; return 1; }
	done
	# dmcp-sweep.service + timer.
	[ "$(unit_get "$d/dmcp-sweep.service" Service Type)" = oneshot ]
	[ "$(unit_get "$d/dmcp-sweep.service" Service ExecStart)" = "@DMCP_BIN@ sweep" ]
	[ "$(unit_get "$d/dmcp-sweep.service" Service EnvironmentFile)" = /etc/dmcp/dmcp.env ]
	[ "$(unit_get "$d/dmcp-sweep.service" Service ProtectSystem)" = strict ]
	[ "$(unit_get "$d/dmcp-sweep.timer" Timer Unit)" = dmcp-sweep.service ]
	[ -n "$(unit_get "$d/dmcp-sweep.timer" Timer OnCalendar)" ]
	[ "$(unit_get "$d/dmcp-sweep.timer" Install WantedBy)" = timers.target ]
	# dmcp.env.example: only variables the program knows (its --help lists them all).
	help=$("$(_stack_bin)" --help)
	for name in $(sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$d/dmcp.env.example"); do
		[[ $help == *"$name "* ]] || { echo "dmcp.env.example: unknown $name" >&2; return 1; }
	done
	# systemd-analyze verify, on copies with real values, when it works on this machine.
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		echo "# systemd-analyze not found: verify not run" >&3
		return 0
	fi
	mkdir -p "$T/units"
	printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n' >"$T/units/probe.service"
	if ! out=$(cd "$T/units" && timeout 30 systemd-analyze verify ./probe.service 2>&1) || [ -n "$out" ]; then
		echo "# systemd-analyze verify does not work here ($out): not run" >&3
		return 0
	fi
	for u in dmcp.socket dmcp.service dmcp-sweep.service dmcp-sweep.timer; do
		deploy_subst "$d/$u" "$T/units/$u" DMCP_BIN="$(_stack_bin)" \
			FCGI_SOCKET="$T/units/fcgi.sock" WEB_GROUP="$WGROUP"
	done
	run bash -c 'cd "$1" && timeout 30 systemd-analyze verify ./dmcp.socket ./dmcp.service ./dmcp-sweep.service ./dmcp-sweep.timer 2>&1' _ "$T/units"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "systemd-analyze verify: $output" >&2; return 1; }
}

@test "deploy/: every file is exercised here and described in deploy/README.md; placeholders are documented" {
	local f rel ph body doc
	[ -f "$DEPLOY_DIR/README.md" ]
	while IFS= read -r f; do
		rel=${f#"$STACK_ROOT"/}
		[ "$rel" = deploy/README.md ] && continue
		grep -qF "$rel" "$BATS_TEST_FILENAME" || { echo "$rel is not exercised by deploy.bats" >&2; return 1; }
		grep -qF "${rel#deploy/}" "$DEPLOY_DIR/README.md" ||
			{ echo "deploy/README.md does not mention ${rel#deploy/}" >&2; return 1; }
		# Every placeholder used outside comments is explained in the file's comments.
		body=$(grep -v '^[[:space:]]*#' "$f" | grep -oE '@[A-Z_]+@' | sort -u)
		doc=$(grep '^[[:space:]]*#' "$f" | grep -oE '@[A-Z_]+@' | sort -u)
		for ph in $body; do
			grep -qxF -- "$ph" <<<"$doc" || { echo "$rel: $ph is not explained in its comments" >&2; return 1; }
		done
	done < <(find "$DEPLOY_DIR" -type f | sort)
}

@test "no sanitizer reports in the logs of the programs and servers" {
	local re='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)'
	run bash -c 'find "$1" -type f \( -name "*.log" -o -name "*.out" \) -exec grep -E -H -A 20 "$2" {} +' _ "$DEPLOY_TMP" "$re"
	[ -z "$output" ] || { echo "$output" >&2; return 1; }
}
