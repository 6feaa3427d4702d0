// 课后服务 in a real Chromium: the Beijing system administrator opens an account for a Haidian school; the
// Haidian supervisor starts an after-school service list and adds candidates; the school signs in (replacing
// its temporary password), finds flagged candidates barred, chooses an unflagged one and withdraws a choice;
// the supervisor sees the school's choice on the list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, BASE, DEMO_PASSWORD, launch, newPage, signIn } from '../lib/browser.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a school chooses an unflagged after-school provider from its county\'s list', { timeout: 180_000 }, async () => {
  const { context, page } = await newPage(browser, { width: 390, height: 844 });
  try {
    // The Beijing system administrator opens an account for a Haidian school.
    await signIn(page, 'regulator', 'beijing.admin');
    await page.goto(`${BASE}/admin/accounts`);
    await page.fill('#new-account [name=username]', 'hd.shiyan');
    await page.fill('#new-account [name=display_name]', '海淀实验小学教务处');
    await page.fill('#new-account [name=password]', 'temporary-pass-2026');
    await page.fill('#new-account [name=region_code]', '110108');
    await page.selectOption('#new-account [name=role]', 'school');
    await page.fill('#new-account [name=school_name]', '北京市海淀区实验小学');
    await Promise.all([page.waitForNavigation(), page.click('#new-account button[type=submit]')]);
    assert.match(await page.textContent('#created h2'), /hd\.shiyan/);
    assert.equal(await page.locator('#created #enrolment-uri').count(), 0, 'a school has no TOTP');
    await context.clearCookies();

    // The Haidian supervisor: the demo's list compares its candidates; a new list gets one candidate.
    await signIn(page, 'regulator', 'haidian.supervisor');
    await page.goto(`${BASE}/regulator/after-school`);
    await Promise.all([page.waitForNavigation(), page.click('#lists a >> nth=-1')]);
    const demoList = new URL(page.url()).pathname;
    const rows = page.locator('#candidates tbody tr');
    assert.ok((await rows.count()) >= 2, 'the demo list has candidates');
    const unflagged = page.locator('#candidates tbody tr[data-flags=""]');
    assert.ok((await unflagged.count()) >= 1, 'one candidate fits');
    const chosenId = await unflagged.first().getAttribute('data-id');
    const flagged = await page.locator('#candidates tbody tr:not([data-flags=""])').count();
    assert.ok(flagged >= 1, 'others are flagged');

    await page.goto(`${BASE}/regulator/after-school`);
    await page.fill('#new-list [name=name]', '海淀区2027年春季课后服务补充名单');
    await page.fill('#new-list [name=school_year]', '2026-2027');
    await Promise.all([page.waitForNavigation(), page.click('#new-list button[type=submit]')]);
    await page.fill('#add-candidate [name=institution_id]', chosenId);
    await Promise.all([page.waitForNavigation(), page.click('#add-candidate button[type=submit]')]);
    assert.equal(await page.locator(`#candidates tbody tr[data-id="${chosenId}"]`).count(), 1);
    const newList = new URL(page.url()).pathname;
    // Twice is refused with the stable message, nothing added.
    await page.fill('#add-candidate [name=institution_id]', chosenId);
    await Promise.all([page.waitForNavigation(), page.click('#add-candidate button[type=submit]')]);
    assert.match(await page.textContent('#after-school-error'), /数据冲突/);
    assert.equal(await page.locator('#candidates tbody tr').count(), 1);
    await context.clearCookies();

    // The new school signs in on the school end: first it replaces the temporary password.
    await page.goto(`${BASE}/login/school`);
    await page.fill('input[name=username]', 'hd.shiyan');
    await page.fill('input[name=password]', 'temporary-pass-2026');
    await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
    await page.fill('input[name=password]', 'temporary-pass-2026');
    await page.fill('#new-password', 'shiyan-school-2026');
    await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
    assert.equal(new URL(page.url()).pathname, '/school');
    const lists = page.locator('#lists li a');
    assert.equal(await lists.count(), 2, 'the demo list and the new one');

    // On the demo list: flagged candidates have no button; the unflagged one is chosen.
    await page.goto(`${BASE}${demoList.replace('/regulator/after-school/', '/school/after-school/')}`);
    const barred = page.locator('#candidates li:not([data-flags=""])').first();
    assert.equal(await barred.locator('form.choose').count(), 0);
    assert.match(await barred.textContent(), /不能选用/);
    const item = page.locator(`#candidates li[data-id="${chosenId}"]`);
    await item.locator('[name=note]').fill('周三下午 三年级 美术社团');
    await Promise.all([page.waitForNavigation(), item.locator('form.choose button').click()]);
    assert.match(await page.textContent('#school-notice'), /已选用/);
    assert.equal(await item.getAttribute('data-chosen'), 'true');
    assert.match(await item.textContent(), /周三下午 三年级 美术社团/);
    await page.screenshot({ path: `${ARTIFACTS}school-after-school.png`, fullPage: true });

    // On the new list: chosen, then withdrawn with a reason.
    await page.goto(`${BASE}${newList.replace('/regulator/after-school/', '/school/after-school/')}`);
    const again = page.locator(`#candidates li[data-id="${chosenId}"]`);
    await Promise.all([page.waitForNavigation(), again.locator('form.choose button').click()]);
    await again.locator('form.withdraw [name=reason]').fill('课程时间与本校安排冲突');
    await Promise.all([page.waitForNavigation(), again.locator('form.withdraw button').click()]);
    assert.match(await page.textContent('#school-notice'), /已撤回/);
    assert.equal(await again.getAttribute('data-chosen'), 'false');
    await context.clearCookies();

    // The supervisor sees the school's standing choice on the demo list, and none on the new one.
    await signIn(page, 'regulator', 'haidian.supervisor');
    await page.goto(`${BASE}${demoList}`);
    assert.match(
      await page.textContent(`#candidates tbody tr[data-id="${chosenId}"] .choices`),
      /北京市海淀区实验小学（周三下午 三年级 美术社团）/,
    );
    await page.goto(`${BASE}${newList}`);
    assert.equal((await page.textContent(`#candidates tbody tr[data-id="${chosenId}"] .choices`)).trim(), '—');
  } finally {
    await context.close();
  }
});
