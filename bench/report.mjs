// report.mjs — turns one bench run (DIR/results.jsonl, DIR/meta.env) into the report: the
// compared measures (medians of alternating pairs, every pair's ratio), the CPU time per
// operation of every process involved, and the other items. Knows nothing of the servers:
// only what bench/run recorded.
//   node bench/report.mjs DIR
// Exit status 1 when a measurement failed or is missing, or when dmcp did not complete every
// call after kill -9; a missed performance target is reported, not an error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const meta = Object.fromEntries(readFileSync(join(dir, 'meta.env'), 'utf8').split('\n')
	.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const recs = readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter(Boolean)
	.map((l) => JSON.parse(l));
const ks = (meta.k || '8').split(/\s+/).filter(Boolean).map(Number);
const measures = (meta.measures || 'echo sessions roundtrip').split(/\s+/).filter(Boolean);
const pairs = Number(meta.pairs || 1);
const items = meta.items !== '0';
// A measure that ran on dmcp alone (the modern wire, while the peer does not speak it).
const alone = (m) => m.startsWith('modern-') && meta.modern_peer !== '1';
let bad = recs.filter((r) => r.rc !== 0).length;

// ---- formatting ----

function n(x, digits) {
	if (x === null || x === undefined || Number.isNaN(x))
		return null;
	if (digits !== undefined)
		return x.toFixed(digits);
	const a = Math.abs(x);
	return a >= 100 ? Math.round(x).toLocaleString('en-US') : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}
const ms = (s) => (s && s.n > 0 ? `${n(s.p50)} / ${n(s.p99)}` : null);
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
const times = (r) => (r === null || r === undefined ? '—' : `${n(r, 2)}×`);
function median(xs) {
	const s = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
	if (s.length === 0)
		return null;
	const m = Math.floor(s.length / 2);
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function table(head, rows) {
	const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
	for (const r of rows)
		out.push(`| ${r.map((c) => (c === null || c === undefined ? '' : c)).join(' | ')} |`);
	return out.join('\n');
}

// ---- the compared measures ----

const LABEL = {
	'echo': 'tools/call echo (wrk): calls/s',
	'sessions': 'sessions, initialize + initialized (wrk): sessions/s',
	'roundtrip': 'elicitation round trip (Node): round trips/s',
	'modern-echo': 'modern wire: tools/call echo (wrk): calls/s',
	'modern-roundtrip': 'modern wire: input_required round trip (wrk): round trips/s',
};
const LAT = {
	'echo': 'per call',
	'sessions': 'per request (2 a session)',
	'roundtrip': 'per round trip',
	'modern-echo': 'per call',
	'modern-roundtrip': 'per request (2 a round trip)',
};
const TARGET = { 'echo': 3.0, 'sessions': 3.0, 'roundtrip': 1.0 };
const runsOf = (m, server, k) => recs.filter((x) => x.item === m && x.server === server && x.k === k && x.tool !== 'wal')
	.sort((a, b) => a.pair - b.pair);
// The WAL of a measure's dmcp runs, read once around all its pairs.
const walOf = (m, k) => recs.find((x) => x.item === m && x.k === k && x.tool === 'wal')?.wal?.bytes;
const okRuns = (m, server, k) => runsOf(m, server, k).filter((x) => x.rc === 0);

const rows = [];
const summary = [];
for (const m of measures) {
	for (const k of ks) {
		const d = runsOf(m, 'dmcp', k), t = runsOf(m, 'ts', k);
		const per = [];
		for (let p = 1; p <= pairs; p++) {
			const a = d.find((x) => x.pair === p), b = t.find((x) => x.pair === p);
			per.push(a && b && a.rc === 0 && b.rc === 0 ? ratio(a.r.rate, b.r.rate) : null);
		}
		const got = per.filter((x) => x !== null);
		if (got.length === 0 && !alone(m))
			bad++;
		else if (alone(m) && d.every((x) => x.rc !== 0))
			bad++;
		const med = median(got);
		const dr = median(d.filter((x) => x.rc === 0).map((x) => x.r.rate));
		const tr = median(t.filter((x) => x.rc === 0).map((x) => x.r.rate));
		const target = TARGET[m];
		const verdict = target === undefined ? '' : med === null ? 'FAILED' : med >= target ? 'met' : 'missed';
		rows.push([LABEL[m], k, n(dr) ?? 'FAILED', alone(m) ? '— (dmcp alone)' : n(tr) ?? 'FAILED', times(med),
			alone(m) ? '' : per.map((x) => (x === null ? 'failed' : n(x, 2))).join(' '),
			target === undefined ? '' : `≥ ${target.toFixed(1)}×`, verdict]);
		const dl = { n: 1, p50: median(d.filter((x) => x.rc === 0).map((x) => x.r.lat_ms?.p50)), p99: median(d.filter((x) => x.rc === 0).map((x) => x.r.lat_ms?.p99)) };
		const tl = { n: 1, p50: median(t.filter((x) => x.rc === 0).map((x) => x.r.lat_ms?.p50)), p99: median(t.filter((x) => x.rc === 0).map((x) => x.r.lat_ms?.p99)) };
		rows.push([`… latency ${LAT[m]}, p50 / p99 ms`, k, dl.p50 === null ? '—' : ms(dl), tl.p50 === null ? '—' : ms(tl),
			times(ratio(dl.p50, tl.p50)), '', '', '']);
		if (target !== undefined && med !== null)
			summary.push(`${m} ${times(med)} (target ≥ ${target.toFixed(1)}×: ${verdict})`);
	}
}

// ---- CPU per operation ----
// Pooled over a server's successful runs of a measure: Σ CPU ms of each group ÷ Σ operations.

const GROUPS = ['nginx', 'dmcp', 'pg', 'pgaux', 'peer'];
// walBytes: the WAL written over all of these runs when it was read once around them (else
// each run's own, if read); ÷ every operation of the runs, warm-up included.
function cpuPer(runs, walBytes) {
	const ok = runs.filter((x) => x.rc === 0 && x.cpu_ms && x.r.ops > 0);
	if (ok.length === 0)
		return null;
	const ops = ok.reduce((a, x) => a + x.r.ops, 0);
	const g = {};
	for (const name of [...GROUPS, 'load'])
		g[name] = ok.reduce((a, x) => a + (x.cpu_ms[name] ?? 0), 0) / ops;
	g.servers = GROUPS.reduce((a, name) => a + g[name], 0);
	if (typeof walBytes === 'number') {
		const all = runs.reduce((a, x) => a + (Number(x.wal?.ops) || 0), 0);
		g.wal = all > 0 ? walBytes / all : null;
	} else {
		const w = ok.filter((x) => typeof x.wal?.bytes === 'number');
		const walOps = w.reduce((a, x) => a + (Number(x.wal.ops) || 0), 0);
		g.wal = walOps > 0 ? w.reduce((a, x) => a + x.wal.bytes, 0) / walOps : null;
	}
	g.ops = ops;
	return g;
}
const OPNAME = { 'echo': 'call', 'sessions': 'session', 'roundtrip': 'round trip', 'modern-echo': 'call', 'modern-roundtrip': 'round trip', 4: 'notification', 5: 'parked call' };
const cpuRows = [];
function cpuRowsFor(label, runsD, runsT, k, walBytes) {
	const d = cpuPer(runsD, walBytes), t = cpuPer(runsT);
	const cell = (g, name) => (g ? n(g[name]) : '?');
	if (d)
		cpuRows.push([label, k, 'dmcp', n(d.servers), cell(d, 'nginx'), cell(d, 'dmcp'), cell(d, 'pg'), cell(d, 'pgaux'), '—',
			cell(d, 'load'), t ? times(ratio(d.servers, t.servers)) : '—', d.wal === null ? '—' : n(d.wal, 0)]);
	else
		cpuRows.push([label, k, 'dmcp', 'FAILED', '', '', '', '', '', '', '', '']);
	if (runsT.length === 0)
		return;
	if (t)
		cpuRows.push([label, k, 'TS SDK', n(t.servers), '—', '—', '—', '—', cell(t, 'peer'), cell(t, 'load'), '', '']);
	else
		cpuRows.push([label, k, 'TS SDK', 'FAILED', '', '', '', '', '', '', '', '']);
}
for (const m of measures)
	for (const k of ks)
		cpuRowsFor(`${m}, per ${OPNAME[m]}`, runsOf(m, 'dmcp', k), runsOf(m, 'ts', k), k, walOf(m, k));

// ---- the other items ----

const itemRows = [];
function row(metric, k, d, t, r, target, ok) {
	const missing = d === null || d === undefined;
	if (missing)
		bad++;
	itemRows.push([metric, k ?? '', missing ? 'FAILED' : d, t ?? '—', times(r), target ?? '',
		target ? (missing ? 'FAILED' : ok ? 'met' : 'missed') : '']);
}
const find = (item, server, pred = () => true) =>
	recs.find((x) => x.item === String(item) && x.server === server && x.rc === 0 && pred(x.r))?.r;
let resumeOk = !items;

if (measures.includes('roundtrip')) {
	// 6. wake-up, from the round trips: medians over the runs of each server.
	for (const k of ks) {
		const d = okRuns('roundtrip', 'dmcp', k).map((x) => x.r), t = okRuns('roundtrip', 'ts', k).map((x) => x.r);
		const med = (rs, f, p) => median(rs.map((r) => r[f]?.[p]));
		const cell = (rs, f) => (rs.length ? `${n(med(rs, f, 'p50'))} / ${n(med(rs, f, 'p99'))}` : null);
		const dp50 = med(d, 'wake_202_ms', 'p50');
		row("6. wake-up, client-side: answer's 202 → result event, p50 / p99 ms (negative = 0)", k, cell(d, 'wake_202_ms'), cell(t, 'wake_202_ms'),
			ratio(dp50, med(t, 'wake_202_ms', 'p50')), 'dmcp p50 ≤ 1 ms', dp50 !== null && dp50 <= 1);
		row('6. answer POST sent → result event, p50 / p99 ms', k, cell(d, 'wake_sent_ms'), cell(t, 'wake_sent_ms'),
			ratio(med(d, 'wake_sent_ms', 'p50'), med(t, 'wake_sent_ms', 'p50')));
	}
}
if (items) {
	// 4. progress
	for (const k of ks) {
		const d = find(4, 'dmcp', (r) => r.k === k), t = find(4, 'ts', (r) => r.k === k);
		row(`4. progress notifications delivered/s (slow_progress, ${meta.progress_steps} steps, delay 0)`, k, n(d?.rate), n(t?.rate), ratio(d?.rate, t?.rate));
		const pick = (server) => recs.filter((x) => x.item === '4' && x.server === server && x.k === k);
		cpuRowsFor('4. progress, per notification', pick('dmcp'), pick('ts'), k);
	}
	// 5. suspended calls
	const mem = (server, phase) => find(5, server, (r) => r.phase === phase);
	const parks = (server) => recs.filter((x) => x.item === '5' && x.server === server && x.rc === 0 && x.r.scenario === 'park');
	const parkRate = (server) => {
		const p = parks(server).map((x) => x.r);
		const calls = p.reduce((a, r) => a + r.parked, 0), msec = p.reduce((a, r) => a + r.ms, 0);
		return p.length === 2 && msec > 0 ? calls / (msec / 1000) : null;
	};
	const pk = meta.park_k;
	row('5. parking a call (call → elicitation/create → drop the connection): calls/s', pk, n(parkRate('dmcp')), n(parkRate('ts')), ratio(parkRate('dmcp'), parkRate('ts')));
	cpuRowsFor('5. parking a call, per call (whole runs)', parks('dmcp'), parks('ts'), Number(pk));
	const d0 = mem('dmcp', 0), d10 = mem('dmcp', 10), d100 = mem('dmcp', 100);
	const t0 = mem('ts', 0), t10 = mem('ts', 10), t100 = mem('ts', 100);
	const N = Number(meta.park_n), TN = Number(meta.park_ts_n);
	const bytes = d0 && d100 ? (d100.bytes - d0.bytes) / N : null;
	const sbytes = d0 && d100 ? (d100.sess_bytes - d0.sess_bytes) / N : null;
	const waiting = d0 && d100 ? d100.waiting - d0.waiting : null;
	row(`5. PostgreSQL bytes per waiting call: dmcp_runs + dmcp_events with indexes (N = ${N.toLocaleString('en-US')})`, '', n(bytes, 0), '— (memory only)', null);
	row(`5. … and dmcp_sessions bytes per waiting call (${meta.per_session} calls a session)`, '', n(sbytes, 0), '—', null);
	row('5. calls waiting in dmcp_runs after parking', '', waiting === null ? null : `${waiting.toLocaleString('en-US')} of ${N.toLocaleString('en-US')}`, '—', null, 'all', waiting === N);
	const mib = (r) => (r ? (r.rss_kb / 1024).toFixed(1) : '?');
	row('5. resident memory, MiB, at 0 / 10 % / 100 % of N waiting calls', '',
		d0 && d10 && d100 ? `${mib(d0)} / ${mib(d10)} / ${mib(d100)} (N = ${N.toLocaleString('en-US')})` : null,
		t0 && t10 && t100 ? `${mib(t0)} / ${mib(t10)} / ${mib(t100)} (N = ${TN.toLocaleString('en-US')})` : null, null);
	const slope = (a, b, calls) => (a && b && calls > 0 ? ((b.rss_kb - a.rss_kb) * 1024) / calls : null);
	const ds = slope(d10, d100, N - Math.floor(N / 10)), ts = slope(t10, t100, TN - Math.floor(TN / 10));
	row('5. resident memory growth per waiting call, 10 % → 100 %: bytes', '', n(ds, 0), n(ts, 0), null, 'dmcp flat (≤ 100 B)', ds !== null && ds <= 100);
	// 7. replay
	{
		const d = find(7, 'dmcp', (r) => r.scenario === 'replay'), t = find(7, 'ts', (r) => r.scenario === 'replay');
		const cell = (r) => (r ? `${n(r.ms.p50)} / ${n(r.ms.max)}` : null);
		const ev = Number(meta.replay_events || 1000);
		row(`7. replay: GET + Last-Event-ID over ${(ev + 1).toLocaleString('en-US')} events, p50 / max ms (${meta.replay_reps} GETs)`, '', cell(d), cell(t), ratio(d?.ms?.p50, t?.ms?.p50), 'dmcp p50 ≤ 50 ms', d && d.ms.p50 <= 50);
	}
	// 8. resume after kill -9
	{
		const d = find(8, 'dmcp', (r) => r.scenario === 'answer'), db = find(8, 'dmcp', (r) => r.db_completed !== undefined);
		const t = find(8, 'ts', (r) => r.scenario === 'answer');
		const dp = find(8, 'dmcp', (r) => r.scenario === 'park');
		const N = Number(meta.resume_n);
		const frac = (a) => (a ? `${a.completed.toLocaleString('en-US')} / ${N.toLocaleString('en-US')} (${((100 * a.completed) / N).toFixed(1)} %)` : null);
		resumeOk = !!(d && dp && dp.parked === N && d.completed === N && db && db.db_completed === N);
		row('8. resume after kill -9 of every worker: waiting calls that complete', '', frac(d), frac(t), null, 'dmcp 100 %', resumeOk);
		const st = (a) => (a ? Object.entries(a.status).map(([s, c]) => `${s}: ${c}`).join(', ') : null);
		row('8. … answers after the restart, by HTTP status', '', st(d), st(t), null);
		row('8. … completed runs in dmcp_runs', '', db ? db.db_completed.toLocaleString('en-US') : null, '—', null);
	}
	// 9. plain CGI
	{
		const c = find(9, 'dmcp', (r) => r.scenario === 'cgi');
		row(`9. plain CGI, one process per request: tools/call echo, calls/s (${meta.cgi_n} in a row)`, 1, n(c?.rate), '—', null);
		row('9. plain CGI: p50 / p99 ms per request', 1, c ? ms(c.lat_ms) : null, '—', null);
	}
}

// ---- the report ----

const out = [];
out.push(`# dmcp and the TypeScript SDK — ${meta.mode} run, ${meta.date}`);
out.push('');
out.push(`- machine: ${meta.nproc} CPUs (${meta.cpu}), ${meta.kernel}; load average (1/5/15 min) ${meta.load_start} at the start, ${meta.load_end} at the end; the run took ${meta.seconds} s`);
out.push(`- dmcp: ${meta.bin} (tree at ${meta.commit}), ${meta.threads} worker threads, FastCGI on a unix socket behind nginx ${meta.nginx} (the \`make run\` stack), DMCP_STREAM_HOLD_MS=${meta.hold_ms}, DMCP_POLL_MS=${meta.poll_ms}; PostgreSQL ${meta.pg} on a private cluster`);
out.push(`- TS SDK: @modelcontextprotocol/sdk ${meta.sdk} on Node ${meta.node}: McpServer + StreamableHTTPServerTransport per session (stateful), InMemoryEventStore, SSE answers (bench/peer/server.mjs)`);
out.push(`- load: ${meta.wrk} with bench/mcp.lua (echo, sessions: k connections = k wrk threads, one session each) and bench/load.mjs on Node (round trips); k = ${ks.join(', ')}; ${pairs} alternating pairs (dmcp, then the SDK) per measure${meta.warmup_s !== '0' ? `, after ${meta.warmup_s} s of unrecorded warm-up on each server` : ''}; wrk runs ${meta.seconds_run} s, the Node load generator ${meta.warmup_ms} ms of warm-up then a ${meta.node_ms} ms window`);
out.push(`- command: ${meta.mode === 'quick' ? 'bench/run --quick' : 'make bench (bench/run)'}; ratio = dmcp ÷ TS SDK: of the rates, the median of the pairs' ratios (each pair's ratio listed); rates and latencies: medians of the runs`);
out.push('');
out.push(table(['measure', 'k', 'dmcp', 'TS SDK', 'dmcp ÷ TS (median)', 'each pair', 'target', ''], rows));
out.push('');
out.push('CPU time per operation, ms: utime + stime from /proc/PID/stat over each measured interval (wrk: its whole run; Node: the window it marks), Σ over the runs ÷ Σ operations completed in them. dmcp\'s servers = nginx + the program + PostgreSQL (backends: the program\'s connections; other: postmaster, WAL writer, checkpointer, …); the SDK\'s = its Node process. WAL: bytes written per operation (whole runs, warm-up of the Node runs included).');
out.push('');
out.push(table(['operation', 'k', 'server', 'servers total', 'nginx', 'program', 'PG backends', 'PG other', 'Node (SDK)', 'load generator', 'dmcp ÷ TS (servers)', 'WAL B/op'], cpuRows));
if (itemRows.length) {
	out.push('');
	out.push('The other items (one run each; bench/README.md says what each measures):');
	out.push('');
	out.push(table(['metric', 'k', 'dmcp', 'TS SDK', 'dmcp ÷ TS', 'target', ''], itemRows));
}
out.push('');
if (measures.includes('roundtrip')) {
	const neg = ks.map((k) => {
		const c = (server) => okRuns('roundtrip', server, k).reduce((a, x) => [a[0] + (x.r.wake_202_negative ?? 0), a[1] + (x.r.wake_202_ms?.n ?? 0)], [0, 0]);
		const d = c('dmcp'), t = c('ts');
		return `k=${k}: dmcp ${d[0]} of ${d[1]}, TS ${t[0]} of ${t[1]}`;
	}).join('; ');
	out.push(`Wake-up (6) is measured by the client: the time from the answer POST's 202 to the result event on the call's stream; the 202 came after the result event in ${neg} round trips (counted as 0).`);
}
{
	// Streams that ended before their response (dmcp: retry: when no thread could follow it)
	// and were resumed with GET after the retry delay: each such round trip waited that long.
	const notes = [];
	for (const m of measures)
		for (const k of ks)
			for (const server of ['dmcp', 'ts']) {
				const rs = okRuns(m, server, k).filter((x) => x.tool === 'node');
				const n = rs.reduce((a, x) => a + (x.r.resumes ?? 0), 0), all = rs.reduce((a, x) => a + (x.r.ops_total ?? 0), 0);
				if (n > 0)
					notes.push(`${m} k=${k} ${server === 'ts' ? 'TS' : 'dmcp'}: ${n} of ${all}`);
			}
	if (notes.length)
		out.push(`Streams resumed with GET after ending before their response (after the server's retry: delay), all runs: ${notes.join('; ')}.`);
}
if (summary.length)
	out.push(`Against the targets: ${summary.join('; ')}.`);
out.push(`Failures: ${bad === 0 ? 'none' : `${bad} (see results.jsonl, load.err and wrk.log in this run's directory)`}.`);
process.stdout.write(`${out.join('\n')}\n`);
process.exit(bad === 0 && resumeOk ? 0 : 1);
