// crash.mjs — 50 calls wait for their users across 10 sessions (5 each: three confirm, two
// book_flight); then a crash (CRASH_CMD, a function of tests/sdk.bats run with the stack's
// directory: crash_workers = kill -9 of every worker process and a restart, crash_postgres =
// an immediate PostgreSQL restart); then every call gets its answers and completes, exactly once.
//
// Raw fetch and SSE throughout. With the SDK, each waiting call keeps a stream (or a reconnect
// loop) going: 50 of them would keep the 4 single-threaded workers busy holding streams, every
// answer would queue behind them, and a crash turns into the SDK's own retry policy (two
// reconnection attempts, then it gives up and the call hangs). The raw client drops each stream
// once its question arrived and resumes it with Last-Event-ID when it has answered, which is
// what the SDK does too, minus the timing it chooses.
//
// At the moment of the crash, two streams are open (followed by workers), and answers to 20
// confirm calls go out one every 100 ms, before, during and after the crash (they are sent
// again afterwards: a duplicate is ignored). Only confirm answers: a confirm step is one
// transaction, but book_flight commits a checkpoint mid-step, and a worker killed there would
// leave the run 'running' until its lease (60 s) passes.
import { readFileSync } from 'node:fs';
import { assert, checkRun, factsOf, isRequest, isResponse, main, note, programLog, Raw,
    retrying, runOfId, sleep, sql, STACK_DIR, stackCommand } from './lib.mjs';

const SESSIONS = 10, PER = 5;
const crash = process.env.CRASH_CMD;

const CONFIRM_ANSWERS = [
    [{ action: 'accept', content: { ok: true } }, true],
    [{ action: 'accept', content: { ok: false } }, false],
    [{ action: 'decline' }, false]];

function answerFor(call, req) {
    const m = req.params.message;
    if (call.tool === 'confirm') return CONFIRM_ANSWERS[call.j][0];
    if (m === 'Where do you want to fly?') return { action: 'accept', content: call.route };
    if (m === 'How many seats, and which class?') return { action: 'accept', content: call.seats };
    if (m.startsWith('Book ')) return { action: 'accept', content: { ok: true } };
    throw new Error(`unexpected question ${m}`);
}

// Start one call: POST, read up to its first question, drop the connection.
async function start(raw, i, j) {
    const call = { raw, i, j, tool: j < 3 ? 'confirm' : 'book_flight', got: [] };
    if (call.tool === 'book_flight') {
        call.route = { from: 'Oslo', to: `City-${i}-${j}` };
        call.seats = { count: 1 + ((i + j) % 9), class: 'first' };
    }
    const s = await raw.callStream(100 + j, call.tool);
    call.got.push(...await s.until(isRequest));
    s.close();
    const req = call.got.at(-1);
    assert.ok(req && isRequest(req), `call ${i}/${j}: no question: ${JSON.stringify(call.got)}`);
    call.run = runOfId(req.id);
    call.pending = req.msg;
    return call;
}

// Answer the pending question; resume from the last event id; repeat until the response.
async function drive(call, counts) {
    for (let round = 0; round < 10 && call.pending; round++) {
        const answer = answerFor(call, call.pending);
        const r = await retrying(() => call.raw.answer(call.pending.id, answer), counts);
        assert.equal(r.status, 202, `call ${call.i}/${call.j}: answer: ${r.status} ${r.text}`);
        call.pending = null;
        // The events after the last one this client saw; a connection may end early (retry:,
        // a worker or the database going away): resume again from where it ended.
        for (let tries = 0; tries < 10 && !call.pending && !call.response; tries++) {
            const s = await retrying(() => call.raw.resume(call.got.at(-1).id), counts);
            const evs = await s.until(ev => isRequest(ev) || isResponse(ev), 15000);
            s.close();
            call.got.push(...evs.filter(ev => ev.id !== undefined));
            const last = evs.at(-1);
            if (last && isRequest(last)) call.pending = last.msg;
            if (last && isResponse(last)) call.response = last.msg;
        }
    }
    assert.ok(call.response, `call ${call.i}/${call.j} (run ${call.run}): no response`);
}

function waitingCount(runs) {
    return Number(sql(`select count(*) from dmcp_runs where id = any(:'ids'::text[])
        and status = 'waiting'`, { ids: `{${runs.join(',')}}` }));
}

function workerPids() {
    return readFileSync(`${STACK_DIR}/workers.pids`, 'utf8').split(/\s+/).filter(Boolean)
        .map(Number);
}

// How many times a worker began to follow RUN's stream after its event 1 (debug log lines).
function follows(run) {
    return programLog().filter(l => l.includes(`: following run ${run} after 1`)).length;
}

await main({
    async run() {
        assert.ok(crash, 'CRASH_CMD is not set');
        const t0 = Date.now();
        // 1. Ten sessions, five calls each, all waiting.
        const raws = [];
        for (let i = 0; i < SESSIONS; i++) {
            raws.push(new Raw());
            await raws[i].init();
        }
        const calls = (await Promise.all(raws.map((raw, i) =>
            Promise.all(Array.from({ length: PER }, (_, j) => start(raw, i, j)))))).flat();
        const runs = calls.map(c => c.run);
        assert.equal(new Set(runs).size, SESSIONS * PER);
        for (let t = 0; waitingCount(runs) !== runs.length; t++) {
            assert.ok(t < 200, `only ${waitingCount(runs)} of ${runs.length} runs are waiting`);
            await sleep(100);
        }
        const tWaiting = Date.now();

        // 2. Two streams open, followed by a worker each (stream headers reach the client only
        //    with the first event, so the worker's debug line says when it follows).
        const live = calls.filter(c => c.tool === 'book_flight').slice(0, 2).map(c => {
            const before = follows(c.run);
            const ac = new AbortController();
            const done = c.raw.get(c.got.at(-1).id, { signal: ac.signal })
                .then(async r => `${r.status}, body ${JSON.stringify(await r.text())}`,
                    e => `failed: ${e.cause ? e.cause.message || e.cause : e.message}`);
            return { c, ac, done, before };
        });
        for (let t = 0; !live.every(l => follows(l.c.run) > l.before); t++) {
            assert.ok(t < 100, 'the live streams are not followed');
            await sleep(100);
        }
        // 3. The crash, and meanwhile answers to 20 confirm calls, one every 100 ms: before,
        //    during and after it.
        const pidsBefore = workerPids();
        const tStart = Date.now();
        const crashed = stackCommand(crash, [STACK_DIR]);
        let crashDone = false;
        crashed.then(() => { crashDone = true; }, () => { crashDone = true; });
        const inflight = [];
        for (const c of calls.filter(x => x.tool === 'confirm' && x.j < 2)) {
            const t = Date.now() - tStart;
            const outcome = await c.raw.answer(c.pending.id, answerFor(c, c.pending))
                .then(r => String(r.status), e => `${e.cause ? e.cause.code || e.cause : e}`);
            inflight.push(`${t} ms${crashDone ? ' (restarted)' : ''}: ${outcome}`);
            await sleep(100);
        }
        const code = await crashed;
        assert.equal(code, 0, `${crash} failed`);
        const tCrash = Date.now();
        // kill -9: new processes. PostgreSQL restart: the same ones, still alive (they reconnect
        // by themselves).
        const pidsAfter = workerPids();
        assert.equal(pidsAfter.length, pidsBefore.length, 'worker processes');
        if (crash === 'crash_workers') {
            assert.ok(pidsAfter.every(p => !pidsBefore.includes(p)), 'workers were not replaced');
        } else {
            assert.deepEqual(pidsAfter, pidsBefore, 'workers were restarted');
        }
        for (const p of pidsAfter) process.kill(p, 0); // throws ESRCH if it is gone
        const liveOutcome = await Promise.all(live.map(l => Promise.race([l.done,
            sleep(10000).then(() => { l.ac.abort(); return 'still open after 10 s'; })])));

        // 4. Every call: its answers, its resumed streams, its response.
        const counts = {};
        await Promise.all(calls.map(c => drive(c, counts)));
        const tDone = Date.now();

        // 5. Results, event ids, database facts.
        const facts = factsOf(runs);
        const refs = new Set();
        for (const c of calls) {
            const f = facts.get(c.run);
            const where = `call ${c.i}/${c.j} (run ${c.run})`;
            assert.ok(f, `${where}: not in dmcp_runs`);
            // Every event once, in order, as stored: ids 0..N over all connections.
            assert.deepEqual(c.got.map(e => e.id),
                [0, ...f.events.map(e => e.lsn)].map(n => `${c.run}:${n}`), `${where}: event ids`);
            assert.deepEqual(c.got.slice(1).map(e => e.data), f.events.map(e => e.body),
                `${where}: event bodies`);
            assert.equal(c.response.id, 100 + c.j);
            const result = c.response.result;
            assert.ok(!result.isError, `${where}: ${JSON.stringify(result)}`);
            if (c.tool === 'confirm') {
                checkRun(f, { status: 'completed', steps: 2, kinds: ['request', 'response'],
                    answers: 1 });
                assert.deepEqual(result.structuredContent, { accepted: CONFIRM_ANSWERS[c.j][1] },
                    where);
                assert.deepEqual(f.journal[0].ans, { result: CONFIRM_ANSWERS[c.j][0] }, where);
            } else {
                checkRun(f, { status: 'completed', steps: 4, answers: 3,
                    kinds: ['request', 'request', 'request', 'response'] });
                const ref = result.structuredContent.reference;
                assert.match(ref, /^BK[0-9A-F]{8}$/, where);
                assert.deepEqual(result.structuredContent, { reference: ref, ...c.route,
                    seats: c.seats.count }, where);
                const memo = f.journal.filter(e => e.t === 'memo');
                assert.deepEqual(memo.map(e => e.v), [ref], `${where}: one memoized reference`);
                refs.add(ref);
            }
        }
        assert.equal(refs.size, calls.filter(c => c.tool === 'book_flight').length,
            'booking references are unique');
        // The references are stable: a replay of the whole stream gives the same bytes.
        for (const c of calls.filter(x => x.tool === 'book_flight')) {
            const evs = await (await retrying(() => c.raw.resume(`${c.run}:0`), counts)).all();
            assert.deepEqual(evs.map(e => e.data), c.got.slice(1).map(e => e.data));
        }
        note(`${crash}: ${runs.length} runs waiting after ${tWaiting - t0} ms; crash and restart ` +
            `${tCrash - tWaiting} ms; all answered and complete ${tDone - tCrash} ms later`);
        note(`${crash}: answers sent around the crash (ms after it began: status): ` +
            `${inflight.join(', ')}`);
        note(`${crash}: streams open during the crash: ${liveOutcome.join('; ')}`);
        note(`${crash}: retried after the crash: ${JSON.stringify(counts)} ` +
            `(503 = database unavailable, 502 = no worker, neterr = no HTTP answer)`);
    }
}, { timeoutMs: 150000 });
