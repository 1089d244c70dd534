// The TypeScript SDK client (1.x, $NODE_PATH) authenticates against `mcp-http serve
// --auth-issuer` through a real authorization server (oidc-provider, interop/node/oauth-as.mjs)
// and calls a tool.
//
//   node oauth_client_check.mjs MCP_URL
//
// Its `OAuthClientProvider` (below, in memory) lets the SDK do discovery, DCR, PKCE and the token
// request; `redirectToAuthorization` is the auto-approving "browser": it follows the
// authorization server's redirects with a cookie jar until the (never bound) loopback redirect
// URI, and the code goes to `transport.finishAuth`. Prints PASS/FAIL; exits 1 on failure.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { UnauthorizedError } = require('@modelcontextprotocol/sdk/client/auth.js');

const url = new URL(process.argv[2]);
const REDIRECT = 'http://127.0.0.1:53682/callback';

class Provider {
  constructor() {
    this.authUrl = null;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: 'mcp-http interop (TS SDK)',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(authUrl) {
    this.authUrl = authUrl;
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

async function browse(start) {
  const jar = new Map();
  let at = new URL(start);
  for (let hop = 0; hop < 20; hop++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(at, { redirect: 'manual', headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(10000) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`no redirect from ${at}: HTTP ${res.status}`);
    const next = new URL(location, at);
    if (next.href.startsWith(REDIRECT)) return { code: next.searchParams.get('code'), hops: hop + 1 };
    at = next;
  }
  throw new Error('the authorization flow did not reach the redirect URI');
}

try {
  const provider = new Provider();
  let transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  let client = new Client({ name: 'oauth-check', version: '1' });
  try {
    await client.connect(transport);
    throw new Error('connected without authorization');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  if (!provider.authUrl) throw new Error('the SDK never asked for the authorization');
  const { code, hops } = await browse(provider.authUrl);
  await transport.finishAuth(code);
  transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  client = new Client({ name: 'oauth-check', version: '1' });
  await client.connect(transport);
  const answer = await client.callTool({ name: 'echo', arguments: { message: 'oauth' } });
  const text = answer.content.filter((c) => c.type === 'text').map((c) => c.text).join('');
  if (text !== 'oauth') throw new Error(`echo answered ${JSON.stringify(text)}`);
  await client.close();
  console.log(`PASS node oauth: authorized through ${hops} redirects, echo answered`);
  process.exit(0);
} catch (e) {
  console.log(`FAIL node oauth: ${e?.stack || e}`);
  process.exit(1);
}
