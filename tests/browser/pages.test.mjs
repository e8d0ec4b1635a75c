// Gatehouse's pages in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// local login, wrong password, consent allow/deny, logout, registration, a federated login
// through the upstream OP and the account-linking page. Every page is screenshotted into
// tests/browser/artifacts/; any console error, page error, failed request or 5xx fails the test.
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

/**
 * A fresh browser context whose page fails the test on any error. `expectedStatus` names the one
 * document status a test deliberately provokes (Chromium logs any 4xx document as a console
 * error); only that exact message is tolerated.
 */
async function newPage(viewport = { width: 1100, height: 900 }, expectedStatus = null, foreignOrigin = null) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const tolerated = expectedStatus && `the server responded with a status of ${expectedStatus}`;
  // A third party's own pages (the SAML IdP's) are not Gatehouse's to judge.
  const foreign = (url) => foreignOrigin && url?.startsWith(foreignOrigin);
  page.on('console', (m) => {
    if (m.type() === 'error' && !foreign(m.location()?.url) && !(tolerated && m.text().includes(tolerated))) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => { if (!foreign(page.url())) problems.push(`page error: ${e.message}`); });
  page.on('requestfailed', (r) => { if (!foreign(r.url())) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on('response', (r) => { if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`); });
  return { page, problems, done: async () => { await context.close(); assert.deepEqual(problems, []); } };
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function signIn(page, username, password) {
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('home → Try the login flow → local sign-in → the demo shows the ID token', async () => {
  const { page, done } = await newPage();
  await page.goto(`${env.issuer}/`);
  await shot(page, '01-home');
  await page.getByRole('link', { name: 'Try the login flow' }).click();
  await page.waitForURL(/\/login\?interaction=/);
  await shot(page, '02-login');
  await signIn(page, 'alice', 'alice-password');
  await page.waitForURL(/\/demo\/callback/);
  const claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.equal(claims.preferred_username, 'alice');
  assert.deepEqual(claims.amr, ['pwd']);
  await shot(page, '03-demo-result');
  await done();
});

test('the login page is usable at 390 px and by keyboard', async () => {
  const { page, done } = await newPage({ width: 390, height: 844 });
  await page.goto(`${env.issuer}/demo/start`);
  await page.waitForURL(/\/login\?interaction=/);
  await shot(page, '04-login-390px');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `no horizontal scrolling at 390 px (scrollWidth ${overflow})`);
  // Every visible input has a label.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden])')]
    .filter((i) => !(i.labels && i.labels.length)).map((i) => i.name));
  assert.deepEqual(unlabelled, []);
  // Keyboard order from the top: username, password, Sign in; each with a visible focus ring.
  const order = [];
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { name: el.getAttribute('name') ?? el.textContent.trim(), outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
    }));
  }
  // The username field has autofocus, so the first Tab moves past it: check relative order.
  const names = order.map((o) => o.name);
  assert.ok(names.indexOf('password') < names.indexOf('Sign in'), `tab order ${names}`);
  assert.ok(order.every((o) => o.outline), `visible focus: ${JSON.stringify(order)}`);
  await done();
});

test('a wrong password shows the generic message', async () => {
  // The re-shown login page answers 401 on purpose.
  const { page, done } = await newPage(undefined, 401);
  await page.goto(`${env.issuer}/demo/start`);
  await signIn(page, 'alice', 'not-her-password');
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'Invalid username or password.' }).waitFor());
  await shot(page, '05-wrong-password');
  await done();
});

function consentUrl(state, extra = {}) {
  const u = new URL(`${env.issuer}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: 'consent-app', redirect_uri: `${env.app}/cb`, scope: 'openid profile email',
    state, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...extra,
  })) u.searchParams.set(k, v);
  return u.href;
}

test('consent: allow reaches the client with code, state and iss; deny returns access_denied', async () => {
  const { page, done } = await newPage();
  await page.goto(consentUrl('s-allow'));
  await signIn(page, 'alice', 'alice-password');
  await page.waitForURL(/\/consent\?interaction=/);
  await shot(page, '06-consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${env.app}/cb**`);
  const back = new URL(page.url());
  assert.ok(back.searchParams.get('code'));
  assert.equal(back.searchParams.get('state'), 's-allow');
  assert.equal(back.searchParams.get('iss'), env.issuer);

  await page.goto(`${env.issuer}/logout`);
  await shot(page, '07-logout-confirm');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  await shot(page, '08-signed-out');

  // The grant is remembered now: prompt=consent asks again.
  await page.goto(consentUrl('s-deny', { prompt: 'consent' }));
  await signIn(page, 'alice', 'alice-password');
  await page.waitForURL(/\/consent\?interaction=/);
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(`${env.app}/cb**`);
  assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
  await done();
});

function tabsUrl(state, extra = {}) {
  const u = new URL(consentUrl(state, extra));
  u.searchParams.set('client_id', 'tabs-app');
  return u.href;
}

test('two sign-in tabs: signing in in one lets the other continue, from a reload and from its stale form', async () => {
  // Tabs of one browser share the session cookie, as real tabs do.
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const problems = [];
  const watch = (page) => {
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 400 && !r.url().startsWith(env.app)) problems.push(`${r.status()} from ${r.url()}`); });
    return page;
  };
  const [reloaded, stale, signer] = [watch(await context.newPage()), watch(await context.newPage()), watch(await context.newPage())];
  await reloaded.goto(tabsUrl('tab-reloaded'));
  await reloaded.waitForURL(/\/login\?interaction=/);
  await stale.goto(tabsUrl('tab-stale'));
  await stale.waitForURL(/\/login\?interaction=/);
  await shot(stale, '09-tabs-stale-login-form');

  await signer.goto(tabsUrl('tab-signer'));
  await signIn(signer, 'alice', 'alice-password');
  await signer.waitForURL(`${env.app}/cb**`);
  assert.equal(new URL(signer.url()).searchParams.get('state'), 'tab-signer');

  // A reload of the first tab continues with the session: no password asked again.
  await reloaded.reload();
  await reloaded.waitForURL(`${env.app}/cb**`);
  assert.equal(new URL(reloaded.url()).searchParams.get('state'), 'tab-reloaded');
  assert.ok(new URL(reloaded.url()).searchParams.get('code'));

  // The form still open in the other tab (its CSRF token rotated by the sign-in) continues too.
  await signIn(stale, 'alice', 'typed-into-a-stale-form');
  await stale.waitForURL(`${env.app}/cb**`);
  assert.equal(new URL(stale.url()).searchParams.get('state'), 'tab-stale');
  assert.ok(new URL(stale.url()).searchParams.get('code'));
  await shot(stale, '10-tabs-stale-form-continued');

  // A request that demands a fresh login still gets the login page.
  const fresh = watch(await context.newPage());
  await fresh.goto(tabsUrl('tab-fresh', { prompt: 'login' }));
  await fresh.waitForURL(/\/login\?interaction=/);
  await fresh.getByLabel('Password', { exact: true }).waitFor();
  await fresh.reload();
  await fresh.getByLabel('Password', { exact: true }).waitFor();
  assert.match(fresh.url(), /\/login\?interaction=/);
  await shot(fresh, '11-tabs-prompt-login-still-asks');
  await context.close();
  assert.deepEqual(problems, []);
});

test('registration creates an account and continues to the application', async () => {
  const { page, done } = await newPage();
  await page.goto(`${env.issuer}/demo/start`);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await shot(page, '09-register');
  await page.getByLabel('Username').fill('bella');
  await page.getByLabel('Email').fill('bella@example.org');
  await page.getByLabel('Password (at least 8 characters)').fill('bella-tundra-violin');
  await page.getByLabel('Repeat password').fill('bella-tundra-violin');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/demo\/callback/);
  assert.equal(JSON.parse(await page.locator('#id-token-claims').innerText()).preferred_username, 'bella');
  await done();
});

async function upstreamLogin(page, login) {
  await page.goto(`${env.issuer}/demo/start`);
  await page.getByRole('link', { name: 'Sign in with Contoso' }).click();
  await page.waitForURL(`${env.op}/**`);
  await shot(page, `10-upstream-login-${login}`);
  await page.getByLabel('Login').fill(login);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('federated sign-in through the upstream OP creates a user and returns with idp', async () => {
  const { page, done } = await newPage();
  await upstreamLogin(page, 'erin');
  await page.waitForURL(/\/demo\/callback/);
  const claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.equal(claims.idp, 'corp');
  assert.deepEqual(claims.amr, ['fed']);
  await shot(page, '11-federated-result');
  await done();
});

test('an unverified upstream email is not linked: the person confirms with the password', async () => {
  const { page, done } = await newPage();
  await upstreamLogin(page, 'mallory');
  await page.waitForURL(/\/broker\/link\?interaction=/);
  await shot(page, '12-link-account');
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('alice-password');
  await page.getByRole('button', { name: 'Sign in and link' }).click();
  await page.waitForURL(/\/demo\/callback/);
  const claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.equal(claims.preferred_username, 'alice');
  assert.deepEqual(claims.amr, ['fed', 'pwd']);
  await done();
});

test('the login page shows each provider, with the preset icon, in configured order', async () => {
  const { page, done } = await newPage();
  await page.goto(`${env.issuer}/demo/start`);
  const names = await page.locator('ul.providers a').allInnerTexts();
  assert.deepEqual(names.map((n) => n.trim()), ['Sign in with Contoso', 'Sign in with Fabrikam (SAML)', 'Sign in with Google']);
  const icon = page.getByRole('link', { name: 'Sign in with Google' }).locator('img');
  assert.ok((await icon.getAttribute('src')).startsWith('data:image/svg+xml;base64,'));
  assert.ok(await icon.evaluate((img) => img.complete && img.naturalWidth > 0), 'the icon renders');
  await shot(page, '13-login-with-providers');
  await done();
});

test('SAML sign-in through SimpleSAMLphp returns to the application with idp', async () => {
  const { page, done } = await newPage(undefined, null, env.samlIdp);
  await page.goto(`${env.issuer}/demo/start`);
  await page.getByRole('link', { name: 'Sign in with Fabrikam (SAML)' }).click();
  await page.waitForURL(`${env.samlIdp}/**`);
  await shot(page, '14-saml-idp-login');
  await page.locator('#username').fill('ann');
  await page.locator('#password').fill('ann-password');
  await page.locator('#password').press('Enter');
  // The IdP's page posts the response to the ACS; Gatehouse hands it on to the demo client.
  await page.waitForURL(/\/demo\/callback/);
  const claims = JSON.parse(await page.locator('#id-token-claims').innerText());
  assert.equal(claims.idp, 'fabrikam');
  assert.equal(claims.email, 'ann@saml.test');
  assert.deepEqual(claims.amr, ['fed']);
  await shot(page, '15-saml-result');
  await done();
});
