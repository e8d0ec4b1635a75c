// WCAG 2.2 AA in headless Chromium: axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the login,
// registration, forgot-password, error, consent, account, authenticator set-up and second-factor
// pages, and the non-text contrast axe does not check (1.4.11): every form field's border and the
// focus ring against what surrounds them, measured from the computed styles.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startGatehouse } from './servers.mjs';

const axeSource = createRequire(import.meta.url)('axe-core').source;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
let env;
let browser;

before(async () => {
  env = await startGatehouse();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  env?.stop();
});

/** WCAG 2.x relative luminance of an sRGB colour given as [r, g, b] in 0..255. */
function luminance([r, g, b]) {
  const lin = (c) => { const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two colours. */
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('the contrast arithmetic matches WCAG’s reference values', () => {
  assert.equal(contrast([0, 0, 0], [255, 255, 255]).toFixed(2), '21.00');
  assert.equal(contrast([118, 118, 118], [255, 255, 255]).toFixed(2), '4.54');
  assert.equal(contrast([255, 159, 28], [255, 255, 255]).toFixed(2), '2.05', 'the old focus ring');
});

/**
 * In the page: each visible field's border colour, its own background and the background around
 * it (the nearest opaque ancestor background), as [r, g, b].
 */
function fieldColours() {
  const rgb = (s) => { const m = s.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/); return m && (m[4] === undefined || Number(m[4]) > 0) ? [m[1], m[2], m[3]].map(Number) : null; };
  const around = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c) return c; } return [255, 255, 255]; };
  return [...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select')]
    .filter((el) => el.getClientRects().length)
    .map((el) => {
      const s = getComputedStyle(el);
      return { name: el.name || el.id, border: rgb(s.borderTopColor), own: rgb(s.backgroundColor) ?? around(el.parentElement), around: around(el.parentElement) };
    });
}

/** axe on the current page (injected through DevTools, outside the page's CSP) plus 1.4.11 checks. */
async function assertAccessible(page, what) {
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
  assert.deepEqual(
    violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `${what}: axe violations`,
  );
  const fields = await page.evaluate(fieldColours);
  for (const f of fields) {
    for (const [against, colour] of [['the background around it', f.around], ['its own background', f.own]]) {
      const ratio = contrast(f.border, colour);
      assert.ok(ratio >= 3, `${what}: the border of ${f.name} has ${ratio.toFixed(2)}:1 against ${against} (1.4.11 asks 3:1)`);
    }
  }
  if (fields.length) {
    const first = await page.locator('input:not([type=hidden]):visible, select:visible').first();
    await first.focus();
    const ring = await first.evaluate((el) => {
      const s = getComputedStyle(el);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), colour: s.outlineColor };
    });
    assert.notEqual(ring.style, 'none', `${what}: a focused field shows a focus ring`);
    assert.ok(ring.width >= 2, `${what}: the focus ring is at least 2 px (${ring.width})`);
    const colour = ring.colour.match(/\d+/g).slice(0, 3).map(Number);
    for (const f of fields.slice(0, 1)) {
      const ratio = contrast(colour, f.around);
      assert.ok(ratio >= 3, `${what}: the focus ring has ${ratio.toFixed(2)}:1 against the background (1.4.11 asks 3:1)`);
    }
  }
  return fields.length;
}

function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });
  return problems;
}

async function signIn(page) {
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('alice-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function consentUrl(state) {
  const u = new URL(`${env.issuer}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: 'consent-app', redirect_uri: `${env.app}/cb`, scope: 'openid profile email',
    state, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  })) u.searchParams.set(k, v);
  return u.href;
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) from a base32 secret, as an authenticator app computes it. */
function totp(secret, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30000)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

test('the sign-in pages meet WCAG 2.2 AA: login, registration, forgot password, an error page', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${env.issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  assert.ok(await assertAccessible(page, 'login') >= 2);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL(/\/register\?interaction=/);
  assert.ok(await assertAccessible(page, 'register') >= 4);
  await page.goBack();
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.waitForURL(/\/login\/forgot/);
  assert.ok(await assertAccessible(page, 'forgot password') >= 1);
  const res = await page.goto(`${env.issuer}/login?interaction=unknown`);
  assert.equal(res.status(), 400);
  await assertAccessible(page, 'error');
  await context.close();
  assert.deepEqual(problems, []);
});

test('consent, the account page and both second-factor pages meet WCAG 2.2 AA', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(consentUrl('a11y'));
  await signIn(page);
  await page.waitForURL(/\/consent\?interaction=/);
  await assertAccessible(page, 'consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${env.app}/cb**`);

  await page.goto(`${env.issuer}/account`);
  await assertAccessible(page, 'account');
  await page.goto(`${env.issuer}/account/mfa/totp`);
  assert.ok(await assertAccessible(page, 'authenticator set-up') >= 1);
  const secret = await page.locator('code.secret').innerText();
  await page.getByLabel('Code from the app').fill(totp(secret));
  // On the account page, turning a factor on also asks for the current password.
  await page.getByLabel('Your current password').fill('alice-password');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('heading', { name: /recovery codes/i }).waitFor();
  await context.close();

  // A new browser: signing in now asks for the second factor.
  const fresh = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const second = await fresh.newPage();
  const more = watch(second);
  await second.goto(`${env.issuer}/demo/start`);
  await signIn(second);
  await second.waitForURL(/\/login\/mfa\?interaction=/);
  await assertAccessible(second, 'second factor');
  await second.getByText('Use a recovery code instead').click();
  await assertAccessible(second, 'second factor, recovery code open');
  await fresh.close();
  assert.deepEqual([...problems, ...more], []);
});
