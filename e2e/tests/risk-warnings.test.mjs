// 风险预警 in a real Chromium: the simulated bank reports an outflow the platform never instructed; a red warning
// appears on the Haidian supervisor's live console within a second; the institution does not rectify; once the
// deadline has passed (the clock moved) the public notices show a public warning and the institution is on the
// grey list. It moves the clock and grey-lists the demo institution, so it runs on a platform and a bank of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, BANK, BASE, launch, moveClock, newPage, signIn, useOwnServers } from '../lib/browser.mjs';
import { buyAndPay, reloadUntil, signInDemoInstitution, signInParent, text } from '../lib/money.mjs';

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

test('an uninstructed outflow is a red warning on the console within a second, then a public warning', { timeout: 180_000 }, async () => {
  const inst = await newPage(browser);
  const reg = await newPage(browser);
  try {
    const institutionPath = await signInDemoInstitution(inst.page);
    // Money for the rogue outflow to take: on this file's own platform nobody has paid in yet.
    const parent = await newPage(browser, { width: 390, height: 844 }, [BANK]);
    await signInParent(parent.page);
    await buyAndPay(parent.page, institutionPath);
    await parent.context.close();
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
    // The deadline job runs on its own interval: wait for this institution's standing to change.
    await reloadUntil(reg.page, async () => {
      await reg.page.goto(`${BASE}${institutionPath}`);
      return (await text(reg.page, '#list-status')) === '灰名单';
    });
    assert.equal(await text(reg.page, '#list-status'), '灰名单');
    const { name } = await (await fetch(`${BASE}/api/v1/public${institutionPath}`)).json();
    await reg.page.goto(`${BASE}/notices`);
    const notice = reg.page.locator('.notice', { hasText: `关于${name}的风险公开提示` }).first();
    assert.match(await notice.textContent(), /逾期未整改/);
    await reg.page.screenshot({ path: `${ARTIFACTS}/public-warning.png`, fullPage: true });
  } finally {
    await inst.context.close();
    await reg.context.close();
  }
});
