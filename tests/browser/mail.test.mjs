// Forgot password, for real, in headless Chromium: the login page's "Forgot password?" → the mail
// as the SMTP server (Debian's aiosmtpd on loopback, writing a Maildir) received it → its link →
// a new password → signing in with it. Screenshots go to tests/artifacts/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'tests/artifacts');
mkdirSync(shots, { recursive: true });
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

let env;
let browser;

function freePort() {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function waitFor(check, what, ms = 10000) {
  for (let i = 0; i < ms / 50; i++) {
    try { const v = await check(); if (v) return v; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

/** aiosmtpd with its Mailbox handler on a free loopback port; returns where it writes. */
async function startSmtp(dir) {
  const port = await freePort();
  const maildir = join(dir, 'Maildir');
  const python = process.env.TEST_PYTHON ?? '/usr/bin/python3';
  const child = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: 'ignore' });
  await waitFor(() => new Promise((ok) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); ok(true); }).on('error', () => ok(false));
  }), 'aiosmtpd listening');
  return { port, maildir, child };
}

/** One MIME part's body, decoded per its Content-Transfer-Encoding. */
function decodePart(part) {
  const [head, ...rest] = part.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  const cte = (head.match(/content-transfer-encoding:\s*(\S+)/i) ?? [])[1]?.toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') {
    return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  return body;
}

/** The plain-text parts of every mail to `to` in the Maildir, oldest first. */
function mailsTo(maildir, to) {
  let files = [];
  try { files = readdirSync(join(maildir, 'new')).sort(); } catch { return []; }
  return files.map((f) => readFileSync(join(maildir, 'new', f), 'utf8'))
    .filter((raw) => raw.toLowerCase().includes(`x-rcptto: ${to}`))
    .map((raw) => {
      const boundary = (raw.match(/boundary="?([^";\r\n]+)"?/i) ?? [])[1];
      const parts = boundary ? raw.split(`--${boundary}`).slice(1) : [raw];
      return {
        subject: (raw.match(/^subject:\s*(.*)$/im) ?? [])[1] ?? '',
        text: parts.filter((p) => /content-type:\s*text\/plain/i.test(p)).map(decodePart).join('\n'),
      };
    });
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-mail-'));
  const smtp = await startSmtp(dir);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = join(dir, 'gatehouse.toml');
  writeFileSync(config, `
issuer = "${issuer}"
listen = "127.0.0.1:${port}"
database_url = "sqlite://${join(dir, 'g.db')}?mode=rwc"
[demo]
enabled = true
[smtp]
host = "127.0.0.1"
port = ${smtp.port}
tls = "none"
from = "Gatehouse <sso@gatehouse.test>"
[[users]]
username = "alice"
email = "alice@example.com"
email_verified = true
name = "Alice Liddell"
password = "alice-password"
`);
  const bin = process.env.GATEHOUSE_BIN ?? join(root, 'target/debug/gatehouse');
  const gatehouse = spawn(bin, ['serve', '--config', config], { env: { ...process.env, GATEHOUSE_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(async () => (await fetch(`${issuer}/healthz`)).ok, 'Gatehouse up');
  env = { issuer, maildir: smtp.maildir, stop() { gatehouse.kill(); smtp.child.kill(); } };
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  env?.stop();
});

test('forgot password → the mail → its link → a new password → signed in with it', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} from ${r.url()}`); });

  await page.goto(`${env.issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.waitForURL(/\/login\/forgot/);
  await shot(page, 'mail-01-forgot-password');
  await page.getByLabel('Email').fill('alice@example.com');
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
  await shot(page, 'mail-02-check-your-inbox');

  const mail = await waitFor(() => mailsTo(env.maildir, 'alice@example.com').find((m) => m.subject.includes('Reset your password')), 'the reset mail');
  const link = mail.text.match(/http:\/\/127\.0\.0\.1:\d+\/login\/reset\?token=[A-Za-z0-9_-]+/)?.[0];
  assert.ok(link, `a reset link in: ${mail.text}`);
  writeFileSync(join(shots, 'mail-03-reset-mail.txt'), `Subject: ${mail.subject}\n\n${mail.text}`);

  await page.goto(link);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await page.locator('#password').fill('violet kettle orbit drum');
  await page.getByLabel('Repeat the new password').fill('violet kettle orbit drum');
  await shot(page, 'mail-04-new-password');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();
  await shot(page, 'mail-05-password-changed');

  // Back to the sign-in that was pending, and in with the new password.
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(/\/login\?interaction=/);
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('violet kettle orbit drum');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/demo\/callback/);
  const claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.equal(claims.preferred_username, 'alice');
  await shot(page, 'mail-06-signed-in-with-new-password');

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `no horizontal scrolling at 390 px (scrollWidth ${overflow})`);
  const notice = await waitFor(() => mailsTo(env.maildir, 'alice@example.com').find((m) => m.subject.includes('password was changed')), 'the notice');
  assert.ok(notice.text.includes('/login/forgot'));
  await context.close();
  assert.deepEqual(problems, []);
});
