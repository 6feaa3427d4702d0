// 分级服务保障 in a real Chromium: an institution's admin asks the platform a technical question and its county a
// policy question on /service; the national service team answers the first from its queue (with the figures per
// tier) and assigns it to itself; Haidian's reviewer answers the second; the institution reads both answers and
// resolves one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, DEMO_PASSWORD, launch, newPage, signIn } from '../lib/browser.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function openTicket(page, kind, tier, subject, body) {
  await page.goto(`${BASE}/service`);
  await page.selectOption('#new-ticket [name=kind]', kind);
  await page.selectOption('#new-ticket [name=tier]', tier);
  await page.fill('#new-ticket [name=subject]', subject);
  await page.fill('#new-ticket [name=body]', body);
  await Promise.all([page.waitForNavigation(), page.click('#new-ticket button[type=submit]')]);
  assert.match(page.url(), /\/service\/tickets\//);
  return new URL(page.url()).pathname;
}

async function reply(page, path, text) {
  await page.goto(`${BASE}${path}`);
  await page.fill('#reply [name=body]', text);
  await Promise.all([page.waitForNavigation(), page.click('#reply button[type=submit]')]);
  assert.match(await page.textContent('#service-notice'), /已发送/);
}

test('an institution\'s tickets reach the service team and its county, and come back answered', { timeout: 180_000 }, async () => {
  const { context, page } = await newPage(browser, { width: 390, height: 844 });
  try {
    await signIn(page, 'institution', 'inst.admin', DEMO_PASSWORD, false);
    await page.goto(`${BASE}/account`);
    assert.equal(await page.locator('#service-link').count(), 1, 'the account page links the desk');
    // An empty subject is refused by the browser; a blank one (spaces) by the platform, with the stable message.
    await page.goto(`${BASE}/service`);
    await page.fill('#new-ticket [name=subject]', '   ');
    await page.fill('#new-ticket [name=body]', '说明');
    await Promise.all([page.waitForNavigation(), page.click('#new-ticket button[type=submit]')]);
    assert.ok(await page.locator('#service-error').isVisible());
    assert.equal(await page.locator('#tickets li.result').count(), 0, 'nothing was kept');

    const technical = await openTicket(page, 'technical', 'urgent', '教务系统推送失败', '自今早 8 点起收不到订单支付推送。');
    assert.match(await page.textContent('#ticket-meta'), /一级（业务中断）.*待答复/);
    const policy = await openTicket(page, 'policy', 'normal', '寒假班收费时间', '寒假班最早可在开课前多久收费？');
    await page.goto(`${BASE}/service`);
    assert.equal(await page.locator('#tickets li.result').count(), 2);
    await context.clearCookies();

    // The national service team: the technical ticket is in its queue with the figures; it answers and assigns.
    await signIn(page, 'regulator', 'moe.admin');
    await page.goto(`${BASE}/service`);
    assert.equal(await page.locator('#figures tbody tr').count(), 3, 'one row per tier');
    assert.equal(await page.textContent('#figures tr[data-tier="urgent"] td:nth-child(4)'), '1');
    const queue = await page.locator('#tickets li a').allTextContents();
    assert.ok(queue.includes('教务系统推送失败'));
    assert.ok(!queue.includes('寒假班收费时间'), 'policy questions are not the service team\'s');
    await reply(page, technical, '已定位为证书更换导致，已恢复推送，请核对。');
    assert.equal(await page.getAttribute('#ticket-meta', 'data-status'), 'answered');
    await Promise.all([page.waitForNavigation(), page.click('#assign button[type=submit]')]);
    assert.match(await page.textContent('#service-notice'), /已分派/);
    await page.goto(`${BASE}/service`);
    assert.equal(await page.textContent('#figures tr[data-tier="urgent"] td:nth-child(5)'), '1 / 1', 'answered in time');
    await context.clearCookies();

    // Haidian's reviewer answers the county's policy question.
    await signIn(page, 'regulator', 'haidian.reviewer');
    await page.goto(`${BASE}/service`);
    assert.deepEqual(await page.locator('#tickets li a').allTextContents(), ['寒假班收费时间']);
    await reply(page, policy, '按本地区政策，最早可在开课前 3 个月内收取。');
    await context.clearCookies();

    // The institution reads both answers and resolves the technical ticket.
    await signIn(page, 'institution', 'inst.admin', DEMO_PASSWORD, false);
    await page.goto(`${BASE}${technical}`);
    assert.equal(await page.locator('#messages li.desk').count(), 1);
    await Promise.all([page.waitForNavigation(), page.click('#resolve button[type=submit]')]);
    assert.equal(await page.getAttribute('#ticket-meta', 'data-status'), 'resolved');
    assert.equal(await page.locator('#reply').count(), 0, 'a resolved ticket takes no more messages');
    await page.goto(`${BASE}${policy}`);
    assert.match(await page.textContent('#messages'), /开课前 3 个月/);
  } finally {
    await context.close();
  }
});

test('an institution\'s admin revokes and authorises a connected system on its page', { timeout: 120_000 }, async () => {
  const { context, page } = await newPage(browser, { width: 390, height: 844 });
  try {
    await signIn(page, 'institution', 'inst.admin', DEMO_PASSWORD, false);
    await page.goto(`${BASE}/institution/filing`);
    await Promise.all([page.waitForNavigation(), page.click('#integrations-link')]);
    const live = page.locator('#grants li[data-live="true"]');
    assert.equal(await live.count(), 1, 'the demo tutoring SaaS is authorised');
    const integrator = await live.getAttribute('data-integrator');
    // Revoking needs a reason; then the grant is history and a new one can be made with fewer scopes.
    await live.locator('[name=reason]').fill('更换教务系统');
    await Promise.all([page.waitForNavigation(), live.locator('button').click()]);
    assert.match(await page.textContent('#integrations-notice'), /已撤销授权/);
    assert.equal(await page.locator('#grants li[data-live="true"]').count(), 0);
    // No scope chosen: refused with the stable message, nothing kept.
    await page.selectOption('#new-grant [name=integrator_id]', integrator);
    await Promise.all([page.waitForNavigation(), page.click('#new-grant button[type=submit]')]);
    assert.ok(await page.locator('#integrations-error').isVisible());
    for (const scope of ['courses', 'orders', 'attendance', 'service']) await page.check(`#new-grant [name=${scope}]`);
    await Promise.all([page.waitForNavigation(), page.click('#new-grant button[type=submit]')]);
    assert.match(await page.textContent('#integrations-notice'), /已授权/);
    assert.equal(await page.locator('#grants li[data-live="true"]').count(), 1);
    assert.equal(await page.locator('#grants li').count(), 2, 'the revoked grant stays in the history');
  } finally {
    await context.close();
  }
});
