// logging.mjs — logging/setLevel filters the log notifications of test_tool_with_logging (three
// at level info): none at "error", all three, in order and before the result, at "debug".
import { assert, checkRun, lastRunOf, LoggingMessageNotificationSchema, main, sdk,
    sql } from './lib.mjs';

const LINES = ['Tool execution started', 'Tool processing data', 'Tool execution completed'];

await main({
    async set_level() {
        const { client, sid, errors } = await sdk({ caps: {} });
        const seen = []; // log notifications and the result, in the order the client got them
        client.setNotificationHandler(LoggingMessageNotificationSchema, n => {
            seen.push(n.params);
        });
        const call = async () => {
            const r = await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
            seen.push('result');
            assert.deepEqual(r.content,
                [{ type: 'text', text: 'Tool with logging executed successfully' }]);
        };

        await client.setLoggingLevel('error');
        assert.equal(sql(`select log_level from dmcp_sessions where id = :'s'`, { s: sid }), '4');
        await call();
        assert.deepEqual(seen, ['result'], 'nothing below "error" is sent');
        checkRun(lastRunOf(sid), { status: 'completed', steps: 1, kinds: ['response'] });

        seen.length = 0;
        await client.setLoggingLevel('debug');
        assert.equal(sql(`select log_level from dmcp_sessions where id = :'s'`, { s: sid }), '0');
        await call();
        assert.deepEqual(seen, [...LINES.map(data => ({ level: 'info', data })), 'result']);
        const f = checkRun(lastRunOf(sid), { status: 'completed', steps: 1,
            kinds: ['notification', 'notification', 'notification', 'response'] });
        assert.deepEqual(f.events.slice(0, 3).map(e => JSON.parse(e.body).params.data), LINES);
        await client.close();
        assert.deepEqual(errors, []);
    }
});
