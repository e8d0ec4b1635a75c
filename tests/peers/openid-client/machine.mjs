// A machine client on panva's openid-client: the client_credentials grant (RFC 6749 §4.4) with
// one client authentication method, then introspection of the token it got. The library checks
// the token response (token_type, expires_in, no-store JSON); the report lets the Rust test
// check the rest.
//
// Settings come from the environment (the Rust integration test sets them):
//   ISSUER CLIENT_ID CLIENT_SECRET AUTH(basic|post|client_secret_jwt|private_key_jwt)
//   PRIVATE_KEY_PEM (PKCS#8, for private_key_jwt) KID SCOPE (optional)
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const env = (k) => { const v = process.env[k]; assert.ok(v !== undefined, `${k} is not set`); return v; };

async function clientAuth(method) {
  switch (method) {
    case 'basic': return client.ClientSecretBasic(env('CLIENT_SECRET'));
    case 'post': return client.ClientSecretPost(env('CLIENT_SECRET'));
    case 'client_secret_jwt': return client.ClientSecretJwt(env('CLIENT_SECRET'));
    case 'private_key_jwt': {
      const pem = env('PRIVATE_KEY_PEM').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      const key = await crypto.subtle.importKey(
        'pkcs8', Buffer.from(pem, 'base64'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'],
      );
      return client.PrivateKeyJwt({ key, kid: env('KID') });
    }
    default: throw new Error(`unknown AUTH ${method}`);
  }
}

const method = env('AUTH');
const config = await client.discovery(
  new URL(env('ISSUER')), env('CLIENT_ID'), {}, await clientAuth(method),
  { execute: [client.allowInsecureRequests] },
);
const advertised = config.serverMetadata().grant_types_supported?.includes('client_credentials');
const scope = process.env.SCOPE;
const tokens = await client.clientCredentialsGrant(config, scope ? { scope } : {});
// Introspection with the same client authentication: the token is the client's own.
const introspected = await client.tokenIntrospection(config, tokens.access_token);
console.log(JSON.stringify({
  ok: true,
  advertised,
  access_token: tokens.access_token,
  token_type: tokens.token_type,
  expires_in: tokens.expiresIn(),
  scope: tokens.scope,
  refresh_token: tokens.refresh_token ?? null,
  id_token: tokens.id_token ?? null,
  introspection: introspected,
}));
