// tools.mjs — tools without C, end to end (tests/tools.bats): SQL functions (examples/sql/,
// tests/sql/tools.sql) and programs (examples/exec/, tests/exec/) served by the stack that
// `make run` starts, called with the official TypeScript SDK client; raw HTTP where the SDK
// cannot say it (one answer POSTed twice, a worker killed between a function's write and its
// commit). Every scenario checks the database too.
//
// Environment (besides lib.mjs's): TOOLDIR, the programs' directory (DMCP_EXEC_TOOLS_DIR);
// CRASH_CMD, the bash function that kills every worker and starts them again.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { assert, checkRun, isRequest, isResponse, lastRunOf, main, note, programLog, Raw,
    retrying, rows, runFacts, runOfId, sdk, sleep, sql, STACK_DIR, stackCommand } from './lib.mjs';

const TOOLDIR = process.env.TOOLDIR;
const text = r => r.content.filter(c => c.type === 'text').map(c => c.text).join('');

async function connect(opts = {}) {
    return (await sdk(opts)).client;
}

async function listed(client) {
    const all = [];
    let cursor;
    do {
        const page = await client.listTools(cursor ? { cursor } : {});
        all.push(...page.tools);
        cursor = page.nextCursor;
    } while (cursor);
    return new Map(all.map(t => [t.name, t]));
}

/** Poll FN (async, returning a truthy value when done) for up to ms. */
async function eventually(fn, what, ms = 8000) {
    const until = Date.now() + ms;
    for (;;) {
        const v = await fn();
        if (v) return v;
        assert.ok(Date.now() < until, `${what}: not within ${ms} ms`);
        await sleep(100);
    }
}

const writes = note => Number(sql(`select count(*) from dmcp_test.writes where note = :'n'`,
    { n: note }));

const ACCEPT = { action: 'accept', content: { confirm: true } };

await main({
    async listing() {
        const client = await connect();
        const tools = await listed(client);
        for (const n of ['echo', 'confirm', 'notes_report', 'add_note', 'delete_notes',
            'restart-service', 'plan-trip', 't_types', 't_table', 't_write_confirm', 't-who'])
            assert.ok(tools.has(n), `tools/list has ${n}`);
        for (const n of ['drop table x; --', 'has space', 't_point', 't_bytes', 't_overloaded',
            't_variadic', 't_unnamed', 't_typo', 't_trigger', 't_procedure', 't-nodescribe',
            't bad name'])
            assert.ok(!tools.has(n), `tools/list leaves ${n} out`);
        assert.equal(tools.get('echo').description, 'Echoes a message back, optionally in upper case',
            'a function named like a C tool does not replace it');
        const ty = tools.get('t_types');
        assert.equal(ty.title, 'Every type');
        assert.deepEqual(ty.inputSchema.required, ['t', 'v', 'i2', 'i4', 'i8', 'n', 'r', 'd', 'b',
            'j', 'jb', 'ai', 'at', 'aj', 'e', 'ae', 'p']);
        assert.deepEqual(ty.inputSchema.properties.e, { type: 'string', enum: ['calm', 'busy', 'away'] });
        assert.deepEqual(ty.inputSchema.properties.ae.items.enum, ['calm', 'busy', 'away']);
        assert.deepEqual(ty.inputSchema.properties.jb, {});
        assert.deepEqual(ty.inputSchema.properties.i2, { type: 'integer', minimum: -32768, maximum: 32767 });
        assert.equal(ty.annotations.readOnlyHint, true, 'IMMUTABLE: read-only');
        const rep = tools.get('notes_report');
        assert.equal(rep.annotations.readOnlyHint, true);
        assert.equal(rep.title, 'Notes report');
        assert.ok(rep.outputSchema.properties.rows);
        const del = tools.get('delete_notes');
        assert.equal(del.annotations.destructiveHint, true);
        assert.equal(del.annotations.readOnlyHint, false);
        assert.equal(tools.get('restart-service').annotations.destructiveHint, true);
        assert.equal(tools.get('plan-trip').title, 'Plan a trip');
        const log = programLog().join('\n');
        for (const [what, why] of [['drop table x; --', 'not a tool name'],
            ['has space', 'not a tool name'], ['t_point', 'type point'], ['t_bytes', 'type bytea'],
            ['t_overloaded', 'overloaded'], ['t_variadic', 'VARIADIC'], ['t_unnamed', 'no name'],
            ['t_typo', '@confrim'], ['t_trigger', 'returns trigger'], ['t_procedure', 'procedure'],
            ['echo', 'a tool with this name exists']])
            assert.ok(log.includes(`SQL tool dmcp_tools.${what} skipped: `) &&
                log.includes(why), `the log says why ${what} is skipped (${why})`);
        assert.ok(log.includes('program t-nodescribe skipped: t-nodescribe --mcp-describe exited ' +
            'with status 1; its stderr ends: cannot describe'), 'the log says why t-nodescribe');
        assert.ok(log.includes('program t bad name skipped: '), 'the log says why "t bad name"');
        await client.close();
    },

    async sql_types() {
        const client = await connect();
        await listed(client);
        const args = { t: 'it\'s "quoted" ✓', v: 'v', i2: -5, i4: 2147483647, i8: 9007199254740991,
            n: 0.1, r: 1.5, d: 2.25e10, b: true, j: { k: [1, null] }, jb: null, ai: [1, 2],
            at: ['a', 'b c'], aj: [{ x: 1 }, 2, 's'], e: 'busy', ae: ['calm', 'away'], p: 50 };
        const r = await client.callTool({ name: 't_types', arguments: args });
        assert.ok(!r.isError, text(r));
        assert.deepEqual(r.structuredContent, { ...args, opt: 'the default' });
        const bad = await client.callTool({ name: 't_types', arguments: { ...args, p: 101 } });
        assert.ok(bad.isError && /percent/.test(text(bad)),
            `a domain's CHECK refuses in its own words: ${text(bad)}`);
        const enumBad = await client.callTool({ name: 't_types', arguments: { ...args, e: 'sad' } });
        assert.ok(enumBad.isError && /Invalid arguments/.test(text(enumBad)), text(enumBad));
        await client.close();
    },

    async sql_shapes() {
        const client = await connect();
        await listed(client);
        const call = (name, a = {}) => client.callTool({ name, arguments: a });
        assert.equal(text(await call('t_scalar')), '42');
        assert.equal(text(await call('t_text')), 'plain text');
        let r = await call('t_json');
        assert.deepEqual(r.structuredContent, { a: [1, 2] });
        assert.deepEqual(JSON.parse(text(r)), { a: [1, 2] });
        r = await call('t_composite');
        assert.deepEqual(r.structuredContent, { x: 1, y: 'one' });
        r = await call('t_table', { n: 3 });
        assert.deepEqual(r.structuredContent, { rows: [{ i: 1, sq: 1 }, { i: 2, sq: 4 }, { i: 3, sq: 9 }] });
        assert.deepEqual(JSON.parse(text(r)), r.structuredContent.rows);
        r = await call('t_setof');
        assert.deepEqual(r.structuredContent.rows, [{ t_setof: 'a' }, { t_setof: 'b' }]);
        assert.equal(text(await call('t_void')), 'done');
        assert.equal(text(await call('t_null')), 'null');
        assert.equal(text(await call('t_array')), '[1,2,3]');
        await client.close();
    },

    async sql_errors() {
        const { client, sid } = await sdk();
        let r = await client.callTool({ name: 't_raise', arguments: { msg: 'no such customer' } });
        assert.ok(r.isError);
        assert.equal(text(r), 'no such customer\nDETAIL: the detail of it\nHINT: a hint');
        const raised = runFacts(lastRunOf(sid));
        assert.equal(raised.status, 'failed', 'the run row is saved although the function failed');
        assert.match(raised.error, /^no such customer/);
        const before = writes('undone');
        r = await client.callTool({ name: 't_write_fail', arguments: { note: 'undone' } });
        assert.ok(r.isError && /refused after writing/.test(text(r)), text(r));
        assert.equal(writes('undone'), before, 'the function\'s write was rolled back');
        checkRun(lastRunOf(sid), { status: 'failed', steps: 1, kinds: ['response'] });
        r = await client.callTool({ name: 't_peek', arguments: {} });
        assert.ok(r.isError && /permission denied for table dmcp_sessions/.test(text(r)),
            `the role has no rights beyond what is granted: ${text(r)}`);
        r = await client.callTool({ name: 't_whoami', arguments: {} });
        const who = r.structuredContent;
        assert.equal(who.principal, 'anonymous');
        assert.equal(who.session, sid);
        assert.equal(who.run, lastRunOf(sid));
        assert.equal(who.user, 'dmcp_tools');
        assert.equal(who.timeout, '1500ms');
        r = await client.callTool({ name: 't_write', arguments: { note: 'plain write' } });
        assert.ok(!r.isError, text(r));
        assert.deepEqual(rows(`select principal, run_id from dmcp_test.writes where note = 'plain write'`),
            [{ principal: 'anonymous', run_id: lastRunOf(sid) }]);
        await client.close();
    },

    async sql_limits() {
        const client = await connect();
        const t0 = Date.now();
        let r = await client.callTool({ name: 't_sleep', arguments: { seconds: 30 } });
        const took = Date.now() - t0;
        assert.ok(r.isError, text(r));
        assert.equal(text(r), 'canceling statement due to statement timeout ' +
            '(DMCP_SQL_TOOLS_TIMEOUT_MS is 1500)');
        assert.ok(took < 5000, `cut at the timeout (${took} ms)`);
        r = await client.callTool({ name: 't_many', arguments: {} });
        assert.ok(r.isError && /more than 50 rows \(DMCP_SQL_TOOLS_MAX_ROWS\)/.test(text(r)), text(r));
        r = await client.callTool({ name: 't_big', arguments: {} });
        assert.ok(r.isError && /more than 1048576 bytes/.test(text(r)), text(r));
        note(`a function stopped by statement_timeout 1500 ms answered after ${took} ms`);
        await client.close();
    },

    async sql_catalog() {
        const client = await connect({ caps: { elicitation: {} },
            elicit: async () => ACCEPT });
        sql(`create function dmcp_tools.t_live(x integer) returns integer language sql
            as 'select x * 2'`);
        const t = await eventually(async () => (await listed(client)).get('t_live'),
            'a function created while serving is listed');
        assert.deepEqual(t.inputSchema.required, ['x']);
        assert.equal(text(await client.callTool({ name: 't_live', arguments: { x: 21 } })), '42');
        sql(`comment on function dmcp_tools.t_live is 'Doubles x\n@title Twice'`);
        await eventually(async () => (await listed(client)).get('t_live')?.title === 'Twice',
            'a new comment is the new description');
        assert.equal((await listed(client)).get('t_live').description, 'Doubles x');
        sql('drop function dmcp_tools.t_live');
        await eventually(async () => !(await listed(client)).has('t_live'),
            'a dropped function leaves the list');
        await assert.rejects(client.callTool({ name: 't_live', arguments: { x: 1 } }),
            /Unknown tool: t_live/);

        // A call that waits (for its confirmation) while its function is replaced by one
        // with other arguments fails cleanly instead of calling it wrongly.
        sql(`create function dmcp_tools.t_changing(a integer) returns integer language sql
            as 'select a'; comment on function dmcp_tools.t_changing is 'Changes\n@confirm'`);
        await eventually(async () => (await listed(client)).has('t_changing'), 't_changing listed');
        const raw = new Raw();
        await raw.init({ elicitation: {} });
        const s = await raw.callStream(3, 't_changing', { a: 1 });
        const req = (await s.until(isRequest)).at(-1).msg;
        s.close();
        sql(`drop function dmcp_tools.t_changing;
            create function dmcp_tools.t_changing(a text) returns integer language sql as 'select 1';
            comment on function dmcp_tools.t_changing is 'Changed\n@confirm'`);
        await eventually(async () => (await listed(client)).get('t_changing')?.description ===
            'Changed', 'the new t_changing listed');
        const a = await raw.answer(req.id, ACCEPT);
        assert.equal(a.status, 202);
        const f = checkRun(runOfId(req.id), { status: 'failed', kinds: ['request', 'response'] });
        assert.match(f.error, /the tool t_changing changed \(version \d+ is gone\)/);
        sql('drop function dmcp_tools.t_changing');
        await client.close();
    },

    async confirm() {
        let asked = [];
        const answers = [];
        const client = await connect({ caps: { elicitation: {} },
            elicit: async req => { asked.push(req.params); return answers.shift(); } });
        for (const body of ['first', 'second'])
            assert.ok(!(await client.callTool({ name: 'add_note', arguments: { body } })).isError);
        const count = () => Number(sql(`select count(*) from dmcp_examples.notes where
            author = 'anonymous'`));
        const n = count();
        assert.ok(n >= 2);
        answers.push({ action: 'decline' });
        let r = await client.callTool({ name: 'delete_notes', arguments: { author: 'anonymous' } });
        assert.ok(r.isError);
        assert.equal(text(r), 'the user did not confirm delete_notes (declined): nothing was done');
        assert.equal(count(), n, 'declined: nothing deleted');
        assert.equal(asked.length, 1);
        assert.match(asked[0].message, /^Run the tool delete_notes with these arguments\? \{"author":"anonymous"\}$/);
        assert.deepEqual(asked[0].requestedSchema.required, ['confirm']);
        answers.push(ACCEPT);
        r = await client.callTool({ name: 'delete_notes', arguments: { author: 'anonymous' } });
        assert.ok(!r.isError, text(r));
        assert.equal(text(r), String(n), 'accepted: the function ran, once');
        assert.equal(count(), 0);
        answers.push(ACCEPT);
        r = await client.callTool({ name: 'delete_notes', arguments: { author: 'nobody' } });
        assert.equal(text(r), 'no notes by nobody\nDETAIL: Nothing was deleted.\n' +
            'HINT: notes_report lists the authors.');
        answers.push(ACCEPT);
        r = await client.callTool({ name: 't-confirm', arguments: {} });
        assert.equal(text(r), 'destroyed', 'a program behind the confirmation runs once accepted');
        asked = [];
        answers.push({ action: 'cancel' });
        r = await client.callTool({ name: 't-confirm', arguments: {} });
        assert.ok(r.isError && /cancelled/.test(text(r)), text(r));
        await client.close();

        const blind = await connect();
        r = await blind.callTool({ name: 'delete_notes', arguments: { author: 'x' } });
        assert.ok(r.isError);
        assert.equal(text(r), 'delete_notes changes things and asks the user to confirm first, ' +
            'but this client cannot be asked (it declared no elicitation): nothing was done');
        await blind.close();
    },

    async duplicate() {
        const raw = new Raw();
        await raw.init({ elicitation: {} });
        const s = await raw.callStream(4, 't_write_confirm', { note: 'dup' });
        const req = (await s.until(isRequest)).at(-1).msg;
        const rest = s.all(20000);
        assert.equal(writes('dup'), 0, 'nothing written before the confirmation');
        const [a, b] = await Promise.all([raw.answer(req.id, ACCEPT), raw.answer(req.id, ACCEPT)]);
        assert.deepEqual([a.status, b.status], [202, 202]);
        const after = await rest;
        assert.equal(after.filter(isResponse).length, 1, 'one response on the stream');
        const c = await raw.answer(req.id, ACCEPT);
        assert.equal(c.status, 202, 'a late duplicate');
        assert.equal(writes('dup'), 1, 'written exactly once');
        checkRun(runOfId(req.id), { status: 'completed', steps: 2, kinds: ['request', 'response'],
            answers: 1 });
    },

    async crash_write() {
        // The write happens, then the function pauses 10 s before the step's commit: every
        // worker is killed -9 in that pause (long, so that a loaded machine still kills them
        // inside it; checked below). The write never commits; the answer, sent again,
        // writes once; sent a third time, it writes nothing.
        assert.ok(process.env.CRASH_CMD, 'CRASH_CMD is not set');
        const counts = {};
        const raw = new Raw();
        await raw.init({ elicitation: {} });
        const s = await raw.callStream(5, 't_write_confirm', { note: 'crash', pause: 10 });
        const req = (await s.until(isRequest)).at(-1).msg;
        s.close();
        const run = runOfId(req.id);
        const first = raw.answer(req.id, ACCEPT).then(r => String(r.status),
            e => `failed: ${e.cause ? e.cause.code || e.cause : e.message}`);
        await eventually(() => Number(sql(`select count(*) from pg_stat_activity where
            query like '%t_write_confirm%' and query not like '%pg_stat_activity%' and
            state = 'active'`)) === 1, 'the function runs', 10000);
        assert.equal(writes('crash'), 0, 'the write is not committed yet');
        const code = await stackCommand(process.env.CRASH_CMD, [STACK_DIR]);
        assert.equal(code, 0, 'every worker killed and started again');
        assert.equal(Number(sql(`select count(*) from pg_stat_activity where
            query like '%t_write_confirm%' and query not like '%pg_stat_activity%' and
            state = 'active'`)), 1,
            'the function still pauses once the workers are killed and started again (if not, ' +
            'the machine was too slow for this test: the kill came after the pause)');
        const outcome = await first;
        await eventually(() => Number(sql(`select count(*) from pg_stat_activity where
            query like '%t_write_confirm%' and query not like '%pg_stat_activity%'`)) === 0,
            'the killed worker\'s backend is gone', 30000);
        assert.equal(writes('crash'), 0, 'the killed step wrote nothing');
        checkRun(run, { status: 'waiting', steps: 1, kinds: ['request'], answers: 0 });
        const again = await retrying(() => raw.answer(req.id, ACCEPT), counts);
        assert.equal(again.status, 202, `the answer again: ${again.status} ${again.text}`);
        assert.equal(writes('crash'), 1, 'now written, once');
        const third = await raw.answer(req.id, ACCEPT);
        assert.equal(third.status, 202);
        assert.equal(writes('crash'), 1, 'and never twice');
        checkRun(run, { status: 'completed', steps: 2, kinds: ['request', 'response'], answers: 1 });
        note(`the answer during the crash: ${outcome}; retried after it: ${JSON.stringify(counts)}`);
    },

    async crash_exec() {
        // plan-trip asks twice (then asks the LLM, answered by the mock fallback): every worker
        // is killed -9 after each question, and the call completes with both answers.
        assert.ok(process.env.CRASH_CMD, 'CRASH_CMD is not set');
        const counts = {};
        const raw = new Raw();
        await raw.init({ elicitation: {} });
        let s = await raw.callStream(6, 'plan-trip', { traveller: 'Ada' });
        let got = await s.until(isRequest);
        s.close();
        const run = runOfId(got.at(-1).msg.id);
        const answersFor = [{ action: 'accept', content: { city: 'Oslo' } },
            { action: 'accept', content: { nights: 3 } }];
        let response = null;
        for (let k = 0; k < 2; k++) {
            const req = got.at(-1).msg;
            assert.equal(req.id, `${run}/${k}`, `question ${k}`);
            const code = await stackCommand(process.env.CRASH_CMD, [STACK_DIR]);
            assert.equal(code, 0, 'every worker killed and started again');
            const a = await retrying(() => raw.answer(req.id, answersFor[k]), counts);
            assert.equal(a.status, 202, `answer ${k}: ${a.status} ${a.text}`);
            s = await retrying(() => raw.resume(got.at(-1).id), counts);
            got = await s.until(ev => isRequest(ev) || isResponse(ev));
            s.close();
            if (isResponse(got.at(-1))) response = got.at(-1).msg;
        }
        assert.ok(response, 'the call completed');
        assert.deepEqual(response.result.structuredContent, { planned: true, destination: 'Oslo',
            nights: 3, itinerary: 'mock response to: A 3-night itinerary for Oslo, in three lines.' });
        const f = checkRun(run, { status: 'completed',
            steps: 3, kinds: ['request', 'request', 'response'], answers: 3 });
        assert.deepEqual(f.journal.map(e => e.t), ['elicit', 'elicit', 'sample']);
        note(`retried around the crashes: ${JSON.stringify(counts)}`);
    },

    async exec_failures() {
        const client = await connect();
        let r = await client.callTool({ name: 't-exit3', arguments: {} });
        assert.ok(r.isError);
        assert.equal(text(r), 'the program t-exit3 exited with status 3; its stderr ends: ' +
            'first line\nlast words');
        r = await client.callTool({ name: 't-badjson', arguments: {} });
        assert.ok(r.isError && /wrote line 1, which is not a JSON object/.test(text(r)), text(r));
        let t0 = Date.now();
        r = await client.callTool({ name: 't-forever', arguments: {} });
        assert.equal(text(r), 'the program t-forever did not finish within DMCP_EXEC_TIMEOUT_MS ' +
            '(3000 ms)');
        const forever = Date.now() - t0;
        assert.ok(forever < 6000, `killed at its time limit (${forever} ms)`);
        t0 = Date.now();
        r = await client.callTool({ name: 't-megabytes', arguments: {} });
        assert.equal(text(r), 'the program t-megabytes wrote more than DMCP_EXEC_MAX_OUTPUT ' +
            '(1000000 bytes)');
        const mb = Date.now() - t0;
        r = await client.callTool({ name: 't-forker', arguments: {} });
        const child = r.structuredContent.child;
        assert.ok(Number.isInteger(child) && child > 1, text(r));
        await eventually(() => {
            try {
                process.kill(child, 0);
                return false;
            } catch (e) {
                return e.code === 'ESRCH';
            }
        }, `the child ${child} that outlived its program is killed`, 3000);
        r = await client.callTool({ name: 't-sampler', arguments: {} });
        assert.equal(text(r), 'the program t-sampler asked 60 questions, the limit of one run ' +
            '(DMCP_MAX_EVENTS_PER_RUN)');
        r = await client.callTool({ name: 't-who', arguments: {} });
        assert.equal(r.structuredContent.principal, 'anonymous');
        assert.equal(r.structuredContent.home, '', 'no HOME: a clean environment');
        assert.equal(r.structuredContent.vars, 4, 'PATH and the three DMCP_ variables only');
        const ping = await client.ping();
        assert.deepEqual(ping, {}, 'the server is fine');
        const log = programLog().join('\n');
        assert.ok(log.includes('program t-exit3 exited with status 3; its stderr ends: first line'),
            'failures are logged with their stderr');
        note(`never-exiting program stopped after ${forever} ms; 20 MB of output stopped after ${mb} ms`);
        await client.close();
    },

    async exec_sdk() {
        const progress = [];
        const client = await connect({ caps: { elicitation: {}, sampling: {} },
            elicit: async req => ({ action: 'accept', content:
                /^Where/.test(req.params.message) ? { city: 'Lisbon' } :
                /^How many/.test(req.params.message) ? { nights: 2 } : { restart: true } }),
            sample: async req => ({ role: 'assistant', model: 'test-llm',
                content: { type: 'text', text: `plan for: ${req.params.messages[0].content.text}` } })
        });
        await listed(client);
        let r = await client.callTool({ name: 'plan-trip', arguments: { traveller: 'Bo' } });
        assert.deepEqual(r.structuredContent, { planned: true, destination: 'Lisbon', nights: 2,
            itinerary: 'plan for: A 2-night itinerary for Lisbon, in three lines.' });
        r = await client.callTool({ name: 't-progress', arguments: {} }, undefined,
            { onprogress: p => progress.push(p) });
        assert.equal(text(r), 'finished');
        assert.deepEqual(progress.map(p => [p.progress, p.total, p.message]),
            [[1, 3, 'step 1'], [2, 3, 'step 2'], [3, 3, 'step 3']]);
        r = await client.callTool({ name: 'restart-service', arguments: { service: 'cache' } });
        assert.deepEqual(r.structuredContent, { service: 'cache', restarted: true },
            'the shell example asks, and goes on after the answer');
        await client.close();
    },

    async sighup() {
        const client = await connect();
        const pid = Number(readFileSync(`${STACK_DIR}/dmcp.pid`, 'utf8'));
        const path = `${TOOLDIR}/t-added`;
        writeFileSync(path, '#!/bin/sh\nif [ "$1" = --mcp-describe ]; then echo \'{"description": ' +
            '"Added while serving"}\'; exit 0; fi\necho \'{"result": "added"}\'\n', { mode: 0o755 });
        process.kill(pid, 'SIGHUP');
        await eventually(async () => (await listed(client)).has('t-added'),
            'a program added, then SIGHUP: listed');
        assert.equal(text(await client.callTool({ name: 't-added', arguments: {} })), 'added');
        unlinkSync(path);
        process.kill(pid, 'SIGHUP');
        await eventually(async () => !(await listed(client)).has('t-added'),
            'removed, then SIGHUP: gone');
        await client.close();
    }
}, { timeoutMs: 120000 });
