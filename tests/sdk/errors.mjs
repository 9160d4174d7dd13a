// errors.mjs — a tool that fails in words (dmcp_fail, the demo's roll_dice) reaches the official
// SDK client as a CallToolResult with isError: true and the message as its text, like an
// exception thrown in an SDK's own tool; and typed parameters as a client sees them: the
// listed schema, arguments refused with a message, defaults stored with the run.
import { assert, checkRun, lastRunOf, main, responseOf, sdk, sql } from './lib.mjs';

// The stored arguments of a run, parsed.
const argumentsOf = run => JSON.parse(sql(`select arguments from dmcp_runs where id = :'r'`,
    { r: run }));

await main({
    async tool_fails() {
        const { client, sid, errors } = await sdk();
        await client.listTools(); // the SDK then checks structuredContent against outputSchema
        const refusals = [
            ['0d6', 'cannot roll 0 dice: roll 1 to 100 at once'],
            ['101d6', 'cannot roll 101 dice: roll 1 to 100 at once'],
            ['2d1', 'a die with 1 sides cannot be rolled: give it 2 to 1000']
        ];
        for (const [dice, message] of refusals) {
            const result = await client.callTool({ name: 'roll_dice', arguments: { dice } });
            assert.equal(result.isError, true, `${dice}: ${JSON.stringify(result)}`);
            assert.deepEqual(result.content, [{ type: 'text', text: message }], dice);
            assert.equal(result.structuredContent, undefined, `${dice}: no structuredContent`);
            const f = checkRun(lastRunOf(sid), { status: 'failed', steps: 1, kinds: ['response'],
                answers: 0 });
            assert.equal(f.error, message, `${dice}: dmcp_runs.error`);
            assert.deepEqual(responseOf(f).result, result, `${dice}: the stored result`);
        }
        // The same tool, given what it can roll.
        const ok = await client.callTool({ name: 'roll_dice', arguments: { dice: '3d6' } });
        assert.ok(!ok.isError, JSON.stringify(ok));
        const { rolls, total } = ok.structuredContent;
        assert.equal(rolls.length, 3);
        assert.ok(rolls.every(r => Number.isInteger(r) && r >= 1 && r <= 6), `rolls ${rolls}`);
        assert.equal(total, rolls.reduce((a, b) => a + b, 0));
        const f = checkRun(lastRunOf(sid), { status: 'completed', steps: 1, kinds: ['response'],
            answers: 0 });
        assert.deepEqual(f.journal, [{ t: 'memo', v: rolls }], 'the rolls are journaled');
        await client.close();
        assert.deepEqual(errors, []);
    },

    async typed_arguments() {
        const { client, sid, errors } = await sdk();
        const { tools } = await client.listTools();
        const slow = tools.find(t => t.name === 'slow_progress');
        assert.deepEqual(slow.inputSchema, {
            type: 'object',
            properties: {
                steps: { type: 'integer', description: 'How many steps to work', minimum: 1,
                    maximum: 100, default: 5 },
                delay_ms: { type: 'integer', description: 'Milliseconds per step', minimum: 0,
                    maximum: 5000, default: 100 }
            },
            additionalProperties: false
        });
        // Refused before any run exists, with what is wrong.
        const bad = [
            [{ steps: 0 }, '/steps: 0 is less than the minimum 1'],
            [{ steps: 2, delay_ms: 'soon' }, '/delay_ms: expected integer, got string'],
            [{ step: 2 }, '/: property "step" is not allowed (additionalProperties is false)']
        ];
        for (const [args, says] of bad) {
            const r = await client.callTool({ name: 'slow_progress', arguments: args });
            assert.equal(r.isError, true, JSON.stringify(r));
            assert.equal(r.content[0].text, `Invalid arguments: ${says}`);
        }
        // Defaults: the run stores them with the arguments, so a replay sees them too.
        const r = await client.callTool({ name: 'slow_progress', arguments: { delay_ms: 0 } });
        assert.deepEqual(r.content, [{ type: 'text', text: 'Finished 5 steps.' }]);
        assert.deepEqual(argumentsOf(lastRunOf(sid)), { delay_ms: 0, steps: 5 });
        const e = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
        assert.deepEqual(e.structuredContent, { echoed: 'hi', length: 2 });
        assert.deepEqual(argumentsOf(lastRunOf(sid)), { message: 'hi', uppercase: false });
        await client.close();
        assert.deepEqual(errors, []);
    }
});
