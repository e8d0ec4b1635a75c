// A strict third-party relying party: panva's openid-client (OpenID Certified) runs the whole
// client-app life cycle against Gatehouse and lets the library validate everything it checks
// (discovery, iss in the authorization response per RFC 9207, ID token signature via JWKS,
// nonce, at_hash, userinfo subject, refresh, introspection, revocation, end-session).
//
// Settings come from the environment (the Rust integration test sets them):
//   ISSUER CLIENT_ID CLIENT_SECRET AUTH(basic|post|none) ALG(RS256|ES256) REDIRECT_URI
//   POST_LOGOUT_URI USERNAME PASSWORD PAR(0|1)
// and optionally ACR_VALUES (sent with the authorization request) and RECOVERY_CODE (typed on
// the second-factor page, for an account with an authenticator app).
import assert from 'node:assert/strict';
import http from 'node:http';
import * as client from 'openid-client';

const env = (k) => { const v = process.env[k]; assert.ok(v !== undefined, `${k} is not set`); return v; };
const issuer = new URL(env('ISSUER'));
const redirectUri = env('REDIRECT_URI');
const auth = { basic: client.ClientSecretBasic, post: client.ClientSecretPost }[env('AUTH')];
const confidential = Boolean(auth);

const config = await client.discovery(
  issuer,
  env('CLIENT_ID'),
  { id_token_signed_response_alg: env('ALG') },
  confidential ? auth(env('CLIENT_SECRET')) : client.None(),
  { execute: [client.allowInsecureRequests] },
);

// A minimal browser: a cookie jar and manual redirects, so every hop is visible.
const jar = new Map();
async function browse(url, init = {}) {
  const headers = { ...(init.headers ?? {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [kv] = c.split(';');
    const i = kv.indexOf('=');
    jar.set(kv.slice(0, i).trim(), kv.slice(i + 1));
  }
  return res;
}
const field = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1]?.replaceAll('&#x3D;', '=');

async function signIn(authorizationUrl) {
  let url = authorizationUrl.href;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(redirectUri)) return new URL(url);
    const res = await browse(url);
    const loc = res.headers.get('location');
    if (loc) { url = new URL(loc, url).href; continue; }
    const html = await res.text();
    assert.equal(res.status, 200, `page at ${url}: ${html.slice(0, 300)}`);
    const mfaAction = html.match(/<form method="post" action="([^"]*\/login\/mfa)"/)?.[1];
    if (mfaAction) {
      // The second step: a recovery code (the person's app is elsewhere).
      const posted = await browse(new URL(mfaAction, url).href, {
        method: 'POST',
        body: new URLSearchParams({
          interaction: field(html, 'interaction'), csrf: field(html, 'csrf'), method: 'recovery', code: env('RECOVERY_CODE'),
        }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(posted.status, 303, 'second factor accepted');
      url = new URL(posted.headers.get('location'), url).href;
      continue;
    }
    const form = new URLSearchParams({
      interaction: field(html, 'interaction'), csrf: field(html, 'csrf'),
      username: env('USERNAME'), password: env('PASSWORD'),
    });
    const action = html.match(/<form method="post" action="([^"]*\/login)"/)?.[1];
    assert.ok(action, 'a login form');
    const posted = await browse(new URL(action, url).href, {
      method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(posted.status, 303, 'login accepted');
    url = new URL(posted.headers.get('location'), url).href;
  }
  throw new Error('too many redirects');
}

const report = {};
const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const params = {
  redirect_uri: redirectUri, scope: 'openid profile email offline_access', state, nonce,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
};
if (process.env.ACR_VALUES) params.acr_values = process.env.ACR_VALUES;
const authUrl = process.env.PAR === '1' && confidential
  ? await client.buildAuthorizationUrlWithPAR(config, params)
  : client.buildAuthorizationUrl(config, params);
report.par = authUrl.searchParams.has('request_uri');
const callback = await signIn(authUrl);

// A refusal by the token endpoint: this OAuth error and description, nothing else.
const oauthError = (error, description) => ({
  name: 'ResponseBodyError', status: 400, error, error_description: description,
});

// A network attacker between the browser and Gatehouse (a mix-up attacker's server would answer
// the same way): every request is passed on, and the `iss` of an authorization response is
// rewritten on its way back. The RP receives the response from the wire, as it would in real
// life; the untouched original is kept to show the refusal did not spend the code.
async function startIssForgingProxy(forgedIss) {
  const seen = { original: undefined };
  const server = http.createServer(async (req, res) => {
    try {
      const upstream = await fetch(new URL(req.url, issuer), {
        method: req.method, redirect: 'manual', headers: { cookie: req.headers.cookie ?? '' },
      });
      const headers = { 'set-cookie': upstream.headers.getSetCookie() };
      let location = upstream.headers.get('location');
      if (location) {
        const to = new URL(location, issuer);
        if (to.href.startsWith(redirectUri) && to.searchParams.has('iss')) {
          seen.original = to.href;
          to.searchParams.set('iss', forgedIss);
        } else if (to.origin === issuer.origin) {
          to.host = `127.0.0.1:${server.address().port}`;
        }
        location = to.href;
        headers.location = location;
      }
      res.writeHead(upstream.status, headers);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, origin: `http://127.0.0.1:${server.address().port}` };
}

// A forged issuer in an authorization response the RP really receives is refused (RFC 9207),
// before the code is sent anywhere.
{
  const proxy = await startIssForgingProxy('https://evil.example');
  try {
    const v = client.randomPKCECodeVerifier();
    const st = client.randomState();
    const no = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid', state: st, nonce: no,
      code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256',
    });
    const viaProxy = new URL(url.pathname + url.search, proxy.origin);
    const received = await signIn(viaProxy);
    assert.equal(received.searchParams.get('iss'), 'https://evil.example', 'the forged iss arrived on the wire');
    assert.ok(received.searchParams.get('code'), 'with a real code');
    await assert.rejects(
      client.authorizationCodeGrant(config, received, { pkceCodeVerifier: v, expectedState: st, expectedNonce: no }),
      (err) => {
        assert.equal(err.code, 'OAUTH_INVALID_RESPONSE', String(err));
        assert.equal(err.cause?.message, 'unexpected "iss" (issuer) response parameter value', String(err.cause));
        assert.equal(err.cause?.cause?.expected, issuer.href.replace(/\/$/, ''));
        return true;
      },
      'a forged iss is rejected',
    );
    // Control: the untouched response, with Gatehouse's own iss, redeems that same code.
    assert.ok(proxy.seen.original, 'the proxy saw the authorization response');
    const original = new URL(proxy.seen.original);
    assert.equal(original.searchParams.get('code'), received.searchParams.get('code'));
    const good = await client.authorizationCodeGrant(config, original, {
      pkceCodeVerifier: v, expectedState: st, expectedNonce: no, idTokenExpected: true,
    });
    assert.ok(good.id_token, 'the code was not spent by the refused attempt');
    report.forged_iss_refused = true;
  } finally {
    proxy.server.close();
  }
}

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
assert.equal(claims.iss, issuer.href.replace(/\/$/, ''));
assert.equal(claims.aud, env('CLIENT_ID'));
assert.ok(claims.sid && claims.auth_time && Array.isArray(claims.amr), 'sid, auth_time, amr');
report.amr = claims.amr;
report.acr = claims.acr;
report.id_token_alg = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg;
assert.equal(report.id_token_alg, env('ALG'));

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
assert.equal(info.sub, claims.sub);
assert.equal(info.preferred_username, env('USERNAME'));

assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
assert.equal(refreshed.claims().sub, claims.sub);
assert.equal(refreshed.claims().sid, claims.sid);
assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
// Once the successor has been used, the old token is no retry of a lost answer but a replay.
const again = await client.refreshTokenGrant(config, refreshed.refresh_token);
assert.notEqual(again.refresh_token, refreshed.refresh_token, 'rotated again');
await assert.rejects(
  client.refreshTokenGrant(config, tokens.refresh_token),
  oauthError('invalid_grant', 'the refresh token was already used'),
  'a rotated refresh token is refused',
);
report.refresh = true;

if (confidential) {
  // The reuse above revoked the whole family: the refreshed access token is inactive now.
  const after = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(after.active, false);
  const fresh = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(fresh.active, false, 'access tokens of the family are revoked too');
  report.introspection = true;
}

// The same code a second time is refused (and, per RFC 6749 §4.1.2, what it gave is revoked).
await assert.rejects(client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce,
}), oauthError('invalid_grant', 'the code was already used'), 'a replayed code is refused');
report.code_replay_refused = true;

const logout = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri: env('POST_LOGOUT_URI'), state: 'bye',
});
const res = await browse(logout.href);
assert.equal(res.status, 302);
const back = new URL(res.headers.get('location'));
assert.equal(back.origin + back.pathname, env('POST_LOGOUT_URI'));
assert.equal(back.searchParams.get('state'), 'bye');
report.logout = true;

console.log(JSON.stringify({ ok: true, ...report }));
