#!/usr/bin/env bats
# deploy.bats — every file in deploy/ serves MCP with a real web server.

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
	# The test's own directory: servers, logs and sockets; readable by the servers' user.
	T=$DEPLOY_TMP/t$BATS_TEST_NUMBER
	mkdir -p "$T" && chmod 0755 "$T"
	BIN=$(deploy_bin "$DEPLOY_TMP")
	WUSER=$(deploy_user) WGROUP=$(deploy_group)
}

teardown() {
	apache_stop "$T"
	[ -f "$T/lighttpd/lighttpd.pid" ] && deploy_kill "$(cat "$T/lighttpd/lighttpd.pid")"
	# Programs this test started (recorded PIDs only).
	[ -f "$T/started.pids" ] && deploy_kill $(cat "$T/started.pids")
	stack_stop "$T" 2>/dev/null || true
	true
}

@test "spawn-fcgi (one process, -n) + Apache mod_proxy_fcgi: streams unbuffered" {
	deploy_need apache2 apache2
	deploy_need spawn-fcgi spawn-fcgi
	deploy_subst "$DEPLOY_DIR/spawn-fcgi/dmcp.sh" "$T/dmcp.sh" DMCP_BIN="$BIN" \
		FCGI_SOCKET="$T/fcgi.sock" DMCP_USER="$WUSER" DMCP_GROUP="$WGROUP" \
		WEB_USER="$WUSER" WEB_GROUP="$WGROUP"
	printf 'DMCP_DATABASE_URL="%s"\nDMCP_THREADS=4\n' "$DMCP_DATABASE_URL" >"$T/dmcp.env"
	DMCP_ENV_FILE=$T/dmcp.env sh "$T/dmcp.sh" </dev/null >"$T/dmcp.log" 2>&1 &
	echo $! >"$T/started.pids"
	deploy_subst "$DEPLOY_DIR/apache/dmcp-proxy-fcgi.conf" "$T/site.conf" FCGI_SOCKET="$T/fcgi.sock"
	port=$(deploy_free_port)
	apache_start "$T" "$port" "$T/site.conf" \
		"$(apache_modules mpm_event authz_core mime env proxy proxy_fcgi filter deflate)" \
		"AddOutputFilterByType DEFLATE text/event-stream application/json"
	deploy_wait_http "http://127.0.0.1:$port/mcp"
	deploy_stream_check "http://127.0.0.1:$port/mcp" apache-proxy-fcgi
}
