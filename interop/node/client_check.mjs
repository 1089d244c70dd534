#!/usr/bin/env node
// Interop check: the official TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2) against an MCP
// Streamable HTTP server (the mcp-http built-in server, or interop/python/standin_server.py).
//
//   out=$(scripts/peers.sh --env) && eval "$out"
//   node interop/node/client_check.mjs URL [--timeout SECONDS]
//   node interop/node/client_check.mjs SSE-URL --transport sse --no-resume-check
//   node interop/node/client_check.mjs ws://HOST:PORT/ws --transport ws --no-resume-check
//
// --transport sse: the SDK's 2024-11-05 `SSEClientTransport` (`mcp-http serve --legacy-sse`,
// BR-33); --transport ws: its `WebSocketClientTransport` (Node's WebSocket, subprotocol `mcp`;
// `mcp-http serve --websocket`, BR-36). The default is `StreamableHTTPClientTransport`.
//
// Prints one line per check (`PASS name: detail` / `FAIL name: reason`) and exits 0 only if every
// check passed; a check that cannot run is a FAIL with the reason. The SDK is found through
// NODE_PATH ($PEERS/ts/node_modules): ESM `import` ignores NODE_PATH, so it is loaded with
// createRequire (the SDK's CommonJS build). The TS SDK 1.32 always uses the initialize handshake
// (newest version 2025-11-25; it has no 2026-07-28 probe).
import { createRequire } from 'node:module';
import { assert, checker, textOf } from './checks.mjs';

const require = createRequire(import.meta.url);
let sdk;
try {
  sdk = {
    ...require('@modelcontextprotocol/sdk/client/index.js'),
    ...require('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    ...require('@modelcontextprotocol/sdk/client/sse.js'),
    ...require('@modelcontextprotocol/sdk/client/websocket.js'),
    ...require('@modelcontextprotocol/sdk/types.js'),
  };
} catch (e) {
  console.log(`FAIL setup: cannot load @modelcontextprotocol/sdk (set NODE_PATH, see scripts/peers.sh --env): ${e.message}`);
  process.exit(1);
}
const {
  Client,
  StreamableHTTPClientTransport,
  SSEClientTransport,
  WebSocketClientTransport,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} = sdk;

const args = process.argv.slice(2);
const url = args.find((a, i) => !a.startsWith('--') && !['--timeout', '--transport'].includes(args[i - 1]));
const tIdx = args.indexOf('--timeout');
const trIdx = args.indexOf('--transport');
const transportKind = trIdx >= 0 ? args[trIdx + 1] : 'http';
const timeoutS = tIdx >= 0 ? Number(args[tIdx + 1]) : 20;
if (!url || !(timeoutS > 0)) {
  console.error('usage: client_check.mjs URL [--timeout SECONDS]');
  process.exit(2);
}
const SAMPLED_TEXT = 'hello from node';

// Whole-run bound: never hang CI.
const overall = setTimeout(() => {
  console.log(`FAIL overall: the whole run exceeded ${timeoutS * 12} s`);
  process.exit(1);
}, timeoutS * 12 * 1000);
overall.unref();

const { results, record, check } = checker(timeoutS);

// Every HTTP request the transport makes, to see GET + Last-Event-ID resumptions.
const httpLog = [];
const loggingFetch = async (input, init) => {
  const headers = new Headers(init && init.headers);
  httpLog.push({ at: Date.now(), method: (init && init.method) || 'GET', lastEventId: headers.get('last-event-id') });
  return fetch(input, init);
};

const logs = [];
const samplingRequests = [];
const elicitations = [];
const client = new Client(
  { name: 'mcp-http-interop-node', version: '0.0.1' },
  { capabilities: { sampling: {}, elicitation: { form: {} } } },
);
client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
  samplingRequests.push(req.params);
  return { model: 'interop-check-model', role: 'assistant', content: { type: 'text', text: SAMPLED_TEXT }, stopReason: 'endTurn' };
});
client.setRequestHandler(ElicitRequestSchema, async (req) => {
  elicitations.push(req.params);
  return { action: 'accept', content: { name: 'Node', proceed: true } };
});
client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
  logs.push(n.params);
});
const transport =
  transportKind === 'sse'
    ? new SSEClientTransport(new URL(url), { fetch: loggingFetch })
    : transportKind === 'ws'
      ? new WebSocketClientTransport(new URL(url))
      : new StreamableHTTPClientTransport(new URL(url), {
          fetch: loggingFetch,
          reconnectionOptions: { initialReconnectionDelay: 500, maxReconnectionDelay: 5000, reconnectionDelayGrowFactor: 1.5, maxRetries: 3 },
        });
const reqOpts = { timeout: timeoutS * 1000 };

const names = ['list_tools', 'list_resources', 'list_prompts', 'echo', 'long_running_operation', 'sample_llm', 'ask_user', 'test_reconnection'];
const connected = await check('initialize', async () => {
  await client.connect(transport, reqOpts);
  const info = client.getServerVersion() || {};
  return `${transportKind}, protocol ${client.getNegotiatedProtocolVersion?.() ?? transport.protocolVersion}, server ${info.name} ${info.version}`;
});

if (!connected) {
  for (const n of names) record(n, false, 'not run: the connection failed');
} else {
  await check('list_tools', async () => {
    const { tools } = await client.listTools(undefined, reqOpts);
    const have = new Set(tools.map((t) => t.name));
    const want = ['add', 'ask_user', 'echo', 'long_running_operation', 'sample_llm', 'test_reconnection'];
    const missing = want.filter((n) => !have.has(n));
    assert(missing.length === 0, `missing tools ${missing.join(', ')} (got ${[...have].sort().join(', ')})`);
    return `${tools.length} tools, including ${want.join(', ')}`;
  });
  await check('list_resources', async () => `${(await client.listResources(undefined, reqOpts)).resources.length} resources`);
  await check('list_prompts', async () => `${(await client.listPrompts(undefined, reqOpts)).prompts.length} prompts`);
  await check('echo', async () => {
    const msg = 'interop: héllo ✓ 123';
    const r = await client.callTool({ name: 'echo', arguments: { message: msg } }, undefined, reqOpts);
    assert(!r.isError, `isError: ${textOf(r)}`);
    assert(textOf(r) === msg, `got ${JSON.stringify(textOf(r))}, expected ${JSON.stringify(msg)}`);
    return 'text equals the message';
  });
  await check('long_running_operation', async () => {
    await client.setLoggingLevel('info', reqOpts);
    logs.length = 0;
    const progress = [];
    const r = await client.callTool({ name: 'long_running_operation', arguments: { duration: 1, steps: 3 } }, undefined, {
      ...reqOpts,
      onprogress: (p) => progress.push(p),
    });
    await new Promise((res) => setTimeout(res, 200));
    assert(!r.isError, `isError: ${textOf(r)}`);
    const values = progress.map((p) => p.progress);
    // Over SSEClientTransport and WebSocketClientTransport the SDK dispatches the messages of
    // one read synchronously but handles notifications a microtask later, so the last progress
    // notification, which the server sends just before the result, is dropped when both arrive
    // together (the result has removed the progress handler by then); the server sent it, as
    // the Python SDK's SSE client and ours see (legacy_sse_serve.rs).
    const least = transportKind === 'http' ? 3 : 2;
    assert(progress.length >= least && progress.length <= 3, `expected ${least === 3 ? 3 : '2 or 3'} progress notifications, got ${JSON.stringify(progress)}`);
    assert(values.every((v, i) => i === 0 || v > values[i - 1]), `progress not increasing: ${values}`);
    assert(logs.length === 3, `expected 3 log messages, got ${logs.length}: ${JSON.stringify(logs.map((l) => l.data))}`);
    return `progress [${values}] of ${progress[0].total}, ${logs.length} log messages (logging/setLevel info)`;
  });
  await check('sample_llm', async () => {
    samplingRequests.length = 0;
    const r = await client.callTool({ name: 'sample_llm', arguments: { prompt: 'Say hello' } }, undefined, reqOpts);
    assert(!r.isError, `isError: ${textOf(r)}`);
    assert(samplingRequests.length > 0, 'the sampling handler was never called');
    assert(textOf(r).includes(SAMPLED_TEXT), `result ${JSON.stringify(textOf(r))} lacks ${JSON.stringify(SAMPLED_TEXT)}`);
    return `result ${JSON.stringify(textOf(r))}`;
  });
  await check('ask_user', async () => {
    elicitations.length = 0;
    const r = await client.callTool({ name: 'ask_user', arguments: { message: 'Who are you?' } }, undefined, reqOpts);
    assert(!r.isError, `isError: ${textOf(r)}`);
    assert(elicitations.length > 0, 'the elicitation handler was never called');
    const t = textOf(r);
    assert(t.includes('action=accept') && t.includes('Node'), `result ${JSON.stringify(t)} lacks action=accept and Node`);
    return `result ${JSON.stringify(t)}`;
  });
  await check('test_reconnection', async () => {
    const start = Date.now();
    const r = await client.callTool({ name: 'test_reconnection', arguments: {} }, undefined, reqOpts);
    assert(!r.isError, `isError: ${textOf(r)}`);
    assert(textOf(r).includes('Reconnection test completed successfully'), `result ${JSON.stringify(textOf(r))}`);
    const resumes = httpLog.filter((e) => e.at >= start && e.method === 'GET' && e.lastEventId);
    // --no-resume-check: a server behind a stdio bridge cannot close the HTTP stream for polling.
    if (args.includes('--no-resume-check')) return `result ok (${resumes.length} resumption(s), not required)`;
    assert(resumes.length > 0, 'the result arrived but the client never sent GET + Last-Event-ID (no resumption)');
    return `result ok after ${resumes.length} GET + Last-Event-ID resumption(s) (${resumes[0].lastEventId})`;
  });
}

try {
  await Promise.race([client.close(), new Promise((res) => setTimeout(res, 5000))]);
} catch (e) {
  console.log(`note: closing the client failed: ${e.message}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(`client_check.mjs: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
