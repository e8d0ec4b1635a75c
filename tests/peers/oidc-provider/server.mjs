// Upstream OpenID Provider for Gatehouse's broker tests: panva's oidc-provider (OpenID Certified),
// bound to 127.0.0.1. Clients register themselves (RFC 7591). The interaction pages are minimal
// on purpose: a login form whose "login" names one of the test accounts, auto-consent, and a
// "cancel" button that answers access_denied.
//
//   PORT=0 node server.mjs          → prints "READY http://127.0.0.1:<port>" on stdout
//   EXIT_ON_STDIN_END=1             → exits when its parent closes stdin (test processes)
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

// Test accounts: the login name picks the claims. Unknown names get a verified @contoso.test email.
// A login name ending in "-mfa" signs in with a second factor here: amr ["pwd", "otp", "mfa"]
// (RFC 8176) in the ID token; every other login is amr ["pwd"].
const ACCOUNTS = {
  'alice-corp': { email: 'alice@example.com', email_verified: true, name: 'Alice (Contoso)', preferred_username: 'alice' },
  mallory: { email: 'alice@example.com', email_verified: false, name: 'Mallory', preferred_username: 'mallory' },
  'bob-clash': { email: 'bob.clash@contoso.test', email_verified: true, name: 'Bob Clash', preferred_username: 'bob' },
  noemail: { name: 'No Email', preferred_username: 'noemail' },
};

function claimsFor(id) {
  const known = ACCOUNTS[id];
  const base = known ?? { email: `${id}@contoso.test`, email_verified: true, name: `${id} (Contoso)`, preferred_username: id };
  return { sub: `sub-${id}`, groups: ['staff', `team-${id}`], ...base };
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
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      userinfo: { enabled: true },
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    pkce: { required: () => true },
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
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${details.uid}/abort"><button type="submit">Cancel</button></form>`);
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
        const amr = login.endsWith('-mfa') ? ['pwd', 'otp', 'mfa'] : ['pwd'];
        return provider.interactionFinished(req, res, { login: { accountId: login, amr } }, { mergeWithLastSubmission: false });
      }
      if (req.method === 'POST' && m[3] === 'abort') {
        return provider.interactionFinished(req, res,
          { error: 'access_denied', error_description: 'End-User aborted interaction' },
          { mergeWithLastSubmission: false });
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

if (process.env.EXIT_ON_STDIN_END === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
