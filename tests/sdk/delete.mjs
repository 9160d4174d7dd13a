// delete.mjs — DELETE of a session whose call waits for an elicitation answer: the run is
// cancelled, and the answer afterwards gets 404 (the session is gone). The SDK makes the call
// and sends the DELETE (transport.terminateSession); the later requests with the old session id
// are raw, since the SDK forgets the id once it terminated the session.
import { assert, checkRun, main, note, Raw, runOfId, sdk, sleep, sql } from './lib.mjs';

await main({
    async waiting_run() {
        let onAsk;
        const asked = new Promise(resolve => { onAsk = resolve; });
        const { client, transport, sid, errors } = await sdk({
            caps: { elicitation: { form: {} } },
            // The user never answers: the handler's promise stays pending.
            elicit: (req, extra) => {
                onAsk(extra.requestId);
                return new Promise(() => {});
            }
        });
        const call = client.callTool({ name: 'confirm', arguments: {} })
            .then(r => `resolved: ${JSON.stringify(r)}`, e => `rejected: ${e.message}`);
        const P = await asked, run = runOfId(P);
        checkRun(run, { status: 'waiting', steps: 1, kinds: ['request'], answers: 0 });

        await transport.terminateSession(); // throws unless 200 (or 405)
        const f = checkRun(run, { status: 'cancelled', steps: 1, kinds: ['request'], answers: 0 });
        assert.equal(f.pending_id, null);
        assert.equal(f.error, 'session ended by the client');
        assert.equal(sql(`select ended_at is not null from dmcp_sessions where id = :'s'`,
            { s: sid }), 't');

        const raw = new Raw({ sid });
        const ans = await raw.answer(P, { action: 'accept', content: { ok: true } });
        assert.equal(ans.status, 404, `answer after DELETE: ${ans.status} ${ans.text}`);
        assert.equal(JSON.parse(ans.text).error.message, 'Session not found');
        for (const [what, r] of [['GET resume', await raw.get(`${run}:1`)],
            ['tools/list', await raw.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' })],
            ['DELETE again', await raw.del()]]) {
            const text = await r.text();
            assert.equal(r.status, 404, `${what} after DELETE: ${r.status} ${text}`);
        }
        checkRun(run, { status: 'cancelled', steps: 1, kinds: ['request'], answers: 0 });

        // What the SDK's own call does: the server sends no response for a cancelled run.
        const outcome = await Promise.race([call,
            sleep(2500).then(() => 'still pending after 2.5 s')]);
        await client.close();
        note(`after DELETE, the SDK's callTool was ${outcome}; then close(): ` +
            `${await call}; ` +
            `transport errors: ${JSON.stringify(errors)}`);
    }
});
