// Starts, on 127.0.0.1 only: the upstream OP (tests/peers/oidc-provider), a tiny client app that
// just shows what it receives, and Gatehouse (the debug binary) with a config made for the pages.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';

const root = resolve(import.meta.dirname, '../..');

export function freePort() {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

export async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

function startOp() {
  const child = spawn('node', ['server.mjs'], { cwd: join(root, 'tests/peers/oidc-provider'), env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((ok, fail) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/READY (\S+)/);
      if (m) ok({ issuer: m[1], child });
    });
    child.on('exit', () => fail(new Error('the OP exited')));
  });
}

/** The client app: answers every request with what it got, so pages can be checked. (Its empty
 * icon keeps Chromium from fetching /favicon.ico while the previous page's CSP may still apply.) */
async function startClientApp() {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Client app</title><link rel="icon" href="data:,"><h1>Client app</h1><p id="url">${new URL(req.url, 'http://x').search.replace(/</g, '&lt;')}</p>`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${server.address().port}`, server };
}

/** The SAML IdP: the one scripts/test started, or one of our own (stopped at the end). */
async function startSamlIdp() {
  if (process.env.TEST_SAML_IDP && process.env.TEST_SAML_IDP_DIR) {
    return { metadata: process.env.TEST_SAML_IDP, dir: process.env.TEST_SAML_IDP_DIR, stop() {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-idp-'));
  const script = join(root, 'tests/peers/simplesamlphp');
  const metadata = execFileSync(join(script, 'start'), [String(await freePort()), dir]).toString().trim();
  return { metadata, dir, stop() { execFileSync(join(script, 'stop'), [dir]); } };
}

/** Everything the browser tests need, started once per test file. */
export async function startAll() {
  const op = await startOp();
  const saml = await startSamlIdp();
  const app = await startClientApp();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const reg = await (await fetch(`${op.issuer}/reg`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [`${issuer}/broker/callback/corp`], post_logout_redirect_uris: [`${issuer}/logout/upstream/corp`], token_endpoint_auth_method: 'client_secret_basic' }),
  })).json();
  const google = await (await fetch(`${op.issuer}/reg`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [`${issuer}/broker/callback/google`], token_endpoint_auth_method: 'client_secret_basic' }),
  })).json();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  const config = join(dir, 'gatehouse.toml');
  writeFileSync(config, `
issuer = "${issuer}"
listen = "127.0.0.1:${port}"
database_url = "sqlite://${join(dir, 'g.db')}?mode=rwc"
[registration]
enabled = true
[demo]
enabled = true
[[clients]]
id = "consent-app"
name = "Consenting App"
redirect_uris = ["${app.base}/cb"]
post_logout_redirect_uris = ["${app.base}/bye"]
secret = "consent-app-secret"
require_consent = true
[[clients]]
id = "tabs-app"
name = "Two Tabs App"
redirect_uris = ["${app.base}/cb"]
secret = "tabs-app-secret"
[[users]]
username = "alice"
email = "alice@example.com"
email_verified = true
name = "Alice Liddell"
password = "alice-password"
[[providers]]
id = "corp"
name = "Contoso"
issuer = "${op.issuer}"
client_id = "${reg.client_id}"
client_secret = "${reg.client_secret}"
fetch_userinfo = true
trust_email = true
email_domains = ["contoso.test"]
[[providers]]
id = "fabrikam"
name = "Fabrikam (SAML)"
kind = "saml"
trust_email = true
[providers.saml]
idp_metadata_url = "${saml.metadata}"
# The Google preset (icon, mapping), pointed at the local OP: the real Google is out of reach.
[[providers]]
preset = "google"
issuer = "${op.issuer}"
client_id = "${google.client_id}"
client_secret = "${google.client_secret}"
`);
  const bin = process.env.GATEHOUSE_BIN ?? join(root, 'target/debug/gatehouse');
  const gatehouse = spawn(bin, ['serve', '--config', config], { env: { ...process.env, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`${issuer}/healthz`);
  // The IdP's admin imports Gatehouse's SP metadata.
  const spMetadata = await (await fetch(`${issuer}/broker/saml/fabrikam/metadata`)).text();
  mkdirSync(join(saml.dir, 'sp-metadata'), { recursive: true });
  const tmp = join(saml.dir, 'sp-metadata', `.browser-${port}.tmp`);
  writeFileSync(tmp, spMetadata);
  renameSync(tmp, join(saml.dir, 'sp-metadata', `browser-${port}.xml`));
  return {
    issuer, app: app.base, op: op.issuer, samlIdp: new URL(saml.metadata).origin,
    stop() { gatehouse.kill(); op.child.kill(); app.server.close(); saml.stop(); },
  };
}

/**
 * Gatehouse alone (no upstream providers) with a confidential client, alice, registration,
 * second factors and an SMTP server address (mail is queued, never needed to arrive): enough
 * for every local page. `files` are written into its folder first (a theme, say) and
 * `extraToml(dir)` is appended to its config.
 */
export async function startGatehouse({ files = {}, extraToml = () => '' } = {}) {
  const app = await startClientApp();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const config = join(dir, 'gatehouse.toml');
  writeFileSync(config, `
issuer = "${issuer}"
listen = "127.0.0.1:${port}"
database_url = "sqlite://${join(dir, 'g.db')}?mode=rwc"
[registration]
enabled = true
[demo]
enabled = true
[mfa]
secret_key = "${randomBytes(32).toString('base64')}"
[smtp]
host = "127.0.0.1"
port = ${await freePort()}
tls = "none"
from = "Gatehouse <sso@example.test>"
[[clients]]
id = "consent-app"
name = "Consenting App"
redirect_uris = ["${app.base}/cb"]
post_logout_redirect_uris = ["${app.base}/bye"]
secret = "consent-app-secret"
require_consent = true
[[users]]
username = "alice"
email = "alice@example.com"
email_verified = true
name = "Alice Liddell"
password = "alice-password"
${extraToml(dir)}
`);
  const bin = process.env.GATEHOUSE_BIN ?? join(root, 'target/debug/gatehouse');
  const gatehouse = spawn(bin, ['serve', '--config', config], { env: { ...process.env, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`${issuer}/healthz`);
  return { issuer, app: app.base, dir, stop() { gatehouse.kill(); app.server.close(); } };
}
