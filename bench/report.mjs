// report.mjs — turns one bench run (DIR/results.jsonl, DIR/meta.env) into the markdown table.
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
const ks = (meta.k || '1 8 32').split(/\s+/).filter(Boolean).map(Number);
let bad = recs.filter((r) => r.rc !== 0).length;

const find = (item, server, pred = () => true) =>
	recs.find((x) => x.item === String(item) && x.server === server && x.rc === 0 && pred(x.r))?.r;
const byScen = (item, server, scen, k) => find(item, server, (r) => r.scenario === scen && r.k === k);

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
const rows = [];
function row(metric, k, d, t, r, target, ok) {
	const missing = d === null || d === undefined;
	if (missing)
		bad++;
	rows.push([metric, k ?? '', missing ? 'FAILED' : d, t ?? '—', r === null || r === undefined ? '—' : `${n(r, 2)}×`,
		target ?? '', target ? (missing ? 'FAILED' : ok ? 'met' : 'missed') : '']);
}

// 1. echo
for (const k of ks) {
	const d = byScen(1, 'dmcp', 'echo', k), t = byScen(1, 'ts', 'echo', k);
	const rr = ratio(d?.rate, t?.rate);
	row('1. tools/call echo: calls/s', k, n(d?.rate), n(t?.rate), rr, k === 8 ? '≥ 3×' : '', rr !== null && rr >= 3);
}
for (const k of ks) {
	const d = byScen(1, 'dmcp', 'echo', k), t = byScen(1, 'ts', 'echo', k);
	row('1. tools/call echo: p50 / p99 ms', k, ms(d?.lat_ms), ms(t?.lat_ms), ratio(d?.lat_ms?.p50, t?.lat_ms?.p50));
}
// 2. sessions
for (const k of ks) {
	const d = byScen(2, 'dmcp', 'sessions', k), t = byScen(2, 'ts', 'sessions', k);
	const rr = ratio(d?.rate, t?.rate);
	row('2. initialize + initialized: sessions/s', k, n(d?.rate), n(t?.rate), rr, '≥ 3×', rr !== null && rr >= 3);
}
// 3. round trips
for (const k of ks) {
	const d = byScen(3, 'dmcp', 'roundtrip', k), t = byScen(3, 'ts', 'roundtrip', k);
	const rr = ratio(d?.rate, t?.rate);
	row('3. elicitation round trip: round trips/s', k, n(d?.rate), n(t?.rate), rr, '≥ 1.0×', rr !== null && rr >= 1);
}
for (const k of ks) {
	const d = byScen(3, 'dmcp', 'roundtrip', k), t = byScen(3, 'ts', 'roundtrip', k);
	row('3. elicitation round trip: p50 / p99 ms', k, ms(d?.lat_ms), ms(t?.lat_ms), ratio(d?.lat_ms?.p50, t?.lat_ms?.p50));
}
// 4. progress
for (const k of ks) {
	const d = byScen(4, 'dmcp', 'progress', k), t = byScen(4, 'ts', 'progress', k);
	row(`4. progress notifications delivered/s (slow_progress, ${meta.progress_steps} steps, delay 0)`, k, n(d?.rate), n(t?.rate), ratio(d?.rate, t?.rate));
}
// 5. suspended calls
const mem = (server, phase) => find(5, server, (r) => r.phase === phase);
const parks = (server) => recs.filter((x) => x.item === '5' && x.server === server && x.rc === 0 && x.r.scenario === 'park').map((x) => x.r);
const parkRate = (server) => {
	const p = parks(server);
	const calls = p.reduce((a, r) => a + r.parked, 0), msec = p.reduce((a, r) => a + r.ms, 0);
	return p.length === 2 && msec > 0 ? calls / (msec / 1000) : null;
};
{
	const pk = meta.park_k;
	row(`5. parking a call (call → elicitation/create → drop the connection): calls/s`, pk, n(parkRate('dmcp')), n(parkRate('ts')), ratio(parkRate('dmcp'), parkRate('ts')));
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
}
// 6. wake-up
for (const k of ks) {
	const d = byScen(3, 'dmcp', 'roundtrip', k), t = byScen(3, 'ts', 'roundtrip', k);
	row("6. wake-up, client-side: answer's 202 → result event, p50 / p99 ms (negative = 0)", k, ms(d?.wake_202_ms), ms(t?.wake_202_ms),
		ratio(d?.wake_202_ms?.p50, t?.wake_202_ms?.p50), 'dmcp p50 ≤ 1 ms', d && d.wake_202_ms.p50 <= 1);
}
for (const k of ks) {
	const d = byScen(3, 'dmcp', 'roundtrip', k), t = byScen(3, 'ts', 'roundtrip', k);
	row('6. answer POST sent → result event, p50 / p99 ms', k, ms(d?.wake_sent_ms), ms(t?.wake_sent_ms), ratio(d?.wake_sent_ms?.p50, t?.wake_sent_ms?.p50));
}
// 7. replay
{
	const d = find(7, 'dmcp', (r) => r.scenario === 'replay'), t = find(7, 'ts', (r) => r.scenario === 'replay');
	const cell = (r) => (r ? `${n(r.ms.p50)} / ${n(r.ms.max)}` : null);
	row(`7. replay: GET + Last-Event-ID over 1,000 events, p50 / max ms (${meta.replay_reps} GETs)`, '', cell(d), cell(t), ratio(d?.ms?.p50, t?.ms?.p50), 'dmcp p50 ≤ 50 ms', d && d.ms.p50 <= 50);
}
// 8. resume after kill -9
let resumeOk = false;
{
	const d = find(8, 'dmcp', (r) => r.scenario === 'answer'), db = find(8, 'dmcp', (r) => r.db_completed !== undefined);
	const t = find(8, 'ts', (r) => r.scenario === 'answer');
	const dp = find(8, 'dmcp', (r) => r.scenario === 'park'), tp = find(8, 'ts', (r) => r.scenario === 'park');
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
	const f = byScen(1, 'dmcp', 'echo', 1);
	row(`9. plain CGI, one process per request: tools/call echo, calls/s (${meta.cgi_n} in a row)`, 1, n(c?.rate), '—', null);
	row('9. plain CGI: p50 / p99 ms per request (FastCGI, k = 1, in brackets)', 1, c ? `${ms(c.lat_ms)} (${ms(f?.lat_ms) ?? '?'})` : null, '—', null);
}

// Server CPU per operation: what the server's processes used (dmcp: program + PostgreSQL +
// nginx; TS: the Node process), over every operation of the run including the warm-up.
const cpuRows = [];
const rec = (item, server, pred) => recs.find((x) => x.item === String(item) && x.server === server && x.rc === 0 && pred(x.r));
function cpuOf(x) {
	if (!x || !x.cpu)
		return null;
	const ops = x.r.ops_total ?? x.r.ops;
	if (!ops)
		return null;
	const f = 1000 / x.cpu.hz / ops;
	return { total: (x.cpu.app + x.cpu.pg + x.cpu.web) * f, app: x.cpu.app * f, pg: x.cpu.pg * f, web: x.cpu.web * f, ops };
}
function cpuRow(label, k, d, t) {
	const dc = cpuOf(d), tc = cpuOf(t);
	const w = d?.wal && dc ? n(d.wal.bytes / dc.ops, 0) : '?';
	cpuRows.push([label, k ?? '', dc ? `${n(dc.total)} (${n(dc.app)} / ${n(dc.pg)} / ${n(dc.web)})` : '?',
		tc ? n(tc.total) : '?', dc && tc && tc.total > 0 ? `${n(dc.total / tc.total, 2)}×` : '—', w]);
}
for (const [item, scen, label] of [[1, 'echo', '1. tools/call echo, per call'], [2, 'sessions', '2. initialize + initialized, per session'],
	[3, 'roundtrip', '3. elicitation round trip, per round trip'], [4, 'progress', '4. progress, per notification']])
	for (const k of ks)
		cpuRow(label, k, rec(item, 'dmcp', (r) => r.scenario === scen && r.k === k), rec(item, 'ts', (r) => r.scenario === scen && r.k === k));
cpuRow('5. parking a call, per call', meta.park_k, rec(5, 'dmcp', (r) => r.scenario === 'park'), rec(5, 'ts', (r) => r.scenario === 'park'));

const wakeNeg = ks.map((k) => {
	const d = byScen(3, 'dmcp', 'roundtrip', k), t = byScen(3, 'ts', 'roundtrip', k);
	return `k=${k}: dmcp ${d?.wake_202_negative ?? '?'} of ${d?.wake_202_ms?.n ?? '?'}, TS ${t?.wake_202_negative ?? '?'} of ${t?.wake_202_ms?.n ?? '?'}`;
}).join('; ');

const out = [];
out.push(`# dmcp and the TypeScript SDK — ${meta.mode} run, ${meta.date}`);
out.push('');
out.push(`- machine: ${meta.nproc} CPUs (${meta.cpu}), ${meta.kernel}; load average (1/5/15 min) ${meta.load_start} at the start, ${meta.load_end} at the end; the run took ${meta.seconds} s`);
out.push(`- dmcp: ${meta.bin} (tree at ${meta.commit}) behind nginx (1 worker process), DMCP_THREADS=${meta.threads}, DMCP_STREAM_HOLD_MS=${meta.hold_ms}, DMCP_POLL_MS=${meta.poll_ms}; PostgreSQL ${meta.pg} on a private cluster`);
out.push(`- TS SDK: @modelcontextprotocol/sdk ${meta.sdk} on Node ${meta.node}: McpServer + StreamableHTTPServerTransport per session (stateful), InMemoryEventStore, SSE answers (bench/peer/server.mjs)`);
out.push(`- load: bench/load.mjs (Node http, keep-alive agent), one session per worker; k = ${ks.join(', ')}; rates count what completed in a ${meta.duration_ms} ms window after ${meta.warmup_ms} ms of warm-up; parking and answering at k = ${meta.park_k}`);
out.push(`- command: ${meta.mode === 'smoke' ? 'bench/run --smoke' : 'make bench (bench/run)'}; ratio = dmcp ÷ TS SDK (for latencies and memory, below 1 means dmcp is lower)`);
out.push('');
out.push('| metric | k | dmcp | TS SDK | dmcp ÷ TS | target | |');
out.push('|---|---|---|---|---|---|---|');
for (const r of rows)
	out.push(`| ${r.join(' | ')} |`);
out.push('');
out.push('Server CPU time per operation, ms (clock ticks of /proc/PID/stat, summed over the whole load run, warm-up included; the load generator is not counted):');
out.push('');
out.push('| operation | k | dmcp: total (program / PostgreSQL / nginx) | TS SDK | dmcp ÷ TS | dmcp WAL bytes per op |');
out.push('|---|---|---|---|---|---|');
for (const r of cpuRows)
	out.push(`| ${r.join(' | ')} |`);
out.push('');
out.push(`Wake-up (6) is measured by the client: the time from the answer POST's 202 to the result event on the call's stream, both seen by the load generator; the 202 came after the result event in ${wakeNeg} round trips (counted as 0).`);
out.push(`Failures: ${bad === 0 ? 'none' : `${bad} (see results.jsonl and load.err in this run's directory)`}.`);
process.stdout.write(`${out.join('\n')}\n`);
process.exit(bad === 0 && resumeOk ? 0 : 1);
