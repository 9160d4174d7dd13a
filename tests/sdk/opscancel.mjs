// opscancel.mjs — the operator's `runs cancel` and `sessions end` reach the official SDK client:
// a call that waits for an elicitation answer is cancelled from the command line while its
// stream is open; the client's elicitation handler is told (notifications/cancelled aborts its
// signal) and the call rejects with the cancellation error (-32800) and the operator's reason.
// Run by tests/ops.bats: DMCP_OPS names the program whose commands are used.
import { execFileSync } from 'node:child_process';
import { assert, checkRun, main, runFacts, runOfId, sdk, sql } from './lib.mjs';

const OPS = process.env.DMCP_OPS;

/** Run `$DMCP_OPS ARGS...`; its stdout, or a thrown error with its exit status. */
function ops(...args) {
    return execFileSync(OPS, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A client whose confirm call waits; resolves once the elicitation reached the client. */
async function waitingCall() {
    let onAsk, onAbort;
    const asked = new Promise(resolve => { onAsk = resolve; });
    const aborted = new Promise(resolve => { onAbort = resolve; });
    const c = await sdk({
        caps: { elicitation: { form: {} } },
        elicit: (req, extra) => {
            extra.signal.addEventListener('abort', () => onAbort(String(extra.signal.reason)));
            onAsk(extra.requestId);
            return new Promise(() => {}); // the user never answers
        }
    });
    const call = c.client.callTool({ name: 'confirm', arguments: {} }).then(
        r => ({ result: r }), e => ({ error: e }));
    const P = await asked;
    return { ...c, call, aborted, run: runOfId(P), P };
}

await main({
    async runs_cancel() {
        const w = await waitingCall();
        checkRun(w.run, { status: 'waiting', steps: 1, kinds: ['request'], answers: 0 });
        const out = ops('runs', 'cancel', w.run, '--reason', 'maintenance window', '--json');
        assert.deepEqual(JSON.parse(out), { id: w.run, tool: 'confirm', was: 'waiting',
            status: 'cancelled' });
        const got = await w.call;
        assert.ok(got.error, `the call resolved: ${JSON.stringify(got.result)}`);
        assert.equal(got.error.code, -32800, `code: ${got.error.code} ${got.error.message}`);
        assert.match(got.error.message, /cancelled by the operator: maintenance window/);
        const reason = await w.aborted;
        assert.match(reason, /maintenance window/, 'the elicitation handler was not aborted');
        // (checkRun expects no response of a cancelled run: a client's cancellation sends none.)
        const f = runFacts(w.run);
        assert.equal(f.status, 'cancelled');
        assert.deepEqual(f.kinds, ['request', 'notification', 'response']);
        assert.ok(f.gapFree && Number(f.last_lsn) === 3, `LSNs ${f.events.map(e => e.lsn)}`);
        assert.equal(f.pending_id, null);
        assert.equal(f.error, 'cancelled by the operator: maintenance window');
        assert.equal(sql(`select live_runs from dmcp_sessions where id = :'s'`, { s: w.sid }), '0',
            'the session still counts the run');
        // Twice: the run is over; exit status 1 and nothing changes.
        assert.throws(() => ops('runs', 'cancel', w.run), e => e.status === 1);
        assert.deepEqual(w.errors, [], 'the client saw transport errors');
        await w.client.close();
    },

    async sessions_end() {
        const w = await waitingCall();
        const out = JSON.parse(ops('sessions', 'end', w.sid, '--json'));
        assert.deepEqual(out, { id: w.sid, runs_cancelled: 1 });
        const got = await w.call;
        assert.ok(got.error, `the call resolved: ${JSON.stringify(got.result)}`);
        assert.equal(got.error.code, -32800);
        assert.match(got.error.message, /the session was ended by the operator/);
        assert.equal(sql(`select ended_at is not null from dmcp_sessions where id = :'s'`,
            { s: w.sid }), 't');
        assert.throws(() => ops('sessions', 'end', w.sid), e => e.status === 1);
        await w.client.close();
    }
});
