// The regulator end and account administration in a real Chromium, against `xiaowai serve --demo`:
// sign-in with a TOTP code, the region-scoped console, a refused cross-region page, and an administrator
// creating an account whose authenticator enrolment is shown once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.XIAOWAI_E2E_BASE_URL ?? 'http://127.0.0.1:18080';
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });
// The demo accounts' TOTP secret (README) and password.
const DEMO_TOTP_SECRET = Buffer.from('12345678901234567890');
const DEMO_PASSWORD = 'xiaowai-demo-2026';

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

/** RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits), as an authenticator app computes it. */
function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

async function api(path) {
  const res = await fetch(`${BASE}${path}`);
  assert.equal(res.status, 200, path);
  return res.json();
}

/** A fresh browser context signed in as a demo regulator through the regulator end's sign-in page. */
async function signIn(username) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(BASE) && !url.startsWith('data:')) throw new Error(`request left the site: ${url}`);
  });
  for (let attempt = 0; attempt < 2; attempt++) {
    await page.goto(`${BASE}/login/regulator`);
    assert.equal(await page.textContent('h1'), '监管端登录');
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.fill('input[name=totp]', totp(DEMO_TOTP_SECRET));
    await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
    if (!page.url().includes('/login/')) return { context, page };
    // A code works once: if another test used this step's code for the same account, take the next.
    await page.waitForTimeout(30_000 - (Date.now() % 30_000) + 500);
  }
  throw new Error(`${username} could not sign in`);
}

test('a Haidian reviewer sees only Haidian on the console and is refused a Chaoyang institution', { timeout: 90_000 }, async () => {
  const haidianTotal = (await api('/api/v1/public/institutions?region=110108&per_page=1')).total;
  const chaoyang = (await api('/api/v1/public/institutions?region=110105&per_page=1')).items[0];
  const { context, page } = await signIn('haidian.reviewer');
  try {
    assert.equal(new URL(page.url()).pathname, '/regulator');
    assert.equal(Number(await page.textContent('#result-count b')), haidianTotal);
    const metas = await page.locator('#results .meta').allTextContents();
    assert.ok(metas.length > 0);
    for (const meta of metas) assert.ok(meta.includes('海淀区'), meta);
    await page.screenshot({ path: `${ARTIFACTS}regulator-console.png`, fullPage: true });

    await page.locator('#results a.name').first().click();
    await page.waitForSelector('#audit-trail');
    assert.ok((await page.textContent('#audit-trail')).includes('institution.registered'));

    const refused = await page.goto(`${BASE}/regulator/institutions/${chaoyang.id}`);
    assert.equal(refused.status(), 403);
    assert.ok((await page.textContent('body')).includes('无权执行此操作'));
    assert.equal(await page.locator('#audit-trail').count(), 0);
  } finally {
    await context.close();
  }
});

test('a system administrator creates a regulator in its region and sees the enrolment once', { timeout: 90_000 }, async () => {
  const { context, page } = await signIn('beijing.admin');
  try {
    assert.equal(new URL(page.url()).pathname, '/admin/accounts');
    assert.equal(await page.locator('tr[data-username="moe.supervisor"]').count(), 0, 'national is above Beijing');
    const username = `dongcheng.e2e${Date.now() % 100000}`;
    await page.fill('#new-account input[name=username]', username);
    await page.fill('#new-account input[name=display_name]', '东城区审核员');
    await page.fill('#new-account input[name=password]', 'temporary-pass-1');
    await page.fill('#new-account input[name=region_code]', '110101');
    await page.selectOption('#new-account select[name=role]', 'reviewer');
    await Promise.all([page.waitForNavigation(), page.click('#new-account button[type=submit]')]);
    assert.match(await page.textContent('#enrolment-uri'), /^otpauth:\/\/totp\//);
    assert.equal(await page.locator(`tr[data-username="${username}"]`).count(), 1);
    await page.screenshot({ path: `${ARTIFACTS}accounts.png`, fullPage: true });
    await page.goto(`${BASE}/admin/accounts`);
    assert.equal(await page.locator('#enrolment-uri').count(), 0, 'shown once');
  } finally {
    await context.close();
  }
});
