// panva oidc-provider as the benchmark's baseline: the configuration of the test peer
// (tests/peers/oidc-provider/server.mjs: same accounts, claims, keys, interactions, PKCE) plus
// what the benchmark's further flows need, so both servers are asked the same things:
// - `offline_access` and refresh-token rotation on every use (Gatehouse rotates every time;
//   panva's default rotates a confidential client's token only near its expiry);
// - static clients from BENCH_CLIENTS (the in-memory adapter is an LRU that would evict
//   registered clients unused for a while);
// - the client_credentials grant, with RFC 9068 JWT access tokens for one resource server
//   `urn:gatehouse-bench:api` (Gatehouse's machine tokens are JWTs too); the benchmark sends
//   `resource=urn:gatehouse-bench:api` with that grant.
// oidc-provider is loaded from the test peer's node_modules (PEER_DIR), not installed twice.
//
//   PEER_DIR=tests/peers/oidc-provider PORT=0 node bench/panva.mjs → "READY http://127.0.0.1:<port>"
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const peerDir = path.resolve(process.env.PEER_DIR ?? 'tests/peers/oidc-provider');
const { default: Provider, errors } = await import(
  pathToFileURL(path.join(peerDir, 'node_modules/oidc-provider/lib/index.js')).href
);

const API = 'urn:gatehouse-bench:api';
const API_SCOPES = 'api:read api:write';

function claimsFor(id) {
  return {
    sub: `sub-${id}`,
    groups: ['staff', `team-${id}`],
    email: `${id}@contoso.test`,
    email_verified: true,
    name: `${id} (Contoso)`,
    preferred_username: id,
  };
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' },
  ];
}

const server = http.createServer();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    // The benchmark's clients (BENCH_CLIENTS, JSON), static so the LRU adapter never drops them.
    clients: JSON.parse(process.env.BENCH_CLIENTS ?? '[]'),
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Only the client_credentials requests name the API; code and refresh grants keep
        // getting access tokens for userinfo, as from Gatehouse.
        defaultResource: (ctx, client, oneOf) => oneOf ?? undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, resource) => {
          if (resource !== API) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES,
            audience: API,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups', 'api:read', 'api:write'],
    claims: {
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    pkce: { required: () => true },
    rotateRefreshToken: () => true,
    findAccount: (ctx, id) => ({ accountId: id, claims: () => claimsFor(id) }),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  const oidc = provider.callback();

  server.on('request', async (req, res) => {
    try {
      const m = req.url.match(/^\/interaction\/([^/?]+)(\/(login|abort))?/);
      if (!m) return oidc(req, res);
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET' && details.prompt.name === 'login') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(`<!doctype html><title>Contoso sign-in</title><link rel="icon" href="data:,">
<form method="post" action="/interaction/${details.uid}/login">
<label for="login">Login</label><input id="login" name="login" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form>`);
      }
      if (req.method === 'GET' && details.prompt.name === 'consent') {
        const { prompt: { details: missing }, params, session } = details;
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        const grantId = await grant.save();
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      if (req.method === 'POST' && m[3] === 'login') {
        const body = new URLSearchParams(await readBody(req));
        const login = (body.get('login') ?? '').trim();
        if (!login) { res.statusCode = 400; return res.end('login required'); }
        return provider.interactionFinished(req, res, { login: { accountId: login, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
      }
      res.statusCode = 404;
      res.end('not found');
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });

  process.stdout.write(`READY ${issuer}\n`);
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; if (data.length > 65536) req.destroy(); });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
