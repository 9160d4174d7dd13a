// duplicates.mjs — the same answer POSTed twice at once, then once more late (raw fetch: the SDK
// answers each request exactly once and gives no way to send a response twice). Both get 202,
// the run advances exactly once, the open stream carries one response; the late answer changes
// nothing.
import { assert, checkRun, isRequest, main, programLog, Raw, responseOf, runOfId,
    sql } from './lib.mjs';

// What must not change once the run is over: its row and its events.
function snapshot(run) {
    return sql(`select row_to_json(r)::text || (select string_agg(lsn || kind || body, '|'
        order by lsn) from dmcp_events where run_id = :'r') from (select status, steps, last_lsn,
        journal, pending_id, error, updated_at from dmcp_runs where id = :'r') r`, { r: run });
}

const count = (lines, text) => lines.filter(l => l.includes(text)).length;

await main({
    async concurrent() {
        const raw = new Raw();
        await raw.init();
        const s = await raw.callStream(7, 'confirm', { question: 'Twice?' });
        const first = await s.until(isRequest);
        const P = first.at(-1).msg.id;
        const run = runOfId(P);
        let f = checkRun(run, { status: 'waiting', steps: 1, kinds: ['request'], answers: 0 });
        assert.equal(f.pending_id, P);

        // The stream stays open and follows the run while the answers arrive elsewhere.
        const rest = s.all(20000);
        const answer = { action: 'accept', content: { ok: true } };
        const [a, b] = await Promise.all([raw.answer(P, answer), raw.answer(P, answer)]);
        assert.equal(a.status, 202, `first answer: ${a.status} ${a.text}`);
        assert.equal(b.status, 202, `second answer: ${b.status} ${b.text}`);
        const after = await rest;
        assert.equal(s.end, 'eof', 'the stream ends after the response');
        assert.equal(after.length, 1, `events after the question: ${JSON.stringify(after)}`);
        assert.equal(after[0].msg.id, 7);
        assert.deepEqual(after[0].msg.result.structuredContent, { accepted: true });

        f = checkRun(run, { status: 'completed', steps: 2, kinds: ['request', 'response'],
            answers: 1 });
        assert.equal(f.journal.length, 1);
        assert.deepEqual(f.journal[0].ans, { result: answer });
        assert.deepEqual(responseOf(f).result.structuredContent, { accepted: true });
        let log = programLog();
        assert.equal(count(log, `answer ${P} applied`), 1, '"applied" lines');
        assert.equal(count(log, `answer ${P} ignored`), 1, '"ignored" lines');

        // Late answers: a different one, and an error. 202, and nothing changes.
        const before = snapshot(run);
        const c = await raw.answer(P, { action: 'accept', content: { ok: false } });
        assert.equal(c.status, 202, `late answer: ${c.status} ${c.text}`);
        const e = await raw.post({ jsonrpc: '2.0', id: P, error: { code: -1, message: 'late' } });
        assert.equal(e.status, 202, `late error answer: ${e.status} ${await e.text()}`);
        assert.equal(snapshot(run), before, 'a late answer changed the run');
        log = programLog();
        assert.equal(count(log, `answer ${P} applied`), 1, '"applied" lines');
        assert.equal(count(log, `answer ${P} ignored`), 3, '"ignored" lines');
        // An id of ours in form, but of no run: 404.
        const u = await raw.answer(`${'0'.repeat(32)}/0`, answer);
        assert.equal(u.status, 404, `answer to an unknown run: ${u.status} ${u.text}`);
        // The stream replays the one response.
        const again = await (await raw.resume(`${run}:1`)).all();
        assert.deepEqual(again.map(ev => ev.data), [f.events[1].body]);
    }
});
