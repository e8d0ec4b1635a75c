// The operator's theme (`[ui] theme_dir`) in headless Chromium: its stylesheet and logo load from
// Gatehouse's own origin under the page's CSP, and a rule of it changes what the page looks like.
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

const logo = '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="10" fill="#6d28d9"/></svg>';

before(async () => {
  env = await startGatehouse({
    files: {
      'theme/theme.css': ':root { --accent: #6d28d9; }\n.brand { color: rgb(109, 40, 217); background: url(img/logo.svg) no-repeat left center / 1.5rem; padding-left: 2rem; }\n',
      'theme/img/logo.svg': logo,
    },
    extraToml: (dir) => `[ui]\ntheme_dir = "${join(dir, 'theme')}"\n`,
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  env?.stop();
});

test('a theme rule changes the computed style of the login page, with no CSP violation', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  const loaded = [];
  page.on('response', (r) => { if (r.url().includes('/static/theme/')) loaded.push([new URL(r.url()).pathname, r.status(), r.headers()['content-type']]); });
  // Init scripts run through the DevTools protocol, outside the page's CSP.
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  await page.goto(`${env.issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  const csp = (await page.request.get(page.url())).headers()['content-security-policy'];
  assert.match(csp, /style-src 'self'/);
  const brand = await page.locator('.brand').evaluate((el) => {
    const s = getComputedStyle(el);
    return { color: s.color, background: s.backgroundImage };
  });
  assert.equal(brand.color, 'rgb(109, 40, 217)', 'the theme overrides the built-in colour');
  assert.match(brand.background, /\/static\/theme\/img\/logo\.svg/);
  const button = await page.getByRole('button', { name: 'Sign in' }).evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(button, 'rgb(109, 40, 217)', 'a custom property of the theme reaches the built-in rules');
  // The logo is fetched once the background is painted.
  await page.screenshot({ path: join(shots, 'theme-login.png'), fullPage: true });
  assert.deepEqual(loaded.map(([p, s]) => [p, s]), [['/static/theme/theme.css', 200], ['/static/theme/img/logo.svg', 200]]);
  assert.match(loaded[0][2], /^text\/css/);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  await context.close();
  assert.deepEqual(problems, []);
});
