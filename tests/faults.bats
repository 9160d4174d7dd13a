#!/usr/bin/env bats
# faults.bats — a worker killed (SIGKILL) at every commit boundary loses no call, applies no
# answer twice, leaves every run's events gap-free, and every client's resumed stream whole.
#
# The program is build/fault/dmcp-demo.fcgi (`make fault-build`, which setup_file runs: the
# fault points of core/fault.h armed; build/san/fault under make san-test). Three single-threaded workers under spawn-fcgi, durable
# PostgreSQL, the SQL tools of tests/sql/tools.sql. For each point the workers run with
# DMCP_FAULT=POINT and DMCP_FAULT_ONCE=$FIRED: removing the file arms the point for one death,
# in whichever worker reaches it first; the other two carry on, and the dead one is started
# again before the next run, as a supervisor would. Each point gets RUNS runs; a run is two
# calls at once of t_write_confirm, an SQL function behind a confirmation: its first step asks
# (a run row and a request event, saved outside a transaction), its second applies the answer
# (the function's insert into dmcp_test.writes, the run's save and its COMMIT, in one
# transaction), and the client resumes its stream for the response. Odd runs arm the point
# before the calls (its first hit, wherever it is), even runs once both calls wait for their
# answers (the answer's step, or the stream that carries the response). Each curl client
# carries on as a real one would: it sends its call again if it saw no event of it, answers
# again if its answer was not acknowledged (202), and resumes with Last-Event-ID until it
# holds the response. Then: the point fired once and one worker is gone; by one SQL query,
# every call wrote exactly once and has exactly one completed run (a run its client never
# heard of, left by a call sent again, was never answered); every run's LSNs are 1..last_lsn;
# the completed run's events are the request and the response, its answer once in its journal;
# the events the client received, over all its connections, are every event of the run, byte
# for byte. An answer sent once more at the end is acknowledged and writes nothing.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

RUNS=${FAULT_RUNS:-2}  # runs of each point (odd: armed before the calls; even: after)
CALLS=2                # calls at once in a run

setup_file() {
	# The fault build of the build under test: build/fault, or build/san/fault in make san-test.
	local san=0
	case ${BUILD:-build} in */san) san=1 ;; esac
	(cd "$BATS_TEST_DIRNAME/.." && make -s SAN=$san fault-build >&2) || return 1
	export DMCP_BIN=$BATS_TEST_DIRNAME/../build$([ $san = 1 ] && echo /san)/fault/dmcp-demo.fcgi
	unset DMCP_FAULT
	export STACK_PG_DURABLE=1 STACK_SQL=$BATS_TEST_DIRNAME/sql/tools.sql
	stack_file_up || return 1
	export FIRED=$STACK_DIR/fault/fired
	stack_spawn_workers "$STACK_DIR" 3 >&2
}

teardown_file() {
	stack_file_down
}

# The points, as core/fault.h lists them.
points() {
	sed -n 's/^	X([A-Z_]*, "\([a-z.]*\)").*/\1/p' "$BATS_TEST_DIRNAME/../core/fault.h"
}

# workers POINT — start the workers again with POINT armed once per removal of the file
# $FIRED (DMCP_FAULT_ONCE), in a directory the workers' user can write; the file is made
# first, so they start disarmed.
workers() {
	mkdir -p "$STACK_DIR/fault" && chmod 1777 "$STACK_DIR/fault" && : >"$FIRED"
	DMCP_FAULT=$1 DMCP_FAULT_ONCE=$FIRED stack_restart_dmcp "$STACK_DIR" >&2
}

# dead_workers — how many of the recorded workers are gone.
dead_workers() {
	local pid n=0
	for pid in $(cat "$STACK_DIR/workers.pids"); do
		_stack_alive "$pid" || n=$((n + 1))
	done
	echo "$n"
}

# stream_until FILE PATTERN SECONDS CURL_ARGS... — curl (streaming into FILE, headers into
# FILE.h) until FILE holds a line matching PATTERN, curl ends, or SECONDS pass; then ends
# curl by its PID. True when PATTERN came.
stream_until() {
	local file=$1 pat=$2 secs=$3 pid i
	shift 3
	: >"$file"
	curl -sN --max-time "$secs" -D "$file.h" -o "$file" "$@" "$DMCP_URL" &
	pid=$!
	for ((i = 0; i < secs * 10; i++)); do
		grep -qE "$pat" "$file" && break
		_stack_alive "$pid" || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -qE "$pat" "$file"
}

# client_state DIR — what the client of call DIR holds, from every stream it read
# (DIR/s*.out): "CURSOR REQUEST_ID RESPONSE" (- for none; RESPONSE 1 or 0).
client_state() {
	"$MCP_PYTHON" - "$1" <<'EOF'
import glob, json, sys
cursor, req, resp = '-', '-', 0
for f in sorted(glob.glob(sys.argv[1] + '/s*.out'), key=lambda p: int(p.rsplit('/s', 1)[1][:-4])):
    ev = {}
    for line in open(f, errors='replace').read().replace('\r', '').split('\n') + ['']:
        if line == '':
            if 'id' in ev:
                cursor = ev['id']
            d = ev.get('data', '')
            if d:
                m = json.loads(d)
                if m.get('method') == 'elicitation/create':
                    req = m['id']
                elif 'method' not in m and ('result' in m or 'error' in m):
                    resp = 1
            ev = {}
        elif line.startswith('id:'):
            ev['id'] = line[3:].strip()
        elif line.startswith('data:'):
            ev['data'] = ev.get('data', '') + line[5:].lstrip(' ')
print(cursor, req, resp)
EOF
}

# next_file DIR — the next stream file of call DIR.
next_file() {
	local n
	n=$(cat "$1/n" 2>/dev/null || echo 0)
	echo $((n + 1)) >"$1/n"
	echo "$1/s$((n + 1)).out"
}

# hdrs — the curl arguments of a POST in the session $SID, one a line.
hdrs() {
	printf '%s\n' -H 'Content-Type: application/json' -H "Accept: $MCP_ACCEPT" \
		-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV"
}

# advance DIR — one action of the client of call DIR (its note in DIR/note, its JSON-RPC id
# in DIR/id): the call (again) while it holds no event id of it, the answer while that was
# not acknowledged (202), else a resumed GET from its last event id. A GET that finds no
# such run (404: the run was never saved) sends the call again next time.
advance() {
	local d=$1 cursor req resp f code
	local -a H
	read -r cursor req resp < <(client_state "$d")
	[ "$resp" = 1 ] && return 0
	f=$(next_file "$d")
	mapfile -t H < <(hdrs)
	if [ "$cursor" = - ] || [ -e "$d/lost" ]; then
		rm -f "$d/lost"
		stream_until "$f" 'elicitation/create' 8 -X POST "${H[@]}" \
			-d '{"jsonrpc":"2.0","id":'"$(cat "$d/id")"',"method":"tools/call","params":{"name":"t_write_confirm","arguments":{"note":"'"$(cat "$d/note")"'"}}}' || true
	elif [ "$req" != - ] && [ ! -e "$d/acked" ]; then
		code=$(curl -s --max-time 15 -o "$f.answer" -w '%{http_code}' -X POST "${H[@]}" \
			-d '{"jsonrpc":"2.0","id":"'"$req"'","result":{"action":"accept","content":{"confirm":true}}}' \
			"$DMCP_URL") || true
		echo "$code" >>"$d/answers"
		[ "$code" = 202 ] && : >"$d/acked"
	else
		stream_until "$f" '"result"|"error"' 8 -H 'Accept: text/event-stream' \
			-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $MCP_PV" \
			-H "Last-Event-ID: $cursor" || true
		if grep -q ' 404' "$f.h"; then : >"$d/lost"; fi
	fi
	return 0
}

# has_response DIR — true when the client of call DIR received its response.
has_response() {
	cat "$1"/s*.out 2>/dev/null | grep -q '^data: {"jsonrpc":"2.0","id":[0-9]*,"result"'
}

# drive DIR — advance call DIR until it holds its response (at most 8 actions).
drive() {
	local i
	for i in $(seq 8); do
		has_response "$1" && return 0
		advance "$1"
	done
}

# each FUNCTION — FUNCTION on every call of the run, at once.
each() {
	local c pids=()
	for c in $(seq "$CALLS"); do
		"$1" "$RUN_DIR/c$c" &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# session — a new session whose client accepts elicitation (retried: a worker may be down).
session() {
	local i
	for i in $(seq 10); do
		mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$MCP_PV"'","capabilities":{"elicitation":{}},"clientInfo":{"name":"faults","version":"1"}}}'
		SID=$(header Mcp-Session-Id)
		if [ "$status_code" = 200 ] && [ -n "$SID" ]; then
			mcp_post '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "Mcp-Session-Id: $SID"
			[ "$status_code" = 202 ] && return 0
		fi
		sleep 0.5
	done
	return 1
}

# fault_run POINT RUN — one run (see the header); fails with what went wrong.
fault_run() {
	local point=$1 run=$2 c d fired0 fired died req before
	RUN_DIR=$BATS_TEST_TMPDIR/run$run
	mkdir -p "$RUN_DIR"
	# The worker the last run killed: started again (disarmed), as a supervisor would.
	if [ "$(dead_workers)" -gt 0 ]; then workers "$point"; fi
	fired0=$(grep -c "fault point $point: SIGKILL" "$STACK_DIR/dmcp.log" || true)
	session || { echo "no session" >&2; return 1; }
	export SID
	for c in $(seq "$CALLS"); do
		d=$RUN_DIR/c$c
		mkdir -p "$d"
		echo "$point-$run-$c" >"$d/note"
		echo "$((run * 10 + c))" >"$d/id"
	done
	if [ $((run % 2)) = 1 ]; then rm "$FIRED"; fi
	each advance # the calls, up to their questions
	if [ $((run % 2)) = 0 ]; then rm -f "$FIRED"; fi
	each drive
	fired=$(grep -c "fault point $point: SIGKILL" "$STACK_DIR/dmcp.log" || true)
	died=$(dead_workers)
	echo "# $point run $run: fired $((fired - fired0)), workers dead $died, answers:" \
		"$(cat "$RUN_DIR"/c*/answers 2>/dev/null | tr '\n' ' ')" >&3
	[ "$fired" = $((fired0 + 1)) ] || { echo "the point $point fired $((fired - fired0)) times" >&2; return 1; }
	[ "$died" = 1 ] || { echo "$died workers died at $point" >&2; return 1; }
	for c in $(seq "$CALLS"); do
		has_response "$RUN_DIR/c$c" || { echo "call $c never received its response" >&2; return 1; }
	done
	check_run || return 1
	# Every answer once more, late: acknowledged, and nothing written again.
	before=$(stack_psql "$STACK_DIR" "select count(*) from dmcp_test.writes")
	for c in $(seq "$CALLS"); do
		read -r _ req _ < <(client_state "$RUN_DIR/c$c")
		mcp_call '{"jsonrpc":"2.0","id":"'"$req"'","result":{"action":"accept","content":{"confirm":true}}}'
		[ "$status_code" = 202 ] || { echo "a late answer: $status_code $body" >&2; return 1; }
	done
	[ "$before" = "$(stack_psql "$STACK_DIR" "select count(*) from dmcp_test.writes")" ]
}

# check_run — the facts of every call of the run (see the header), from one query.
check_run() {
	local facts
	facts=$(stack_psql "$STACK_DIR" "
		select json_agg(json_build_object(
		    'note', n.note,
		    'writes', (select count(*) from dmcp_test.writes w where w.note = n.note),
		    'runs', (select coalesce(json_agg(json_build_object(
		        'id', r.id, 'status', r.status, 'last_lsn', r.last_lsn,
		        'answers', (length(r.journal) - length(replace(r.journal, '\"ans\"', ''))) / 5,
		        'events', (select coalesce(json_agg(json_build_array(e.lsn, e.kind, e.body)
		                   order by e.lsn), '[]') from dmcp_events e where e.run_id = r.id))), '[]')
		        from dmcp_runs r where r.tool = 't_write_confirm'
		         and r.arguments::json->>'note' = n.note)))
		  from unnest(string_to_array('$(cat "$RUN_DIR"/c*/note | tr '\n' ' ')', ' ')) n(note)
		 where n.note <> ''") || return 1
	"$MCP_PYTHON" - "$RUN_DIR" "$facts" <<'EOF'
import glob, json, sys
run_dir, facts = sys.argv[1], json.loads(sys.argv[2])

def received(d):
    """Every event of every stream the client of call d read: {id: data}."""
    got = {}
    for f in glob.glob(d + '/s*.out'):
        ev = {}
        for line in open(f, errors='replace').read().replace('\r', '').split('\n') + ['']:
            if line == '':
                if ev.get('data') and 'id' in ev:
                    if ev['id'] in got and got[ev['id']] != ev['data']:
                        sys.exit('event %s came twice, different' % ev['id'])
                    got[ev['id']] = ev['data']
                ev = {}
            elif line.startswith('id:'):
                ev['id'] = line[3:].strip()
            elif line.startswith('data:'):
                ev['data'] = ev.get('data', '') + line[5:].lstrip(' ')
    return got

by_note = {f['note']: f for f in facts}
for d in sorted(glob.glob(run_dir + '/c*')):
    note = open(d + '/note').read().strip()
    f = by_note[note]
    runs = f['runs']
    done = [r for r in runs if r['status'] == 'completed']
    where = 'call %s: %s' % (note, json.dumps(f))
    # Exactly once: one write, one completed run; any other run is one the client never
    # heard of (a call sent again), never answered.
    assert f['writes'] == 1, where + ': writes'
    assert len(done) == 1, where + ': completed runs'
    for r in runs:
        lsns = [e[0] for e in r['events']]
        assert lsns == list(range(1, r['last_lsn'] + 1)), where + ': LSNs of ' + r['id']
        if r is not done[0]:
            assert r['status'] == 'waiting' and r['answers'] == 0, where + ': ' + r['id']
    r = done[0]
    assert [e[1] for e in r['events']] == ['request', 'response'], where + ': kinds'
    assert r['answers'] == 1, where + ': answers in the journal'
    # The client's streams: every event of its run, byte for byte.
    got = {k: v for k, v in received(d).items() if k.startswith(r['id'] + ':')}
    want = {'%s:%d' % (r['id'], e[0]): e[2] for e in r['events']}
    assert got == want, where + ': the client received %s' % json.dumps(got)
EOF
}

# fault_point POINT — RUNS runs of POINT.
fault_point() {
	local run
	workers "$1"
	for run in $(seq "$RUNS"); do
		fault_run "$1" "$run"
	done
}

@test "every fault point of core/fault.h is tested here" {
	local p
	for p in $(points); do
		grep -q "^@test \"$p:" "$BATS_TEST_FILENAME"
	done
	[ "$(points | wc -l)" -ge 8 ]
	# Without the fault build's DMCP_FAULT, the workers never died here.
	run grep -c 'fault point' "$STACK_DIR/dmcp.log"
	[ "$output" = 0 ]
}

@test "save.before: killed before a step's save (run row and events, one statement)" {
	fault_point save.before
}

@test "save.sent: killed with the save sent, its answer unread" {
	fault_point save.sent
}

@test "save.after: killed after the save's answer" {
	fault_point save.after
}

@test "commit.before: killed with the answer's step saved, uncommitted" {
	fault_point commit.before
}

@test "commit.sent: killed with COMMIT and NOTIFY sent, their answers unread" {
	fault_point commit.sent
}

@test "commit.after: killed after COMMIT and NOTIFY" {
	fault_point commit.after
}

@test "http.before: killed before a batch of a run's events is flushed to the web server" {
	fault_point http.before
}

@test "http.after: killed after a batch of a run's events was flushed to the web server" {
	fault_point http.after
}

@test "DMCP_FAULT naming no point stops the fault build at once" {
	DMCP_FAULT=save.bfore run "$DMCP_BIN" migrate
	[ "$status" = 2 ]
	[[ "$output" == *"DMCP_FAULT save.bfore names no fault point"* ]]
}
