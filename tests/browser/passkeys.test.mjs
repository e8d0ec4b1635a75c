// Passkeys in headless Chromium with a virtual authenticator (Chrome DevTools Protocol
// WebAuthn.addVirtualAuthenticator: CTAP2, resident keys, user verification): add a passkey on
// /account, sign out, sign in with the passkey alone, then use it as the second factor after the
// password. Gatehouse runs on http://localhost:<port> (WebAuthn needs a domain name, and
// localhost is a secure context), listening on 127.0.0.1 only. Screenshots go to artifacts/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort, waitFor } from './servers.mjs';

const root = resolve(import.meta.dirname, '../..');
const shots = join(import.meta.dirname, 'artifacts');
mkdirSync(shots, { recursive: true });
let gatehouse;
let issuer;
let browser;

before(async () => {
  const port = await freePort();
  issuer = `http://localhost:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-passkeys-'));
  const config = join(dir, 'gatehouse.toml');
  writeFileSync(config, `
issuer = "${issuer}"
listen = "127.0.0.1:${port}"
database_url = "sqlite://${join(dir, 'g.db')}?mode=rwc"
[demo]
enabled = true
[[users]]
username = "alice"
email = "alice@example.com"
email_verified = true
name = "Alice Liddell"
password = "alice-password"
`);
  const bin = process.env.GATEHOUSE_BIN ?? join(root, 'target/debug/gatehouse');
  gatehouse = spawn(bin, ['serve', '--config', config], { env: { ...process.env, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
});

after(async () => {
  await browser?.close();
  gatehouse?.kill();
});

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function signInWithPassword(page) {
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('alice-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page) {
  await page.goto(`${issuer}/account`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForLoadState();
}

test('a passkey added on /account signs in alone, and is the second factor after the password', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });

  // The virtual authenticator: a platform authenticator with a PIN or biometric (user
  // verification) that keeps discoverable credentials, and answers without a person.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  // 1. Sign in with the password on the account page, and add a passkey there.
  await page.goto(`${issuer}/account`);
  await page.waitForURL(/\/login\?interaction=/);
  await signInWithPassword(page);
  await page.waitForURL(`${issuer}/account`);
  await shot(page, 'passkeys-01-account');
  await page.getByLabel('Name for the new passkey').fill('Laptop');
  await page.getByLabel('Your password, or a code from your app').fill('alice-password');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByText('Laptop', { exact: true }).waitFor();
  await shot(page, 'passkeys-02-account-with-passkey');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');

  // 2. Sign out, then sign in with the passkey alone: no name typed.
  await signOut(page);
  await page.goto(`${issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  await shot(page, 'passkeys-03-login-with-passkey-button');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(/\/demo\/callback/);
  let claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.equal(claims.preferred_username, 'alice');
  assert.deepEqual(claims.amr, ['hwk', 'mfa']);
  assert.equal(claims.acr, 'urn:gatehouse:acr:mfa');
  await shot(page, 'passkeys-04-signed-in-with-passkey');

  // 3. Sign out; the password alone is no longer enough: the passkey is the second step.
  await signOut(page);
  await page.goto(`${issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  await signInWithPassword(page);
  await page.waitForURL(/\/login\/mfa\?interaction=/);
  await shot(page, 'passkeys-05-second-factor-choice');
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.waitForURL(/\/demo\/callback/);
  claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa']);
  await shot(page, 'passkeys-06-signed-in-with-password-and-passkey');

  // The challenge page at 390 px: no sideways scrolling, the passkey button reachable by keyboard.
  await signOut(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  await signInWithPassword(page);
  await page.waitForURL(/\/login\/mfa\?interaction=/);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390);
  // The passkey form is shown by passkeys.js (hidden without JavaScript): wait until it is.
  await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
  // Reachable by keyboard: the button has autofocus, applied once the script shows the form —
  // before or after this point, so focus may already be on it (and one Tab would leave it).
  const focusedText = () => page.evaluate(() => document.activeElement?.textContent);
  let focused = await focusedText();
  for (let presses = 0; presses < 4 && focused !== 'Use a passkey'; presses++) {
    await page.keyboard.press('Tab');
    focused = await focusedText();
  }
  assert.equal(focused, 'Use a passkey');
  await shot(page, 'passkeys-07-second-factor-390px');

  await context.close();
  assert.deepEqual(problems, []);
});
