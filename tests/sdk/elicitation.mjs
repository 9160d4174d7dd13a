// elicitation.mjs — elicitation through the SDK client: confirm accepted, declined, cancelled;
// pick_card (an enum); answers that break the requested schema (the runtime checks them and the
// tool fails with an isError result); URL mode (connect_account).
import { assert, checkRun, ElicitationCompleteNotificationSchema, lastRunOf, main, responseOf,
    runOfId, sdk, UrlElicitationRequiredError } from './lib.mjs';

const CONFIRM_SCHEMA = {
    type: 'object',
    properties: { ok: { type: 'boolean', title: 'OK?', description: 'Confirm' } },
    required: ['ok']
};
const CARDS = ['ace of spades', 'queen of hearts', 'seven of clubs', 'two of diamonds'];

// Call TOOL through an SDK client whose elicitation handler gives ANSWER; the handler must be
// asked exactly once. Returns the tool result, the request the handler saw, and the run id.
async function elicitOnce(tool, args, answer) {
    const seen = [];
    const { client, errors } = await sdk({
        caps: { elicitation: { form: {} } },
        elicit: async (req, extra) => {
            seen.push({ params: req.params, id: extra.requestId });
            return answer;
        }
    });
    await client.listTools(); // the SDK then checks structuredContent against the outputSchema
    const result = await client.callTool({ name: tool, arguments: args });
    await client.close();
    assert.equal(seen.length, 1, 'elicitation requests the handler got');
    assert.deepEqual(errors, [], 'transport errors');
    const runId = runOfId(seen[0].id);
    assert.equal(seen[0].id, `${runId}/0`, 'the request id is <run>/<effect>');
    return { result, req: seen[0], runId };
}

// The facts every completed one-elicitation run shares; returns the run's facts.
function checkOneElicitation(runId, result, req, status = 'completed') {
    const f = checkRun(runId, { status, steps: 2, kinds: ['request', 'response'], answers: 1 });
    const sent = JSON.parse(f.events[0].body);
    assert.equal(sent.method, 'elicitation/create');
    assert.equal(sent.id, req.id, 'the request event carries the id the handler saw');
    assert.deepEqual(sent.params.requestedSchema, req.params.requestedSchema);
    assert.equal(f.journal.length, 1, 'journal entries');
    assert.equal(f.journal[0].id, req.id);
    const resp = responseOf(f);
    assert.deepEqual(resp.result.content, result.content, 'the delivered result is the stored one');
    assert.deepEqual(resp.result.structuredContent, result.structuredContent);
    assert.equal(resp.result.isError, result.isError);
    return f;
}

function checkConfirm({ result, req, runId }, accepted) {
    assert.equal(req.params.message, 'Ship it?');
    assert.deepEqual(req.params.requestedSchema, CONFIRM_SCHEMA);
    assert.ok(!result.isError, `isError: ${JSON.stringify(result)}`);
    assert.deepEqual(result.structuredContent, { accepted });
    assert.equal(result.content.length, 1);
    assert.equal(result.content[0].type, 'text');
    assert.deepEqual(JSON.parse(result.content[0].text), { accepted });
    return checkOneElicitation(runId, result, req);
}

function checkSchemaError({ result, req, runId }, pattern) {
    assert.equal(result.isError, true, `expected isError: ${JSON.stringify(result)}`);
    assert.equal(result.structuredContent, undefined);
    assert.match(result.content[0].text, pattern);
    const f = checkOneElicitation(runId, result, req, 'failed');
    assert.match(f.error, pattern, 'dmcp_runs.error');
    return f;
}

await main({
    async accept() {
        const call = await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'accept', content: { ok: true } });
        const f = checkConfirm(call, true);
        assert.deepEqual(f.journal[0].ans, { result: { action: 'accept', content: { ok: true } } });
        // Accepting with ok:false is not a refusal of the elicitation, but the tool says false.
        checkConfirm(await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'accept', content: { ok: false } }), false);
    },

    async decline() {
        const f = checkConfirm(await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'decline' }), false);
        assert.deepEqual(f.journal[0].ans, { result: { action: 'decline' } });
    },

    async cancel() {
        const f = checkConfirm(await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'cancel' }), false);
        assert.deepEqual(f.journal[0].ans, { result: { action: 'cancel' } });
    },

    async pick_card() {
        const call = await elicitOnce('pick_card', {},
            { action: 'accept', content: { card: 'queen of hearts' } });
        assert.equal(call.req.params.message, 'Pick a card');
        assert.deepEqual(call.req.params.requestedSchema.properties.card.enum, CARDS);
        assert.deepEqual(call.req.params.requestedSchema.required, ['card']);
        assert.ok(!call.result.isError);
        assert.deepEqual(call.result.content,
            [{ type: 'text', text: 'You picked the queen of hearts.' }]);
        checkOneElicitation(call.runId, call.result, call.req);

        const declined = await elicitOnce('pick_card', {}, { action: 'decline' });
        assert.deepEqual(declined.result.content,
            [{ type: 'text', text: 'No card picked (declined).' }]);
        checkOneElicitation(declined.runId, declined.result, declined.req);
    },

    // The SDK checks an ElicitResult's shape but not the content against requestedSchema, so
    // these answers reach dmcp as they are; dmcp's runtime validates them.
    async schema_violation() {
        checkSchemaError(await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'accept', content: { ok: 'yes' } }), /does not fit the schema/);
        checkSchemaError(await elicitOnce('pick_card', {},
            { action: 'accept', content: { card: 'joker' } }), /does not fit the schema/);
        checkSchemaError(await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'accept', content: {} }), /does not fit the schema/);
        checkSchemaError(await elicitOnce('confirm', { question: 'Ship it?' },
            { action: 'accept' }), /needs a content object/);
    },

    // connect_account: a URL-mode elicitation, then notifications/elicitation/complete; from a
    // client without the url capability, the -32042 error that lists the elicitation.
    async url_mode() {
        const seen = [], order = [];
        const { client, errors } = await sdk({
            caps: { elicitation: { form: {}, url: {} } },
            elicit: async (req, extra) => {
                seen.push({ params: req.params, id: extra.requestId });
                order.push('elicit');
                return { action: 'accept' };
            }
        });
        client.setNotificationHandler(ElicitationCompleteNotificationSchema, n => {
            order.push(`complete ${n.params.elicitationId}`);
        });
        const result = await client.callTool({ name: 'connect_account',
            arguments: { service: 'Example' } });
        order.push('result');
        await client.close();
        assert.deepEqual(errors, []);
        assert.equal(seen.length, 1);
        const eid = seen[0].id, run = runOfId(eid);
        assert.deepEqual(seen[0].params, { mode: 'url', elicitationId: eid,
            message: 'Sign in to Example in your browser to connect it.',
            url: `https://auth.example.com/connect?elicitation=${encodeURIComponent(eid)}` });
        assert.ok(!result.isError, JSON.stringify(result));
        assert.deepEqual(result.content, [{ type: 'text', text: 'Connected to Example.' }]);
        assert.deepEqual(order, ['elicit', `complete ${eid}`, 'result']);
        const f = checkRun(run, { status: 'completed', steps: 2, answers: 1,
            kinds: ['request', 'notification', 'response'] });
        assert.equal(JSON.parse(f.events[1].body).method, 'notifications/elicitation/complete');

        // Form mode only: no request; the call fails with -32042 listing the elicitation.
        const form = await sdk({ caps: { elicitation: { form: {} } },
            elicit: async () => { throw new Error('no elicitation expected'); } });
        let err = null;
        try {
            await form.client.callTool({ name: 'connect_account',
                arguments: { service: 'Example' } });
        } catch (e) {
            err = e;
        }
        await form.client.close();
        assert.ok(err instanceof UrlElicitationRequiredError, `expected -32042, got ${err}`);
        assert.equal(err.code, -32042);
        assert.equal(err.elicitations.length, 1);
        const el = err.elicitations[0];
        assert.equal(el.mode, 'url');
        assert.equal(runOfId(el.elicitationId), lastRunOf(form.sid));
        assert.equal(el.url,
            `https://auth.example.com/connect?elicitation=${encodeURIComponent(el.elicitationId)}`);
        checkRun(lastRunOf(form.sid), { status: 'failed', steps: 1, kinds: ['response'],
            answers: 0 });
    }
});
