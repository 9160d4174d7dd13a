// auth.mjs — signing in to dmcp with the official MCP TypeScript SDK client and raw fetch, for
// tests/auth.bats: dmcp tokens and JWT access tokens (signed here with keys the bats file made
// with the `openssl` command), the challenges of refused tokens, the OAuth discovery a client
// does from a 401 (against a small authorization server run here), revocation across worker
// processes, the scopes a call keeps, and the sessions-per-principal limit under concurrency.
// Environment (besides lib.mjs's): KEYS (directory of rsa.pem, ec.pem, ed.pem, other.pem),
// ISSUER, RESOURCE, AS_PORT (the authorization server's port), TOKEN_ALICE (scopes mcp admin),
// TOKEN_ALICE2 (mcp), TOKEN_BOB (mcp), TOKEN_CAROL (mcp; only sessions_limit uses carol),
// DMCP_BIN (for `token revoke`).
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { ClientCredentialsProvider }
    from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth-extensions.js';
import { assert, Client, isRequest, main, note, programLog, Raw, runOfId, sdk, sleep, sql,
    StreamableHTTPClientTransport, URL_ } from './lib.mjs';
import { accessToken, jws, keyOf } from './jose.mjs';

const env = name => {
    const v = process.env[name];
    assert.ok(v, `${name} is not set (tests/auth.bats sets it)`);
    return v;
};
const KEYS = process.env.KEYS, ISSUER = process.env.ISSUER, RESOURCE = process.env.RESOURCE;
const MD_URL = () => {
    const u = new URL(RESOURCE);
    return `${u.origin}/.well-known/oauth-protected-resource${u.pathname.replace(/\/$/, '')}`;
};
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25',
    capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } } };

/** An OAuth client provider that already holds an access token (what a client has after
 * signing in): the SDK sends it as a bearer token. */
function holding(token) {
    return {
        get redirectUrl() { return undefined; },
        get clientMetadata() { return { client_name: 'auth-test', redirect_uris: [] }; },
        clientInformation() { return { client_id: 'auth-test' }; },
        tokens() { return { access_token: token, token_type: 'Bearer' }; },
        saveTokens() {},
        redirectToAuthorization() { throw new Error('no interactive sign-in in this test'); },
        saveCodeVerifier() {},
        codeVerifier() { return ''; }
    };
}

/** whoami through an SDK client (already connected). */
async function whoami(client, args = {}) {
    const r = await client.callTool({ name: 'whoami', arguments: args });
    assert.ok(!r.isError, `whoami: ${JSON.stringify(r)}`);
    return r.structuredContent;
}

/** An SDK client connected with authProvider or bearer (requestInit headers). */
async function connect({ provider, bearer }) {
    const client = new Client({ name: 'auth-test', version: '1.0.0' }, { capabilities: {} });
    const opts = {};
    if (provider) opts.authProvider = provider;
    if (bearer) opts.requestInit = { headers: { Authorization: `Bearer ${bearer}` } };
    const transport = new StreamableHTTPClientTransport(new URL(URL_), opts);
    await client.connect(transport);
    return { client, transport };
}

/** POST initialize with Authorization authz; { status, challenge, body }. */
async function tryInit(authz) {
    const headers = { 'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream' };
    if (authz !== null) headers.Authorization = authz;
    const r = await fetch(URL_, { method: 'POST', headers, body: JSON.stringify(INIT) });
    return { status: r.status, challenge: r.headers.get('www-authenticate'), body: await r.text() };
}

/** The attributes of a Bearer challenge as an object. */
function attrs(challenge) {
    assert.match(challenge || '', /^Bearer /, `not a Bearer challenge: ${challenge}`);
    const out = {};
    for (const m of challenge.slice(7).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
    return out;
}

/** The program's log holds none of these tokens (nor any part of their signatures). */
function notLogged(tokens) {
    const log = programLog().join('\n');
    for (const t of tokens) {
        const secret = t.startsWith('dmcp_') ? t.slice(5, 25) : t.split('.').at(-1).slice(0, 20);
        if (secret.length >= 10) assert.ok(!log.includes(secret), 'a token is in the program log');
    }
}

await main({
    // A dmcp token through the SDK: as request headers (what Claude Code's --header and VS
    // Code's "headers" do), and as an authProvider's token.
    async token_sdk() {
        for (const how of ['headers', 'authProvider']) {
            const token = env('TOKEN_ALICE');
            const { client, transport } = await connect(how === 'headers' ? { bearer: token }
                : { provider: holding(token) });
            assert.deepEqual(await whoami(client), { principal: 'alice', scopes: ['mcp', 'admin'],
                admin: true }, how);
            assert.equal(sql(`select principal from dmcp_sessions where id = :'s'`,
                { s: transport.sessionId }), 'alice');
            await client.close();
        }
        const { client } = await connect({ bearer: env('TOKEN_BOB') });
        assert.deepEqual(await whoami(client), { principal: 'bob', scopes: ['mcp'], admin: false });
        await client.close();
        notLogged([env('TOKEN_ALICE'), env('TOKEN_BOB')]);
    },

    // JWTs signed with RSA, P-256 and Ed25519 keys (made by openssl), each accepted.
    async jwt_sdk() {
        const made = [];
        for (const [name, kid] of [['rsa', 'rsa-1'], ['ec', 'ec-1'], ['ed', 'ed-1']]) {
            const token = accessToken(keyOf(KEYS, name), kid, { iss: ISSUER, aud: RESOURCE,
                sub: `user-${name}`, scope: 'mcp files:read' });
            made.push(token);
            const { client } = await connect({ provider: holding(token) });
            assert.deepEqual(await whoami(client), { principal: `user-${name}`,
                scopes: ['mcp', 'files:read'], admin: false }, name);
            await client.close();
            note(`${name} (${token.split('.')[0].length}-byte header): a ${token.length}-byte ` +
                'token, accepted');
        }
        notLogged(made);
    },

    // Every bad token: its status and challenge.
    async jwt_refusals() {
        const rsa = keyOf(KEYS, 'rsa'), ec = keyOf(KEYS, 'ec'), other = keyOf(KEYS, 'other');
        const now = Math.floor(Date.now() / 1000);
        const base = { iss: ISSUER, aud: RESOURCE, sub: 'mallory', scope: 'mcp' };
        const pem = readFileSync(`${KEYS}/rsa.pub.pem`, 'utf8');
        const cases = [
            ['signed by another key', accessToken(other, 'rsa-1', base), 401, /signature/],
            ['audience of another resource', accessToken(rsa, 'rsa-1',
                { ...base, aud: 'https://other.example/mcp' }), 401, /resource/],
            ['another issuer', accessToken(rsa, 'rsa-1', { ...base, iss: 'https://evil.example' }),
                401, /issuer/],
            ['expired', accessToken(rsa, 'rsa-1', { ...base, exp: now - 3600 }), 401, /expired/],
            ['not yet valid', accessToken(rsa, 'rsa-1', { ...base, nbf: now + 3600 }), 401,
                /not valid yet/],
            ['alg none', jws({ alg: 'none', kid: 'rsa-1' }, { ...base, exp: now + 600 }), 401,
                /alg none/],
            ['HS256 keyed with the RSA public key', jws({ alg: 'HS256', kid: 'rsa-1' },
                { ...base, exp: now + 600 }, { hmacSecret: pem }), 401, /symmetric/],
            ['unknown kid', accessToken(rsa, 'rsa-9', base), 401, /unknown kid/],
            ['ES256 under the RSA key\'s kid', accessToken(ec, 'rsa-1', base), 401,
                /does not match/],
            ['a principal claim that is no string', accessToken(rsa, 'rsa-1', { ...base, sub: 7 }),
                401, /principal/],
            ['malformed', 'abc.def', 401, /not a token/],
            ['oversize', `${accessToken(rsa, 'rsa-1', base)}${'A'.repeat(4200)}`, 401, /too long/],
            ['without the required scope', accessToken(rsa, 'rsa-1', { ...base, scope: 'read' }),
                403, /scope/]
        ];
        for (const [what, token, status, why] of cases) {
            const r = await tryInit(`Bearer ${token}`);
            assert.equal(r.status, status, `${what}: ${r.status} ${r.body}`);
            const a = attrs(r.challenge);
            assert.equal(a.error, status === 403 ? 'insufficient_scope' : 'invalid_token', what);
            assert.match(a.error_description, why, what);
            assert.equal(a.resource_metadata, MD_URL(), `${what}: resource_metadata`);
            if (status === 403) assert.equal(a.scope, 'mcp', `${what}: the scope to ask for`);
            assert.equal(JSON.parse(r.body).error, a.error, `${what}: the body`);
        }
        // No token: a challenge without error, naming the metadata and the scope.
        const none = await tryInit(null);
        assert.equal(none.status, 401);
        assert.equal(none.challenge, `Bearer scope="mcp", resource_metadata="${MD_URL()}"`);
        const basic = await tryInit('Basic YWxpY2U6YWxpY2UtcHc=');
        assert.equal(basic.status, 401, 'a Basic header is no bearer token');
        assert.equal(attrs(basic.challenge).error, undefined);
        assert.equal(sql(`select count(*) from dmcp_sessions where principal = 'mallory'`), '0');
        notLogged(cases.map(c => c[1]).filter(t => t.length < 4096));
        note(`${cases.length} bad tokens refused with their challenge`);
    },

    // The OAuth sign-in an MCP client does: 401 → protected resource metadata → the
    // authorization server's metadata → a token for this resource → the request again.
    async discovery() {
        const rsa = keyOf(KEYS, 'rsa');
        const seen = [];
        const as = createServer((req, res) => {
            let body = '';
            req.on('data', c => { body += c; });
            req.on('end', () => {
                seen.push(`${req.method} ${req.url}`);
                const json = (code, o) => {
                    res.writeHead(code, { 'Content-Type': 'application/json' });
                    res.end(JSON.stringify(o));
                };
                if (req.url === '/.well-known/oauth-authorization-server') {
                    return json(200, { issuer: ISSUER, token_endpoint: `${ISSUER}/token`,
                        authorization_endpoint: `${ISSUER}/authorize`,
                        response_types_supported: ['code'],
                        grant_types_supported: ['client_credentials'],
                        token_endpoint_auth_methods_supported: ['client_secret_basic'],
                        scopes_supported: ['mcp'] });
                }
                if (req.method === 'POST' && req.url === '/token') {
                    const p = new URLSearchParams(body);
                    const [id, secret] = Buffer.from((req.headers.authorization || '')
                        .replace(/^Basic /, ''), 'base64').toString().split(':');
                    if (p.get('grant_type') !== 'client_credentials' || id !== 'ci-bot' ||
                        secret !== 'ci-secret')
                        return json(401, { error: 'invalid_client' });
                    seen.push(`resource=${p.get('resource')} scope=${p.get('scope')}`);
                    return json(200, { token_type: 'Bearer', expires_in: 600,
                        access_token: accessToken(rsa, 'rsa-1', { iss: ISSUER,
                            aud: p.get('resource'), sub: id, scope: p.get('scope') || '' }) });
                }
                json(404, { error: 'not_found' });
            });
        });
        await new Promise(r => as.listen(Number(env('AS_PORT')), '127.0.0.1', r));
        try {
            // SDK 1.x's client_credentials request takes its scope from the provider's own
            // configuration (not from the challenge's scope="mcp"): a configured client.
            const provider = new ClientCredentialsProvider({ clientId: 'ci-bot',
                clientSecret: 'ci-secret', scope: 'mcp', expectedIssuer: ISSUER });
            const { client } = await connect({ provider });
            assert.deepEqual(await whoami(client), { principal: 'ci-bot', scopes: ['mcp'],
                admin: false });
            await client.close();
        } finally {
            as.close();
            note(`the authorization server saw: ${seen.join('; ')}`);
        }
        assert.ok(seen.includes('GET /.well-known/oauth-authorization-server'), 'AS metadata read');
        assert.ok(seen.includes(`resource=${RESOURCE} scope=mcp`),
            'the token was asked for this resource (RFC 8707) and the scope the server named');
    },

    // A token revoked while worker process W1 holds a stream it authenticated: the next
    // request on the other process is refused, and so is W1's next one once it is free.
    async revoke_workers() {
        const T = execFileSync(env('DMCP_BIN'), ['token', 'create', '--principal', 'alice',
            '--scope', 'mcp'], { encoding: 'utf8' }).trim().split('\n').at(-1);
        const U = env('TOKEN_BOB');
        const pidOf = l => Number(/ pid (\d+): /.exec(l)[1]);
        const a = new Raw({ auth: `Bearer ${T}` });
        await a.init();
        const s1 = await a.callStream(1, 'confirm');
        const evs = await s1.until(isRequest);
        const P = evs.at(-1).msg.id, run = runOfId(P);
        let w1;
        for (let i = 0; i < 50 && !w1; i++, await sleep(100)) {
            const l = programLog().find(x => x.includes(`: following run ${run} `));
            if (l) w1 = pidOf(l);
        }
        assert.ok(w1, 'the stream\'s worker');
        // W1 follows the stream: the other process serves this one.
        let r = await a.post({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
        assert.equal(r.status, 200, 'before the revocation');
        await r.text();
        execFileSync(env('DMCP_BIN'), ['token', 'revoke', T], { encoding: 'utf8' });
        const before = programLog().length - 1; /* the last element is the empty text after
                                                   the final newline */
        r = await a.post({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
        await r.text();
        assert.equal(r.status, 401, 'the next request after the revocation');
        // Pin the other process with bob's stream, free W1: W1's next request is refused.
        const b = new Raw({ auth: `Bearer ${U}` });
        await b.init();
        const s2 = await b.callStream(1, 'confirm');
        await s2.until(isRequest);
        s1.close();
        await sleep(300);
        const ans = await a.answer(P, { action: 'accept', content: { ok: true } });
        assert.equal(ans.status, 401, `the answer with the revoked token: ${ans.status}`);
        s2.close();
        const refused = programLog().slice(before).filter(l => /: 401: the token was revoked/.test(l))
            .map(pidOf);
        const workers = readFileSync(`${process.env.STACK_DIR}/workers.pids`, 'utf8')
            .split(/\s+/).filter(Boolean).map(Number);
        note(`workers ${workers.join(', ')}; the stream held by ${w1}; refusals by ` +
            `${refused.join(', ')}`);
        assert.ok(refused.includes(w1), `the process that served the token (${w1}) refused it`);
        assert.ok(refused.some(p => p !== w1), 'another process refused it too');
        assert.equal(sql(`select status from dmcp_runs where id = :'r'`, { r: run }), 'waiting',
            'the refused answer changed nothing');
    },

    // A call keeps the scopes of the request that started it: alice starts it with her
    // "mcp admin" token and answers with her "mcp" token; the tool sees "mcp admin".
    async scopes_kept() {
        const a = new Raw({ auth: `Bearer ${env('TOKEN_ALICE')}` });
        await a.init();
        const s = await a.callStream(1, 'whoami', { ask: true });
        const evs = await s.until(isRequest);
        const P = evs.at(-1).msg.id, run = runOfId(P);
        s.close();
        assert.equal(sql(`select scopes from dmcp_runs where id = :'r'`, { r: run }), 'mcp admin');
        const other = new Raw({ auth: `Bearer ${env('TOKEN_ALICE2')}`, sid: a.sid });
        const ans = await other.answer(P, { action: 'accept', content: { ok: true } });
        assert.equal(ans.status, 202, `alice's answer with her other token: ${ans.text}`);
        const out = await (await other.resume(`${run}:1`)).all();
        assert.deepEqual(out.at(-1).msg.result.structuredContent,
            { principal: 'alice', scopes: ['mcp', 'admin'], admin: true });
    },

    // DMCP_MAX_SESSIONS_PER_PRINCIPAL=3: 20 initializes at once, exactly 3 get a session.
    async sessions_limit() {
        const auth = `Bearer ${env('TOKEN_CAROL')}`;
        const all = await Promise.all(Array.from({ length: 20 }, async () => {
            const r = await fetch(URL_, { method: 'POST', headers: { 'Content-Type':
                'application/json', Accept: 'application/json, text/event-stream',
                Authorization: auth }, body: JSON.stringify(INIT) });
            return { sid: r.headers.get('mcp-session-id'), body: JSON.parse(await r.text()) };
        }));
        const ok = all.filter(x => x.sid);
        const refused = all.filter(x => !x.sid);
        assert.equal(ok.length, 3, `sessions made: ${ok.length}`);
        for (const x of refused) {
            assert.equal(x.body.error.code, -32000);
            assert.match(x.body.error.message, /DMCP_MAX_SESSIONS_PER_PRINCIPAL/);
        }
        assert.equal(sql(`select count(*) from dmcp_sessions where principal = 'carol' and
            ended_at is null`), '3');
        const raw = new Raw({ auth, sid: ok[0].sid });
        const d = await raw.del();
        assert.equal(d.status, 200);
        assert.equal(sql(`select count(*) from dmcp_sessions where principal = 'carol' and
            ended_at is null`), '2');
        const again = new Raw({ auth });
        await again.init();
        note(`20 concurrent initializes: 3 sessions, 17 refused with ${refused[0].body.error.message}`);
    }
});
