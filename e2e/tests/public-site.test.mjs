// The public website as a visitor uses it, in a real Chromium, against `xiaowai serve --demo`.
// XIAOWAI_E2E_BASE_URL names the running server; screenshots go to e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, BASE, launch, newPage } from '../lib/browser.mjs';

let browser;
let page;

before(async () => {
  browser = await launch();
  ({ page } = await newPage(browser));
});

after(async () => {
  await browser?.close();
});

async function api(path) {
  const res = await fetch(`${BASE}${path}`);
  assert.equal(res.status, 200, path);
  return res.json();
}

test('the home page shows real counts from the database', async () => {
  await page.goto(`${BASE}/`);
  await assert.doesNotReject(page.waitForSelector('h1'));
  assert.match(await page.title(), /全国校外教育培训监管与服务综合平台/);
  const white = Number(await page.textContent('#stat-white'));
  const total = (await api('/api/v1/public/institutions?list=white&per_page=1')).total;
  assert.equal(white, total);
  assert.ok(white > 0);
  await page.screenshot({ path: `${ARTIFACTS}home.png`, fullPage: true });
});

test('a parent searches 数学 within one county using the region selectors', async () => {
  // Pick a county that has an offline 数学 institution in the demo registry.
  const hit = (await api('/api/v1/public/institutions?q=%E6%95%B0%E5%AD%A6&mode=offline&per_page=1')).items[0];
  const county = hit.region_code;
  const province = `${county.slice(0, 2)}0000`;
  const prefecture = `${county.slice(0, 4)}00`;
  const countyName = (await api(`/api/v1/public/regions?parent=${prefecture}`)).find((r) => r.code === county).name;

  await page.goto(`${BASE}/institutions`);
  await page.selectOption('#province', province);
  await page.waitForSelector(`#prefecture option[value="${prefecture}"]`, { state: 'attached' });
  await page.selectOption('#prefecture', prefecture);
  await page.waitForSelector(`#county option[value="${county}"]`, { state: 'attached' });
  await page.selectOption('#county', county);
  await page.fill('input[name=q]', '数学');
  await Promise.all([page.waitForURL(/county=/), page.click('form.filters button[type=submit]')]);

  const url = new URL(page.url());
  assert.equal(url.searchParams.get('county'), county);
  const results = page.locator('#results li.result');
  const n = await results.count();
  assert.ok(n > 0, 'at least one result');
  for (let i = 0; i < n; i++) {
    const meta = await results.nth(i).locator('.meta').textContent();
    assert.ok(meta.includes(countyName), `result ${i} is outside ${countyName}: ${meta}`);
  }
  assert.ok((await page.textContent('#results')).includes(hit.name));
  await page.screenshot({ path: `${ARTIFACTS}search-county.png`, fullPage: true });
});

test('opening an institution shows its licence, list status and courses', async () => {
  const first = page.locator('#results li.result a.name').first();
  const name = await first.textContent();
  await Promise.all([page.waitForURL(/\/institutions\/[0-9a-f-]{36}$/), first.click()]);
  assert.equal((await page.textContent('h1')).includes(name), true);
  assert.ok(await page.isVisible('text=统一社会信用代码'));
  assert.ok(await page.isVisible('#list-status'));
  await page.screenshot({ path: `${ARTIFACTS}institution.png`, fullPage: true });
});

test('the black list is not empty and every entry has a reason', async () => {
  await Promise.all([page.waitForURL(/\/lists\/black$/), page.click('header nav >> text=黑名单')]);
  const rows = page.locator('#list-black tbody tr');
  const n = await rows.count();
  assert.ok(n > 0, 'black list has entries');
  for (let i = 0; i < n; i++) {
    const reason = (await rows.nth(i).locator('td.reason').textContent()).trim();
    assert.ok(reason.length > 0, `row ${i} has no reason`);
  }
  await page.screenshot({ path: `${ARTIFACTS}black-list.png`, fullPage: true });
});

test('the site works on a phone-sized screen', async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'zh-CN' });
  await phone.goto(`${BASE}/`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await phone.screenshot({ path: `${ARTIFACTS}home-phone.png`, fullPage: true });
  await phone.close();
});
