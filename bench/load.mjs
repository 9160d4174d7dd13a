// load.mjs — the benchmark's load generator: an MCP client over Streamable HTTP (protocol
// 2025-11-25) that speaks the protocol properly — initialize, notifications/initialized,
// Mcp-Session-Id and MCP-Protocol-Version headers, JSON or SSE answers (a small SSE parser),
// elicitation requests answered with a POST of a JSON-RPC response, and resumption with GET +
// Last-Event-ID when a stream ends before its response — and drives one server with one
// scenario. It treats every server alike: Node's http.request over one keep-alive
// http.Agent.
//
//   node bench/load.mjs SCENARIO --url URL [options]      prints one JSON line of results
//
// Scenarios (k = --k, workers; each worker runs its own session):
//   echo       tools/call echo {message} in a loop; calls/s, latency
//   sessions   initialize + notifications/initialized in a loop; sessions/s, latency
//   roundtrip  tools/call confirm -> elicitation/create on the stream -> answer POST (202)
//              -> the result on the stream; round trips/s, latency, and the wake-up
//              measures (answer's 202 -> result event; answer sent -> result event)
//   progress   tools/call slow_progress {steps, delay_ms: 0} with a progressToken;
//              notifications/s delivered
//   park       --n N --per-session S --out FILE: N calls of confirm left waiting: each read
//              until its elicitation/create arrives, then the connection is dropped; writes
//              one JSON line per call (session, request id, elicitation id, event id)
//   answer     --in FILE [--verify 1]: answers every parked call (POST, expects 202); with
//              --verify, fetches the result with GET + Last-Event-ID and checks it
//   progress1  --steps N: one slow_progress call; prints the session and the stream's ids
//   replay     --sid S --last ID --expect N --reps R: GET with Last-Event-ID, timed until N
//              events (and the response) arrived
//   cgi        --bin PROGRAM --n N: the program as plain CGI, one process per request
//              (initialize, initialized, then N tools/call echo), timed per process
//   open       --out FILE: opens k sessions (initialize + initialized) and writes one line a
//              session, "SID VERSION", for bench/mcp.lua (the wrk script)
//
// Common options: --k N, --duration MS, --warmup MS (rates count operations completed in the
// measured window, after the warm-up), --timeout MS (per request, idle), --max-iter N (per
// worker), --mark FIFO (echo, sessions, roundtrip, progress: writes "start" and "end" lines
// to FIFO when the measured window opens and closes, so that bench/run reads the processes'
// CPU time over exactly that window). Exit status 1 when any operation failed or none
// completed.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const PROTOCOL = '2025-11-25';
const now = () => performance.now();

// ---- arguments ---------------------------------------------------------------------------

function parseArgs(argv) {
	const o = { _: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a.startsWith('--') && i + 1 < argv.length)
			o[a.slice(2)] = argv[++i];
		else
			o._.push(a);
	}
	return o;
}
const opt = parseArgs(process.argv.slice(2));
const num = (k, d) => (opt[k] !== undefined ? Number(opt[k]) : d);
const SCENARIO = opt._[0];
const K = num('k', 1);
const TIMEOUT = num('timeout', 60000);
const MAX_ITER = num('max-iter', 1000000);

// The window marks (--mark): a FIFO that bench/run reads; opening it waits for the reader.
const markFd = opt.mark ? openSync(opt.mark, 'w') : null;
function mark(what) {
	if (markFd !== null)
		writeSync(markFd, `${what}\n`);
}
// Marks the window [from, to] (times of now()) with timers; returns a function that cancels
// what has not fired (the run ended early) and closes the FIFO.
function markWindow(from, to) {
	const a = setTimeout(() => mark('start'), Math.max(0, from - now()));
	const b = setTimeout(() => mark('end'), Math.max(0, to - now()));
	return () => {
		clearTimeout(a);
		clearTimeout(b);
		if (markFd !== null)
			closeSync(markFd);
	};
}

// ---- statistics --------------------------------------------------------------------------

function pct(sorted, p) {
	if (sorted.length === 0)
		return null;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[i];
}
function summary(values) {
	const s = Float64Array.from(values).sort();
	const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
	return { n: s.length, p50: r3(pct(s, 50)), p99: r3(pct(s, 99)), max: r3(s.length ? s[s.length - 1] : null) };
}

// ---- HTTP and SSE ------------------------------------------------------------------------

class SSEReader {
	// Parses text/event-stream as it arrives; every event is stamped with its arrival time.
	constructor(res) {
		this.res = res;
		this.buf = '';
		this.queue = [];
		this.ended = false;
		this.error = null;
		this.waiter = null;
		this.retry = null;
		res.setEncoding('utf8');
		res.on('data', (d) => {
			const t = now();
			this.buf += d;
			this.parse(t);
			this.wake();
		});
		res.on('end', () => { this.ended = true; this.wake(); });
		res.on('error', (e) => { this.error = e; this.ended = true; this.wake(); });
		res.on('close', () => { this.ended = true; this.wake(); });
	}
	parse(t) {
		let i;
		while ((i = this.buf.indexOf('\n\n')) >= 0) {
			const block = this.buf.slice(0, i);
			this.buf = this.buf.slice(i + 2);
			const ev = { id: null, data: null, t };
			for (const raw of block.split('\n')) {
				const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
				if (line === '' || line.startsWith(':'))
					continue;
				const c = line.indexOf(':');
				const field = c < 0 ? line : line.slice(0, c);
				let value = c < 0 ? '' : line.slice(c + 1);
				if (value.startsWith(' '))
					value = value.slice(1);
				if (field === 'id')
					ev.id = value;
				else if (field === 'data')
					ev.data = ev.data === null ? value : `${ev.data}\n${value}`;
				else if (field === 'retry')
					this.retry = Number(value);
			}
			if (ev.id !== null || ev.data !== null)
				this.queue.push(ev);
		}
	}
	wake() {
		const w = this.waiter;
		this.waiter = null;
		if (w)
			w();
	}
	// The next event, or null once the stream ended.
	async next() {
		while (this.queue.length === 0) {
			if (this.ended)
				return null;
			await new Promise((r) => { this.waiter = r; });
		}
		return this.queue.shift();
	}
	destroy() {
		this.res.destroy();
	}
}

class Client {
	constructor(url, maxSockets) {
		this.url = new URL(url);
		this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
	}
	// Sends a request; resolves with the response (headers read) and the time the body was sent.
	send(method, headers, body) {
		return new Promise((ok, fail) => {
			const h = { ...headers };
			if (body !== undefined)
				h['Content-Length'] = Buffer.byteLength(body);
			const req = http.request({
				host: this.url.hostname, port: this.url.port, path: this.url.pathname,
				method, headers: h, agent: this.agent,
			}, (res) => { res.tHead = now(); ok(res); });
			req.setTimeout(TIMEOUT, () => req.destroy(new Error(`no data for ${TIMEOUT} ms`)));
			req.on('error', fail);
			req.tSent = now();
			req.end(body);
		});
	}
	close() {
		this.agent.destroy();
	}
}

function readAll(res) {
	return new Promise((ok, fail) => {
		let s = '';
		res.setEncoding('utf8');
		res.on('data', (d) => { s += d; });
		res.on('end', () => ok(s));
		res.on('error', fail);
	});
}

function headers(sess, accept = 'application/json, text/event-stream') {
	const h = { Accept: accept };
	if (sess) {
		h['Mcp-Session-Id'] = sess.sid;
		h['MCP-Protocol-Version'] = sess.ver;
	}
	return h;
}

function post(c, sess, msg) {
	return c.send('POST', { ...headers(sess), 'Content-Type': 'application/json' }, JSON.stringify(msg));
}

function isSSE(res) {
	return (res.headers['content-type'] || '').startsWith('text/event-stream');
}

class Failure extends Error {}
function fail(what) {
	throw new Failure(what);
}

// Read the answer to request `id` from res (JSON or SSE), resuming the stream with GET +
// Last-Event-ID when it ends first. onMsg(msg, ev) sees every other message (notifications,
// server requests); it may be async. Drains the stream to its end so the connection is
// reused. Returns { msg, t } (t: arrival of the response).
async function answerOf(c, sess, res, id, onMsg) {
	if (res.statusCode !== 200) {
		const body = await readAll(res);
		fail(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
	}
	if (!isSSE(res)) {
		const body = await readAll(res);
		const msg = JSON.parse(body);
		if (msg.id !== id)
			fail(`answer for id ${msg.id}, expected ${id}`);
		return { msg, t: now() };
	}
	let sse = new SSEReader(res), last = null, got = null, resumes = 0;
	for (let guard = 0; guard < 1000000; guard++) {
		const ev = await sse.next();
		if (ev === null) {
			if (sse.error)
				throw sse.error;
			if (got !== null)
				return got;
			// The stream ended before the response: resume where we were (MCP resumability).
			if (last === null || ++resumes > 20)
				fail('the stream ended before the response and cannot be resumed');
			resumesTotal++;
			await new Promise((r) => setTimeout(r, sse.retry ?? 0));
			const r2 = await c.send('GET', { ...headers(sess, 'text/event-stream'), 'Last-Event-ID': last });
			if (r2.statusCode !== 200)
				fail(`resume: HTTP ${r2.statusCode}`);
			sse = new SSEReader(r2);
			continue;
		}
		if (ev.id !== null)
			last = ev.id;
		if (ev.data === null || ev.data === '')
			continue; // priming event
		const msg = JSON.parse(ev.data);
		if (msg.id === id && msg.method === undefined)
			got = { msg, t: ev.t };
		else if (onMsg)
			await onMsg(msg, ev);
	}
	fail('too many events');
}

let nextId = 1;
let resumesTotal = 0; // streams that ended before their response and were resumed with GET

async function openSession(c) {
	const id = nextId++;
	const res = await post(c, null, {
		jsonrpc: '2.0', id, method: 'initialize',
		params: { protocolVersion: PROTOCOL, capabilities: { elicitation: { form: {} } }, clientInfo: { name: 'dmcp-bench', version: '1' } },
	});
	const sid = res.headers['mcp-session-id'];
	const { msg } = await answerOf(c, null, res, id);
	if (!sid || !msg.result || typeof msg.result.protocolVersion !== 'string')
		fail(`initialize: ${JSON.stringify(msg).slice(0, 200)}`);
	const sess = { sid, ver: msg.result.protocolVersion };
	const r2 = await post(c, sess, { jsonrpc: '2.0', method: 'notifications/initialized' });
	await readAll(r2);
	if (r2.statusCode !== 202)
		fail(`notifications/initialized: HTTP ${r2.statusCode}`);
	return sess;
}

function toolCall(name, args, meta) {
	const params = { name, arguments: args };
	if (meta)
		params._meta = meta;
	return { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params };
}

async function echo(c, sess) {
	const m = toolCall('echo', { message: 'hello, bench' });
	const res = await post(c, sess, m);
	const { msg } = await answerOf(c, sess, res, m.id);
	if (msg.result?.structuredContent?.echoed !== 'hello, bench')
		fail(`echo: ${JSON.stringify(msg).slice(0, 200)}`);
}

async function answerElicitation(c, sess, req) {
	if (req.method !== 'elicitation/create' || req.id === undefined)
		fail(`unexpected message ${JSON.stringify(req).slice(0, 200)}`);
	const r = await post(c, sess, { jsonrpc: '2.0', id: req.id, result: { action: 'accept', content: { ok: true } } });
	await readAll(r);
	if (r.statusCode !== 202)
		fail(`answer: HTTP ${r.statusCode}`);
	return r;
}

// One full elicitation round trip; returns the wake-up measures.
async function roundtrip(c, sess) {
	const m = toolCall('confirm', { question: 'Bench?' });
	const res = await post(c, sess, m);
	let ans = null, tAnswerSent = 0;
	const { msg, t } = await answerOf(c, sess, res, m.id, async (req) => {
		if (ans !== null)
			fail('a second elicitation');
		tAnswerSent = now();
		ans = await answerElicitation(c, sess, req);
	});
	if (ans === null || msg.result?.structuredContent?.accepted !== true)
		fail(`confirm: ${JSON.stringify(msg).slice(0, 200)}`);
	return { wake202: t - ans.tHead, wakeSent: t - tAnswerSent };
}

// ---- timed workers -----------------------------------------------------------------------

const errors = [];
let errorCount = 0;
function noteError(e) {
	errorCount++;
	if (errors.length < 5)
		errors.push(String(e?.message ?? e));
}

// Runs k workers: setup(i) untimed, then iter(i, state) until the window closes. An operation
// counts when it completes inside [warm-up end, window end].
async function timed(k, setup, iter) {
	const warmup = num('warmup', 1000), duration = num('duration', 5000);
	const states = await Promise.all(Array.from({ length: k }, (_, i) => setup(i)));
	const t0 = now(), from = t0 + warmup, to = from + duration;
	const unmark = markWindow(from, to);
	const lat = [], extra = [];
	let ops = 0, all = 0;
	await Promise.all(states.map(async (st, i) => {
		for (let n = 0; n < MAX_ITER && now() < to; n++) {
			const a = now();
			let r;
			try {
				r = await iter(i, st);
			} catch (e) {
				noteError(e);
				if (errorCount > 50)
					return;
				continue;
			}
			const b = now();
			all += r?.ops ?? 1;
			if (b >= from && b <= to) {
				ops += r?.ops ?? 1;
				lat.push(b - a);
				if (r?.extra)
					extra.push(r.extra);
			}
		}
	}));
	unmark();
	return { ops, all, window_ms: duration, rate: ops / (duration / 1000), lat: summary(lat), extra };
}

// ---- scenarios ---------------------------------------------------------------------------

async function scenario() {
	const url = opt.url;
	switch (SCENARIO) {
	case 'echo': {
		const c = new Client(url, K);
		const r = await timed(K, () => openSession(c), (i, sess) => echo(c, sess));
		c.close();
		return { rate: r.rate, ops: r.ops, ops_total: r.all, lat_ms: r.lat };
	}
	case 'sessions': {
		const c = new Client(url, K);
		const r = await timed(K, () => null, () => openSession(c));
		c.close();
		return { rate: r.rate, ops: r.ops, ops_total: r.all, lat_ms: r.lat };
	}
	case 'roundtrip': {
		// Each worker holds its call's stream while it posts the answer: two sockets a worker.
		const c = new Client(url, 2 * K);
		const r = await timed(K, () => openSession(c), async (i, sess) => ({ extra: await roundtrip(c, sess) }));
		c.close();
		const w202 = r.extra.map((x) => x.wake202);
		return {
			rate: r.rate, ops: r.ops, ops_total: r.all, lat_ms: r.lat,
			wake_202_ms: summary(w202.map((x) => Math.max(0, x))),
			wake_202_negative: w202.filter((x) => x < 0).length,
			wake_sent_ms: summary(r.extra.map((x) => x.wakeSent)),
		};
	}
	case 'progress': {
		const steps = num('steps', 100);
		const c = new Client(url, K);
		const warmup = num('warmup', 1000), duration = num('duration', 5000);
		let from = 0, to = 0, notes = 0, calls = 0, all = 0;
		const lat = [];
		const states = await Promise.all(Array.from({ length: K }, () => openSession(c)));
		const t0 = now();
		from = t0 + warmup;
		to = from + duration;
		const unmark = markWindow(from, to);
		await Promise.all(states.map(async (sess) => {
			for (let n = 0; n < MAX_ITER && now() < to; n++) {
				const m = toolCall('slow_progress', { steps, delay_ms: 0 }, { progressToken: `p${m0()}` });
				const a = now();
				let seen = 0, prev = 0;
				try {
					const res = await post(c, sess, m);
					const { msg } = await answerOf(c, sess, res, m.id, (note, ev) => {
						if (note.method !== 'notifications/progress' || note.params?.progressToken !== m.params._meta.progressToken)
							fail(`unexpected ${JSON.stringify(note).slice(0, 200)}`);
						if (!(note.params.progress > prev))
							fail('progress did not rise');
						prev = note.params.progress;
						seen++;
						all++;
						if (ev.t >= from && ev.t <= to)
							notes++;
					});
					if (seen !== steps || !msg.result)
						fail(`slow_progress: ${seen} of ${steps} notifications`);
					const b = now();
					if (b >= from && b <= to) {
						calls++;
						lat.push(b - a);
					}
				} catch (e) {
					noteError(e);
					if (errorCount > 50)
						return;
				}
			}
		}));
		unmark();
		c.close();
		return { rate: notes / (duration / 1000), ops: notes, ops_total: all, calls, steps, call_ms: summary(lat) };
	}
	case 'park':
		return park();
	case 'answer':
		return answer();
	case 'progress1': {
		const c = new Client(url, 1);
		const sess = await openSession(c);
		const steps = num('steps', 100);
		const m = toolCall('slow_progress', { steps, delay_ms: 0 }, { progressToken: 'replay' });
		const res = await post(c, sess, m);
		let first = null, last = null, notes = 0;
		const sse = new SSEReader(res);
		for (let ev = await sse.next(); ev !== null; ev = await sse.next()) {
			if (first === null)
				first = ev.id;
			last = ev.id;
			if (ev.data) {
				const msg = JSON.parse(ev.data);
				if (msg.method === 'notifications/progress')
					notes++;
				if (msg.id === m.id)
					break;
			}
		}
		sse.destroy();
		c.close();
		if (notes !== steps)
			fail(`progress1: ${notes} of ${steps} notifications`);
		return { sid: sess.sid, ver: sess.ver, first, last, notifications: notes, ops: 1 };
	}
	case 'replay': {
		const c = new Client(url, 1);
		const sess = { sid: opt.sid, ver: opt.ver || PROTOCOL };
		const expect = num('expect', 1001), reps = num('reps', 5);
		const times = [];
		for (let r = 0; r < reps; r++) {
			const a = now();
			const res = await c.send('GET', { ...headers(sess, 'text/event-stream'), 'Last-Event-ID': opt.last });
			if (res.statusCode !== 200)
				fail(`replay: HTTP ${res.statusCode} ${await readAll(res)}`);
			const sse = new SSEReader(res);
			let n = 0, response = false, t = 0;
			for (let ev = await sse.next(); ev !== null; ev = await sse.next()) {
				if (!ev.data)
					continue;
				n++;
				if (JSON.parse(ev.data).result !== undefined)
					response = true;
				if (n >= expect) {
					t = ev.t;
					break;
				}
			}
			// The SDK keeps a replayed stream open; dmcp ends it after the response.
			sse.destroy();
			if (n < expect || !response)
				fail(`replay: ${n} of ${expect} events, response ${response}`);
			times.push(t - a);
		}
		c.close();
		return { ops: reps, events: expect, ms: summary(times) };
	}
	case 'cgi':
		return cgi();
	case 'open': {
		const c = new Client(url, K);
		const list = await Promise.all(Array.from({ length: K }, () => openSession(c)));
		c.close();
		writeFileSync(opt.out, list.map((s) => `${s.sid} ${s.ver}\n`).join(''));
		return { ops: list.length, sessions: list.length };
	}
	default:
		throw new Error(`unknown scenario ${SCENARIO}`);
	}
}
let tokenSeq = 0;
function m0() {
	return ++tokenSeq;
}

// Park N calls: each worker takes the next session, opens it and leaves --per-session calls
// waiting in it.
async function park() {
	const n = num('n', 100), per = num('per-session', 50);
	const c = new Client(opt.url, K);
	const sessions = Math.ceil(n / per);
	const out = [];
	let nextSession = 0, parked = 0;
	const a = now();
	await Promise.all(Array.from({ length: K }, async () => {
		for (let g = 0; g < sessions && errorCount <= 50; g++) {
			const s = nextSession++;
			if (s >= sessions)
				return;
			let sess;
			try {
				sess = await openSession(c);
			} catch (e) {
				noteError(e);
				continue;
			}
			for (let j = 0; j < per && s * per + j < n; j++) {
				const m = toolCall('confirm', { question: 'Parked?' });
				try {
					const res = await post(c, sess, m);
					if (res.statusCode !== 200 || !isSSE(res))
						fail(`park: HTTP ${res.statusCode} ${res.headers['content-type']} ${await readAll(res)}`);
					const sse = new SSEReader(res);
					let rec = null;
					for (let ev = await sse.next(); ev !== null; ev = await sse.next()) {
						if (!ev.data)
							continue;
						const msg = JSON.parse(ev.data);
						if (msg.method === 'elicitation/create') {
							rec = { sid: sess.sid, ver: sess.ver, req: m.id, eid: msg.id, last: ev.id };
							break;
						}
					}
					sse.destroy(); // drop the connection: the call stays waiting
					if (rec === null)
						fail('park: no elicitation/create');
					out.push(JSON.stringify(rec));
					parked++;
				} catch (e) {
					noteError(e);
				}
			}
		}
	}));
	const ms = now() - a;
	c.close();
	writeFileSync(opt.out, out.length ? `${out.join('\n')}\n` : '');
	return { ops: parked, parked, sessions, rate: parked / (ms / 1000), ms: Math.round(ms) };
}

// Answer every parked call; with --verify, read each result back (GET + Last-Event-ID).
async function answer() {
	const recs = readFileSync(opt.in, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
	const verify = num('verify', 0) === 1;
	const c = new Client(opt.url, K);
	const status = {};
	let next = 0, completed = 0;
	const a = now();
	await Promise.all(Array.from({ length: K }, async () => {
		for (let g = 0; g < recs.length; g++) {
			const i = next++;
			if (i >= recs.length)
				return;
			const rec = recs[i];
			const sess = { sid: rec.sid, ver: rec.ver };
			try {
				const r = await post(c, sess, { jsonrpc: '2.0', id: rec.eid, result: { action: 'accept', content: { ok: true } } });
				await readAll(r);
				status[r.statusCode] = (status[r.statusCode] || 0) + 1;
				if (r.statusCode !== 202 || !verify)
					continue;
				const g2 = await c.send('GET', { ...headers(sess, 'text/event-stream'), 'Last-Event-ID': rec.last });
				if (g2.statusCode !== 200) {
					await readAll(g2);
					continue;
				}
				const sse = new SSEReader(g2);
				for (let ev = await sse.next(); ev !== null; ev = await sse.next()) {
					if (!ev.data)
						continue;
					const msg = JSON.parse(ev.data);
					if (msg.id === rec.req && msg.method === undefined) {
						if (msg.result?.structuredContent?.accepted === true)
							completed++;
						break;
					}
				}
				sse.destroy();
			} catch (e) {
				// After a kill -9 a refused or reset connection is an answer too: not completed.
				status[e.code || 'error'] = (status[e.code || 'error'] || 0) + 1;
			}
		}
	}));
	c.close();
	return { ops: recs.length, calls: recs.length, status, completed, ms: Math.round(now() - a) };
}

// Plain CGI: one process per request, as a CGI web server would run it.
function cgiOnce(bin, sess, msg) {
	const body = JSON.stringify(msg);
	const env = {
		PATH: process.env.PATH || '/usr/bin:/bin',
		DMCP_DATABASE_URL: process.env.DMCP_DATABASE_URL || '',
		GATEWAY_INTERFACE: 'CGI/1.1', SERVER_PROTOCOL: 'HTTP/1.1', REQUEST_METHOD: 'POST',
		SCRIPT_NAME: '/mcp', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(Buffer.byteLength(body)),
		HTTP_ACCEPT: 'application/json, text/event-stream', HTTP_HOST: '127.0.0.1',
	};
	if (sess) {
		env.HTTP_MCP_SESSION_ID = sess.sid;
		env.HTTP_MCP_PROTOCOL_VERSION = sess.ver;
	}
	return new Promise((ok, bad) => {
		const a = now();
		const p = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'inherit'] });
		let out = '';
		const timer = setTimeout(() => p.kill('SIGKILL'), TIMEOUT);
		p.stdout.setEncoding('utf8');
		p.stdout.on('data', (d) => { out += d; });
		p.on('error', bad);
		p.on('close', (code) => {
			clearTimeout(timer);
			const cut = out.indexOf('\r\n\r\n');
			const head = cut < 0 ? out : out.slice(0, cut), text = cut < 0 ? '' : out.slice(cut + 4);
			const st = /^Status: (\d+)/m.exec(head);
			const sid = /^Mcp-Session-Id: (\S+)/mi.exec(head);
			ok({ code, status: st ? Number(st[1]) : 0, sid: sid ? sid[1] : null, text, ms: now() - a });
		});
		p.stdin.end(body);
	});
}

async function cgi() {
	const bin = opt.bin, n = num('n', 20);
	const init = await cgiOnce(bin, null, {
		jsonrpc: '2.0', id: 1, method: 'initialize',
		params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'dmcp-bench-cgi', version: '1' } },
	});
	if (init.status !== 200 || !init.sid)
		fail(`cgi initialize: status ${init.status} ${init.text.slice(0, 200)}`);
	const sess = { sid: init.sid, ver: JSON.parse(init.text).result.protocolVersion };
	const ack = await cgiOnce(bin, sess, { jsonrpc: '2.0', method: 'notifications/initialized' });
	if (ack.status !== 202)
		fail(`cgi initialized: status ${ack.status}`);
	const lat = [];
	const a = now();
	for (let i = 0; i < n; i++) {
		const r = await cgiOnce(bin, sess, toolCall('echo', { message: 'hello, bench' }));
		if (r.status !== 200 || JSON.parse(r.text).result?.structuredContent?.echoed !== 'hello, bench') {
			noteError(`cgi echo: status ${r.status} ${r.text.slice(0, 200)}`);
			continue;
		}
		lat.push(r.ms);
	}
	const ms = now() - a;
	return { ops: lat.length, rate: lat.length / (ms / 1000), lat_ms: summary(lat), init_ms: Math.round(init.ms * 1000) / 1000 };
}

// ---- main --------------------------------------------------------------------------------

const t0 = now();
let result;
try {
	result = await scenario();
} catch (e) {
	noteError(e);
	result = { ops: 0 };
}
result.scenario = SCENARIO;
result.resumes = resumesTotal;
result.k = K;
result.errors = errorCount;
if (errors.length)
	result.error_samples = errors;
result.wall_ms = Math.round(now() - t0);
process.stdout.write(`${JSON.stringify(result)}\n`);
// Nothing completed in the measured window is not an error on a busy machine; nothing at all is.
const ok = errorCount === 0 && (result.ops_total ?? result.ops) > 0;
process.exit(ok || SCENARIO === 'answer' ? 0 : 1);
