// tasks.mjs — MCP tasks on 2025-11-25 with the official TypeScript SDK 1.x client's task API
// (client.experimental.tasks: callToolStream, getTask, getTaskResult, listTasks, cancelTask)
// against the fixture program (slow_compute, confirm_delete, failing_job, greet): a task is a
// run of its principal, so it survives kill -9 of every worker, a PostgreSQL restart, DELETE of
// the session that made it and a new initialize; another principal cannot see it. CRASH=1
// runs the crashes (crash_workers, crash_postgres: functions of tests/tasks.bats) between polls.
import { assert, main, note, sdk, sleep, sql, STACK_DIR, stackCommand } from './lib.mjs';
import { CallToolResultSchema }
    from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';

const crashes = process.env.CRASH === '1';

// A call of the SDK that may meet a restart (502/503, a reset connection): tried again.
async function patiently(what, fn, tries = 80) {
    for (let i = 1; ; i++) {
        try {
            return await fn();
        } catch (e) {
            const text = String(e && e.message ? e.message : e);
            const transient = /50[23]|fetch failed|ECONNRE|socket|terminated|other side closed|database unavailable/i
                .test(text);
            if (!transient || i >= tries) throw new Error(`${what}: ${text}`);
            await sleep(250);
        }
    }
}

async function crash(kind) {
    if (!crashes) return;
    const code = await stackCommand(kind, [STACK_DIR]);
    assert.equal(code, 0, `${kind} failed`);
    note(`${kind} done`);
}

// Poll tasks/get until pred(task) (returns it), crashing between polls when asked.
async function pollUntil(client, taskId, pred, { crashesBetween = [], limitMs = 30000 } = {}) {
    const end = Date.now() + limitMs;
    const pending = [...crashesBetween];
    for (;;) {
        const t = await patiently('tasks/get', () => client.experimental.tasks.getTask(taskId));
        assert.equal(t.taskId, taskId);
        if (pred(t)) {
            assert.ok(!crashes || pending.length === 0,
                `task ${taskId} ${t.status} before the crashes ${pending.join(', ')}`);
            return t;
        }
        assert.ok(Date.now() < end, `task ${taskId} still ${t.status} after ${limitMs} ms`);
        if (pending.length > 0) await crash(pending.shift());
        await sleep(t.pollInterval ?? 500);
    }
}

function runRow(id) {
    return JSON.parse(sql(`select row_to_json(r) from (select id, session_id, principal, task,
        status, steps, last_lsn, error, ttl_ms from dmcp_runs where id = :'id') r`, { id }));
}

// Create a task with the SDK's own request (tools/call + params.task: a CreateTaskResult).
async function createTask(client, name, args, ttl = 60000) {
    const stream = client.experimental.tasks.callToolStream({ name, arguments: args },
        CallToolResultSchema, { task: { ttl } });
    const first = await stream.next();
    assert.equal(first.value.type, 'taskCreated', JSON.stringify(first.value));
    await stream.return(); // we poll ourselves from here
    return first.value.task;
}

const cases = {
    // create -> poll (kill -9 of every worker and a PostgreSQL restart between polls) -> result
    async lifecycle() {
        const { client } = await sdk({ caps: {} });
        const caps = client.getServerCapabilities();
        assert.deepEqual(caps.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
        const tools = (await client.listTools()).tools;
        assert.equal(tools.find(t => t.name === 'slow_compute').execution.taskSupport, 'optional');
        assert.equal(tools.find(t => t.name === 'failing_job').execution.taskSupport, 'required');
        assert.equal(tools.find(t => t.name === 'greet').execution, undefined);
        const task = await createTask(client, 'slow_compute', { seconds: 10, label: 'durable' });
        assert.equal(task.status, 'working');
        assert.equal(task.ttl, 60000);
        assert.match(task.taskId, /^[0-9a-f]{32}$/);
        // The CreateTaskResult went out after the insert committed: the row is there.
        const row = runRow(task.taskId);
        assert.equal(row.task, true);
        assert.equal(row.session_id, null, 'a task is bound to its principal, not the session');
        const t0 = Date.now();
        const done = await pollUntil(client, task.taskId, t => t.status === 'completed',
            { crashesBetween: ['crash_workers', 'crash_postgres'] });
        const took = Date.now() - t0;
        note(`slow_compute 10 s completed in ${took} ms across the crashes`);
        assert.ok(done.lastUpdatedAt >= done.createdAt);
        const result = await patiently('tasks/result',
            () => client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema));
        assert.equal(result.content[0].text, 'Computed durable after 10 seconds.');
        assert.equal(result._meta['io.modelcontextprotocol/related-task'].taskId, task.taskId);
        const r = runRow(task.taskId);
        assert.equal(r.status, 'completed');
        assert.equal(r.steps, 2, 'two steps: the sleep, the wake-up (each taken once)');
        await client.close();
    },

    // input_required -> tasks/result delivers the elicitation -> the handler answers ->
    // completed; crashes while the task waits for its user
    async input() {
        let asked = 0, current;
        const { client } = await sdk({
            caps: { elicitation: {} },
            elicit: async req => {
                asked++;
                assert.equal(req.params.message, 'Delete plan.txt?');
                assert.equal(req.params._meta['io.modelcontextprotocol/related-task'].taskId,
                    current);
                return { action: 'accept', content: { confirm: true } };
            }
        });
        const task = await createTask(client, 'confirm_delete', { filename: 'plan.txt' });
        const taskId = task.taskId;
        current = taskId;
        await pollUntil(client, taskId, t => t.status === 'input_required');
        await crash('crash_workers');
        await crash('crash_postgres');
        const t = await pollUntil(client, taskId, t => t.status === 'input_required');
        assert.equal(t.status, 'input_required');
        const result = await patiently('tasks/result',
            () => client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema));
        assert.equal(result.content[0].text, 'Deleted plan.txt.');
        assert.equal(asked, 1, 'the question was asked once');
        asked = 0;
        const done = await client.experimental.tasks.getTask(taskId);
        assert.equal(done.status, 'completed');
        // The same flow through the SDK's own stream helper.
        const kinds = [];
        let text;
        for await (const m of client.experimental.tasks.callToolStream(
            { name: 'confirm_delete', arguments: { filename: 'plan.txt' } }, CallToolResultSchema,
            { task: { ttl: 60000 } })) {
            kinds.push(m.type);
            if (m.type === 'taskCreated') current = m.task.taskId;
            if (m.type === 'result') text = m.result.content[0].text;
            if (m.type === 'error') throw m.error;
        }
        assert.equal(text, 'Deleted plan.txt.');
        assert.deepEqual([kinds[0], kinds.at(-1)], ['taskCreated', 'result']);
        await client.close();
    },

    // cancel stays cancelled; cancelling again is -32602; an isError tool -> failed; refusals
    async cancel_fail() {
        const { client } = await sdk({ caps: {} });
        const task = await createTask(client, 'slow_compute', { seconds: 60 });
        await pollUntil(client, task.taskId, t => t.status === 'working');
        const c = await client.experimental.tasks.cancelTask(task.taskId);
        assert.equal(c.status, 'cancelled');
        await assert.rejects(client.experimental.tasks.cancelTask(task.taskId),
            e => e.code === -32602 && /already cancelled/.test(e.message));
        await sleep(500);
        assert.equal((await client.experimental.tasks.getTask(task.taskId)).status, 'cancelled');
        assert.equal(runRow(task.taskId).status, 'cancelled');
        // failing_job: isError -> failed, with statusMessage; tasks/result is the isError result
        const f = await createTask(client, 'failing_job', {});
        const failed = await pollUntil(client, f.taskId, t => t.status === 'failed');
        assert.match(failed.statusMessage, /The job failed/);
        const res = await client.experimental.tasks.getTaskResult(f.taskId, CallToolResultSchema);
        assert.equal(res.isError, true);
        assert.match(res.content[0].text, /The job failed/);
        // refusals: a forbidden tool as a task, a required tool without one
        await assert.rejects(client.request({ method: 'tools/call', params: { name: 'greet',
            arguments: { name: 'x' }, task: {} } }, CallToolResultSchema),
            e => e.code === -32601);
        await assert.rejects(client.request({ method: 'tools/call', params: {
            name: 'failing_job', arguments: {} } }, CallToolResultSchema),
            e => e.code === -32601);
        await assert.rejects(client.experimental.tasks.getTask('0'.repeat(32)),
            e => e.code === -32602);
        await client.close();
    },

    // a task outlives DELETE of its session and a new initialize
    async reinit() {
        const a = await sdk({ caps: {} });
        const task = await createTask(a.client, 'slow_compute', { seconds: 2, label: 'kept' });
        await a.transport.terminateSession(); // DELETE: the session's calls are cancelled...
        await a.client.close();
        const b = await sdk({ caps: {} }); // ...but not its tasks
        const done = await pollUntil(b.client, task.taskId, t => t.status === 'completed');
        assert.equal(done.status, 'completed');
        const r = await b.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
        assert.equal(r.content[0].text, 'Computed kept after 2 seconds.');
        const list = await b.client.experimental.tasks.listTasks();
        assert.ok(list.tasks.some(t => t.taskId === task.taskId), 'listed in the new session');
        await b.client.close();
    },

    // another principal: get, result, cancel refused (-32602, as for an unknown task); list
    // filtered
    async isolation() {
        const alice = await sdk({ caps: {}, auth: 'alice:alice-pw' });
        const bob = await sdk({ caps: {}, auth: 'bob:bob-pw' });
        const t = await createTask(alice.client, 'slow_compute', { seconds: 30 });
        const tasks = bob.client.experimental.tasks;
        await assert.rejects(tasks.getTask(t.taskId), e => e.code === -32602);
        await assert.rejects(tasks.getTaskResult(t.taskId, CallToolResultSchema),
            e => e.code === -32602);
        await assert.rejects(tasks.cancelTask(t.taskId), e => e.code === -32602);
        const bobs = await tasks.listTasks();
        assert.ok(!bobs.tasks.some(x => x.taskId === t.taskId), "bob's list lacks alice's task");
        assert.ok(bobs.tasks.every(x => runRow(x.taskId).principal === 'bob'));
        const alices = await alice.client.experimental.tasks.listTasks();
        assert.ok(alices.tasks.some(x => x.taskId === t.taskId));
        assert.equal((await alice.client.experimental.tasks.getTask(t.taskId)).status, 'working');
        await alice.client.experimental.tasks.cancelTask(t.taskId);
        await alice.client.close();
        await bob.client.close();
    },

    // tasks/list: pages of 50 with nextCursor, every task once; a bad cursor is -32602
    async list() {
        const { client } = await sdk({ caps: {} });
        const made = new Set();
        for (let i = 0; i < 60; i++)
            made.add((await createTask(client, 'slow_compute', { seconds: 0 })).taskId);
        const seen = [];
        let cursor, pages = 0;
        do {
            const page = await client.experimental.tasks.listTasks(cursor);
            pages++;
            seen.push(...page.tasks.map(t => t.taskId));
            cursor = page.nextCursor;
        } while (cursor);
        assert.ok(pages >= 2, `${pages} page(s)`);
        assert.equal(new Set(seen).size, seen.length, 'no task twice');
        for (const id of made) assert.ok(seen.includes(id), `task ${id} listed`);
        assert.ok(seen.every(id => runRow(id).principal === 'alice'), "only the caller's");
        await assert.rejects(client.experimental.tasks.listTasks('nonsense'),
            e => e.code === -32602);
        await client.close();
    },
};

main(cases, { timeoutMs: 150000 });
