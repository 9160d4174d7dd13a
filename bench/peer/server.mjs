// server.mjs — the benchmark's peer: the demo tools dmcp's benchmark calls (echo, confirm,
// slow_progress), with the same schemas and result shapes, served by the official TypeScript
// SDK (@modelcontextprotocol/sdk): one McpServer and one StreamableHTTPServerTransport per
// session (stateful: sessionIdGenerator = randomUUID), each with the SDK's own in-memory event
// store (examples/shared/inMemoryEventStore), SSE answers (enableJsonResponse false), on a
// plain Node http server bound to 127.0.0.1. This is the SDK's own multi-session example
// (simpleStreamableHttp) without express.
//
//   node bench/peer/server.mjs [--port N] [--port-file PATH]
//
// --port 0 (the default) picks a free port; the port is printed ("peer: listening on
// 127.0.0.1:N") and written to --port-file. The SDK is loaded from BENCH_NODE_MODULES
// (default: tests/node/node_modules of this tree, which `make deps` installs).
//
// One deliberate difference from dmcp's demo tool: slow_progress accepts up to 1000 steps
// (dmcp's: 100), so the replay item can make a real 1000-event stream here. Elicitation
// requests get a one-day timeout instead of the SDK's default 60 s: a dmcp call waits for its
// answer for as long as its session lives, and the suspended-call items park calls for
// minutes.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = resolve(process.env.BENCH_NODE_MODULES || join(here, '../../tests/node/node_modules'));
const require = createRequire(join(modules, '..', 'package.json'));
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
const { InMemoryEventStore } = require('@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js');
const { z } = require('zod');

const MAX_BODY = 1 << 20;
const ELICIT_TIMEOUT_MS = 24 * 3600 * 1000;
const PEER_MAX_STEPS = 1000;

function arg(name, dflt) {
	const i = process.argv.indexOf(name);
	return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const confirmSchema = {
	type: 'object',
	properties: { ok: { type: 'boolean', title: 'OK?', description: 'Confirm' } },
	required: ['ok'],
};

function newServer() {
	const server = new McpServer({ name: 'bench-peer', version: '0.1.0' });
	server.registerTool('echo', {
		title: 'Echo',
		description: 'Echoes a message back, optionally in upper case',
		inputSchema: z.strictObject({ message: z.string().max(65536), uppercase: z.boolean().optional() }),
		outputSchema: { echoed: z.string(), length: z.number().int() },
		annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
	}, async ({ message, uppercase }) => {
		const echoed = uppercase ? message.replace(/[a-z]/g, (c) => c.toUpperCase()) : message;
		const out = { echoed, length: echoed.length };
		return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
	});
	server.registerTool('confirm', {
		title: 'Confirm',
		description: 'Asks the user to confirm, and says whether they did',
		inputSchema: z.strictObject({ question: z.string().optional() }),
		outputSchema: { accepted: z.boolean() },
	}, async ({ question }, extra) => {
		const ans = await server.server.elicitInput(
			{ message: question ?? 'Do you confirm?', requestedSchema: confirmSchema },
			{ relatedRequestId: extra.requestId, timeout: ELICIT_TIMEOUT_MS });
		const out = { accepted: ans.action === 'accept' && ans.content?.ok === true };
		return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
	});
	server.registerTool('slow_progress', {
		title: 'Slow progress',
		description: 'Works for steps x delay_ms, reporting progress at every step',
		inputSchema: z.strictObject({
			steps: z.number().int().min(1).max(PEER_MAX_STEPS).optional(),
			delay_ms: z.number().int().min(0).max(5000).optional(),
		}),
	}, async ({ steps = 5, delay_ms = 100 }, extra) => {
		const token = extra._meta?.progressToken;
		for (let i = 1; i <= steps; i++) {
			if (delay_ms > 0)
				await new Promise((r) => setTimeout(r, delay_ms));
			if (token !== undefined)
				await extra.sendNotification({
					method: 'notifications/progress',
					params: { progressToken: token, progress: i, total: steps },
				});
		}
		return { content: [{ type: 'text', text: `Finished ${steps} steps.` }] };
	});
	return server;
}

const transports = new Map(); // session id -> transport

function jsonError(res, status, code, message) {
	if (res.headersSent)
		return res.end();
	res.writeHead(status, { 'Content-Type': 'application/json' });
	res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

function readBody(req) {
	return new Promise((ok, fail) => {
		const chunks = [];
		let n = 0;
		req.on('data', (c) => {
			n += c.length;
			if (n > MAX_BODY) {
				fail(new Error('body too large'));
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
		req.on('error', fail);
	});
}

async function handle(req, res) {
	const url = new URL(req.url, 'http://127.0.0.1');
	if (url.pathname !== '/mcp')
		return jsonError(res, 404, -32000, 'Not found');
	const sid = req.headers['mcp-session-id'];
	if (req.method === 'POST') {
		let body;
		try {
			body = JSON.parse(await readBody(req));
		} catch {
			return jsonError(res, 400, -32700, 'Parse error');
		}
		if (sid !== undefined) {
			const t = transports.get(sid);
			if (t === undefined)
				return jsonError(res, 404, -32001, 'Session not found');
			return t.handleRequest(req, res, body);
		}
		if (!isInitializeRequest(body))
			return jsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
		const transport = new StreamableHTTPServerTransport({
			sessionIdGenerator: () => randomUUID(),
			eventStore: new InMemoryEventStore(),
			enableJsonResponse: false,
			onsessioninitialized: (id) => { transports.set(id, transport); },
		});
		transport.onclose = () => {
			if (transport.sessionId !== undefined)
				transports.delete(transport.sessionId);
		};
		await newServer().connect(transport);
		return transport.handleRequest(req, res, body);
	}
	if (req.method === 'GET' || req.method === 'DELETE') {
		if (sid === undefined)
			return jsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
		const t = transports.get(sid);
		if (t === undefined)
			return jsonError(res, 404, -32001, 'Session not found');
		return t.handleRequest(req, res);
	}
	res.writeHead(405, { Allow: 'GET, POST, DELETE' });
	res.end();
}

const http = createServer((req, res) => {
	handle(req, res).catch((err) => {
		process.stderr.write(`peer: ${err?.stack ?? err}\n`);
		jsonError(res, 500, -32603, 'Internal error');
	});
});
// The load generator keeps connections alive between calls; do not close them under it.
http.keepAliveTimeout = 120000;
http.headersTimeout = 125000;
http.requestTimeout = 0;
http.listen(Number(arg('--port', '0')), '127.0.0.1', () => {
	const port = http.address().port;
	const file = arg('--port-file', '');
	if (file)
		writeFileSync(file, `${port}\n`);
	process.stdout.write(`peer: listening on 127.0.0.1:${port} (pid ${process.pid})\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
