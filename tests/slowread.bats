#!/usr/bin/env bats
# slowread.bats — a client that does not read its answer cannot keep a worker thread: nginx
# takes a JSON answer off the program at once (deploy/nginx/dmcp-location.conf leaves
# fastcgi_buffering on; streams are unbuffered through X-Accel-Buffering: no), and a write to
# the web server that blocks longer than DMCP_WRITE_TIMEOUT_MS ends the request. One worker
# thread, the demo's long_report (4 MiB of text: more than any socket buffer).

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	STACK_THREADS=1 stack_file_up
}

teardown_file() {
	stack_file_down
}

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"slow","version":"1"}}}'
REPORT='{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"long_report","arguments":{"kib":4096}}}'

# ms_of CMD... — runs CMD, sets ms to how long it took.
ms_of() {
	local t0=${EPOCHREALTIME//[!0-9]/}
	"$@"
	ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
}

# A FastCGI client that sends one request and then never reads: argv = socket, body file,
# session id, seconds to hold the connection.
STALL_PY='
import socket, struct, sys, time
path, infile, sid, hold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def rec(t, c, rid=1):
    pad = (8 - len(c) % 8) % 8
    return struct.pack(">BBHHBB", 1, t, rid, len(c), pad, 0) + c + b"\0" * pad
def nv(n, v):
    n, v = n.encode(), v.encode()
    ln = lambda x: bytes([len(x)]) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
    return ln(n) + ln(v) + n + v
body = open(infile, "rb").read()
params = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
          "CONTENT_LENGTH": str(len(body)), "HTTP_ACCEPT": "application/json, text/event-stream",
          "HTTP_HOST": "localhost", "HTTP_MCP_SESSION_ID": sid,
          "HTTP_MCP_PROTOCOL_VERSION": "2025-11-25"}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(rec(1, struct.pack(">HB5x", 1, 0)) + rec(4, b"".join(nv(k, v) for k, v in params.items()))
          + rec(4, b"") + rec(5, body) + rec(5, b""))
time.sleep(hold)
'

@test "a FastCGI client that never reads a 4 MiB answer holds the only thread for DMCP_WRITE_TIMEOUT_MS, not longer" {
	DMCP_WRITE_TIMEOUT_MS=1000 stack_restart_dmcp "$STACK_DIR"
	mcp_init
	printf '%s' "$REPORT" >"$STACK_DIR/report.json"
	"$MCP_PYTHON" -c "$STALL_PY" "$STACK_DIR/fcgi.sock" "$STACK_DIR/report.json" "$SID" 20 &
	stall=$!
	sleep 0.5
	ms_of mcp_post "$INIT"
	echo "# initialize while the only thread writes to a client that does not read: $status_code in $ms ms" >&3
	kill "$stall" 2>/dev/null || true
	wait "$stall" 2>/dev/null || true
	assert_status 200
	[ "$ms" -lt 3000 ]
}

@test "through nginx, a client reading a 4 MiB answer at 20 KB/s does not hold the thread" {
	# No write timeout to help: only nginx's buffering frees the thread.
	DMCP_WRITE_TIMEOUT_MS=600000 stack_restart_dmcp "$STACK_DIR"
	mcp_init
	curl -s --max-time 12 --limit-rate 20k -o /dev/null "$DMCP_URL" -H 'Content-Type: application/json' \
		-H "Accept: $MCP_ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" \
		-d "$REPORT" &
	slow=$!
	sleep 1
	ms_of mcp_post "$INIT"
	echo "# initialize while a slow client reads its answer through nginx: $status_code in $ms ms" >&3
	kill "$slow" 2>/dev/null || true
	wait "$slow" 2>/dev/null || true
	assert_status 200
	# Buffered by nginx: the program wrote the whole answer at once.
	[ "$ms" -lt 3000 ]
}
