# shellcheck shell=bash
# http.bash — HTTP and CGI helpers for the transport-level bats tests. Sourced after
# tests/lib/stack.sh; talks to the stack in $DMCP_URL (set by stack_start). Needs curl and
# python3 (JSON is read with python3, never with node).
#
#   mcp_send METHOD BODY [curl args...]  One request, no default headers but curl's own (curl
#                                        sends "Accept: */*" unless told otherwise; -H 'Name:'
#                                        removes a header). BODY "" sends no body. Sets
#                                        $status_code, $headers (CRs removed, last header block
#                                        only) and $body.
#   mcp_send_file METHOD FILE [args...]  The same with the body read from FILE (any bytes, any
#                                        size).
#   mcp_post BODY [curl args...]         POST with Content-Type: application/json and
#                                        Accept: application/json, text/event-stream. (An extra
#                                        -H of the same name sends a second header, and the
#                                        program sees the first: use mcp_send to replace one.)
#   mcp_get [curl args...]               GET with Accept: text/event-stream.
#   mcp_delete [curl args...]            DELETE.
#   mcp_call BODY [curl args...]         mcp_post in the session $SID (Mcp-Session-Id and
#                                        MCP-Protocol-Version: $MCP_PV headers).
#   mcp_init [PROTOCOL_VERSION]          initialize + notifications/initialized; sets $SID.
#   mcp_ping                             a ping in $SID; true when it answered 200 with {}.
#   header NAME                          the value of response header NAME (any case) or nothing.
#   json_get PATH [JSON]                 a field of JSON (default $body); PATH is dot-separated
#                                        keys and array indexes ("error.code", "result.tools.0"),
#                                        "" for the whole value. Strings print raw, anything else
#                                        as compact JSON (null, true, 42, {}, [1,2]). Status 1 and
#                                        nothing printed when the path does not exist or JSON is
#                                        not JSON.
#   json_check PYEXPR [JSON]             true when the Python expression PYEXPR holds, with the
#                                        parsed JSON bound to `j` (default $body).
#   assert_status CODE                   $status_code is CODE (else prints the exchange, fails).
#   assert_rpc_error CODE FRAGMENT [ID]  $body is a JSON-RPC error with that code, a message
#                                        containing FRAGMENT (in any case), and (when given) that
#                                        id as compact JSON text ("null", "1", '"abc"').
#   assert_rpc_result [ID [PYEXPR]]      $body is a JSON-RPC result, with that id (when given,
#                                        "" for any) and with PYEXPR true of it (the result bound
#                                        to `r`, the whole message to `j`).
#   assert_empty_body                    $body is empty.
#   sse_json [TEXT]                      the events of an SSE stream (default $body) as a JSON
#                                        array of {"id", "data", "retry"} objects.
#   db_counts [DIR]                      one line "events=N migrations=N runs=N sessions=N
#                                        subscriptions=N": the rows of every dmcp_* table in
#                                        the stack DIR (default $STACK_DIR).
#   cgi_request BODY [VAR=VALUE...]      runs $DMCP_BIN once as plain CGI: a clean environment
#                                        with a POST of BODY (stdin from a file, so not a socket),
#                                        CONTENT_LENGTH = bytes of BODY unless given; VAR=VALUE
#                                        add or override variables (VAR= unsets). Sets $cgi_rc,
#                                        $status_code, $headers, $body (from "Status: ..." on
#                                        stdout) and $cgi_stderr.
#   fcgi_request MODE FILE [NAME=VALUE...]  one raw FastCGI request straight to the program's
#                                        socket $STACK_DIR/fcgi.sock (no nginx), with those
#                                        params and FILE as its stdin; see _FCGI_PY.
#
# Every curl call is bounded by --max-time $MCP_TIMEOUT (default 20 s).

MCP_TIMEOUT=${MCP_TIMEOUT:-20}
# The interpreter itself, resolved once: a version-manager shim in front of python3 can cost
# a second per call. Exported so the tests of a file inherit it from setup_file.
if [ -z "${MCP_PYTHON:-}" ]; then
	MCP_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || MCP_PYTHON=python3
	[ -n "$MCP_PYTHON" ] || MCP_PYTHON=python3
	export MCP_PYTHON
fi
MCP_PV=${MCP_PV:-2025-11-25}
MCP_ACCEPT='application/json, text/event-stream'

# _http_tmp — a private scratch directory for this test (removed with the test's tmpdir).
_http_tmp() {
	local d=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-}}
	if [ -z "$d" ]; then
		[ -n "${HTTP_TMP:-}" ] || HTTP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmcp-http.XXXXXX") || return 1
		d=$HTTP_TMP
	fi
	mkdir -p "$d/http" && printf '%s\n' "$d/http"
}

# _http_split FILE — sets $headers from a curl -D dump: the last block (after any 1xx), CRs
# removed, the status line kept first.
_http_split() {
	headers=$(tr -d '\r' <"$1" | awk '
		/^HTTP\// { block = "" }
		{ block = block $0 "\n" }
		END { printf "%s", block }')
}

mcp_send_file() {
	local method=$1 file=$2 t rc
	shift 2
	t=$(_http_tmp) || return 1
	: >"$t/h"
	: >"$t/b"
	local upload=()
	if [ -n "$file" ]; then upload=(--data-binary "@$file"); fi
	rc=0
	status_code=$(curl -s --max-time "$MCP_TIMEOUT" -X "$method" -H 'Expect:' \
		-D "$t/h" -o "$t/b" -w '%{http_code}' "${upload[@]}" "$@" "$DMCP_URL") || rc=$?
	_http_split "$t/h"
	body=$(cat "$t/b")
	last_request="$method $DMCP_URL $*"
	last_body=${file:+(the file $file)}
	if [ "$rc" -ne 0 ]; then
		echo "curl failed with status $rc: $last_request" >&2
	fi
	return 0
}

mcp_send() {
	local method=$1 data=$2 t
	shift 2
	t=$(_http_tmp) || return 1
	if [ -z "$data" ]; then
		mcp_send_file "$method" "" "$@"
	else
		printf '%s' "$data" >"$t/req"
		mcp_send_file "$method" "$t/req" "$@"
	fi
	last_body=$data
}

mcp_post() {
	local data=$1
	shift
	mcp_send POST "$data" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" "$@"
}

mcp_get() {
	mcp_send GET "" -H 'Accept: text/event-stream' "$@"
}

mcp_delete() {
	mcp_send DELETE "" "$@"
}

mcp_call() {
	local data=$1
	shift
	mcp_post "$data" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" "$@"
}

mcp_init() {
	local pv=${1:-$MCP_PV}
	SID=
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$pv"'","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
	if [ "$status_code" != 200 ]; then
		echo "initialize failed: $status_code $body" >&2
		return 1
	fi
	SID=$(header Mcp-Session-Id)
	[ -n "$SID" ] || { echo "initialize gave no Mcp-Session-Id" >&2; return 1; }
	mcp_post '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "Mcp-Session-Id: $SID"
	if [ "$status_code" != 202 ]; then
		echo "notifications/initialized failed: $status_code $body" >&2
		return 1
	fi
	export SID
}

mcp_ping() {
	mcp_call '{"jsonrpc":"2.0","id":"ping-after","method":"ping"}'
	if [ "$status_code" != 200 ] || [ "$(json_get result)" != '{}' ]; then
		echo "ping failed: $status_code $body" >&2
		return 1
	fi
}

header() {
	printf '%s\n' "$headers" | awk -v want="$1" '
		BEGIN { want = tolower(want) }
		{
			i = index($0, ":")
			if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
				v = substr($0, i + 1)
				sub(/^[ \t]+/, "", v)
				sub(/[ \t]+$/, "", v)
				print v
				exit
			}
		}'
}

# The Python side of json_get: argv[1] is the path; the JSON comes on stdin.
_JSON_GET_PY='
import json, sys
try:
    v = json.loads(sys.stdin.buffer.read())
except Exception:
    sys.exit(1)
path = sys.argv[1]
for k in ([p for p in path.split(".")] if path != "" else []):
    if isinstance(v, dict) and k in v:
        v = v[k]
    elif isinstance(v, list) and k.lstrip("-").isdigit() and -len(v) <= int(k) < len(v):
        v = v[int(k)]
    else:
        sys.exit(1)
if isinstance(v, str):
    sys.stdout.write(v)
else:
    sys.stdout.write(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
'

json_get() {
	local path=$1
	if [ $# -ge 2 ]; then
		printf '%s' "$2" | "$MCP_PYTHON" -c "$_JSON_GET_PY" "$path"
	else
		printf '%s' "$body" | "$MCP_PYTHON" -c "$_JSON_GET_PY" "$path"
	fi
}

json_check() {
	local expr=$1 src
	if [ $# -ge 2 ]; then src=$2; else src=$body; fi
	printf '%s' "$src" | "$MCP_PYTHON" -c '
import json, sys
try:
    j = json.loads(sys.stdin.buffer.read())
except Exception:
    sys.exit(1)
sys.exit(0 if eval("(" + sys.argv[1] + "\n)") else 1)' "$expr"
}

# sse_json [TEXT] — the events of an SSE stream (default $body) as a JSON array of objects
# {"id", "data", "retry"} (absent fields left out; data lines joined with "\n").
sse_json() {
	local src
	if [ $# -ge 1 ]; then src=$1; else src=$body; fi
	printf '%s' "$src" | "$MCP_PYTHON" -c '
import json, sys
events, cur = [], {}
for line in sys.stdin.read().replace("\r\n", "\n").split("\n") + [""]:
    if line == "":
        if cur:
            events.append(cur)
        cur = {}
        continue
    if line.startswith(":"):
        continue
    name, _, value = line.partition(":")
    value = value[1:] if value.startswith(" ") else value
    if name == "data":
        cur["data"] = cur["data"] + "\n" + value if "data" in cur else value
    elif name in ("id", "retry", "event"):
        cur[name] = value
sys.stdout.write(json.dumps(events))'
}

# _http_show — the last exchange, to stderr (bats prints it when the test fails).
_http_show() {
	{
		echo "request:  $last_request"
		[ -n "${last_body:-}" ] && echo "body:     ${last_body:0:300}"
		echo "status:   $status_code"
		echo "headers:  $(printf '%s' "$headers" | tr '\n' '|')"
		echo "response: ${body:0:600}"
	} >&2
}

assert_status() {
	if [ "$status_code" != "$1" ]; then
		echo "expected HTTP status $1, got $status_code" >&2
		_http_show
		return 1
	fi
}

# The Python side of the assertions: argv = mode ("error" CODE FRAGMENT [ID] or "result"
# [ID [PYEXPR]]); the body on stdin. Prints why it fails; status 1 then.
_RPC_CHECK_PY='
import json, sys
mode, args = sys.argv[1], sys.argv[2:]
try:
    j = json.loads(sys.stdin.buffer.read())
except Exception as e:
    print("the body is not JSON (%s)" % e)
    sys.exit(1)
def fail(why):
    print(why)
    sys.exit(1)
if not isinstance(j, dict) or j.get("jsonrpc") != "2.0":
    fail("not a JSON-RPC 2.0 message")
def check_id(want):
    if "id" not in j:
        fail("the id is missing (expected %s)" % want)
    got = json.dumps(j["id"], separators=(",", ":"), ensure_ascii=False)
    if got != want:
        fail("expected id %s, got %s" % (want, got))
if mode == "error":
    e = j.get("error")
    if not isinstance(e, dict) or "result" in j:
        fail("expected a JSON-RPC error")
    if e.get("code") != int(args[0]) or type(e.get("code")) is not int:
        fail("expected error code %s, got %r" % (args[0], e.get("code")))
    if not isinstance(e.get("message"), str) or args[1].lower() not in e["message"].lower():
        fail("expected the error message to contain %r, got %r" % (args[1], e.get("message")))
    if len(args) > 2:
        check_id(args[2])
else:
    if "result" not in j or "error" in j:
        fail("expected a JSON-RPC result")
    if len(args) > 0 and args[0] != "":
        check_id(args[0])
    if len(args) > 1:
        r = j["result"]
        if not eval("(" + args[1] + "\n)"):
            fail("the result does not satisfy: %s" % args[1])
'

# _rpc_check MODE ARGS... — runs _RPC_CHECK_PY on $body; shows the exchange on failure.
_rpc_check() {
	local why
	if ! why=$(printf '%s' "$body" | "$MCP_PYTHON" -c "$_RPC_CHECK_PY" "$@"); then
		echo "$why" >&2
		_http_show
		return 1
	fi
}

assert_rpc_error() {
	_rpc_check error "$@"
}

assert_rpc_result() {
	_rpc_check result "$@"
}

assert_empty_body() {
	if [ -n "$body" ]; then
		echo "expected an empty body" >&2
		_http_show
		return 1
	fi
}

db_counts() {
	local dir=${1:-$STACK_DIR} tables sql='' t
	tables=$(stack_psql "$dir" "select tablename from pg_tables where schemaname = 'public' and tablename like 'dmcp\_%' order by tablename") || return 1
	for t in $tables; do
		[ -n "$sql" ] && sql="$sql union all "
		sql="$sql select '${t#dmcp_}=' || count(*) from $t"
	done
	[ -n "$sql" ] || { echo "no dmcp_* tables" >&2; return 1; }
	stack_psql "$dir" "$sql" | tr '\n' ' ' | sed 's/ $//'
	echo
}

# ---- CGI -------------------------------------------------------------------------------

# _http_parse_cgi FILE — sets $status_code, $headers, $body from a CGI response on FILE:
# header lines up to the first empty line ("Status: NNN ..." gives the status), then the body.
_http_parse_cgi() {
	local file=$1
	headers=$("$MCP_PYTHON" -c '
import sys
data = open(sys.argv[1], "rb").read()
sep = data.find(b"\r\n\r\n")
n = 4
if sep < 0:
    sep, n = data.find(b"\n\n"), 2
head = data if sep < 0 else data[:sep]
sys.stdout.write(head.decode("latin-1").replace("\r", ""))' "$file")
	body=$("$MCP_PYTHON" -c '
import sys
data = open(sys.argv[1], "rb").read()
sep = data.find(b"\r\n\r\n")
n = 4
if sep < 0:
    sep, n = data.find(b"\n\n"), 2
sys.stdout.buffer.write(b"" if sep < 0 else data[sep + n:])' "$file")
	status_code=$(printf '%s\n' "$headers" | awk 'tolower($1) == "status:" { print $2; exit }')
}

cgi_request() {
	local data=$1 t bin kv
	shift
	t=$(_http_tmp) || return 1
	bin=$(_stack_bin)
	printf '%s' "$data" >"$t/cgi.in"
	local envs=(
		"PATH=$PATH"
		"DMCP_DATABASE_URL=$DMCP_DATABASE_URL"
		GATEWAY_INTERFACE=CGI/1.1
		REQUEST_METHOD=POST
		SERVER_PROTOCOL=HTTP/1.1
		CONTENT_TYPE=application/json
		"CONTENT_LENGTH=$(wc -c <"$t/cgi.in" | tr -d ' ')"
		"HTTP_ACCEPT=$MCP_ACCEPT"
		HTTP_HOST=localhost
	)
	# Sanitizer settings pass through, so an instrumented build behaves as in the stack.
	for kv in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -n "${!kv:-}" ] && envs+=("$kv=${!kv}")
	done
	# VAR=VALUE replaces VAR; VAR= removes it.
	local e name keep
	for kv in "$@"; do
		name=${kv%%=*}
		keep=()
		for e in "${envs[@]}"; do
			[ "${e%%=*}" = "$name" ] || keep+=("$e")
		done
		[ "$kv" = "$name=" ] || keep+=("$kv")
		envs=("${keep[@]}")
	done
	# cgi_rc and cgi_stderr are this function's outputs.
	# shellcheck disable=SC2034
	cgi_rc=0
	# shellcheck disable=SC2034
	timeout 30 env -i "${envs[@]}" "$bin" <"$t/cgi.in" >"$t/cgi.out" 2>"$t/cgi.err" || cgi_rc=$?
	# shellcheck disable=SC2034
	cgi_stderr=$(cat "$t/cgi.err")
	_http_parse_cgi "$t/cgi.out"
	last_request="CGI ${envs[*]}"
	last_body=$data
}

# ---- raw FastCGI -----------------------------------------------------------------------

# A minimal FastCGI 1.0 client (responder role): argv = socket path, stdin file, mode, then
# NAME=VALUE params. mode "full": the stdin file then an empty FCGI_STDIN record; "cut": the
# stdin file, then the connection is closed without the end-of-stream record. Prints what
# came back on FCGI_STDOUT ("full"), or nothing ("cut").
_FCGI_PY='
import os, socket, struct, sys, time
path, infile, mode = sys.argv[1], sys.argv[2], sys.argv[3]
params = [a.split("=", 1) for a in sys.argv[4:]]
def rec(t, content, rid=1):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack(">BBHHBB", 1, t, rid, len(chunk), pad, 0) + chunk + b"\0" * pad
        if not content:
            return out
def nv(n, v):
    n, v = n.encode(), v.encode()
    def ln(x):
        return bytes([len(x)]) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
    return ln(n) + ln(v) + n + v
t0 = time.monotonic()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
msg = rec(1, struct.pack(">HB5x", 1, 0))
msg += rec(4, b"".join(nv(n, v) for n, v in params)) + rec(4, b"")
data = open(infile, "rb").read()
if data:
    msg += rec(5, data)
if mode == "full":
    msg += rec(5, b"")
s.sendall(msg)
if mode == "cut":
    s.close()
    sys.exit(0)
buf = b""
while True:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    buf += chunk
if os.environ.get("FCGI_MS_FILE"):
    with open(os.environ["FCGI_MS_FILE"], "w") as f:
        f.write("%d\n" % ((time.monotonic() - t0) * 1000))
out = b""
while len(buf) >= 8:
    _, t, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
    if t == 6:
        out += buf[8:8 + clen]
    buf = buf[8 + clen + plen:]
sys.stdout.buffer.write(out)
'

# fcgi_request MODE FILE [NAME=VALUE...] — sends one request straight to the program's
# socket (no nginx); MODE full or cut (see _FCGI_PY). "full" sets $status_code, $headers,
# $body from the answer.
fcgi_request() {
	local mode=$1 file=$2 t
	shift 2
	t=$(_http_tmp) || return 1
	timeout 30 "$MCP_PYTHON" -c "$_FCGI_PY" "$STACK_DIR/fcgi.sock" "$file" "$mode" "$@" >"$t/fcgi.out"
	_http_parse_cgi "$t/fcgi.out"
	last_request="FastCGI $mode $*"
}
