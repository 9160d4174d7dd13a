// resume.mjs — resuming a call's stream with GET + Last-Event-ID.
//   raw_suffix:    a raw client (the SDK hides event ids and chooses itself when to reconnect)
//                  drops and resumes a book_flight stream around each answer; every resume
//                  yields exactly the events after the id it names: no gap, no repeat, the same
//                  bytes as dmcp_events, ending with the response.
//   sdk_reconnect: the SDK's own reconnection: the program ends stream connections after
//                  DMCP_STREAM_HOLD_MS=1000 with retry:, the handler answers after 3 s, the call
//                  still completes (the SDK resumes with GET after each retry:).
import { assert, checkRun, isRequest, isResponse, lsnOf, main, performance, Raw, responseOf,
    runFacts, runOfId, sdk, sleep } from './lib.mjs';

const ROUTE = { from: 'Paris', to: 'Tokyo' };
const SEATS = { count: 2, class: 'business' };

function accepted(status, what) {
    assert.equal(status.status, 202, `${what}: ${status.status} ${status.text}`);
}

await main({
    async raw_suffix() {
        const raw = new Raw();
        await raw.init();
        const got = []; // every event the client received, over all its connections, in order

        // 1. POST: the priming event and the route question; then the client goes away.
        let s = await raw.callStream(1, 'book_flight');
        let evs = await s.until(isRequest);
        s.close();
        got.push(...evs);
        assert.equal(evs.length, 2, `first events: ${JSON.stringify(evs)}`);
        const run = runOfId(evs[0].id);
        assert.equal(evs[0].id, `${run}:0`);
        assert.equal(evs[0].data, '', 'the priming event has no data');
        assert.equal(evs[1].msg.method, 'elicitation/create');
        assert.equal(evs[1].msg.params.message, 'Where do you want to fly?');
        accepted(await raw.answer(evs[1].msg.id, { action: 'accept', content: ROUTE }), 'route');

        // 2. Resume after the route question: progress, the seats question. The answer to it
        //    goes on another connection while this one stays open and follows the run.
        s = await raw.resume(`${run}:1`);
        evs = await s.until(isRequest);
        got.push(...evs);
        assert.equal(evs.at(-1).msg.params.message, 'How many seats, and which class?');
        accepted(await raw.answer(evs.at(-1).msg.id, { action: 'accept', content: SEATS }), 'seats');
        evs = await s.until(isRequest);
        s.close();
        got.push(...evs);
        assert.equal(evs.at(-1).msg.params.message, 'Book 2 business seat(s) from Paris to Tokyo?');
        const last = evs.at(-1).id;
        accepted(await raw.answer(evs.at(-1).msg.id, { action: 'accept', content: { ok: true } }),
            'confirm');

        // 3. Resume after the confirmation question: the last progress and the response.
        s = await raw.resume(last);
        evs = await s.all();
        got.push(...evs);
        assert.equal(s.end, 'eof', 'the stream ends after the response');
        assert.ok(isResponse(got.at(-1)), 'the last event is the response');

        // Exactly 0..N once each, in order, and the same bytes as the table.
        const f = checkRun(run, { status: 'completed', steps: 4, answers: 3, kinds: ['request',
            'notification', 'request', 'notification', 'request', 'notification', 'response'] });
        assert.deepEqual(got.map(e => e.id), [0, 1, 2, 3, 4, 5, 6, 7].map(n => `${run}:${n}`));
        assert.deepEqual(got.slice(1).map(e => e.data), f.events.map(e => e.body));
        const result = got.at(-1).msg.result;
        assert.equal(got.at(-1).msg.id, 1);
        assert.match(result.structuredContent.reference, /^BK[0-9A-F]{8}$/);
        assert.deepEqual(result.structuredContent, { reference: result.structuredContent.reference,
            ...ROUTE, seats: 2 });
        const memo = f.journal.filter(e => e.t === 'memo');
        assert.equal(memo.length, 1);
        assert.equal(memo[0].v, result.structuredContent.reference);

        // Every suffix again, now that the run is over: after id k, exactly k+1..N.
        for (let k = 0; k <= 7; k++) {
            s = await raw.resume(`${run}:${k}`);
            evs = await s.all();
            assert.equal(s.end, 'eof');
            assert.deepEqual(evs.map(e => e.id), got.slice(k + 1).map(e => e.id), `suffix after ${k}`);
            assert.deepEqual(evs.map(e => e.data), got.slice(k + 1).map(e => e.data));
        }
        // Past the end, and a malformed id.
        let r = await raw.get(`${run}:8`);
        assert.equal(r.status, 404, `Last-Event-ID past the end: ${await r.text()}`);
        r = await raw.get(`${run}:x`);
        assert.equal(r.status, 400, `malformed Last-Event-ID: ${await r.text()}`);
        assert.deepEqual(runFacts(run).events, f.events, 'reading changed nothing');
    },

    // The program runs with DMCP_STREAM_HOLD_MS=1000 (tests/sdk.bats restarts it so).
    async sdk_reconnect() {
        const gets = [];
        const tap = async (url, init = {}) => {
            const r = await fetch(url, init);
            if ((init.method || 'GET') === 'GET') {
                gets.push({ leid: new Headers(init.headers).get('last-event-id'), status: r.status,
                    at: performance.now() });
            }
            return r;
        };
        let asked = null;
        const { client, errors } = await sdk({
            caps: { elicitation: { form: {} } }, fetch: tap,
            elicit: async (req, extra) => {
                asked = { id: extra.requestId, at: performance.now() };
                await sleep(3000);
                return { action: 'accept', content: { ok: true } };
            }
        });
        const t0 = performance.now();
        const result = await client.callTool({ name: 'confirm', arguments: {} });
        const t1 = performance.now();
        await client.close();
        assert.deepEqual(result.structuredContent, { accepted: true });
        const run = runOfId(asked.id);
        const resumes = gets.filter(g => g.leid !== null);
        console.log(`# SDK reconnection: call ${Math.round(t1 - t0)} ms, ${resumes.length} GET ` +
            `resumes (${resumes.map(g => `${g.leid.slice(33)}→${g.status}`).join(', ')}); ` +
            `GETs without Last-Event-ID: ${gets.filter(g => g.leid === null).map(g => g.status)}`);
        assert.ok(t1 - t0 >= 3000, 'the call took the handler\'s 3 s');
        assert.ok(resumes.length >= 1, 'the SDK never resumed with GET');
        assert.equal(resumes[0].leid, `${run}:1`, 'the first resume names the request event');
        for (const g of resumes) {
            assert.equal(g.status, 200);
            assert.ok([`${run}:1`].includes(g.leid), `resumed from ${g.leid}`);
        }
        assert.deepEqual(errors, []);
        const f = checkRun(run, { status: 'completed', steps: 2, kinds: ['request', 'response'],
            answers: 1 });
        assert.deepEqual(responseOf(f).result.structuredContent, { accepted: true });
    }
});
