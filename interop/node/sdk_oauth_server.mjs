#!/usr/bin/env node
// A resource server built on the official TypeScript SDK (@modelcontextprotocol/sdk 1.32.2), for
// mcp-http's OAuth client to authenticate against (scripts/interop-oauth.sh): the SDK's
// protected resource metadata router (mcpAuthMetadataRouter) and bearer middleware
// (requireBearerAuth, scope mcp:read, expectedResource = this URL), with a verifier that checks
// JWT access tokens against the authorization server's JWKS (jose, from the SDK's dependencies).
// Stateless MCP (a transport per request) with one tool, echo{message}.
//
//   out=$(scripts/peers.sh --env) && eval "$out"
//   node interop/node/sdk_oauth_server.mjs ISSUER
//
// Binds 127.0.0.1 on a free port; prints `sdk_oauth_server: serving MCP on URL` once listening.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let sdk;
try {
  sdk = {
    ...require('@modelcontextprotocol/sdk/server/mcp.js'),
    ...require('@modelcontextprotocol/sdk/server/express.js'),
    ...require('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    ...require('@modelcontextprotocol/sdk/server/auth/router.js'),
    ...require('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'),
    ...require('@modelcontextprotocol/sdk/server/auth/errors.js'),
  };
} catch (e) {
  console.error(`sdk_oauth_server: cannot load @modelcontextprotocol/sdk (set NODE_PATH, see scripts/peers.sh --env): ${e.message}`);
  process.exit(1);
}
const z = require('zod');
const jose = require('jose');
const {
  McpServer,
  createMcpExpressApp,
  StreamableHTTPServerTransport,
  mcpAuthMetadataRouter,
  getOAuthProtectedResourceMetadataUrl,
  requireBearerAuth,
  InvalidTokenError,
} = sdk;

const issuer = process.argv[2];
if (!issuer) {
  console.error('usage: sdk_oauth_server.mjs ISSUER');
  process.exit(2);
}
const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));

const app = createMcpExpressApp();
const listener = app.listen(0, '127.0.0.1');
await new Promise((resolve) => listener.once('listening', resolve));
const url = new URL(`http://127.0.0.1:${listener.address().port}/mcp`);

const verifier = {
  async verifyAccessToken(token) {
    try {
      const { payload } = await jose.jwtVerify(token, jwks, { issuer, audience: url.href, typ: 'at+jwt' });
      return {
        token,
        clientId: String(payload.client_id),
        scopes: String(payload.scope || '').split(' ').filter(Boolean),
        expiresAt: payload.exp,
        resource: new URL(Array.isArray(payload.aud) ? payload.aud[0] : payload.aud),
      };
    } catch (e) {
      throw new InvalidTokenError(`token refused: ${e.code || e.message}`);
    }
  },
};

app.use(mcpAuthMetadataRouter({
  oauthMetadata: metadata,
  resourceServerUrl: url,
  scopesSupported: ['mcp:read'],
  resourceName: 'TypeScript SDK resource server',
}));
const auth = requireBearerAuth({
  verifier,
  requiredScopes: ['mcp:read'],
  resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(url),
  expectedResource: url,
});

app.post('/mcp', auth, async (req, res) => {
  const server = new McpServer({ name: 'mcp-http-interop-ts-oauth', version: '0.0.1' });
  server.registerTool('echo', { description: 'Echoes back the input message', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: `${message} (as ${req.auth.clientId})` }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
for (const method of ['get', 'delete']) {
  app[method]('/mcp', (req, res) => res.status(405).set('Allow', 'POST').end());
}
console.log(`sdk_oauth_server: serving MCP on ${url.href}`);
process.on('SIGTERM', () => process.exit(0));
