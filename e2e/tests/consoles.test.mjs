// The regulator end and account administration in a real Chromium, against `xiaowai serve --demo`:
// sign-in with a TOTP code, the region-scoped console, a refused cross-region page, and an administrator
// creating an account whose authenticator enrolment is shown once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ARTIFACTS, BASE, launch, newPage, signIn as signInOnPage } from '../lib/browser.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function api(path) {
  const res = await fetch(`${BASE}${path}`);
  assert.equal(res.status, 200, path);
  return res.json();
}

/** A fresh phone-sized browser context signed in as a demo regulator on the regulator end's page. */
async function signIn(username) {
  const { context, page } = await newPage(browser, { width: 390, height: 844 });
  await page.goto(`${BASE}/login/regulator`);
  assert.equal(await page.textContent('h1'), '监管端登录');
  await signInOnPage(page, 'regulator', username);
  return { context, page };
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
    assert.ok((await page.textContent('#audit-trail')).includes('登记机构'), 'the trail names what happened in Chinese');

    // 重点监测: the institution's focus items, exported as the Ministry asks (CSV here; the API test checks XLSX).
    await page.click('#monitoring-link');
    await page.waitForSelector('#monitoring[data-focus="orders"]');
    await page.click('#focus a[href$="focus=staff"]');
    await page.waitForSelector('#monitoring[data-focus="staff"]');
    assert.equal(await page.textContent('#monitoring thead th'), '姓名');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = readFileSync(await download.path());
    assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM for spreadsheet programs');
    assert.ok(csv.subarray(3).toString('utf8').startsWith('姓名,身份证号,岗位'));

    const refused = await page.goto(`${BASE}/regulator/institutions/${chaoyang.id}`);
    assert.equal(refused.status(), 403);
    assert.ok((await page.textContent('body')).includes('无权执行此操作'));
    assert.equal(await page.locator('#audit-trail').count(), 0);

    // 监管看板: Haidian's figures from the rollups, the trend drawn by the vendored ECharts (no CDN), and no
    // way up to Beijing's.
    await page.goto(`${BASE}/regulator/dashboard`);
    assert.ok((await page.textContent('#dashboard-region')).includes('海淀区'));
    assert.ok(Number(await page.textContent("#institution-figures .total")) >= haidianTotal);
    await page.waitForSelector('#trend-chart[data-rendered="true"] canvas');
    await page.waitForSelector('#weekly-chart canvas');
    assert.equal((await page.locator('#monthly tbody tr').count()), 12, 'twelve months');
    assert.ok((await page.textContent('#complaint-figures')).includes('待机构答复'));
    assert.ok(Number(await page.textContent('#warning-figures .red')) > 0, 'the demo has red warnings in Haidian');
    await page.screenshot({ path: `${ARTIFACTS}regulator-dashboard.png`, fullPage: true });
    const up = await page.goto(`${BASE}/regulator/dashboard?region=110000`);
    assert.equal(up.status(), 403);
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
