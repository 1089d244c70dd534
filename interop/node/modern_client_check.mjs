#!/usr/bin/env node
// Interop check: the official TypeScript SDK v2 client (@modelcontextprotocol/client 2.4.0) against
// an MCP server in the 2026-07-28 era (the mcp-http built-in server: `mcp-http serve`).
//
//   out=$(scripts/peers.sh --env) && eval "$out"
//   node interop/node/modern_client_check.mjs URL [--timeout SECONDS] [--pin] [--per-instance-fixtures]
//
// The client opts into era detection (`versionNegotiation: { mode: 'auto' }`: server/discover
// first, initialize only as a fallback); --pin pins 2026-07-28 instead. Every HTTP exchange goes
// through a logging fetch, so the checks can look at the wire as well as at the SDK's answers.
// Checks, one `PASS name: detail` / `FAIL name: reason` line each:
//   era          the client chose the modern era at 2026-07-28: server/discover was sent, no
//                initialize, and no response carried an Mcp-Session-Id
//   tools        tools/list has the built-in tools this script uses; `echo` answers its message
//   mrtr_elicit  `ask_user` answers with an input-required result; the SDK hands the embedded
//                elicitation to our `elicitation/create` handler and retries (a new id) with
//                inputResponses; our answer comes back in the result (the first round has no
//                requestState to echo: mcp-http seals one only once there are answers to keep)
//   mrtr_sample  the same with `sample_llm` and our `sampling/createMessage` handler
//   listen       `client.listen({ toolsListChanged })` is acknowledged; after a call of
//                `test_trigger_tool_change` our notifications/tools/list_changed handler fires, and
//                a refreshed tools/list shows the change (`test_dynamic_tool` came or went); with
//                --per-instance-fixtures (instances behind a balancer) the list is not compared:
//                the trigger changes the list of the instance that ran it only
//   cancel       a `long_running_operation` call (10 s) aborted through its AbortSignal: the SDK
//                closes the request's stream, no notifications/cancelled is POSTed, and the
//                server's `test_cancellation_count` reports one more cancelled run within 5 s
//                (counts of the process that ran the call: each instance counts its own)
// Exits 0 only if every check passed; a check that cannot run is a FAIL with its reason. The SDK
// is loaded with createRequire from $TS2_MODULES (ESM `import` ignores NODE_PATH).
import { createRequire } from 'node:module';
import { assert, checker, textOf } from './checks.mjs';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--') && !/^\d+(\.\d+)?$/.test(a));
const tIdx = args.indexOf('--timeout');
const timeoutS = tIdx >= 0 ? Number(args[tIdx + 1]) : 20;
const pin = args.includes('--pin');
const perInstance = args.includes('--per-instance-fixtures');
// test_cancellation_count calls that make the baseline: more than the instances behind a
// round-robin balancer (three in scripts/nginx-cluster.sh), so each is seen.
const BASELINE_POLLS = 6;
if (!url || !(timeoutS > 0)) {
  console.error('usage: modern_client_check.mjs URL [--timeout SECONDS] [--pin] [--per-instance-fixtures]');
  process.exit(2);
}
const modules = process.env.TS2_MODULES;
let sdk;
try {
  if (!modules) throw new Error('TS2_MODULES is not set');
  sdk = createRequire(`${modules}/`)('@modelcontextprotocol/client');
} catch (e) {
  console.log(`FAIL setup: cannot load @modelcontextprotocol/client (see scripts/peers.sh --env): ${e.message}`);
  process.exit(1);
}
const { Client, StreamableHTTPClientTransport } = sdk;
const MODERN = '2026-07-28';
const SAMPLED_TEXT = 'hello from the ts v2 client';
const ELICITED_NAME = 'Node v2';

// Whole-run bound: never hang CI.
const overall = setTimeout(() => {
  console.log(`FAIL overall: the whole run exceeded ${timeoutS * 10} s`);
  process.exit(1);
}, timeoutS * 10 * 1000);
overall.unref();

const { results, record, check } = checker(timeoutS);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every POST body the transport sends (parsed), and every response's session header.
const wire = [];
const loggingFetch = async (input, init) => {
  const method = (init && init.method) || 'GET';
  let body;
  if (init && typeof init.body === 'string') {
    try {
      body = JSON.parse(init.body);
    } catch {
      body = undefined;
    }
  }
  const entry = { method, body, sessionId: null };
  wire.push(entry);
  const response = await fetch(input, init);
  entry.sessionId = response.headers.get('mcp-session-id');
  return response;
};
const posted = (rpcMethod) => wire.filter((e) => e.body && e.body.method === rpcMethod);
const toolCalls = (tool) => posted('tools/call').filter((e) => e.body.params && e.body.params.name === tool);

const elicitations = [];
const samplings = [];
const listChanged = [];
const client = new Client(
  { name: 'mcp-http-interop-ts-v2', version: '1.0.0' },
  {
    capabilities: { elicitation: { form: {} }, sampling: {} },
    versionNegotiation: { mode: pin ? { pin: MODERN } : 'auto' },
  },
);
client.setRequestHandler('elicitation/create', async (request) => {
  elicitations.push(request.params);
  return { action: 'accept', content: { name: ELICITED_NAME, proceed: true } };
});
client.setRequestHandler('sampling/createMessage', async (request) => {
  samplings.push(request.params);
  return { role: 'assistant', content: { type: 'text', text: SAMPLED_TEXT }, model: 'interop-check-model', stopReason: 'endTurn' };
});
client.setNotificationHandler('notifications/tools/list_changed', (n) => {
  listChanged.push(n);
});
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: loggingFetch });

// The built-in server's count of long_running_operation runs (test_cancellation_count).
async function runCounts() {
  const r = await client.callTool({ name: 'test_cancellation_count', arguments: {} });
  assert(!r.isError, `test_cancellation_count: isError: ${textOf(r)}`);
  return JSON.parse(textOf(r));
}

let connected = false;
try {
  connected = await check('era', async () => {
    await client.connect(transport, { timeout: timeoutS * 1000 });
    const era = client.getProtocolEra();
    const version = client.getNegotiatedProtocolVersion();
    assert(era === 'modern', `the client chose the ${era} era`);
    assert(version === MODERN, `negotiated ${version}, expected ${MODERN}`);
    assert(posted('server/discover').length >= 1, 'no server/discover was sent');
    assert(posted('initialize').length === 0, 'an initialize was sent');
    const sessions = wire.filter((e) => e.sessionId);
    assert(sessions.length === 0, `a response carried Mcp-Session-Id ${sessions[0] && sessions[0].sessionId}`);
    assert(transport.sessionId === undefined, `the transport holds session ${transport.sessionId}`);
    const info = client.getServerVersion();
    return `${pin ? 'pinned' : 'auto'}: era ${era}, protocol ${version}, server ${info ? `${info.name} ${info.version}` : '?'}, no session`;
  });
  const names = ['tools', 'mrtr_elicit', 'mrtr_sample', 'listen', 'cancel'];
  if (!connected) {
    for (const n of names) record(n, false, 'not run: no 2026-07-28 connection (see era)');
  } else {
    await check('tools', async () => {
      const { tools } = await client.listTools();
      const have = new Set(tools.map((t) => t.name));
      const want = ['echo', 'ask_user', 'sample_llm', 'long_running_operation', 'test_trigger_tool_change', 'test_cancellation_count'];
      const missing = want.filter((n) => !have.has(n));
      assert(missing.length === 0, `missing tools ${missing.join(', ')}`);
      const msg = 'interop v2: héllo ✓ 123';
      const r = await client.callTool({ name: 'echo', arguments: { message: msg } });
      assert(!r.isError, `echo isError: ${textOf(r)}`);
      assert(textOf(r) === msg, `echo gave ${JSON.stringify(textOf(r))}`);
      return `${tools.length} tools; echo answered its message`;
    });

    // An MRTR round trip: the first tools/call answers input_required, the retry carries the answer.
    async function mrtr(tool, args, handled, expected) {
      const before = toolCalls(tool).length;
      handled.length = 0;
      const r = await client.callTool({ name: tool, arguments: args });
      assert(!r.isError, `isError: ${textOf(r)}`);
      assert(handled.length === 1, `our handler ran ${handled.length} times, expected once`);
      const calls = toolCalls(tool).slice(before);
      assert(calls.length === 2, `${calls.length} tools/call POSTs, expected 2 (the call and its retry)`);
      const retry = calls[1].body.params;
      assert(retry.inputResponses && Object.keys(retry.inputResponses).length === 1, 'the retry carries no inputResponses');
      assert(calls[0].body.id !== calls[1].body.id, 'the retry reused the request id');
      for (const e of expected) assert(textOf(r).includes(e), `result ${JSON.stringify(textOf(r))} lacks ${JSON.stringify(e)}`);
      return `input_required, handler, retry with inputResponses${retry.requestState ? ' + requestState' : ''}: ${JSON.stringify(textOf(r))}`;
    }
    await check('mrtr_elicit', () => mrtr('ask_user', { message: 'Who are you?' }, elicitations, ['action=accept', ELICITED_NAME]));
    await check('mrtr_sample', () => mrtr('sample_llm', { prompt: 'Say hello' }, samplings, [SAMPLED_TEXT]));

    await check('listen', async () => {
      const hasDynamic = async () =>
        (await client.listTools(undefined, { cacheMode: 'refresh' })).tools.some((t) => t.name === 'test_dynamic_tool');
      const before = await hasDynamic();
      listChanged.length = 0;
      const sub = await client.listen({ toolsListChanged: true });
      try {
        assert(sub.honoredFilter && sub.honoredFilter.toolsListChanged === true,
          `the server did not honour toolsListChanged: ${JSON.stringify(sub.honoredFilter)}`);
        const r = await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
        assert(!r.isError, `test_trigger_tool_change isError: ${textOf(r)}`);
        for (let i = 0; i < 50 && listChanged.length === 0; i++) await sleep(100);
        assert(listChanged.length >= 1, 'no notifications/tools/list_changed within 5 s');
        if (!perInstance) {
          const after = await hasDynamic();
          assert(after !== before, `tools/list did not change (test_dynamic_tool ${before ? 'still there' : 'still absent'})`);
        }
      } finally {
        await sub.close();
      }
      const how = await Promise.race([sub.closed, sleep(5000).then(() => 'not closed within 5 s')]);
      assert(how === 'local', `the subscription ended ${how}`);
      const listed = perInstance
        ? 'tools/list not compared (--per-instance-fixtures: each instance has its own list)'
        : `test_dynamic_tool ${before ? 'went' : 'came'}`;
      return `acknowledged ${JSON.stringify(sub.honoredFilter)}; ${listChanged.length} tools/list_changed; ${listed}; closed ${how}`;
    });

    await check('cancel', async () => {
      // The counts are per process (`process` names it): behind a balancer each instance counts
      // its own runs, so the baseline is every instance's counts (polled more times than there
      // are instances) and the run is matched by the process that counted it.
      const base = new Map();
      for (let i = 0; i < BASELINE_POLLS; i++) {
        const c = await runCounts();
        if (!base.has(c.process)) base.set(c.process, c);
      }
      const abort = new AbortController();
      const call = client.callTool(
        { name: 'long_running_operation', arguments: { duration: 10, steps: 10 } },
        { signal: abort.signal, timeout: 30000 },
      );
      const outcome = call.then(() => 'resolved', (e) => `rejected (${e && e.name}: ${e && e.message})`);
      let runner = null;
      for (let i = 0; i < 100 && runner === null; i++) {
        const c = await runCounts();
        const before = base.get(c.process);
        assert(before, `process ${c.process} was not seen before the call (${[...base.keys()].join(', ')})`);
        if (c.started !== before.started) {
          assert(c.started === before.started + 1, `${JSON.stringify(c)} after ${JSON.stringify(before)}`);
          runner = c.process;
        } else {
          await sleep(50);
        }
      }
      assert(runner !== null, `the run never started: ${JSON.stringify([...base.values()])}`);
      const cancelsBefore = posted('notifications/cancelled').length;
      const t0 = Date.now();
      abort.abort('interop check');
      const how = await Promise.race([outcome, sleep(5000).then(() => 'still pending after 5 s')]);
      assert(how.startsWith('rejected'), `the aborted call ${how}`);
      const start = base.get(runner);
      let counts = start;
      for (let i = 0; i < 100; i++) {
        counts = await runCounts();
        if (counts.process === runner && counts.cancelled !== start.cancelled) break;
        await sleep(50);
      }
      assert(counts.process === runner && counts.cancelled === start.cancelled + 1,
        `the server did not count the run as cancelled: before ${JSON.stringify(start)}, now ${JSON.stringify(counts)}`);
      assert(counts.completed === start.completed, `a run completed: ${JSON.stringify(counts)}`);
      const cancelPosts = posted('notifications/cancelled').length - cancelsBefore;
      assert(cancelPosts === 0, `the SDK POSTed ${cancelPosts} notifications/cancelled (expected the stream close alone)`);
      return `call ${how.split(' (')[0]}; server counted the run cancelled within ${Date.now() - t0} ms (stream closed, no notifications/cancelled POSTed; ${base.size} counting process(es))`;
    });
  }
} finally {
  try {
    await Promise.race([client.close(), sleep(5000)]);
  } catch (e) {
    console.log(`note: closing the client failed: ${e && e.message}`);
  }
}

const failed = results.filter((r) => !r.ok).length;
console.log(`modern_client_check.mjs (${pin ? 'pin' : 'auto'}): ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
