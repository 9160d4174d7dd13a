// progress.mjs — progress notifications through the SDK's onprogress.
//   slow_progress: {steps: 5, delay_ms: 200}: five notifications, rising, with the call's token,
//                  delivered while the tool works (not batched at the end), each one already
//                  committed to dmcp_events when it reaches the client.
//   across_steps:  book_flight reports progress between its three questions: the progress of
//                  earlier steps is replayed (not sent again) when the tool resumes.
import { assert, checkRun, lsnOf, main, note, performance, responseOf, runOfId, sdk,
    sql } from './lib.mjs';

// One slow_progress call; CHECK_DB: look each notification's event up in dmcp_events as it is
// delivered (synchronously: that blocks the event loop, so timings are measured on another call).
async function call(checkDb) {
    const { client, errors } = await sdk({ caps: {} });
    const got = [];
    let lastToken = null; // the SSE id of the newest event, "<run>:<lsn>"
    const start = performance.now();
    const result = await client.callTool(
        { name: 'slow_progress', arguments: { steps: 5, delay_ms: 200 } }, undefined, {
            onresumptiontoken: t => { lastToken = t; },
            onprogress: p => {
                const g = { p, at: performance.now(), run: runOfId(lastToken),
                    lsn: lsnOf(lastToken) };
                if (checkDb) {
                    // Nothing reaches a client before the commit that holds it: at delivery, the
                    // event that carried this notification must be in the table already.
                    g.row = sql(`select kind || ' ' || body from dmcp_events
                        where run_id = :'r' and lsn = :'l'`, { r: g.run, l: g.lsn });
                }
                got.push(g);
            }
        });
    const done = performance.now();
    await client.close();
    assert.deepEqual(errors, []);
    assert.ok(!result.isError, JSON.stringify(result));
    assert.deepEqual(result.content, [{ type: 'text', text: 'Finished 5 steps.' }]);
    assert.equal(got.length, 5, `progress notifications: ${JSON.stringify(got.map(g => g.p))}`);
    got.forEach((g, i) => {
        assert.equal(g.p.progress, i + 1, `progress #${i + 1}`);
        assert.equal(g.p.total, 5);
        assert.equal(g.lsn, i + 1, `event id of progress #${i + 1}`);
        if (checkDb) {
            assert.ok(g.row.startsWith('notification '), `event ${g.lsn} was not in dmcp_events ` +
                `at delivery (found: '${g.row}')`);
            assert.equal(JSON.parse(g.row.slice(13)).params.progress, i + 1);
        }
    });

    const runId = got[0].run;
    const f = checkRun(runId, { status: 'completed', steps: 1, answers: 0,
        kinds: ['notification', 'notification', 'notification', 'notification',
            'notification', 'response'] });
    // The token is the SDK's (the request id): stored once, echoed in every notification.
    assert.equal(f.progress_token, f.request_id);
    for (const ev of f.events.slice(0, 5)) {
        const m = JSON.parse(ev.body);
        assert.equal(m.method, 'notifications/progress');
        assert.equal(JSON.stringify(m.params.progressToken), f.request_id);
    }
    assert.equal(f.notes, 5);
    assert.deepEqual(responseOf(f).result.content, result.content);
    return { got, start, done };
}

await main({
    async slow_progress() {
        // Timing: ~200 ms apart, the first ~800 ms before the result (the tool sleeps before
        // each step), i.e. each one went out as the tool made it, not in a burst at the end
        // (a burst: gaps of a few ms). Bounds with room for a loaded machine's jitter.
        const { got, start, done } = await call(false);
        const gaps = got.slice(1).map((g, i) => Math.round(g.at - got[i].at));
        const mean = Math.round((got[4].at - got[0].at) / 4);
        const lead = Math.round(done - got[0].at);
        note(`progress: gaps ${gaps.join(', ')} ms (mean ${mean}); first one ${lead} ms ` +
            `before the result; call ${Math.round(done - start)} ms`);
        for (const gap of gaps) assert.ok(gap >= 50, `progress arrived in a burst: gaps ${gaps}`);
        assert.ok(mean >= 150, `progress ${mean} ms apart on average, not ~200`);
        assert.ok(lead >= 500, `the first progress came only ${lead} ms before the result`);
        // Committed before delivered.
        await call(true);
    },

    async across_steps() {
        const answers = {
            'Where do you want to fly?': { from: 'Oslo', to: 'Rome' },
            'How many seats, and which class?': { count: 1, class: 'economy' },
            'Book 1 economy seat(s) from Oslo to Rome?': { ok: true }
        };
        const asked = [];
        const { client, errors } = await sdk({
            caps: { elicitation: { form: {} } },
            elicit: async (req, extra) => {
                asked.push({ message: req.params.message, id: extra.requestId });
                const content = answers[req.params.message];
                return content ? { action: 'accept', content } : { action: 'decline' };
            }
        });
        await client.listTools();
        const got = [];
        const result = await client.callTool({ name: 'book_flight', arguments: {} }, undefined,
            { onprogress: p => got.push(p), timeout: 20000 });
        await client.close();
        assert.deepEqual(errors, []);
        assert.ok(!result.isError, `the booking failed after ${asked.length} questions: ` +
            `${JSON.stringify(result)}; progress: ${JSON.stringify(got)}`);
        assert.deepEqual(asked.map(a => a.message), Object.keys(answers));
        assert.match(result.structuredContent.reference, /^BK[0-9A-F]{8}$/);
        assert.deepEqual(result.structuredContent, { reference: result.structuredContent.reference,
            from: 'Oslo', to: 'Rome', seats: 1 });
        assert.deepEqual(got, [
            { progress: 1, total: 3, message: 'route chosen' },
            { progress: 2, total: 3, message: 'seats chosen' },
            { progress: 3, total: 3, message: 'booked' }]);
        const f = checkRun(runOfId(asked[0].id), { status: 'completed', steps: 4, answers: 3,
            kinds: ['request', 'notification', 'request', 'notification', 'request',
                'notification', 'response'] });
        assert.deepEqual(responseOf(f).result.structuredContent, result.structuredContent);
    }
});
