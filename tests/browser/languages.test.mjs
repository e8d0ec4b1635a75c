// The German pages in headless Chromium: a browser whose language is German (Accept-Language)
// gets the login page in German, with <html lang="de">, at a phone's width; a screenshot goes to
// tests/browser/artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startGatehouse } from './servers.mjs';

const shots = join(import.meta.dirname, 'artifacts');
mkdirSync(shots, { recursive: true });
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

test('a German browser signs in on German pages, at 390 px', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });
  await page.goto(`${env.issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
  assert.equal(await page.title(), 'Anmelden · Gatehouse');
  for (const text of ['Passwort vergessen?', 'Neu hier?', 'Konto erstellen']) await page.getByText(text).first().waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling at 390 px (scrollWidth ${width})`);
  await page.screenshot({ path: join(shots, 'login-de-390px.png'), fullPage: true });

  await page.getByLabel('Benutzername oder E-Mail').fill('alice');
  await page.getByLabel('Passwort', { exact: true }).fill('not-her-password');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('alert').filter({ hasText: 'Benutzername oder Passwort ist falsch.' }).waitFor();
  await page.getByLabel('Passwort', { exact: true }).fill('alice-password');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.waitForURL(/\/demo\/callback/);
  await page.getByRole('heading', { name: 'Angemeldet' }).waitFor();
  await context.close();
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
});
