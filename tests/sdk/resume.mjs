// resume.mjs — resuming a call's stream with GET + Last-Event-ID.
//   raw_suffix:    a raw client (the SDK hides event ids and chooses itself when to reconnect)
//                  drops and resumes an `interactive` stream (elicitation, sampling, a log
//                  notification, elicitation) around its answers; every resume yields exactly
//                  the events after the id it names: no gap, no repeat, the same bytes as
//                  dmcp_events, ending with the response.
//   sdk_reconnect: the SDK's own reconnection: the program ends stream connections after
//                  DMCP_STREAM_HOLD_MS=1000 with retry:, the handler answers after 3 s, the call
//                  still completes (the SDK resumes with GET after each retry:).
import { assert, checkRun, isRequest, isResponse, main, note, performance, Raw, responseOf,
    runFacts, runOfId, sdk, sleep } from './lib.mjs';

const GREETING = 'Hello Ada, welcome aboard!';

function accepted(status, what) {
    assert.equal(status.status, 202, `${what}: ${status.status} ${status.text}`);
}

await main({
    async raw_suffix() {
        const raw = new Raw();
        await raw.init({ elicitation: { form: {} }, sampling: {} });
        const got = []; // every event the client received, over all its connections, in order

        // 1. POST: the priming event and the first question; then the client goes away.
        let s = await raw.callStream(1, 'interactive');
        let evs = await s.until(isRequest);
        s.close();
        got.push(...evs);
        assert.equal(evs.length, 2, `first events: ${JSON.stringify(evs)}`);
        const run = runOfId(evs[0].id);
        assert.equal(evs[0].id, `${run}:0`);
        assert.equal(evs[0].data, '', 'the priming event has no data');
        assert.equal(evs[1].msg.method, 'elicitation/create');
        assert.equal(evs[1].msg.params.message, 'What is your name?');
        accepted(await raw.answer(evs[1].msg.id, { action: 'accept', content: { name: 'Ada' } }),
            'name');

        // 2. Resume after the question: the sampling request. Its answer goes on another
        //    connection while this one stays open and follows the run: a log notification and
        //    the second question come live.
        s = await raw.resume(`${run}:1`);
        evs = await s.until(isRequest);
        got.push(...evs);
        assert.equal(evs.at(-1)?.msg?.method, 'sampling/createMessage', JSON.stringify(evs));
        accepted(await raw.answer(evs.at(-1).msg.id, { role: 'assistant', model: 'raw-model',
            content: { type: 'text', text: GREETING } }), 'sampling');
        evs = await s.until(isRequest);
        s.close();
        got.push(...evs);
        assert.equal(evs.at(-1)?.msg?.params?.message, GREETING, JSON.stringify(evs));
        const last = evs.at(-1).id;
        accepted(await raw.answer(evs.at(-1).msg.id, { action: 'accept', content: { ok: true } }),
            'keep');

        // 3. Resume after the second question: the response, then the stream ends.
        s = await raw.resume(last);
        evs = await s.all();
        got.push(...evs);
        assert.equal(s.end, 'eof', 'the stream ends after the response');
        assert.ok(isResponse(got.at(-1)), 'the last event is the response');

        // Exactly 0..N once each, in order, and the same bytes as the table.
        const f = checkRun(run, { status: 'completed', steps: 4, answers: 3,
            kinds: ['request', 'request', 'notification', 'request', 'response'] });
        assert.deepEqual(got.map(e => e.id), [0, 1, 2, 3, 4, 5].map(n => `${run}:${n}`));
        assert.deepEqual(got.slice(1).map(e => e.data), f.events.map(e => e.body));
        assert.deepEqual(got[3].msg.params, { level: 'info', logger: 'interactive',
            data: 'greeting drafted' });
        assert.equal(got.at(-1).msg.id, 1);
        assert.deepEqual(got.at(-1).msg.result.content,
            [{ type: 'text', text: `Kept: ${GREETING}` }]);

        // Every suffix again, now that the run is over: after id k, exactly k+1..N.
        for (let k = 0; k <= 5; k++) {
            s = await raw.resume(`${run}:${k}`);
            evs = await s.all();
            assert.equal(s.end, 'eof');
            assert.deepEqual(evs.map(e => e.id), got.slice(k + 1).map(e => e.id),
                `suffix after ${k}`);
            assert.deepEqual(evs.map(e => e.data), got.slice(k + 1).map(e => e.data));
        }
        // Past the end, and a malformed id.
        let r = await raw.get(`${run}:6`);
        assert.equal(r.status, 404, `Last-Event-ID past the end: ${await r.text()}`);
        r = await raw.get(`${run}:x`);
        assert.equal(r.status, 400, `malformed Last-Event-ID: ${await r.text()}`);
        assert.deepEqual(runFacts(run).events, f.events, 'reading changed nothing');
    },

    // The program runs with DMCP_STREAM_HOLD_MS=1000 and DMCP_RETRY_MS=1000 (tests/sdk.bats
    // restarts it so): the POST's connection ends at ~1 s with retry:, the SDK resumes at ~2 s
    // with GET, that connection ends at ~3 s, the next resume comes at ~4 s. The handler answers
    // after 3.5 s, between two connections, so the outcome does not hang on a race with the end
    // of a connection (at 3 s it would) and the response must come from the table on the next
    // resume.
    async sdk_reconnect() {
        const gets = [];
        // Every GET the SDK makes: when it began, its Last-Event-ID, its status and when that
        // came (with the first bytes of the body: nginx holds a bodiless header back).
        const tap = async (url, init = {}) => {
            if ((init.method || 'GET') !== 'GET') return fetch(url, init);
            const g = { sent: Math.round(performance.now() - t0),
                leid: new Headers(init.headers).get('last-event-id') };
            gets.push(g);
            const r = await fetch(url, init);
            g.status = r.status;
            g.got = Math.round(performance.now() - t0);
            return r;
        };
        let asked = null;
        const t0 = performance.now();
        const { client, errors } = await sdk({
            caps: { elicitation: { form: {} } }, fetch: tap,
            elicit: async (req, extra) => {
                asked = { id: extra.requestId, at: Math.round(performance.now() - t0) };
                await sleep(3500);
                return { action: 'accept', content: { ok: true } };
            }
        });
        const t1 = performance.now();
        let result, failure;
        try {
            result = await client.callTool({ name: 'confirm', arguments: {} }, undefined,
                { timeout: 10000 });
        } catch (e) {
            failure = e;
        }
        const t2 = performance.now();
        await client.close();
        const resumes = gets.filter(g => g.leid !== null);
        const report = `call ${Math.round(t1 - t0)}..${Math.round(t2 - t0)} ms, question at ` +
            `${asked && asked.at} ms; GETs (ms: Last-Event-ID -> status at ms): ${gets.map(g =>
                `${g.sent}: ${g.leid} -> ${g.status} at ${g.got}`).join('; ')}; transport ` +
            `errors: ${JSON.stringify(errors)}`;
        note(`SDK reconnection: ${report}`);
        if (failure) throw new Error(`the call did not complete: ${failure.message}`);
        assert.deepEqual(result.structuredContent, { accepted: true });
        const run = runOfId(asked.id);
        assert.ok(t2 - t1 >= 3500, 'the call took the handler\'s 3.5 s');
        assert.ok(resumes.length >= 1, 'the SDK never resumed with GET');
        assert.equal(resumes[0].leid, `${run}:1`, 'the first resume names the request event');
        for (const g of resumes) {
            assert.equal(runOfId(g.leid), run, 'every resume names an event of the run');
            assert.equal(g.status, 200);
        }
        assert.deepEqual(errors, []);
        const f = checkRun(run, { status: 'completed', steps: 2, kinds: ['request', 'response'],
            answers: 1 });
        assert.deepEqual(responseOf(f).result.structuredContent, { accepted: true });
    }
});
