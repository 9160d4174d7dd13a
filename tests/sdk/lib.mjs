// lib.mjs — what the scenario scripts of tests/sdk.bats share: the official MCP TypeScript SDK
// (from tests/node, installed there by `npm ci`), a raw HTTP/SSE client for what the SDK cannot
// express, database facts through psql, and a tiny runner (`node SCRIPT.mjs CASE`).
//
// Environment (set by tests/sdk.bats for the stack a case runs against):
//   DMCP_URL           the MCP endpoint, http://127.0.0.1:PORT/mcp
//   DMCP_DATABASE_URL  libpq conninfo of the stack's database
//   DMCP_PSQL          the psql program (default: psql)
//   STACK_DIR          the stack's directory (logs, workers.pids)
//   SDK_AUTH           user:password for HTTP basic auth (stacks started with STACK_AUTH=1), or
//                      "Bearer TOKEN" (DMCP_AUTH=token or jwt)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

// The SDK's package exports map "./client" etc. to these files; a relative path lets the
// scripts live outside tests/node (Node's ES module resolution ignores NODE_PATH).
import { Client } from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StreamableHTTPClientTransport }
    from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import {
    CreateMessageRequestSchema,
    ElicitationCompleteNotificationSchema,
    ElicitRequestSchema,
    LoggingMessageNotificationSchema,
    UrlElicitationRequiredError
} from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';

export { assert, Client, StreamableHTTPClientTransport, CreateMessageRequestSchema,
    ElicitationCompleteNotificationSchema, ElicitRequestSchema, LoggingMessageNotificationSchema,
    UrlElicitationRequiredError, performance };

export const URL_ = must('DMCP_URL');
export const DB = must('DMCP_DATABASE_URL');
export const PSQL = process.env.DMCP_PSQL || 'psql';
export const STACK_DIR = process.env.STACK_DIR || '';
export const PROTOCOL = '2025-11-25';

function must(name) {
    const v = process.env[name];
    if (!v) {
        console.error(`${name} is not set (tests/sdk.bats sets it)`);
        process.exit(2);
    }
    return v;
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));

/** A note for the test report: tests/sdk.bats shows lines starting with "# " in the TAP output. */
export function note(text) {
    console.log(`# ${text}`);
}

/** Run CASES[argv[2]] with a time limit; exit 0 when it passes, 1 with the reason when not. */
export async function main(cases, { timeoutMs = 60000 } = {}) {
    const name = process.argv[2];
    const fn = cases[name];
    if (!fn) {
        console.error(`unknown case '${name}'; cases: ${Object.keys(cases).join(', ')}`);
        process.exit(2);
    }
    const timer = setTimeout(() => {
        console.error(`FAIL ${name}: no result after ${timeoutMs} ms`);
        process.exit(3);
    }, timeoutMs);
    timer.unref();
    try {
        await fn();
        console.log(`passed: ${name}`);
        process.exit(0);
    } catch (e) {
        console.error(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
        process.exit(1);
    }
}

// ---- database facts -------------------------------------------------------------------------

/** Run SQL (psql variables :'name' from VARS) and return its output, trimmed. */
export function sql(query, vars = {}) {
    const args = ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', DB];
    for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
    return execFileSync(PSQL, args, { input: query, encoding: 'utf8', timeout: 20000 }).trim();
}

/** The rows of a query as objects (one json_agg round trip). */
export function rows(query, vars = {}) {
    return JSON.parse(sql(`select coalesce(json_agg(t), '[]'::json) from (${query}) t`, vars));
}

/** Everything the database says about some runs: a Map from id to the run's row (journal
 * parsed), its events, and whether its LSNs are gap-free. One psql round trip. */
export function factsOf(runIds) {
    for (const id of runIds) assert.match(id, /^[0-9a-f]{32}$/);
    const all = JSON.parse(sql(`select coalesce(json_agg(json_build_object(
        'run', row_to_json(r),
        'events', (select coalesce(json_agg(e order by e.lsn), '[]'::json) from
            (select lsn, kind, body from dmcp_events where run_id = r.id) e),
        -- the brief's gap-free check: LSNs 1..n with n rows (lsn is unique per run, > 0)
        'gapFree', (select count(*) = max(lsn) and min(lsn) = 1 from dmcp_events
            where run_id = r.id))), '[]'::json)
        from (select id, session_id, principal, request_id, progress_token, tool, status,
            journal, notes, last_lsn, pending_id, pending_method, steps, error
            from dmcp_runs where id = any(:'ids'::text[])) r`, { ids: `{${runIds.join(',')}}` }));
    const out = new Map();
    for (const { run, events, gapFree } of all) {
        run.journal = JSON.parse(run.journal);
        run.events = events;
        run.gapFree = gapFree === true;
        run.kinds = events.map(e => e.kind);
        run.answers = run.journal.filter(e => e.ans !== undefined).length;
        out.set(run.id, run);
    }
    return out;
}

/** factsOf for one run. */
export function runFacts(runId) {
    const f = factsOf([runId]).get(runId);
    assert.ok(f, `run ${runId} is not in dmcp_runs`);
    return f;
}

/** Assert the common facts of a run (an id, or facts from factsOf). */
export function checkRun(run, { status, steps, kinds, answers }) {
    const f = typeof run === 'string' ? runFacts(run) : run;
    const where = `run ${f.id}`;
    assert.equal(f.status, status, `${where}: status`);
    if (steps !== undefined) assert.equal(f.steps, steps, `${where}: steps`);
    if (kinds !== undefined) assert.deepEqual(f.kinds, kinds, `${where}: event kinds`);
    if (answers !== undefined) assert.equal(f.answers, answers, `${where}: answers in the journal`);
    assert.ok(f.gapFree, `${where}: LSNs are not gap-free: ${f.events.map(e => e.lsn)}`);
    assert.equal(Number(f.last_lsn), f.events.length, `${where}: last_lsn vs events`);
    const responses = f.kinds.filter(k => k === 'response').length;
    if (['completed', 'failed'].includes(status)) {
        assert.equal(responses, 1, `${where}: response events`);
        assert.equal(f.kinds.at(-1), 'response', `${where}: the response is the last event`);
        assert.equal(f.pending_id, null, `${where}: pending_id after the end`);
    } else {
        assert.equal(responses, 0, `${where}: response events of an unfinished run`);
    }
    return f;
}

/** The run a session made last (by creation time). */
export function lastRunOf(sessionId) {
    const id = sql(`select id from dmcp_runs where session_id = :'s'
        order by created_at desc limit 1`, { s: sessionId });
    assert.match(id, /^[0-9a-f]{32}$/, `no run in session ${sessionId}`);
    return id;
}

/** The response event of a finished run, parsed. */
export function responseOf(facts) {
    const ev = facts.events.find(e => e.kind === 'response');
    assert.ok(ev, `run ${facts.id} has no response event`);
    return JSON.parse(ev.body);
}

// ---- the SDK client -------------------------------------------------------------------------

export function basicAuth(userpass) {
    return 'Basic ' + Buffer.from(userpass).toString('base64');
}

/** The Authorization header for a credential: "Bearer TOKEN" as it is, user:password as
 * basic auth. */
export function authHeader(auth) {
    return /^Bearer /i.test(auth) ? auth : basicAuth(auth);
}

/**
 * An SDK Client connected over StreamableHTTPClientTransport. Options: caps (client
 * capabilities), elicit / sample (request handlers), fetch (wraps the transport's fetch),
 * auth (user:password, default SDK_AUTH), reconnectionOptions.
 * Returns { client, transport, sid, errors } — errors collects the transport's onerror reports.
 */
export async function sdk({ caps = {}, elicit, sample, fetch: f, auth = process.env.SDK_AUTH,
    reconnectionOptions, name = 'dmcp-sdk-test' } = {}) {
    const client = new Client({ name, version: '1.0.0' }, { capabilities: caps });
    if (elicit) client.setRequestHandler(ElicitRequestSchema, elicit);
    if (sample) client.setRequestHandler(CreateMessageRequestSchema, sample);
    const errors = [];
    // Errors reported once close() has begun are not the server's: close() aborts the SDK's
    // background GET (the standalone stream it tries after initialize), and when that GET is
    // still in flight the abort is reported as "This operation was aborted".
    let closing = false;
    const close = client.close.bind(client);
    client.close = async () => {
        closing = true;
        return close();
    };
    client.onerror = e => {
        if (!closing) errors.push(String(e && e.message ? e.message : e));
    };
    const opts = {};
    if (auth) opts.requestInit = { headers: { Authorization: authHeader(auth) } };
    if (f) opts.fetch = f;
    if (reconnectionOptions) opts.reconnectionOptions = reconnectionOptions;
    const transport = new StreamableHTTPClientTransport(new URL(URL_), opts);
    await client.connect(transport);
    assert.match(transport.sessionId || '', /^[0-9a-f]{32}$/, 'the SDK got no session id');
    return { client, transport, sid: transport.sessionId, errors };
}

/** The run id in an SSE event id "<run>:<lsn>", or in a request id "<run>/<effect>". */
export function runOfId(id) {
    const m = /^([0-9a-f]{32})[:/]\d+$/.exec(String(id));
    assert.ok(m, `not an event or request id of dmcp: ${id}`);
    return m[1];
}

// ---- the raw client -------------------------------------------------------------------------

/** A minimal Streamable HTTP client: fetch() and an SSE parser, nothing automatic. */
export class Raw {
    constructor({ auth = process.env.SDK_AUTH, sid } = {}) {
        this.auth = auth;
        this.sid = sid;
    }

    headers({ sid = this.sid, auth = this.auth, extra = {} } = {}) {
        const h = {
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': PROTOCOL,
            ...extra
        };
        if (sid) h['Mcp-Session-Id'] = sid;
        if (auth) h.Authorization = authHeader(auth);
        return h;
    }

    /** initialize + notifications/initialized; returns the session id. */
    async init(caps = { elicitation: { form: {} } }) {
        const r = await fetch(URL_, {
            method: 'POST', headers: this.headers({ sid: null }),
            body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {
                protocolVersion: PROTOCOL, capabilities: caps,
                clientInfo: { name: 'dmcp-raw-test', version: '1.0.0' } } })
        });
        const body = await r.text();
        assert.equal(r.status, 200, `initialize: ${r.status} ${body}`);
        this.sid = r.headers.get('mcp-session-id');
        assert.match(this.sid || '', /^[0-9a-f]{32}$/, 'initialize gave no session id');
        const n = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
        assert.equal(n.status, 202, 'notifications/initialized');
        await n.body?.cancel();
        return this.sid;
    }

    post(msg, { signal, ...h } = {}) {
        return fetch(URL_, { method: 'POST', headers: this.headers(h), body: JSON.stringify(msg),
            signal });
    }

    /** POST a JSON-RPC response (an answer to one of the server's requests); its HTTP status. */
    async answer(id, result, h = {}) {
        const r = await this.post({ jsonrpc: '2.0', id, result }, h);
        const text = await r.text();
        return { status: r.status, text };
    }

    get(lastEventId, { signal, ...h } = {}) {
        const headers = this.headers(h);
        delete headers['Content-Type'];
        headers.Accept = 'text/event-stream';
        if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
        return fetch(URL_, { method: 'GET', headers, signal });
    }

    del(h = {}) {
        return fetch(URL_, { method: 'DELETE', headers: this.headers(h) });
    }

    /** POST tools/call (META: its _meta); its SSE stream (asserts 200 text/event-stream). */
    async callStream(id, name, args = {}, meta) {
        const ac = new AbortController();
        const params = { name, arguments: args };
        if (meta) params._meta = meta;
        const r = await this.post({ jsonrpc: '2.0', id, method: 'tools/call', params },
            { signal: ac.signal });
        const type = r.headers.get('content-type') || '';
        if (r.status !== 200 || !type.startsWith('text/event-stream')) {
            const text = await r.text().catch(() => '');
            throw new Error(`tools/call ${name}: ${r.status} ${type} ${text}`);
        }
        return new SSE(r, ac);
    }

    /** GET with Last-Event-ID and return the SSE stream (asserts 200). */
    async resume(lastEventId, h = {}) {
        const ac = new AbortController();
        const r = await this.get(lastEventId, { signal: ac.signal, ...h });
        if (r.status !== 200) {
            const text = await r.text().catch(() => '');
            throw Object.assign(new Error(`GET Last-Event-ID ${lastEventId}: ${r.status} ${text}`),
                { status: r.status });
        }
        // A resumed stream starts with a priming event whose id is the client's own cursor
        // (and empty data): checked here, then skipped, so callers see only the suffix.
        return new SSE(r, ac, lastEventId);
    }
}

/** An SSE stream read event by event: { id, data, retry, msg (parsed data), at (ms) }. */
export class SSE {
    constructor(response, abort, primedWith = null) {
        this.response = response;
        this.abort = abort;
        this.primedWith = primedWith; // a resumed stream: its first event must prime with this
        this.reader = response.body.getReader();
        this.decoder = new TextDecoder();
        this.buf = '';
        this.pending = [];
        this.cur = {};
        this.end = null; // 'eof' or the error text, once the connection is over
    }

    _parse() {
        let i;
        while ((i = this.buf.search(/\r\n|\r|\n/)) >= 0) {
            const line = this.buf.slice(0, i);
            this.buf = this.buf.slice(i + (this.buf.startsWith('\r\n', i) ? 2 : 1));
            if (line === '') {
                if (Object.keys(this.cur).length > 0) {
                    const ev = this.cur;
                    ev.at = performance.now();
                    if (ev.data) ev.msg = JSON.parse(ev.data);
                    this.pending.push(ev);
                }
                this.cur = {};
                continue;
            }
            if (line.startsWith(':')) continue;
            const c = line.indexOf(':');
            const field = c < 0 ? line : line.slice(0, c);
            let value = c < 0 ? '' : line.slice(c + 1);
            if (value.startsWith(' ')) value = value.slice(1);
            if (field === 'data') {
                this.cur.data = this.cur.data === undefined ? value : `${this.cur.data}\n${value}`;
            }
            else if (field === 'id') this.cur.id = value;
            else if (field === 'retry') this.cur.retry = Number(value);
            else if (field === 'event') this.cur.event = value;
        }
    }

    /** The next event, or null when the connection ended (this.end says how). */
    async next(timeoutMs = 15000) {
        let timer;
        const limit = new Promise((_, rej) => {
            timer = setTimeout(() => rej(new Error(`no SSE event within ${timeoutMs} ms`)),
                timeoutMs);
        });
        try {
            while (this.pending.length === 0 && this.end === null) {
                let chunk;
                try {
                    chunk = await Promise.race([this.reader.read(), limit]);
                } catch (e) {
                    if (/no SSE event/.test(e.message)) {
                        this.close();
                        throw e;
                    }
                    this.end = `error: ${e.cause ? e.cause.message || e.cause : e.message}`;
                    break;
                }
                if (chunk.done) {
                    this.end = 'eof';
                    break;
                }
                this.buf += this.decoder.decode(chunk.value, { stream: true });
                this._parse();
            }
        } finally {
            clearTimeout(timer);
        }
        const ev = this.pending.length > 0 ? this.pending.shift() : null;
        if (ev !== null && this.primedWith !== null) {
            const want = this.primedWith;
            this.primedWith = null;
            assert.ok(ev.id === want && (ev.data === undefined || ev.data === ''),
                `a resumed stream must start with a priming event id ${want}, got ${JSON.stringify(ev)}`);
            return this.next(timeoutMs);
        }
        return ev;
    }

    /** Read events until PRED(event) is true (returns the events read, that one included) or
     * the connection ends. */
    async until(pred, timeoutMs = 15000) {
        const out = [];
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const ev = await this.next(Math.max(1, deadline - Date.now()));
            if (ev === null) return out;
            out.push(ev);
            if (pred(ev)) return out;
        }
    }

    /** All events until the connection ends. */
    all(timeoutMs = 15000) {
        return this.until(() => false, timeoutMs);
    }

    close() {
        try {
            this.abort.abort();
        } catch { /* already closed */ }
        if (this.end === null) this.end = 'closed by us';
    }
}

/** true for an event carrying a request of the server (elicitation/create, ...). */
export const isRequest = ev => ev.msg && ev.msg.method !== undefined && ev.msg.id !== undefined;
/** true for an event carrying the response of the call. */
export const isResponse = ev => ev.msg && ev.msg.method === undefined && ev.msg.id !== undefined;

/** The LSN in an event id "<run>:<lsn>". */
export function lsnOf(id) {
    const m = /^[0-9a-f]{32}:(\d+)$/.exec(String(id));
    assert.ok(m, `not an event id of dmcp: ${id}`);
    return Number(m[1]);
}

/** Retry FN (returning { status }) while it gives 502/503 or fails without an HTTP answer;
 * COUNTS them by status (neterr for no answer). */
export async function retrying(fn, counts, { tries = 60, delayMs = 100 } = {}) {
    for (let i = 1; ; i++) {
        let r;
        try {
            r = await fn();
        } catch (e) {
            if (e instanceof TypeError && i < tries) { // fetch's "fetch failed": no HTTP answer
                counts.neterr = (counts.neterr || 0) + 1;
                await sleep(delayMs);
                continue;
            }
            if ((e.status === 502 || e.status === 503) && i < tries) {
                counts[e.status] = (counts[e.status] || 0) + 1;
                await sleep(delayMs);
                continue;
            }
            throw e;
        }
        if ((r.status === 502 || r.status === 503) && i < tries) {
            counts[r.status] = (counts[r.status] || 0) + 1;
            await sleep(delayMs);
            continue;
        }
        return r;
    }
}

/** Lines of the stack's program log (DIR/dmcp.log). */
export function programLog() {
    return readFileSync(`${STACK_DIR}/dmcp.log`, 'utf8').split('\n');
}

/** Run a bash command with tests/lib/stack.sh sourced (functions exported by tests/sdk.bats are
 * visible too); resolves with its exit status, output passed through to stderr. */
export function stackCommand(command, args = [], timeoutMs = 90000) {
    const stackSh = fileURLToPath(new URL('../lib/stack.sh', import.meta.url));
    return new Promise((resolve, reject) => {
        const p = spawn('bash', ['-c', `. "$0" && ${command} "$@"`, stackSh, ...args],
            { stdio: ['ignore', 'inherit', 'inherit'] });
        const t = setTimeout(() => {
            p.kill('SIGKILL');
            reject(new Error(`${command} did not finish in ${timeoutMs} ms`));
        }, timeoutMs);
        p.on('exit', code => {
            clearTimeout(t);
            resolve(code);
        });
    });
}
