// What the money journeys share: the demo parent's sign-in by SMS code, reading amounts in fen, telling the
// simulated bank how to behave, and buying a course through the bank's checkout page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BANK, BASE, DATA_DIR, signIn } from './browser.mjs';

export const DEMO_PARENT_PHONE = '13800000001';

/** Signs the demo parent in with the SMS code the development sender wrote to the data directory. */
export async function signInParent(page) {
  // One code a minute per number: when another test just took one, wait for the next minute.
  for (let attempt = 0; attempt < 2; attempt++) {
    await page.goto(`${BASE}/login/parent`);
    await page.fill('input[name=phone]', DEMO_PARENT_PHONE);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/login/parent/code"] button')]);
    if (await page.locator('input[name=code]').count()) break;
    await page.waitForTimeout(61_000);
  }
  const lines = readFileSync(join(DATA_DIR, 'dev-sms.log'), 'utf8').trim().split('\n');
  const code = lines.findLast((l) => l.includes('验证码 ')).split('验证码 ')[1].slice(0, 6);
  await page.fill('input[name=code]', code);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login/parent"] button')]);
  assert.ok(!page.url().includes('/login'), `the parent is signed in (${page.url()})`);
}

export const text = async (page, selector) => (await page.textContent(selector)).trim();

/** `¥1,234.50` → 123450 fen. */
export const fen = (yuan) => Math.round(Number(yuan.replace(/[¥,]/g, '')) * 100);

/** Tells the simulated bank how to misbehave (`{}`: behave). */
export async function bankMode(mode) {
  const res = await fetch(`${BANK}/admin/mode`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mode),
  });
  assert.equal(res.status, 200);
}

/** Buys the institution's first course and pays at the bank; returns the amount, on the order page. */
export async function buyAndPay(page, institutionPath) {
  await page.goto(`${BASE}${institutionPath}`);
  await Promise.all([page.waitForNavigation(), page.click('.course a.button >> nth=0')]);
  await Promise.all([page.waitForNavigation(), page.click('#buy button')]);
  const amount = await text(page, '#order-amount');
  await Promise.all([page.waitForNavigation(), page.click('#pay')]);
  await Promise.all([page.waitForURL(`${BASE}/orders/**`), page.click('#pay')]);
  return amount;
}

/** The demo institution's admin, signed in; returns its public page's path. */
export async function signInDemoInstitution(page) {
  await signIn(page, 'institution', 'inst.admin');
  await page.goto(`${BASE}/institution/filing`);
  return page.getAttribute('a[href^="/institutions/"]', 'href');
}

/** Reloads `page` until `done()` holds (the bank answers asynchronously); gives up after ten seconds. */
export async function reloadUntil(page, done) {
  for (let i = 0; i < 40 && !(await done()); i++) {
    await page.waitForTimeout(250);
    await page.reload();
  }
}
