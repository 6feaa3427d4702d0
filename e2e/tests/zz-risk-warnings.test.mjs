// 风险预警 in a real Chromium: the simulated bank reports an outflow the platform never instructed; a red warning
// appears on the Haidian supervisor's live console within a second; the institution does not rectify; once the
// deadline has passed (the clock moved) the public notices show a public warning and the institution is on the
// grey list. Named to run after the whole journey: it moves the clock and grey-lists the demo institution.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, BANK, BASE, launch, moveClock, newPage, signIn } from '../lib/browser.mjs';
import { reloadUntil, signInDemoInstitution, text } from '../lib/money.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('an uninstructed outflow is a red warning on the console within a second, then a public warning', { timeout: 180_000 }, async () => {
  // Agree with the platform's clock, which an earlier file may have moved.
  await moveClock(0, 1);
  const inst = await newPage(browser);
  const reg = await newPage(browser);
  try {
    const institutionPath = await signInDemoInstitution(inst.page);
    await signIn(reg.page, 'regulator', 'haidian.supervisor');
    await reg.page.goto(`${BASE}/regulator/warnings`);
    const redBefore = await reg.page.locator('#warnings li.warning[data-level="red"]').count();

    const started = Date.now();
    const rogue = await fetch(`${BANK}/admin/rogue-outflow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_no: '6222020200112345678', amount_fen: 100 }),
    });
    assert.equal(rogue.status, 200);
    // The console is not reloaded: the warning arrives over the live stream.
    await reg.page.waitForFunction(
      (n) => document.querySelectorAll('#warnings li.warning[data-level="red"]').length > n,
      redBefore,
      { timeout: 1000 },
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= 1000, `on the console after ${elapsed} ms`);
    const newest = reg.page.locator('#warnings li.warning').first();
    assert.match(await newest.textContent(), /红色预警[\s\S]*未经平台指令的资金流出/);
    await reg.page.screenshot({ path: `${ARTIFACTS}/regulator-warnings.png`, fullPage: true });

    // The institution sees it with its deadline, and does nothing.
    await inst.page.goto(`${BASE}/institution/warnings`);
    assert.match(await inst.page.textContent('#warnings li.warning'), /未经平台指令的资金流出/);

    // The deadline passes without rectification: a public warning, and the grey list.
    await moveClock(6);
    await reloadUntil(reg.page, async () => {
      await reg.page.goto(`${BASE}/notices`);
      return (await reg.page.locator('.notice', { hasText: '风险公开提示' }).count()) > 0;
    });
    const notice = reg.page.locator('.notice', { hasText: '风险公开提示' }).first();
    assert.match(await notice.textContent(), /逾期未整改/);
    await reg.page.goto(`${BASE}${institutionPath}`);
    assert.equal(await text(reg.page, '#list-status'), '灰名单');
    await reg.page.screenshot({ path: `${ARTIFACTS}/public-warning.png`, fullPage: true });
  } finally {
    await inst.context.close();
    await reg.context.close();
  }
});
