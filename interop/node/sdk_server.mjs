#!/usr/bin/env node
// A peer server built on the official TypeScript SDK (@modelcontextprotocol/sdk 1.32.2): McpServer
// behind StreamableHTTPServerTransport, stateful, with the SDK's InMemoryEventStore so that streams
// can be resumed with GET + Last-Event-ID. It has the tools of mcp-http's built-in server, so the
// same checks run against it (scripts/interop-servers.sh, crates/cli/examples/client_check.rs):
//
//   echo{message}  add{a,b}  long_running_operation{duration, steps}  sample_llm{prompt, maxTokens?}
//   ask_user{message}  test_reconnection
//
//   out=$(scripts/peers.sh --env) && eval "$out"
//   node interop/node/sdk_server.mjs PORT [--retry-ms MS]
//
// Serves http://127.0.0.1:PORT/mcp and prints `sdk_server: listening on PORT` once bound.
// Session routing follows the SDK's own ssePollingExample: a known session id goes to its
// transport, an unknown one gets 404 (spec: the client must start a new session), no id and no
// initialize gets 400. The SDK is loaded with createRequire (ESM `import` ignores NODE_PATH).
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(import.meta.url);
let sdk;
try {
  sdk = {
    ...require('@modelcontextprotocol/sdk/server/mcp.js'),
    ...require('@modelcontextprotocol/sdk/server/express.js'),
    ...require('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    ...require('@modelcontextprotocol/sdk/types.js'),
    ...require('@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js'),
  };
} catch (e) {
  console.error(`sdk_server: cannot load @modelcontextprotocol/sdk (set NODE_PATH, see scripts/peers.sh --env): ${e.message}`);
  process.exit(1);
}
const z = require('zod');
const {
  McpServer,
  createMcpExpressApp,
  StreamableHTTPServerTransport,
  InMemoryEventStore,
  isInitializeRequest,
  CreateMessageResultSchema,
  ElicitResultSchema,
} = sdk;

const args = process.argv.slice(2);
const port = Number(args[0]);
const rIdx = args.indexOf('--retry-ms');
const retryMs = rIdx >= 0 ? Number(args[rIdx + 1]) : 500;
if (!Number.isInteger(port) || port <= 0 || !(retryMs >= 0)) {
  console.error('usage: sdk_server.mjs PORT [--retry-ms MS]');
  process.exit(2);
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const text = (t) => ({ content: [{ type: 'text', text: t }] });

function buildServer() {
  const server = new McpServer({ name: 'mcp-http-interop-ts-sdk', version: '0.0.1' }, { capabilities: { logging: {} } });

  server.registerTool('echo', { description: 'Echoes back the input message', inputSchema: { message: z.string() } }, async ({ message }) =>
    text(message),
  );

  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) =>
    text(String(a + b)),
  );

  server.registerTool(
    'long_running_operation',
    {
      description: 'Runs for `duration` seconds in `steps` steps, reporting progress and logging each step',
      inputSchema: { duration: z.number().default(10), steps: z.number().int().default(5) },
    },
    async ({ duration, steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        await sleep((duration * 1000) / steps);
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: step, total: steps, message: `step ${step}/${steps}` },
          });
        }
        // Related to this request, so it travels on the call's own stream (as Python's ctx.info).
        await extra.sendNotification({
          method: 'notifications/message',
          params: { level: 'info', data: `long_running_operation: step ${step} of ${steps}` },
        });
      }
      return text(`Long running operation completed. Duration: ${duration} seconds, Steps: ${steps}.`);
    },
  );

  server.registerTool(
    'sample_llm',
    {
      description: "Asks the client's LLM (sampling/createMessage)",
      inputSchema: { prompt: z.string(), maxTokens: z.number().int().default(100) },
    },
    async ({ prompt, maxTokens }, extra) => {
      const result = await extra.sendRequest(
        { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens } },
        CreateMessageResultSchema,
      );
      const c = result.content;
      return text(`LLM response: ${c && c.type === 'text' ? c.text : JSON.stringify(c)}`);
    },
  );

  server.registerTool(
    'ask_user',
    { description: 'Asks the user (elicitation/create, form mode)', inputSchema: { message: z.string() } },
    async ({ message }, extra) => {
      const answer = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message,
            requestedSchema: {
              type: 'object',
              properties: {
                name: { type: 'string', description: 'Your name' },
                proceed: { type: 'boolean', description: 'Proceed?' },
              },
              required: ['name', 'proceed'],
            },
          },
        },
        ElicitResultSchema,
      );
      return text(`User answered: action=${answer.action}, content=${JSON.stringify(answer.content ?? null)}`);
    },
  );

  server.registerTool(
    'test_reconnection',
    { description: 'Closes the SSE stream mid-call; the client must resume', inputSchema: {} },
    async (_args, extra) => {
      await sleep(100);
      // The SDK offers closeSSEStream only with an event store; without it, say so (never pretend).
      const closes = typeof extra.closeSSEStream === 'function';
      if (closes) extra.closeSSEStream(); // the result is replayed on GET + Last-Event-ID
      await sleep(200);
      const how = closes ? 'the server closed the stream mid-call' : 'the stream was not closed: no event store';
      return text(`Reconnection test completed successfully (${how})`);
    },
  );

  server.registerResource(
    'static-text',
    'test://static-text',
    { mimeType: 'text/plain', description: 'Static text' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  );
  server.registerPrompt('test_simple_prompt', { description: 'A simple prompt' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));

  return server;
}

const app = createMcpExpressApp(); // binds nothing itself; validates Host for 127.0.0.1/localhost
const eventStore = new InMemoryEventStore();
const sessions = new Map();

app.all('/mcp', async (req, res) => {
  try {
    const sessionId = req.headers['mcp-session-id'];
    const known = sessionId ? sessions.get(sessionId) : undefined;
    if (known) {
      await known.handleRequest(req, res, req.body);
      return;
    }
    if (sessionId) {
      res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore,
      retryInterval: retryMs,
      onsessioninitialized: (id) => sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await buildServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (e) {
    console.error(`sdk_server: ${e && e.stack ? e.stack : e}`);
    if (!res.headersSent) {
      res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
    }
  }
});

const listener = app.listen(port, '127.0.0.1', () => console.log(`sdk_server: listening on ${port}`));
listener.on('error', (e) => {
  console.error(`sdk_server: cannot listen on 127.0.0.1:${port}: ${e.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
