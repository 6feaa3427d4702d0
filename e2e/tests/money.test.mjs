// The money in a real Chromium, against `xiaowai serve --demo` and `bank-sim serve`: the demo parent buys a
// course, reads the e-contract and the refund preview, pays on the simulated bank's checkout page, and comes
// back to an order the bank has reported paid; the escrow shows the amount to the fen on the parent's, the
// institution's and the Haidian regulator's pages. A bank that duplicates, reorders or delays its messages
// changes nothing twice and pays nothing early. Two lessons are taken and confirmed; the bank executes the
// releases the platform instructs; the parent asks for the rest back, the institution agrees, and the bank
// refunds it by the original route; the parent reviews the institution, weighed by the confirmed lessons.
// Then the bank moves money nobody instructed, and the
// regulator's page shows the unmatched outflow; the public bank-quality report counts the month's new
// instructions and movement reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, BANK, BASE, DATA_DIR, launch, newPage, signIn } from '../lib/browser.mjs';
import { bankMode, buyAndPay, fen, reloadUntil, signInDemoInstitution, signInParent, text } from '../lib/money.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a parent buys a course, the bank takes the payment, and every end shows the escrow to the fen', { timeout: 180_000 }, async () => {
  assert.ok(DATA_DIR, 'XIAOWAI_E2E_DATA_DIR names the platform data directory');
  // The institution's admin finds its public page (the demo institution sells through the demo bank).
  const inst = await newPage(browser);
  const institutionPath = await signInDemoInstitution(inst.page);
  const quality = await bankQuality(inst.page);

  const { context, page } = await newPage(browser, { width: 390, height: 844 }, [BANK]);
  let orderNo;
  let amount;
  let escrowLeft;
  try {
    await signInParent(page);
    await page.goto(`${BASE}${institutionPath}`);
    await Promise.all([page.waitForNavigation(), page.click('.course a.button >> nth=0')]);
    const courseTotal = await text(page, '#course-total');
    await Promise.all([page.waitForNavigation(), page.click('#buy button')]);

    // The contract and refund preview come before payment.
    assert.match(new URL(page.url()).pathname, /^\/orders\//);
    assert.equal(await text(page, '#order-status'), '待支付');
    assert.match(await text(page, '#contract-digest'), /^[0-9a-f]{64}$/);
    amount = await text(page, '#order-amount');
    assert.equal(amount, courseTotal, 'the order is the course total');
    assert.equal(await text(page, '#order-escrow'), '¥0.00');
    const preview = await page.locator('#refund-preview tbody tr').allTextContents();
    assert.ok(preview[0].includes('开课前') && preview[0].includes(amount), preview[0]);
    assert.ok(preview.at(-1).includes('¥0.00'));
    orderNo = await text(page, '#order-no');
    await page.screenshot({ path: `${ARTIFACTS}/order-before-payment.png`, fullPage: true });

    // The simulated bank's checkout; the bank reports the payment, then sends the parent back.
    await Promise.all([page.waitForNavigation(), page.click('#pay')]);
    assert.ok(page.url().startsWith(BANK), page.url());
    assert.equal(await text(page, '#order-no'), orderNo);
    assert.equal(await text(page, '#amount'), amount);
    await Promise.all([page.waitForURL(`${BASE}/orders/**`), page.click('#pay')]);
    assert.equal(await text(page, '#order-status'), '已支付（资金监管中）');
    assert.equal(await text(page, '#order-escrow'), amount, 'the escrow holds what was paid, to the fen');
    assert.notEqual(await text(page, '#order-reconciled'), '尚未对账', 'the bank\'s movement reconciled the account');
    await page.screenshot({ path: `${ARTIFACTS}/order-paid.png`, fullPage: true });
    await page.goto(`${BASE}/orders`);
    const mine = await page.locator('#orders li', { hasText: orderNo }).textContent();
    assert.ok(mine.includes(amount), mine);
    const orderUrl = `${BASE}/orders/${await page.getAttribute(`#orders li:has-text("${orderNo}") a`, 'href').then((h) => h.split('/').pop())}`;

    // 消课: the institution takes attendance twice; the parent confirms both; the platform instructs the bank,
    // which executes and reports; the parent sees each release, and the escrow falls by exactly those fees.
    await inst.page.goto(`${BASE}/institution/money`);
    for (const evidence of ['点名表 第1课', '点名表 第2课']) {
      const row = inst.page.locator('#orders tr', { hasText: orderNo });
      await row.locator('input[name=evidence]').fill(evidence);
      await Promise.all([inst.page.waitForNavigation(), row.locator('form.attendance button').click()]);
    }
    await page.goto(orderUrl);
    for (let i = 0; i < 2; i++) {
      await Promise.all([page.waitForNavigation(), page.locator('#lessons button.confirm').first().click()]);
    }
    const fees = (await page.locator('#lessons tr.lesson td:nth-child(3)').allTextContents()).map(fen);
    assert.equal(fees.length, 2);
    // The page reads the lessons and the escrow one after the other: wait until a load saw both releases in both.
    await reloadUntil(page, async () => (await page.locator('#lessons tr.lesson', { hasText: '已划转机构' }).count()) >= 2
      && fen(await text(page, '#order-escrow')) === fen(amount) - fees[0] - fees[1]);
    assert.equal(await page.locator('#lessons tr.lesson', { hasText: '已划转机构' }).count(), 2, 'both releases executed by the bank');
    assert.equal(fen(await text(page, '#order-escrow')), fen(amount) - fees[0] - fees[1], 'escrow less the two fees, to the fen');
    await page.screenshot({ path: `${ARTIFACTS}/order-lessons.png`, fullPage: true });

    // 评价: with confirmed lessons the parent may review; the public page weighs it by those lessons.
    await page.fill('#review-form input[name=text]', '老师耐心，孩子进步很大');
    await Promise.all([page.waitForNavigation(), page.click('#review-form button')]);
    assert.equal(await page.locator('#review-form').count(), 0, 'one review per order');
    await page.goto(`${BASE}${institutionPath}`);
    const reviews = await page.textContent('#reviews');
    assert.ok(reviews.includes('老师耐心，孩子进步很大') && reviews.includes('已确认 2 课时'), reviews);
    await page.goto(orderUrl);

    // 退费: the parent asks for the rest; the institution agrees on the order page; the bank returns it.
    await page.fill('#refund-form input[name=reason]', '孩子转学');
    await Promise.all([page.waitForNavigation(), page.click('#refund-form button')]);
    const refundAmount = await text(page, '.refund-amount');
    assert.equal(fen(refundAmount), fen(amount) - fees[0] - fees[1], 'the untaken lessons at the price paid');
    await inst.page.goto(orderUrl);
    await inst.page.selectOption('#refunds select[name=agree]', 'yes');
    await Promise.all([inst.page.waitForNavigation(), inst.page.click('#refunds form button')]);
    await reloadUntil(page, async () => (await page.textContent('#refunds')).includes('已原路退回'));
    assert.ok((await page.textContent('#refunds')).includes('已原路退回'), 'the bank refunded by the original route');
    assert.equal(await text(page, '#order-escrow'), '¥0.00', 'nothing left in escrow');
    assert.equal(fen(await text(page, '#order-amount')), fees[0] + fees[1] + fen(refundAmount), 'released + refunded = paid');
    assert.equal(await page.locator('#refund-form').count(), 0, 'a closed order takes no second refund');
    await page.screenshot({ path: `${ARTIFACTS}/order-refunded.png`, fullPage: true });
    escrowLeft = await text(page, '#order-escrow');

    // A bank that sends everything twice, or out of order, changes nothing the second time.
    for (const mode of [{ duplicate: true }, { reorder: true }]) {
      await bankMode(mode);
      const paid = await buyAndPay(page, institutionPath);
      assert.equal(await text(page, '#order-status'), '已支付（资金监管中）', JSON.stringify(mode));
      assert.equal(await text(page, '#order-escrow'), paid, `${JSON.stringify(mode)}: held once, to the fen`);
    }
    // A slow bank: the order stays unpaid until the bank's notice arrives.
    await bankMode({ delay_ms: 1500 });
    const slow = await buyAndPay(page, institutionPath);
    assert.equal(await text(page, '#order-status'), '待支付', 'not paid before the bank says so');
    // Poll the page (the bank sends after its delay); give up after ten seconds.
    for (let i = 0; i < 20 && (await text(page, '#order-status')) !== '已支付（资金监管中）'; i++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    assert.equal(await text(page, '#order-status'), '已支付（资金监管中）');
    assert.equal(await text(page, '#order-escrow'), slow);
  } finally {
    await bankMode({});
    await context.close();
  }

  // The institution end.
  try {
    await inst.page.goto(`${BASE}/institution/money`);
    const row = inst.page.locator('#orders tr', { hasText: orderNo });
    assert.equal((await row.locator('.escrow').textContent()).trim(), escrowLeft);
  } finally {
    await inst.context.close();
  }

  // The regulator end: Haidian's supervisor sees the order, the fund flow, and a rogue outflow at once.
  const reg = await newPage(browser);
  try {
    await signIn(reg.page, 'regulator', 'haidian.supervisor');
    const moneyPath = `/regulator${institutionPath}/money`;
    await reg.page.goto(`${BASE}${moneyPath}`);
    const row = reg.page.locator('#orders tr', { hasText: orderNo });
    assert.equal((await row.locator('.escrow').textContent()).trim(), escrowLeft);
    const rogue = await fetch(`${BANK}/admin/rogue-outflow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_no: '6222020200112345678', amount_fen: 100 }),
    });
    assert.equal(rogue.status, 200);
    const answer = await rogue.json();
    assert.ok(answer.platform[0].risk_events.includes('unmatched_outflow'), JSON.stringify(answer));
    await reg.page.goto(`${BASE}${moneyPath}`);
    assert.ok((await reg.page.textContent('#risk-events')).includes('未经平台指令的资金流出'));
    await reg.page.screenshot({ path: `${ARTIFACTS}/regulator-money.png`, fullPage: true });

    // 监管银行服务质量: the public report now counts this test's releases, refunds and payments.
    const now = await bankQuality(reg.page);
    assert.equal(now.period, quality.period, 'the same month');
    assert.ok(now.instructions >= quality.instructions + 2, `instructions ${quality.instructions} → ${now.instructions}`);
    assert.ok(now.executed >= quality.executed + 2, `executed ${quality.executed} → ${now.executed}`);
    assert.ok(now.movements >= quality.movements + 4, `movements ${quality.movements} → ${now.movements}`);
    assert.ok(now.executed <= now.instructions);
    await reg.page.screenshot({ path: `${ARTIFACTS}/bank-quality.png`, fullPage: true });
  } finally {
    await reg.context.close();
  }
});

test('an institution gives an order a preferential price before payment; the contract and the bank follow it', { timeout: 120_000 }, async () => {
  const inst = await newPage(browser);
  const institutionPath = await signInDemoInstitution(inst.page);
  const { context, page } = await newPage(browser, { width: 390, height: 844 }, [BANK]);
  try {
    await signInParent(page);
    await page.goto(`${BASE}${institutionPath}`);
    await Promise.all([page.waitForNavigation(), page.click('.course a.button >> nth=0')]);
    await Promise.all([page.waitForNavigation(), page.click('#buy button')]);
    const orderUrl = page.url();
    const orderNo = await text(page, '#order-no');
    const listed = fen(await text(page, '#order-amount'));
    const discounted = listed - 1_000;

    // 优惠: on its money page the institution sets the price the parent is to pay, with a reason.
    await inst.page.goto(`${BASE}/institution/money`);
    const row = inst.page.locator('#orders tr', { hasText: orderNo });
    await row.locator('form.discount [name=total_yuan]').fill((discounted / 100).toFixed(2));
    await row.locator('form.discount [name=reason]').fill('老学员优惠');
    await Promise.all([inst.page.waitForNavigation(), row.locator('form.discount button').click()]);
    assert.equal(fen((await inst.page.locator('#orders tr', { hasText: orderNo }).locator('td:nth-child(3)').textContent()).trim()), discounted);
    await inst.page.screenshot({ path: `${ARTIFACTS}/institution-money-discounted.png`, fullPage: true });

    // The parent reads the new contract: list price, discount, reason, and the price actually paid.
    await page.goto(orderUrl);
    assert.equal(fen(await text(page, '#order-amount')), discounted);
    assert.equal(fen(await text(page, '#price-paid')), discounted);
    const terms = await page.textContent('body');
    assert.ok(terms.includes('老学员优惠') && terms.includes('退费按实付价款计算'), 'the contract names the discount');
    const preview = await page.locator('#refund-preview tbody tr').allTextContents();
    assert.ok(preview[0].includes(`¥${(discounted / 100).toFixed(2)}`), preview[0]);
    await page.screenshot({ path: `${ARTIFACTS}/order-discounted.png`, fullPage: true });

    // The bank's checkout asks for the new price, and the escrow holds it.
    await Promise.all([page.waitForNavigation(), page.click('#pay')]);
    assert.equal(fen(await text(page, '#amount')), discounted);
    await Promise.all([page.waitForURL(`${BASE}/orders/**`), page.click('#pay')]);
    assert.equal(await text(page, '#order-status'), '已支付（资金监管中）');
    assert.equal(fen(await text(page, '#order-escrow')), discounted);
  } finally {
    await context.close();
    await inst.context.close();
  }
});

/** The demo bank's row on the public service-quality page for this month. */
async function bankQuality(page) {
  await page.goto(`${BASE}/banks/quality`);
  const row = page.locator('#bank-quality tr[data-bank="demo-bank"]');
  const cell = async (n) => Number((await row.locator(`td:nth-child(${n})`).textContent()).trim());
  return {
    period: await page.getAttribute('#bank-quality', 'data-period'),
    instructions: await cell(2),
    executed: await cell(3),
    movements: await cell(7),
  };
}
