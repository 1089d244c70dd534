// A real OAuth 2.1 authorization server for mcp-http's tests, offline and headless: panva's
// oidc-provider (pinned in interop/peers/oidc), on 127.0.0.1, with an interaction handler that
// logs the user in and grants what is asked at once (no login page). See docs/auth-server.md.
//
//   NODE_PATH=$OIDC_MODULES node interop/node/oauth-as.mjs [port]
//
// Prints one line `{"issuer": "http://127.0.0.1:PORT"}` on stdout once it listens.
// Features: DCR (open), PKCE, resource indicators (RFC 8707) with JWT access tokens (ES256,
// aud = the resource) or opaque ones for resources whose path ends in /opaque (for
// introspection), refresh tokens with rotation (offline_access), client_credentials,
// introspection, revocation, DPoP. Pre-registered clients:
//   rs-introspector / rs-secret   (the resource server's own, for introspection)
//   cc-client / cc-secret         (client_credentials, scopes mcp:read mcp:write mcp:admin)
//   cc-reader / reader-secret     (client_credentials, scope mcp:read only)
// Env: OAUTH_AS_ACCESS_TTL (seconds, default 300). The user is `alice`, or the login_hint.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.OIDC_MODULES || process.cwd(), 'x.js'));
const { default: Provider, errors } = await import(require.resolve('oidc-provider'));

const port = Number(process.argv[2] || 0);
const ttl = Number(process.env.OAUTH_AS_ACCESS_TTL || 300);
const SCOPES = ['mcp:read', 'mcp:write', 'mcp:admin'];

const { generateKeyPair, exportJWK } = await import(require.resolve('jose'));
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'as-key-1', use: 'sig', alg: 'ES256' };

const server = (await import('node:http')).createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  clients: [
    { client_id: 'rs-introspector', client_secret: 'rs-secret', grant_types: [], response_types: [], redirect_uris: [] },
    { client_id: 'cc-client', client_secret: 'cc-secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: SCOPES.join(' ') },
    { client_id: 'cc-reader', client_secret: 'reader-secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'mcp:read' },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code', 'refresh_token'] },
  scopes: ['openid', 'offline_access', ...SCOPES],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token'),
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: ttl, ClientCredentials: ttl, Grant: 3600, Interaction: 600, Session: 3600, RefreshToken: 86400 },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => (oneOf ? oneOf[0] : undefined),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => ({
        scope: SCOPES.join(' '),
        audience: resource,
        accessTokenTTL: ttl,
        accessTokenFormat: new URL(resource).pathname.endsWith('/opaque') ? 'opaque' : 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.proxy = false;

// The auto-approving interaction: log in (alice, or the login_hint), grant what is missing.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: String(params.login_hint || 'alice') } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.redirect(to);
});

// Counters for tests (GET /test/counters): token grants by grant type, successes and errors,
// and registrations, so a test can check on the authorization server's side, e.g. that two
// clients refreshing at once spent exactly one refresh token.
const counters = { registrations: 0 };
const bump = (name) => { counters[name] = (counters[name] || 0) + 1; };
provider.on('grant.success', (ctx) => bump(`${ctx.oidc.params.grant_type}`));
provider.on('grant.error', (ctx) => bump(`${ctx.oidc?.params?.grant_type || 'unknown'}_error`));
provider.on('registration_create.success', () => bump('registrations'));
const handle = provider.callback();
server.on('request', (req, res) => {
  if (req.method === 'GET' && req.url === '/test/counters') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counters));
    return;
  }
  handle(req, res);
});
process.stdout.write(JSON.stringify({ issuer }) + '\n');
process.on('SIGTERM', () => process.exit(0));
