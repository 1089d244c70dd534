#!/usr/bin/env node
// A 2026-07-28 peer server built on the official TypeScript SDK v2 (@modelcontextprotocol/server
// 2.4.0): McpServer instances from createMcpHandler (legacy traffic: its stateless fallback),
// behind node:http. Its tools exercise what scripts/interop-modern.sh checks with our CLI:
//
//   echo{message}          a plain result
//   ask_name{}             MRTR: elicitation (form, field `name`), then "Hello, NAME"
//   sample_llm{prompt}     MRTR: sampling, then "model said: TEXT"
//   trigger_tool_change{}  publishes notifications/tools/list_changed to every listen stream
//   slow{seconds}          waits; a client that closes the stream cancels it (H-5)
//   last_cancelled{}       "cancelled" when the last `slow` call was aborted, else "not cancelled"
//
//   out=$(scripts/peers.sh --env) && eval "$out"
//   node interop/node/modern_server.mjs PORT
//
// Serves http://127.0.0.1:PORT/mcp and prints `modern_server: listening on PORT` once bound. The
// SDK is loaded with createRequire from $TS2_MODULES (ESM `import` ignores NODE_PATH).
import { createRequire } from 'node:module';
import http from 'node:http';

const modules = process.env.TS2_MODULES;
if (!modules) {
  console.error('modern_server: set TS2_MODULES (see scripts/peers.sh --env)');
  process.exit(1);
}
const require = createRequire(`${modules}/`);
const { McpServer, createMcpHandler, inputRequired, acceptedContent } = require('@modelcontextprotocol/server');
const z = require('zod');

const port = Number(process.argv[2]);
let lastCancelled = false;
let handler;

function build() {
  const server = new McpServer({ name: 'ts-v2-modern', version: '2.4.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('echo', { description: 'Echoes the message', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  server.registerTool('ask_name', { description: 'Asks the user for a name (MRTR elicitation)', inputSchema: z.object({}) },
    async (_args, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name');
      if (typeof answer?.name !== 'string') {
        return inputRequired({
          inputRequests: {
            name: inputRequired.elicit({
              message: 'Your name?',
              requestedSchema: { type: 'object', properties: { name: { type: 'string', default: 'Ada' } }, required: ['name'] },
            }),
          },
        });
      }
      return { content: [{ type: 'text', text: `Hello, ${answer.name}` }] };
    });
  server.registerTool('sample_llm', { description: 'Asks the client model (MRTR sampling)', inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => {
      const sampled = ctx.mcpReq.inputResponses?.llm;
      if (!sampled) {
        return inputRequired({
          inputRequests: {
            llm: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 20 }),
          },
        });
      }
      const content = Array.isArray(sampled.content) ? sampled.content[0] : sampled.content;
      return { content: [{ type: 'text', text: `model said: ${content?.text}` }] };
    });
  server.registerTool('trigger_tool_change', { description: 'Publishes tools/list_changed', inputSchema: z.object({}) },
    async () => {
      // After the answer: the listen stream gets it while this call's stream is done.
      setTimeout(() => handler.notify.toolsChanged(), 50);
      return { content: [{ type: 'text', text: 'ok' }] };
    });
  server.registerTool('slow', { description: 'Waits, cancellable', inputSchema: z.object({ seconds: z.number() }) },
    async ({ seconds }, ctx) => {
      lastCancelled = false;
      const signal = ctx.mcpReq.signal;
      await new Promise((resolve) => {
        const t = setTimeout(resolve, seconds * 1000);
        signal.addEventListener('abort', () => { clearTimeout(t); lastCancelled = true; resolve(); });
      });
      return { content: [{ type: 'text', text: lastCancelled ? 'cancelled' : 'done' }] };
    });
  server.registerTool('last_cancelled', { description: 'Whether the last slow call was cancelled', inputSchema: z.object({}) },
    async () => ({ content: [{ type: 'text', text: lastCancelled ? 'cancelled' : 'not cancelled' }] }));
  return server;
}

handler = createMcpHandler(() => build());

http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const aborter = new AbortController();
  res.on('close', () => { if (!res.writableFinished) aborter.abort(); });
  const request = new Request(`http://127.0.0.1:${port}${req.url}`, {
    method: req.method,
    headers: req.headers,
    body: ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks),
    signal: aborter.signal,
  });
  let response;
  try {
    response = await handler.fetch(request);
  } catch (e) {
    res.writeHead(500).end(String(e));
    return;
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) { res.end(); return; }
  try {
    for await (const chunk of response.body) res.write(chunk);
  } catch { /* the client went away */ }
  res.end();
}).listen(port, '127.0.0.1', () => console.log(`modern_server: listening on ${port}`));
