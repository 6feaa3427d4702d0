// The parent's whole journey with time moved (on a platform and a bank of its own, since it moves the clock): buy →
// three lessons attended → two confirmed by the parent and one confirmed by silence once 15 working days have
// passed → the rest asked back → the institution stays silent for 5 working days, which agrees → the simulated
// bank refunds by the original route → the order is closed. Paid, released, refunded and escrow agree to the
// fen on the parent's, the institution's and the Haidian regulator's pages, and `xiaowai ledger verify`
// passes afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ARTIFACTS, BANK, BASE, DATA_DIR, launch, moveClock, newPage, signIn, useOwnServers } from '../lib/browser.mjs';
import { buyAndPay, fen, reloadUntil, signInDemoInstitution, signInParent, text } from '../lib/money.mjs';

let browser;
let stopServers;

before(async () => {
  stopServers = await useOwnServers();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  stopServers?.();
});

const released = (page) => page.locator('#lessons tr.lesson', { hasText: '已划转机构' }).count();

test('buy, three lessons, one confirmed by silence, the rest refunded by silence, closed to the fen', { timeout: 240_000 }, async () => {
  assert.ok(DATA_DIR && process.env.XIAOWAI_E2E_BIN, 'this file runs its own platform from XIAOWAI_E2E_BIN');
  const inst = await newPage(browser);
  const parent = await newPage(browser, { width: 390, height: 844 }, [BANK]);
  const { page } = parent;
  try {
    const institutionPath = await signInDemoInstitution(inst.page);
    await signInParent(page);
    const amount = fen(await buyAndPay(page, institutionPath));
    const orderUrl = page.url();
    const orderNo = await text(page, '#order-no');
    assert.equal(fen(await text(page, '#order-escrow')), amount);

    // 点名 three times.
    await inst.page.goto(`${BASE}/institution/money`);
    for (const evidence of ['签到表 A-1', '签到表 A-2', '签到表 A-3']) {
      const row = inst.page.locator('#orders tr', { hasText: orderNo });
      await row.locator('input[name=evidence]').fill(evidence);
      await Promise.all([inst.page.waitForNavigation(), row.locator('form.attendance button').click()]);
    }
    await page.reload();
    assert.equal(await page.locator('#lessons tr.lesson').count(), 3);
    const fees = (await page.locator('#lessons tr.lesson td:nth-child(3)').allTextContents()).map(fen);

    // The parent confirms two; the third waits.
    for (let i = 0; i < 2; i++) {
      await Promise.all([page.waitForNavigation(), page.locator('#lessons button.confirm').first().click()]);
    }
    await reloadUntil(page, async () => (await released(page)) >= 2);
    assert.equal(await released(page), 2);
    assert.equal(await page.locator('#lessons tr.lesson[data-status=awaiting_confirmation]').count(), 1);
    // The parent's to-do page lists the one lesson still waiting for an answer.
    await page.goto(`${BASE}/todo`);
    const waiting = await page.locator('#todo-lessons li').allTextContents();
    assert.equal(waiting.length, 1, waiting.join('|'));
    assert.ok(waiting[0].includes('第 3 课'), waiting[0]);
    await page.goto(orderUrl);

    // 15 working days pass without an answer: the third lesson (with its sign-in sheet) confirms itself and
    // its fee is released. The old sessions have expired with the move.
    await moveClock(15);
    await signInParent(page);
    await page.goto(orderUrl);
    await reloadUntil(page, async () => (await released(page)) >= 3);
    assert.equal(await page.locator('#lessons tr.lesson[data-status=auto_confirmed]').count(), 1, 'confirmed by silence');
    assert.equal(await released(page), 3, 'all three fees released by the bank');
    const releasedFen = fees[0] + fees[1] + fees[2];
    assert.equal(fen(await text(page, '#order-released')), releasedFen);
    assert.equal(fen(await text(page, '#order-escrow')), amount - releasedFen);

    // The rest is asked back; the preview is what remains at the price paid.
    await page.fill('#refund-form input[name=reason]', '搬家，无法继续上课');
    await Promise.all([page.waitForNavigation(), page.click('#refund-form button')]);
    const refundFen = fen(await text(page, '.refund-amount'));
    assert.equal(refundFen, amount - releasedFen, 'the untaken lessons, to the fen');
    assert.equal(await text(page, '.refund-status'), '待机构答复');
    await page.goto(`${BASE}/todo`);
    assert.ok((await text(page, '#todo-refunds')).includes('待机构答复'));

    // The institution says nothing for 5 working days: that is agreement; the bank refunds.
    await moveClock(5);
    await signInParent(page);
    await page.goto(orderUrl);
    await reloadUntil(page, async () => (await page.textContent('#refunds')).includes('已原路退回'));
    assert.ok((await page.textContent('#refunds')).includes('已原路退回'), await page.textContent('#refunds'));
    assert.equal(await text(page, '#order-status'), '已结清（订单关闭）');
    assert.equal(await text(page, '#order-escrow'), '¥0.00');
    assert.equal(fen(await text(page, '#order-released')), releasedFen);
    assert.equal(fen(await text(page, '#order-refunded')), refundFen);
    assert.equal(releasedFen + refundFen, amount, 'released + refunded = paid');
    assert.equal(await page.locator('#refund-form').count(), 0, 'a closed order takes no refund request');
    await page.screenshot({ path: `${ARTIFACTS}/journey-closed.png`, fullPage: true });
    // The inbox told the parent of each release and of the refund.
    await page.goto(`${BASE}/account`);
    const inbox = await text(page, '#notifications');
    assert.ok(inbox.includes('课时费已划转机构') && inbox.includes('退款已原路退回'), inbox);

    // The institution's and the regulator's ends agree to the fen.
    const expectRow = async (p, path) => {
      await p.goto(`${BASE}${path}`);
      const row = p.locator('#orders tr', { hasText: orderNo });
      assert.equal((await row.locator('.escrow').textContent()).trim(), '¥0.00', path);
      assert.equal(fen((await row.locator('.released').textContent()).trim()), releasedFen, path);
      assert.equal(fen((await row.locator('.refunded').textContent()).trim()), refundFen, path);
    };
    await signInDemoInstitution(inst.page);
    await expectRow(inst.page, '/institution/money');
    const reg = await newPage(browser);
    try {
      await signIn(reg.page, 'regulator', 'haidian.supervisor');
      await expectRow(reg.page, `/regulator${institutionPath}/money`);
    } finally {
      await reg.context.close();
    }
  } finally {
    await parent.context.close();
    await inst.context.close();
  }

  // The evidence holds: the audit chain verifies and every ledger total equals its transfers.
  const out = execFileSync(process.env.XIAOWAI_E2E_BIN, ['ledger', 'verify', '--data-dir', DATA_DIR], { encoding: 'utf8' });
  assert.match(out, /audit log intact/);
  assert.match(out, /money ledger balanced/);
});
