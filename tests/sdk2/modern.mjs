// modern.mjs — dmcp on the 2026-07-28 wire with the official TypeScript SDK v2 client
// (@modelcontextprotocol/client 2.4.0, pinned in tests/node), its version negotiation pinned
// to 2026-07-28: no initialize, no session; server/discover at connect, then sessionless
// requests. Only the demo tools (examples/demo.c) are used. Run by tests/sdk2.bats as
// `node modern.mjs CASE`.
//   list_and_echo  discover's offer is the pinned revision; tools/list and an echo call.
//   progress       a tool's progress reaches onprogress while it works, with the call's token.
//   listen         client.listen(): the acknowledged filter (narrowed to what the program
//                  can change); a list change (announced the way
//                  dmcp_list_changed does: a NOTIFY on the server's channel) reaches the
//                  notification handler.
//   no_rows        none of the above wrote a row: the modern wire stores nothing for calls
//                  that finish in one step.
//   elicitation, sampling, book_flight, retry_twice, failover
//                  multi-round-trip calls answered by the client's handlers (input_required
//                  and requestState; the client retries with a new JSON-RPC id each round).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { Client, StreamableHTTPClientTransport }
    from '../node/node_modules/@modelcontextprotocol/client/dist/index.mjs';

const URL_ = process.env.DMCP_URL;
const DB = process.env.DMCP_DATABASE_URL;
const PSQL = process.env.DMCP_PSQL || 'psql';
const V = '2026-07-28';

function sql(query) {
    return execFileSync(PSQL, ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', DB],
        { input: query, encoding: 'utf8', timeout: 20000 }).trim();
}

/** Rows of every dmcp_* table, as one string. */
function counts() {
    return sql(`select string_agg(t || '=' || n, ' ' order by t) from (
        select 'events' t, count(*) n from dmcp_events union all
        select 'runs', count(*) from dmcp_runs union all
        select 'sessions', count(*) from dmcp_sessions union all
        select 'subscriptions', count(*) from dmcp_subscriptions) c`);
}

/** A client pinned to the modern wire; fetches are recorded (method, headers, body). */
async function connect({ caps = {}, handlers = {} } = {}) {
    const sent = [];
    const fetchLog = async (url, init) => {
        const h = new Headers(init?.headers);
        sent.push({ method: init?.method, version: h.get('mcp-protocol-version'),
            mcpMethod: h.get('mcp-method'), session: h.get('mcp-session-id'),
            body: typeof init?.body === 'string' ? JSON.parse(init.body) : null });
        return fetch(url, init);
    };
    const client = new Client({ name: 'dmcp-sdk2-test', version: '1.0.0' },
        { capabilities: caps, versionNegotiation: { mode: { pin: V } } });
    for (const [method, fn] of Object.entries(handlers)) client.setRequestHandler(method, fn);
    const transport = new StreamableHTTPClientTransport(new URL(URL_), { fetch: fetchLog });
    await client.connect(transport);
    return { client, transport, sent };
}

const cases = {
    async list_and_echo() {
        const { client, sent } = await connect();
        const tools = await client.listTools();
        const names = tools.tools.map(t => t.name);
        for (const n of ['echo', 'slow_progress', 'book_flight']) {
            assert.ok(names.includes(n), `tools/list lacks ${n}: ${names}`);
        }
        const r = await client.callTool({ name: 'echo', arguments: { message: 'hi there' } });
        assert.ok(!r.isError, JSON.stringify(r));
        assert.equal(r.structuredContent.echoed, 'hi there');
        await client.close();
        assert.equal(sent[0].body.method, 'server/discover', 'the first request is the probe');
        assert.ok(!sent.some(s => s.body?.method === 'initialize'), 'no initialize');
        assert.ok(!sent.some(s => s.session), 'no Mcp-Session-Id');
        for (const s of sent.filter(x => x.body?.method)) {
            assert.equal(s.version, V, `${s.body.method}: MCP-Protocol-Version`);
            assert.equal(s.body.params._meta['io.modelcontextprotocol/protocolVersion'], V);
        }
    },

    async progress() {
        const { client } = await connect();
        const got = [];
        const r = await client.callTool({ name: 'slow_progress', arguments: { steps: 3, delay_ms: 500 } },
            { onprogress: p => got.push({ p, at: Date.now() }) });
        await client.close();
        assert.ok(!r.isError, JSON.stringify(r));
        assert.deepEqual(got.map(g => g.p.progress), [1, 2, 3]);
        assert.ok(got.every(g => g.p.total === 3));
        // The tool spends 1 s between its first and last progress; sent as it works, they
        // arrive spread out. The bound is loose (a loaded machine delays single messages):
        // only a burst at the end stays under it.
        const span = got[2].at - got[0].at;
        assert.ok(span >= 400, `progress came in a burst: ${span} ms from first to last`);
    },

    async listen() {
        const { client } = await connect();
        let changed = 0;
        client.setNotificationHandler('notifications/tools/list_changed', () => { changed++; });
        // The demo tools come with no prompts: what cannot change is not acknowledged.
        const sub = await client.listen({ toolsListChanged: true, promptsListChanged: true });
        assert.deepEqual(sub.honoredFilter, { toolsListChanged: true });
        sql(`select pg_notify('dmcp', 'l:tools')`);
        for (let i = 0; i < 50 && changed === 0; i++) await new Promise(r => setTimeout(r, 100));
        assert.equal(changed, 1, 'the tool list change reached the handler once');
        await sub.close();
        assert.equal(await sub.closed, 'local');
        await client.close();
    },

    async no_rows() {
        const before = counts();
        await cases.list_and_echo();
        await cases.progress();
        assert.equal(counts(), before, 'the modern wire wrote rows for one-step calls');
    },

    // ---- multi-round-trip calls: input_required, then retries with a new id each round ----

    async elicitation() {
        const asked = [];
        const { client } = await connect({ caps: { elicitation: { form: {} } }, handlers: {
            'elicitation/create': async req => {
                asked.push(req.params.message);
                return { action: 'accept', content: { ok: true } };
            } } });
        const r = await client.callTool({ name: 'confirm', arguments: { question: 'Deploy?' } },
            { timeout: 15000 });
        await client.close();
        assert.deepEqual(asked, ['Deploy?']);
        assert.deepEqual(r.structuredContent, { accepted: true });
    },

    async sampling() {
        const { client } = await connect({ caps: { sampling: {} }, handlers: {
            'sampling/createMessage': async () => ({ role: 'assistant', model: 'test-model',
                content: { type: 'text', text: 'Ahoy, Ada!' }, stopReason: 'endTurn' }) } });
        const r = await client.callTool({ name: 'greet', arguments: { name: 'Ada', style: 'pirate' } },
            { timeout: 15000 });
        await client.close();
        assert.deepEqual(r.content, [{ type: 'text', text: 'Ahoy, Ada!' }]);
    },

    async book_flight() {
        const answers = {
            'Where do you want to fly?': { from: 'Oslo', to: 'Rome' },
            'How many seats, and which class?': { count: 1, class: 'economy' },
            'Book 1 economy seat(s) from Oslo to Rome?': { ok: true }
        };
        const { client } = await connect({ caps: { elicitation: { form: {} } }, handlers: {
            'elicitation/create': async req => ({ action: 'accept',
                content: answers[req.params.message] }) } });
        const got = [];
        const r = await client.callTool({ name: 'book_flight', arguments: {} },
            { onprogress: p => got.push(p.progress), timeout: 15000 });
        await client.close();
        assert.ok(!r.isError, JSON.stringify(r));
        assert.match(r.structuredContent.reference, /^BK[0-9A-F]{8}$/);
    },

    async failover() {
        // book_flight whose first round was served by one process: at the first question the
        // client says so (SDK2_ASKED) and waits (SDK2_GO) while the test kills that process
        // with kill -9, restarts PostgreSQL and starts another; then it answers every round.
        const answers = {
            'Where do you want to fly?': { from: 'Oslo', to: 'Rome' },
            'How many seats, and which class?': { count: 2, class: 'business' },
            'Book 2 business seat(s) from Oslo to Rome?': { ok: true }
        };
        let first = true;
        const { client } = await connect({ caps: { elicitation: { form: {} } }, handlers: {
            'elicitation/create': async req => {
                if (first) {
                    first = false;
                    writeFileSync(process.env.SDK2_ASKED, 'asked\n');
                    for (let i = 0; i < 600 && !existsSync(process.env.SDK2_GO); i++)
                        await new Promise(r => setTimeout(r, 100));
                    assert.ok(existsSync(process.env.SDK2_GO), 'the test never said go');
                }
                return { action: 'accept', content: answers[req.params.message] };
            } } });
        const r = await client.callTool({ name: 'book_flight', arguments: {} }, { timeout: 60000 });
        await client.close();
        assert.ok(!r.isError, JSON.stringify(r));
        assert.match(r.structuredContent.reference, /^BK[0-9A-F]{8}$/);
        console.log(`reference ${r.structuredContent.reference}`);
    },

    async retry_twice() {
        // The same requestState and inputResponses sent twice: one execution of the step.
        const h = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': V, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'book_flight' };
        const meta = { 'io.modelcontextprotocol/protocolVersion': V,
            'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };
        const post = async (id, extra) => (await fetch(URL_, { method: 'POST', headers: h,
            body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call',
                params: { name: 'book_flight', arguments: {}, _meta: meta, ...extra } }) })).json();
        const r1 = await post(1, {});
        assert.equal(r1.result?.resultType, 'input_required', JSON.stringify(r1));
        const key = Object.keys(r1.result.inputRequests)[0];
        const retry = { requestState: r1.result.requestState, inputResponses: {
            [key]: { action: 'accept', content: { from: 'Oslo', to: 'Rome' } } } };
        const [a, b] = await Promise.all([post(2, retry), post(3, retry)]);
        assert.deepEqual([a.id, b.id], [2, 3], 'each retry is answered with its own id');
        assert.deepEqual(a.result.inputRequests, b.result.inputRequests);
        assert.equal(a.result.requestState, b.result.requestState, 'one step, one answer');
    }
};

const name = process.argv[2];
if (!cases[name]) {
    console.error(`unknown case '${name}'; cases: ${Object.keys(cases).join(', ')}`);
    process.exit(2);
}
const timer = setTimeout(() => { console.error(`FAIL ${name}: no result after 60 s`); process.exit(3); }, 60000);
timer.unref();
try {
    await cases[name]();
    console.log(`passed: ${name}`);
    process.exit(0);
} catch (e) {
    console.error(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
}
