// isolation.mjs — a waiting run of alice's session A is reachable from A only (raw fetch
// throughout: the SDK cannot send another session's id or answer a request it never got).
//   same_principal:  alice's other session B: GET resume of A's stream and an answer to A's
//                    question are 404; A's run does not change; A then finishes normally.
//   other_principal: bob with A's session id: POST, GET resume, a cancellation and DELETE are
//                    404; from bob's own session too (the cancellation is accepted and changes
//                    nothing); no credentials or bad ones: 401 (from nginx, or the program).
// Credentials: SDK_ALICE, SDK_BOB and SDK_BAD (default: basic auth against a stack started
// with STACK_AUTH=1, whose user is the principal; tests/auth.bats gives "Bearer ..." ones).
import { assert, checkRun, isRequest, main, Raw, runOfId, sql } from './lib.mjs';

const ALICE = process.env.SDK_ALICE || 'alice:alice-pw', BOB = process.env.SDK_BOB || 'bob:bob-pw';
const BAD = process.env.SDK_BAD || 'alice:wrong';
const YES = { action: 'accept', content: { ok: true } };

// alice's session A with a confirm call waiting for its answer (the stream dropped).
async function waitingCall() {
    const a = new Raw({ auth: ALICE });
    await a.init();
    const s = await a.callStream(1, 'confirm');
    const evs = await s.until(isRequest);
    s.close();
    const P = evs.at(-1).msg.id, run = runOfId(P);
    checkRun(run, { status: 'waiting', steps: 1, kinds: ['request'], answers: 0 });
    assert.equal(sql(`select principal from dmcp_sessions where id = :'s'`, { s: a.sid }), 'alice');
    return { a, P, run, leid: `${run}:1`, before: snapshot(run, a.sid) };
}

function snapshot(run, sid) {
    return sql(`select row_to_json(r)::text || (select count(*) from dmcp_events
        where run_id = :'r') from (select r.status, r.steps, r.last_lsn, r.journal, r.pending_id,
        r.updated_at, s.principal, s.ended_at from dmcp_runs r join dmcp_sessions s
        on s.id = r.session_id where r.id = :'r' and s.id = :'s') r`, { r: run, s: sid });
}

async function status404(what, response) {
    const text = await response.text();
    assert.equal(response.status, 404, `${what}: ${response.status} ${text}`);
}

// A finishes normally afterwards: its answer applies, its stream resumes.
async function finish({ a, P, run, leid }) {
    const r = await a.answer(P, YES);
    assert.equal(r.status, 202, `A's own answer: ${r.status} ${r.text}`);
    const evs = await (await a.resume(leid)).all();
    assert.deepEqual(evs.map(e => e.msg.result.structuredContent), [{ accepted: true }]);
    checkRun(run, { status: 'completed', steps: 2, kinds: ['request', 'response'], answers: 1 });
}

await main({
    async same_principal() {
        const w = await waitingCall();
        const b = new Raw({ auth: ALICE });
        await b.init();
        await status404('B resumes A\'s stream', await b.get(w.leid));
        await status404('B resumes A\'s stream from 0', await b.get(`${w.run}:0`));
        const ans = await b.answer(w.P, YES);
        assert.equal(ans.status, 404, `B answers A's question: ${ans.status} ${ans.text}`);
        assert.equal(snapshot(w.run, w.a.sid), w.before, 'A\'s run changed');
        await finish(w);
    },

    async other_principal() {
        const w = await waitingCall();
        // bob, naming alice's session.
        const bob = new Raw({ auth: BOB, sid: w.a.sid });
        await status404('bob POSTs in A',
            await bob.post({ jsonrpc: '2.0', id: 5, method: 'tools/list' }));
        const ans = await bob.answer(w.P, YES);
        assert.equal(ans.status, 404, `bob answers in A: ${ans.status} ${ans.text}`);
        await status404('bob resumes A\'s stream', await bob.get(w.leid));
        await status404('bob cancels A\'s call in A', await bob.post({ jsonrpc: '2.0',
            method: 'notifications/cancelled', params: { requestId: 1, reason: 'bob' } }));
        await status404('bob DELETEs A', await bob.del());
        // bob, from a session of his own.
        const own = new Raw({ auth: BOB });
        await own.init();
        await status404('bob resumes A\'s stream in his session', await own.get(w.leid));
        const ans2 = await own.answer(w.P, YES);
        assert.equal(ans2.status, 404, `bob answers from his session: ${ans2.status} ${ans2.text}`);
        const cancel = await own.post({ jsonrpc: '2.0', method: 'notifications/cancelled',
            params: { requestId: 1, reason: 'bob' } });
        await cancel.body?.cancel();
        assert.equal(cancel.status, 202, 'bob\'s cancellation in his own session is accepted');
        // Nobody, and bad credentials: refused before anything is read.
        for (const auth of [null, BAD]) {
            const r = await new Raw({ auth, sid: w.a.sid }).post({ jsonrpc: '2.0', id: 6,
                method: 'tools/list' });
            await r.body?.cancel();
            assert.equal(r.status, 401, `credentials ${auth}: ${r.status}`);
        }
        assert.equal(snapshot(w.run, w.a.sid), w.before, 'A\'s run or session changed');
        await finish(w);
    }
});
