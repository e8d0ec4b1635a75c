// The account page in headless Chromium at a phone's width (390 px): sign in, see the sections,
// link the upstream OP's login through a real round trip, and open "Delete my account".
// Screenshots go to tests/browser/artifacts/; any console error, page error, failed request or
// 5xx fails the test.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startAll } from './servers.mjs';

const shots = join(import.meta.dirname, 'artifacts');
mkdirSync(shots, { recursive: true });
let env;
let browser;

before(async () => {
  env = await startAll();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  env?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function fitsAndIsLabelled(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling at 390 px (scrollWidth ${width})`);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select')]
    .filter((i) => !(i.labels && i.labels.length)).map((i) => i.name));
  assert.deepEqual(unlabelled, []);
}

test('the account page at 390 px: sections in words, linking Contoso, and the delete page', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });

  await page.goto(`${env.issuer}/account`);
  await page.waitForURL(/\/login\?interaction=/);
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('alice-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${env.issuer}/account`);
  for (const name of ['Profile', 'Ways to sign in', 'Where you are signed in', 'Applications with access', 'Second step at sign-in', 'Delete your account']) {
    await page.getByRole('heading', { name, exact: true }).waitFor();
  }
  const session = await page.locator('ul.sessions li').filter({ hasText: 'This browser' }).innerText();
  assert.match(session, /Signed in \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC \(just now\) with Password;/);
  await fitsAndIsLabelled(page);
  await shot(page, '20-account-390px');

  // Link the upstream OP's login: a full round trip, back on the account page.
  await page.getByLabel('Link another login').selectOption({ label: 'Contoso' });
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await page.waitForURL(`${env.op}/**`);
  await page.getByLabel('Login').fill('alice-linked');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${env.issuer}/account`);
  await page.getByRole('status').filter({ hasText: 'Your Contoso login is linked' }).waitFor();
  await page.getByRole('button', { name: 'Unlink Contoso' }).waitFor();
  await fitsAndIsLabelled(page);
  await shot(page, '21-account-linked-390px');

  // The keyboard reaches the name field and its button with a visible focus ring.
  await page.getByLabel(/^Name/).focus();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { text: el.textContent.trim(), outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
  });
  assert.deepEqual(focused, { text: 'Save name', outline: true });

  await page.getByRole('link', { name: 'Delete my account…' }).click();
  await page.waitForURL(`${env.issuer}/account/delete`);
  await page.getByLabel('Your password, to confirm it is you').waitFor();
  await page.getByRole('button', { name: 'Confirm with Contoso' }).waitFor();
  await fitsAndIsLabelled(page);
  await shot(page, '22-account-delete-390px');
  await context.close();
  assert.deepEqual(problems, []);
});
