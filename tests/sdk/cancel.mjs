// cancel.mjs — notifications/cancelled: the SDK client aborts a call that waits for an
// elicitation answer (AbortSignal; the SDK then sends notifications/cancelled with the call's
// request id). The run is cancelled, no response is ever written for it, and an answer sent
// afterwards is acknowledged (202) and changes nothing. Also: a cancel for a call that already
// finished, or for an id that names nothing, is accepted and ignored.
import { assert, checkRun, main, Raw, runOfId, sdk, sleep, sql } from './lib.mjs';

async function until(fn, what, ms = 5000) {
    const end = Date.now() + ms;
    for (;;) {
        if (fn()) return;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
    }
}

await main({
    async waiting_call() {
        let onAsk;
        const asked = new Promise(resolve => { onAsk = resolve; });
        const { client, sid } = await sdk({
            caps: { elicitation: { form: {} } },
            elicit: (req, extra) => {
                onAsk(extra.requestId);
                return new Promise(() => {}); // the user never answers
            }
        });
        const ac = new AbortController();
        const call = client.callTool({ name: 'confirm', arguments: {} }, undefined,
            { signal: ac.signal }).then(r => `resolved: ${JSON.stringify(r)}`,
            e => `rejected: ${e.message}`);
        const P = await asked, run = runOfId(P);
        checkRun(run, { status: 'waiting', steps: 1, kinds: ['request'], answers: 0 });

        ac.abort('the user closed the dialog');
        assert.match(await call, /^rejected/, 'the aborted call rejects on the client');
        await until(() => sql(`select status from dmcp_runs where id = :'r'`, { r: run }) ===
            'cancelled', 'the run to be cancelled');
        const f = checkRun(run, { status: 'cancelled', steps: 1, kinds: ['request'],
            answers: 0 });
        assert.equal(f.pending_id, null, 'a cancelled run waits for nothing');
        assert.match(f.error || '', /^cancelled by the client/);

        // A late answer: 202, nothing changes, and no response is written, ever.
        const raw = new Raw({ sid });
        const ans = await raw.answer(P, { action: 'accept', content: { ok: true } });
        assert.equal(ans.status, 202, `late answer: ${ans.status} ${ans.text}`);
        await sleep(300);
        checkRun(run, { status: 'cancelled', steps: 1, kinds: ['request'], answers: 0 });
        await client.close();
    },

    async finished_or_unknown() {
        const raw = new Raw();
        await raw.init();
        const r = await raw.post({ jsonrpc: '2.0', id: 41, method: 'tools/call',
            params: { name: 'echo', arguments: { message: 'done' } } });
        assert.equal(r.status, 200);
        const body = await r.json();
        assert.equal(body.result.structuredContent.echoed, 'done');
        for (const requestId of [41, 'no-such-call', 999]) {
            const c = await raw.post({ jsonrpc: '2.0', method: 'notifications/cancelled',
                params: { requestId, reason: 'too late' } });
            assert.equal(c.status, 202, `cancel of ${requestId}: ${c.status}`);
            assert.equal(await c.text(), '');
        }
        assert.equal(sql(`select count(*) from dmcp_runs where session_id = :'s' and
            status = 'cancelled'`, { s: raw.sid }), '0', 'nothing was cancelled');
        assert.equal(sql(`select status from dmcp_runs where session_id = :'s'`,
            { s: raw.sid }), 'completed');
    }
});
