// workers.mjs — several single-threaded worker processes (spawn-fcgi) behind one socket: the
// process that holds a call's stream is not the one that applies the answer to its question
// (it is busy holding the stream), yet the answer reaches the stream. Reads the debug lines
// "pid N: following run R" and "pid N: answer ID applied" of the program's log.
import { readFileSync } from 'node:fs';
import { assert, checkRun, main, note, programLog, responseOf, runOfId, sdk,
    STACK_DIR } from './lib.mjs';

const pidOf = line => Number(/ pid (\d+): /.exec(line)[1]);

await main({
    async cross_worker() {
        let asked = null;
        const { client, errors } = await sdk({
            caps: { elicitation: { form: {} } },
            elicit: async (req, extra) => {
                asked = extra.requestId;
                return { action: 'accept', content: { ok: true } };
            }
        });
        const result = await client.callTool({ name: 'confirm', arguments: {} }, undefined,
            { timeout: 20000 });
        await client.close();
        assert.deepEqual(errors, []);
        assert.deepEqual(result.structuredContent, { accepted: true });
        const run = runOfId(asked);
        const f = checkRun(run, { status: 'completed', steps: 2, kinds: ['request', 'response'],
            answers: 1 });
        assert.deepEqual(responseOf(f).result.structuredContent, { accepted: true });

        const workers = readFileSync(`${STACK_DIR}/workers.pids`, 'utf8').split(/\s+/)
            .filter(Boolean).map(Number);
        const log = programLog();
        const followed = log.filter(l => l.includes(`: following run ${run} `)).map(pidOf);
        const applied = log.filter(l => l.includes(`: answer ${asked} applied`)).map(pidOf);
        note(`workers ${workers.join(', ')}: run followed by ${followed.join(', ')}, ` +
            `answer applied by ${applied.join(', ')}`);
        assert.equal(applied.length, 1, `"answer ${asked} applied" lines`);
        assert.ok(followed.length >= 1, `no "following run ${run}" line in the log`);
        for (const p of [...followed, ...applied]) {
            assert.ok(workers.includes(p), `pid ${p} is no worker`);
        }
        assert.ok(!followed.includes(applied[0]),
            `the answer was applied by pid ${applied[0]}, which also followed the stream`);
    }
});
