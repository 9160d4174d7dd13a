#!/usr/bin/env bats
# hostile.bats — hostile and broken input: each gets a clear error, the program keeps
# serving (a ping afterwards succeeds), and nothing is written to the database (the row
# counts of every dmcp_* table are the same before and after). Most single requests are data:
# the bad-input catalogue, one file per case in tests/hostile/ (format: its README.md), run
# below one test per group. The rest are here as code: inputs made by a program, sent
# through nginx with a raw socket, straight to the FastCGI socket, or to the program run as
# plain CGI, and the limits of size and memory.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	stack_file_up
	state_key_made
}

# state_key_made — the key that signs requestState: the program makes it, once per database,
# in dmcp_secrets when a request first needs it (any answer or cancellation does). It is made
# here, before any row count is taken, so that the case that happens to come first is not
# blamed for the one row every deployment gets.
state_key_made() {
	local counts
	mcp_init || return 1
	mcp_call '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"none"}}'
	[ "$status_code" = 202 ] || { echo "cancel of nothing: $status_code $body" >&2; return 1; }
	counts=$(db_counts) || return 1
	[[ " $counts " == *" secrets=1 "* ]] || { echo "no requestState key: $counts" >&2; return 1; }
}

teardown_file() {
	stack_file_down
}

setup() {
	SMALL_DIR=
	mcp_init
	before=$(db_counts)
}

teardown() {
	if [ -n "${SMALL_DIR:-}" ]; then
		stack_stop "$SMALL_DIR"
		case $SMALL_DIR in /tmp/dmcp-test.*) rm -rf "$SMALL_DIR" ;; esac
	fi
}

# still_fine [DIR] — a ping in the session succeeds and the row counts did not change.
still_fine() {
	local after
	mcp_ping
	after=$(db_counts "${1:-$STACK_DIR}")
	if [ "$after" != "$before" ]; then
		echo "the database changed: before: $before" >&2
		echo "                      after:  $after" >&2
		return 1
	fi
}

# both BODY ASSERTIONS... — sends BODY in the session and without one; after each, runs the
# assertion command line given (a string for eval).
both() {
	local data=$1 check=$2
	mcp_call "$data"
	eval "$check"
	mcp_post "$data"
	eval "$check"
}

# both_file FILE CHECK — the same with the body from FILE.
both_file() {
	local file=$1 check=$2
	mcp_send_file POST "$file" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV"
	eval "$check"
	mcp_send_file POST "$file" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT"
	eval "$check"
}

# ping_padded FILE BYTES — writes a ping whose params carry a string of BYTES "x" to FILE.
ping_padded() {
	"$MCP_PYTHON" -c '
import sys
sys.stdout.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" +
                 "x" * int(sys.argv[1]) + "\"}}")' "$2" >"$1"
}

# nested N — N nested arrays.
nested() {
	"$MCP_PYTHON" -c 'import sys; n = int(sys.argv[1]); sys.stdout.write("[" * n + "]" * n)' "$1"
}

# ---- the bad-input catalogue (tests/hostile/*.case; the format: tests/hostile/README.md) ---

CASES=$BATS_TEST_DIRNAME/hostile
# The groups of cases; each has one test below, and a case in no group fails the last one.
CASE_GROUPS="json rpc header params size session stream fixture"

# case_send METHOD SESSION BODYFILE HEADER... — one request of a case: the defaults for METHOD
# and SESSION (yes or no), then the case's headers ("Name: value" replaces, "Name:" removes).
case_send() {
	local method=$1 session=$2 bodyfile=$3 h name i
	shift 3
	local -a names=() values=() args=()
	case $method in
	POST) names+=(Content-Type Accept) values+=(application/json "$MCP_ACCEPT") ;;
	GET) names+=(Accept) values+=(text/event-stream) ;;
	esac
	if [ "$session" = yes ]; then
		names+=(Mcp-Session-Id MCP-Protocol-Version) values+=("$SID" "$MCP_PV")
	fi
	for h in "$@"; do
		name=${h%%:*}
		for i in "${!names[@]}"; do
			if [ "${names[$i],,}" = "${name,,}" ]; then unset "names[$i]" "values[$i]"; fi
		done
		args+=(-H "$h") # "Name:" also removes curl's own default (Accept, Content-Type)
	done
	for i in "${!names[@]}"; do
		args+=(-H "${names[$i]}: ${values[$i]}")
	done
	mcp_send_file "$method" "$bodyfile" "${args[@]}"
}

# case_check FILE STATUS CODE MESSAGE ID — the answer to the last request is the case's.
case_check() {
	local status=$2 code=$3 message=$4 id=$5
	assert_status "$status" || return 1
	if [ "$code" = none ]; then
		[[ ${body,,} == *"${message,,}"* ]] || { _http_show; return 1; }
	elif [ -n "$id" ]; then
		assert_rpc_error "$code" "$message" "$id"
	else
		assert_rpc_error "$code" "$message"
	fi
}

# case_run FILE — runs one case: its request (twice for "session both") and the checks, then
# a ping in the session and the row counts of every dmcp_* table against $before.
case_run() {
	local file=$1 line key rest method=POST session=yes status='' code='' message='' id=''
	local bodyfile='' s after
	local -a hdrs=()
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in '' | '#'*) continue ;; esac
		key=${line%% *}
		rest=${line#"$key"}
		rest=${rest# }
		case $key in
		method) method=$rest ;;
		session) session=$rest ;;
		header) hdrs+=("${rest//\$SID/$SID}") ;;
		body)
			bodyfile=$BATS_TEST_TMPDIR/case-body
			printf '%s' "${rest//\$SID/$SID}" >"$bodyfile"
			;;
		body-hex | body-py)
			bodyfile=$BATS_TEST_TMPDIR/case-body
			"$MCP_PYTHON" -c '
import sys
kind, text = sys.argv[1], sys.argv[2]
v = bytes.fromhex(text) if kind == "body-hex" else eval(text)
sys.stdout.buffer.write(v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass"))' \
				"$key" "$rest" >"$bodyfile" || return 1
			;;
		status) status=$rest ;;
		code) code=$rest ;;
		message) message=$rest ;;
		id) id=$rest ;;
		*) echo "${file##*/}: unknown key '$key'" >&2; return 1 ;;
		esac
	done <"$file"
	if [ -z "$status" ] || [ -z "$code" ]; then
		echo "${file##*/}: needs status and code" >&2
		return 1
	fi
	case $session in
	both) set -- yes no ;;
	yes | no) set -- "$session" ;;
	*) echo "${file##*/}: session must be yes, no or both" >&2; return 1 ;;
	esac
	for s in "$@"; do
		case_send "$method" "$s" "$bodyfile" "${hdrs[@]}"
		case_check "$file" "$status" "$code" "$message" "$id" || {
			echo "case ${file##*/} (session: $s) failed" >&2
			return 1
		}
	done
	mcp_ping || { echo "case ${file##*/}: the program stopped serving" >&2; return 1; }
	after=$(db_counts)
	if [ "$after" != "$before" ]; then
		echo "case ${file##*/} changed the database: before: $before" >&2
		echo "                                    after:  $after" >&2
		return 1
	fi
}

# cases GROUP — runs every case of GROUP (all, even after a failure); fails if any failed or
# the group has none.
cases() {
	local f n=0 failed=''
	for f in "$CASES/$1"-*.case; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		case_run "$f" || failed="$failed ${f##*/}"
	done
	echo "# $n cases" >&3
	[ "$n" -gt 0 ] || { echo "no cases in group $1" >&2; return 1; }
	[ -z "$failed" ] || { echo "failed:$failed" >&2; return 1; }
}

@test "catalogue: malformed JSON is 400 -32700 or -32600 (tests/hostile/json-*.case)" {
	cases json
}

@test "catalogue: JSON-RPC shape errors are 400 -32600 or a JSON-RPC error (rpc-*.case)" {
	cases rpc
}

@test "catalogue: HTTP method and header abuse is a 4xx (header-*.case)" {
	cases header
}

@test "catalogue: wrong types and values in every method's params are JSON-RPC errors (params-*.case)" {
	cases params
}

@test "catalogue: wrong params of resources and prompts, on the fixture program (fixture-*.case)" {
	local rc=0
	# The demo program offers neither resources nor prompts (their methods are -32601 there):
	# these cases run against the conformance fixture program, on the same database.
	stack_restart_dmcp "$STACK_DIR" "$(stack_program dmcp-conformance.fcgi)"
	cases fixture || rc=$?
	stack_restart_dmcp "$STACK_DIR" "$(stack_program dmcp-demo.fcgi)"
	return "$rc"
}

@test "catalogue: oversize values and counts are refused (size-*.case)" {
	cases size
}

@test "catalogue: unknown and malformed sessions are 404 or 400 (session-*.case)" {
	cases session
}

@test "catalogue: bad Last-Event-IDs and unknown streams are 400 or 404 (stream-*.case)" {
	cases stream
}

@test "catalogue: every case belongs to a group, and there are at least 50" {
	local f group n=0
	for f in "$CASES"/*.case; do
		group=${f##*/}
		group=${group%%-*}
		[[ " $CASE_GROUPS " == *" $group "* ]] || { echo "${f##*/}: no group '$group'" >&2; return 1; }
		grep -q '^status ' "$f" && grep -q '^code ' "$f" || { echo "${f##*/}: status or code missing" >&2; return 1; }
		n=$((n + 1))
	done
	echo "# $n cases in all" >&3
	[ "$n" -ge 50 ]
}

# ---- size ------------------------------------------------------------------------------

@test "with DMCP_MAX_BODY=65536, a body of 100 KB is 413 and one of 60 KB is served" {
	local f=$BATS_TEST_TMPDIR/body main_url=$DMCP_URL main_sid=$SID
	SMALL_DIR=$(stack_mktemp)
	DMCP_MAX_BODY=65536 stack_start "$SMALL_DIR" >&2
	# stack_start pointed DMCP_URL at the new stack.
	[ "$DMCP_URL" != "$main_url" ]
	mcp_init
	before=$(db_counts "$SMALL_DIR")
	ping_padded "$f" 100000
	both_file "$f" 'assert_status 413; assert_rpc_error -32600 "request body larger than DMCP_MAX_BODY" null'
	ping_padded "$f" 61440
	mcp_send_file POST "$f" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_status 200
	assert_rpc_result 1 'r == {}'
	still_fine "$SMALL_DIR"
	# The main stack still has the default limit: 100 KB is fine there.
	DMCP_URL=$main_url SID=$main_sid
	ping_padded "$f" 100000
	mcp_send_file POST "$f" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_status 200
	assert_rpc_result 1 'r == {}'
}

# ---- JSON ------------------------------------------------------------------------------

@test "nesting deeper than 64 is 400 -32600; 64 levels pass the JSON parser" {
	both "$(nested 65)" 'assert_status 400; assert_rpc_error -32600 "JSON nesting deeper than 64 levels" null'
	both "$(nested 1000)" 'assert_status 400; assert_rpc_error -32600 "JSON nesting deeper than 64 levels" null'
	# 64 levels parse; an array is then refused as a batch, not for its depth.
	both "$(nested 64)" 'assert_status 400; assert_rpc_error -32600 "batches are not supported" null'
	# Inside a request: the message object, params and 62 arrays are 64 levels...
	mcp_call '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":'"$(nested 62)"'}}'
	assert_status 200
	assert_rpc_result 1 'r == {}'
	# ... and 63 arrays are 65.
	both '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":'"$(nested 63)"'}}' \
		'assert_status 400; assert_rpc_error -32600 "JSON nesting deeper than 64 levels" null'
	still_fine
}

@test "an escaped backslash followed by u0000 is an ordinary string (json-nul-escape-*.case refuse \\u0000)" {
	mcp_call '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\u0000"}}'
	assert_status 200
	assert_rpc_result 1 'r == {}'
	still_fine
}

# ---- headers ---------------------------------------------------------------------------

@test "a header value of 5000 bytes is 400 from the program" {
	local long
	long=$(printf '%05000d' 0)
	# Without a session: the session id itself is the long header.
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "Mcp-Session-Id: $long"
	assert_status 400
	assert_rpc_error -32600 "a request header is longer than 4096 bytes" null
	# In the session: another header is long.
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "Mcp-Session-Id: $SID" \
		-H "MCP-Protocol-Version: $long"
	assert_status 400
	assert_rpc_error -32600 "a request header is longer than 4096 bytes" null
	mcp_get -H "Mcp-Session-Id: $SID" \
		-H "Last-Event-ID: $long"
	assert_status 400
	assert_rpc_error -32600 "a request header is longer than 4096 bytes" null
	mcp_send POST '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H 'Content-Type: application/json' \
		-H "Mcp-Session-Id: $SID" -H "Accept: $MCP_ACCEPT, ${long}/x"
	assert_status 400
	assert_rpc_error -32600 "a request header is longer than 4096 bytes" null
	still_fine
}

@test "a header line over nginx's 8 KiB buffer is 400 from nginx" {
	local long
	long=$(printf '%09000d' 0)
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "Mcp-Session-Id: $long"
	assert_status 400
	[[ $body == *"Request Header Or Cookie Too Large"* ]] || { _http_show; return 1; }
	[[ $(header Server) == nginx* ]]
	mcp_call '{"jsonrpc":"2.0","id":1,"method":"ping"}' -H "X-Filler: $long"
	assert_status 400
	[[ $body == *"Request Header Or Cookie Too Large"* ]] || { _http_show; return 1; }
	still_fine
}

# ---- cut and lying bodies --------------------------------------------------------------

@test "CGI: a body shorter than CONTENT_LENGTH is 400" {
	local data
	data=$(head -c 500 /dev/zero | tr '\0' ' ')
	data='{"jsonrpc":"2.0","id":1,"method":"ping"}'${data:40}
	[ ${#data} -eq 500 ]
	cgi_request "$data" CONTENT_LENGTH=1000 "HTTP_MCP_SESSION_ID=$SID"
	[ "$cgi_rc" -eq 0 ] || { echo "exit status $cgi_rc: $cgi_stderr" >&2; return 1; }
	assert_status 400
	assert_rpc_error -32600 "the request body is shorter than its Content-Length" null
	cgi_request "$data" CONTENT_LENGTH=1000
	assert_status 400
	assert_rpc_error -32600 "the request body is shorter than its Content-Length" null
	still_fine
}

@test "FastCGI: a body shorter than CONTENT_LENGTH is 400; a connection closed mid-body is survived" {
	local f=$BATS_TEST_TMPDIR/half i
	ping_padded "$f" 440
	[ "$(wc -c <"$f")" -eq 500 ]
	fcgi_request full "$f" REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=1000 \
		"HTTP_ACCEPT=$MCP_ACCEPT" "HTTP_HOST=$DMCP_HOSTPORT" "HTTP_MCP_SESSION_ID=$SID"
	assert_status 400
	assert_rpc_error -32600 "the request body is shorter than its Content-Length" null
	# More cut connections than the program has worker threads: none may stay stuck.
	for i in $(seq 12); do
		fcgi_request cut "$f" REQUEST_METHOD=POST CONTENT_TYPE=application/json \
			CONTENT_LENGTH=1000 "HTTP_ACCEPT=$MCP_ACCEPT" "HTTP_HOST=$DMCP_HOSTPORT" \
			"HTTP_MCP_SESSION_ID=$SID"
	done
	still_fine
}

@test "FastCGI: a CONTENT_LENGTH that is not a number is 400, a huge one 413" {
	local f=$BATS_TEST_TMPDIR/ping cl
	printf '%s' '{"jsonrpc":"2.0","id":1,"method":"ping"}' >"$f"
	for cl in abc -1 1e3 " 40" 0x28 99999999999999999999; do
		fcgi_request full "$f" REQUEST_METHOD=POST CONTENT_TYPE=application/json \
			"CONTENT_LENGTH=$cl" "HTTP_ACCEPT=$MCP_ACCEPT" "HTTP_HOST=$DMCP_HOSTPORT" \
			"HTTP_MCP_SESSION_ID=$SID"
		assert_status 400
		assert_rpc_error -32600 "Content-Length is not a number" null
	done
	fcgi_request full "$f" REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		CONTENT_LENGTH=999999999999 "HTTP_ACCEPT=$MCP_ACCEPT" "HTTP_HOST=$DMCP_HOSTPORT" \
		"HTTP_MCP_SESSION_ID=$SID"
	assert_status 413
	assert_rpc_error -32600 "request body larger than DMCP_MAX_BODY" null
	# The right length is served on the same path (the client itself works).
	fcgi_request full "$f" REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		CONTENT_LENGTH=40 "HTTP_ACCEPT=$MCP_ACCEPT" "HTTP_HOST=$DMCP_HOSTPORT" \
		"HTTP_MCP_SESSION_ID=$SID"
	assert_status 200
	assert_rpc_result 1 'r == {}'
	still_fine
}

@test "nginx: a client that sends half its Content-Length and closes gets nothing served" {
	local out
	out=$(timeout 30 "$MCP_PYTHON" - "$STACK_PORT" "$SID" <<'EOF'
import socket, sys
port, sid = int(sys.argv[1]), sys.argv[2]
body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'.ljust(500, b" ")
head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        "Accept: application/json, text/event-stream\r\nMcp-Session-Id: %s\r\n"
        "Content-Length: 1000\r\n\r\n" % (port, sid)).encode()
for half_close in (False, True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head + body)
    if not half_close:
        s.close()
        continue
    s.shutdown(socket.SHUT_WR)
    got = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
    except socket.timeout:
        got += b"(timeout)"
    s.close()
    sys.stdout.write(got.decode("latin-1").split("\r\n")[0])
EOF
	)
	# The cut request must never be answered as if it were whole.
	[[ $out != *" 200 "* ]] || { echo "answered: $out" >&2; return 1; }
	[[ $out != *timeout* ]] || { echo "nginx kept the connection: $out" >&2; return 1; }
	still_fine
}

# ---- large but legal -------------------------------------------------------------------

@test "tools/call arguments with 10,000 properties are handled and the program keeps serving" {
	local f=$BATS_TEST_TMPDIR/wide
	"$MCP_PYTHON" -c '
import json, sys
args = {"message": "hi"}
args.update(("p%05d" % i, i) for i in range(10000))
sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "echo", "arguments": args}}))' >"$f"
	[ "$(wc -c <"$f")" -lt $((1024 * 1024)) ]
	mcp_send_file POST "$f" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV"
	assert_status 200
	# echo allows no other property: a tool error, not a JSON-RPC error.
	assert_rpc_result 1 'r["isError"] is True and "Invalid arguments" in r["content"][0]["text"]
		and "is not allowed" in r["content"][0]["text"]'
	# Without a session it is refused before the arguments are looked at.
	mcp_send_file POST "$f" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT"
	assert_status 400
	assert_rpc_error -32600 "Mcp-Session-Id header is required" 1
	still_fine
}

@test "a message at the JSON count limits is served; one value or container more is 400 -32600" {
	local f=$BATS_TEST_TMPDIR/wide
	# 4,000 properties and 28,000 array items: with the message, params and the list, 32,007
	# values (commas + containers + 1 as the scan counts them) of JS_MAX_VALUES (32,768).
	"$MCP_PYTHON" -c '
import json, sys
p = {"p%05d" % i: i for i in range(4000)}
p["list"] = list(range(28000))
sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": p}))' >"$f"
	mcp_send_file POST "$f" -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID"
	assert_status 200
	assert_rpc_result 1 'r == {}'
	# 32,768 values in a list: the message, params and the list make it 32,771 values.
	"$MCP_PYTHON" -c '
import json, sys
sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping",
                             "params": {"list": [0] * 32768}}))' >"$f"
	both_file "$f" 'assert_status 400; assert_rpc_error -32600 "more than 32768 JSON values" null'
	# 4,096 empty objects: with the message, params and the list, 4,099 containers.
	"$MCP_PYTHON" -c '
import json, sys
sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping",
                             "params": {"list": [{}] * 4096}}))' >"$f"
	both_file "$f" 'assert_status 400; assert_rpc_error -32600 "more than 4096 objects and arrays" null'
	still_fine
}

# vm_kb PID FIELD — a /proc/PID/status field in KiB.
vm_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# post_8 FILE — eight POSTs of FILE at once in the session; prints their statuses and the
# start of each answer, one line each.
post_8() {
	local file=$1 i
	for i in 1 2 3 4 5 6 7 8; do
		curl -s --max-time 60 -o "$BATS_TEST_TMPDIR/out$i" -w '%{http_code}\n' -H 'Expect:' \
			-H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
			-H "Mcp-Session-Id: $SID" --data-binary "@$file" "$DMCP_URL" \
			>"$BATS_TEST_TMPDIR/code$i" &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		printf '%s %s\n' "$(cat "$BATS_TEST_TMPDIR/code$i")" "$(head -c 200 "$BATS_TEST_TMPDIR/out$i")"
	done
}

# The memory a body costs the program is bounded by the JSON counts (core/js.h), not only by
# DMCP_MAX_BODY: 1 MiB of "{}" used to cost json-c 260 MB. Eight at once (one per worker
# thread): the ones over the counts are refused before json-c allocates; maximal ones (records
# of 7 fractions, json-c's most expensive text per byte within the counts) are served. The
# program's peak resident size (VmHWM, reset first) stays under MEM_PEAK_MIB.
MEM_PEAK_MIB=128
@test "8 bodies of 1 MiB at once, over the JSON counts and at them: the program's peak RSS stays under 128 MiB" {
	local over=$BATS_TEST_TMPDIR/over max=$BATS_TEST_TMPDIR/max pid base peak over_out max_out
	pid=$(cat "$STACK_DIR/dmcp.pid")
	"$MCP_PYTHON" - "$over" "$max" <<'EOF'
import sys
N = 1 << 20
head = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":['
def pad(body):
    # fill up to N bytes with a long string member
    room = N - len(body) - len(',"pad":""}}')
    return body + ',"pad":"' + "x" * room + '"}}'
with open(sys.argv[1], "w") as f:
    f.write(head + ",".join(["{}"] * ((N - len(head) - 4) // 3)) + "]}}")
rec = "{" + ",".join('"%c":0.5' % c for c in "abcdefg") + "}"
with open(sys.argv[2], "w") as f:
    f.write(pad(head + ",".join([rec] * 4093) + "]"))
EOF
	[ "$(wc -c <"$over")" -le $((1024 * 1024)) ]
	[ "$(wc -c <"$max")" -eq $((1024 * 1024)) ]
	echo 5 >"/proc/$pid/clear_refs"
	base=$(vm_kb "$pid" VmHWM)
	over_out=$(post_8 "$over")
	max_out=$(post_8 "$max")
	peak=$(vm_kb "$pid" VmHWM)
	echo "# the program's VmHWM: $((base / 1024)) MiB before, $((peak / 1024)) MiB after" >&3
	if echo "$over_out" | grep -v '^400 .*more than 4096 objects and arrays'; then
		echo "not every over-count body was refused: $over_out" >&2
		return 1
	fi
	if echo "$max_out" | grep -v '^200 {"jsonrpc":"2.0","id":1,"result":{}}'; then
		echo "not every maximal body was served: $max_out" >&2
		return 1
	fi
	if grep -qa __asan_init "$(_stack_bin)"; then
		skip "AddressSanitizer build: its allocator makes resident sizes meaningless"
	fi
	[ "$peak" -le $((MEM_PEAK_MIB * 1024)) ]
	still_fine
}

# ---- last ------------------------------------------------------------------------------

@test "no sanitizer reports in the program's logs" {
	stack_stop "$STACK_DIR"
	run stack_san_errors "$STACK_DIR"
	[ "$status" -ne 0 ] || { echo "$output" >&2; return 1; }
}
