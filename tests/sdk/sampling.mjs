// sampling.mjs — greet asks the client's LLM (sampling/createMessage): answered by the SDK
// client's handler; or, from a client without the sampling capability, by the server's mock
// fallback (DMCP_SAMPLING_FALLBACK=mock) or not at all (an isError result naming the setting).
import { assert, checkRun, lastRunOf, main, responseOf, runOfId, sdk } from './lib.mjs';

const ARGS = { name: 'Ada', style: 'pirate' };
const PROMPT = 'Write a pirate greeting for Ada.';

await main({
    async client_handler() {
        const seen = [];
        const { client, errors } = await sdk({
            caps: { sampling: {} },
            sample: async (req, extra) => {
                seen.push({ params: req.params, id: extra.requestId });
                return { role: 'assistant', model: 'test-model', stopReason: 'endTurn',
                    content: { type: 'text', text: 'Ahoy, Ada! (from the test handler)' } };
            }
        });
        const result = await client.callTool({ name: 'greet', arguments: ARGS });
        await client.close();
        assert.deepEqual(errors, []);
        assert.equal(seen.length, 1, 'sampling requests the handler got');
        const p = seen[0].params;
        assert.deepEqual(p.messages, [{ role: 'user', content: { type: 'text', text: PROMPT } }]);
        assert.equal(p.systemPrompt, 'You write short greetings.');
        assert.equal(p.maxTokens, 100);
        assert.ok(!result.isError, JSON.stringify(result));
        assert.deepEqual(result.content,
            [{ type: 'text', text: 'Ahoy, Ada! (from the test handler)' }]);

        const runId = runOfId(seen[0].id);
        const f = checkRun(runId, { status: 'completed', steps: 2, kinds: ['request', 'response'],
            answers: 1 });
        assert.equal(JSON.parse(f.events[0].body).method, 'sampling/createMessage');
        assert.equal(f.journal[0].t, 'sample');
        assert.equal(f.journal[0].ans.result.model, 'test-model');
        assert.deepEqual(responseOf(f).result.content, result.content);
    },

    // The program runs with DMCP_SAMPLING_FALLBACK=mock (tests/sdk.bats restarts it so).
    async mock_fallback() {
        const { client, sid, errors } = await sdk({ caps: {} });
        const result = await client.callTool({ name: 'greet', arguments: ARGS });
        await client.close();
        assert.deepEqual(errors, []);
        assert.ok(!result.isError, JSON.stringify(result));
        assert.deepEqual(result.content, [{ type: 'text', text: `mock response to: ${PROMPT}` }]);
        // No request went to the client: one step, one event (the response).
        const f = checkRun(lastRunOf(sid), { status: 'completed', steps: 1, kinds: ['response'],
            answers: 1 });
        assert.equal(f.journal[0].t, 'sample');
        assert.equal(f.journal[0].provider, 'mock');
        assert.equal(f.journal[0].ans.result.model, 'dmcp-mock');
    },

    // The program runs without a fallback.
    async no_fallback() {
        const { client, sid, errors } = await sdk({ caps: {} });
        const result = await client.callTool({ name: 'greet', arguments: ARGS });
        await client.close();
        assert.deepEqual(errors, []);
        assert.equal(result.isError, true, JSON.stringify(result));
        assert.equal(result.content.length, 1);
        assert.match(result.content[0].text, /DMCP_SAMPLING_FALLBACK/);
        assert.match(result.content[0].text, /does not support sampling/);
        const f = checkRun(lastRunOf(sid), { status: 'failed', steps: 1, kinds: ['response'],
            answers: 0 });
        assert.deepEqual(f.journal, []);
        assert.match(f.error, /DMCP_SAMPLING_FALLBACK/);
    }
});
