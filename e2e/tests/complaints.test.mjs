// 投诉 in a real Chromium: the demo parent complains about the demo institution (in Haidian, offline) from its
// public page with a photo as evidence; the institution's customer service answers; the parent does not accept
// and takes it to the regulator; the Haidian supervisor — the competent regulator for an offline institution in
// Haidian — reads the evidence and rules; the parent sees the outcome, and the public page counts it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, BASE, launch, newPage, signIn } from '../lib/browser.mjs';
import { signInDemoInstitution, signInParent, text } from '../lib/money.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** The smallest file the platform reads as PNG. */
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(48)]);

test('a complaint is answered, escalated and resolved by the Haidian regulator', { timeout: 180_000 }, async () => {
  const inst = await newPage(browser);
  const parent = await newPage(browser, { width: 390, height: 844 });
  const reg = await newPage(browser);
  try {
    const institutionPath = await signInDemoInstitution(inst.page);
    const { page } = parent;
    await signInParent(page);
    await page.goto(`${BASE}${institutionPath}`);
    const receivedBefore = Number(await text(page, '#complaint-figures .received'));
    await Promise.all([page.waitForNavigation(), page.click('#complaint-figures a')]);

    // A renamed executable is refused on the form, with the reason; nothing is filed.
    await page.selectOption('select[name=category]', 'false_advertising');
    await page.fill('textarea[name=body]', '宣传“保证提分30分”，实际课程与宣传不符');
    await page.setInputFiles('input[name=evidence]', { name: '宣传单.png', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\x00 not an image') });
    await Promise.all([page.waitForNavigation(), page.click('#complaint-form button')]);
    assert.match(await text(page, '#error'), /PDF、JPEG 或 PNG/);
    await page.selectOption('select[name=category]', 'false_advertising');
    await page.fill('textarea[name=body]', '宣传“保证提分30分”，实际课程与宣传不符');
    await page.setInputFiles('input[name=evidence]', { name: '宣传单.png', mimeType: 'image/png', buffer: PNG });
    await Promise.all([page.waitForNavigation(), page.click('#complaint-form button')]);
    assert.match(new URL(page.url()).pathname, /^\/complaints\/[0-9a-f-]{36}$/);
    const complaintUrl = page.url();
    const complaintNo = await text(page, '#complaint-no');
    assert.equal(await text(page, '#complaint-status'), '待机构答复');
    assert.equal(await page.locator('#escalate').count(), 0, 'the institution answers first');
    assert.ok((await text(page, '#evidence')).includes('宣传单.png'));

    // The institution's customer service answers from its complaint list.
    await inst.page.goto(`${BASE}/complaints`);
    await Promise.all([inst.page.waitForNavigation(), inst.page.click(`#complaints a:has-text("${complaintNo}")`)]);
    await inst.page.fill('#answer-form textarea[name=answer]', '宣传用语已下架，可为孩子免费补课两次');
    await Promise.all([inst.page.waitForNavigation(), inst.page.click('#answer-form button')]);
    assert.equal(await text(inst.page, '#complaint-status'), '机构已答复，待家长确认');

    // The parent does not accept and takes it to the regulator.
    await page.goto(complaintUrl);
    assert.ok((await text(page, '#complaint-answer')).includes('免费补课两次'));
    await Promise.all([page.waitForNavigation(), page.click('#escalate')]);
    assert.equal(await text(page, '#complaint-status'), '已提交监管部门处理');

    // The Haidian supervisor reads it, with the evidence, and rules.
    await signIn(reg.page, 'regulator', 'haidian.supervisor');
    await reg.page.goto(`${BASE}/complaints`);
    await Promise.all([reg.page.waitForNavigation(), reg.page.click(`#complaints a:has-text("${complaintNo}")`)]);
    const evidence = await reg.page.getAttribute('#evidence a', 'href');
    const bytes = await reg.page.evaluate(async (href) => (await fetch(href)).status, evidence);
    assert.equal(bytes, 200, 'the regulator opens the evidence');
    await reg.page.selectOption('#ruling-form select[name=outcome]', 'penalised');
    await reg.page.selectOption('#ruling-form select[name=money_action]', 'none');
    await reg.page.fill('#ruling-form input[name=ruling]', '查实虚假宣传，责令整改并警告');
    await Promise.all([reg.page.waitForNavigation(), reg.page.click('#ruling-form button')]);
    assert.equal(await text(reg.page, '#complaint-status'), '监管部门已处理，已办结');
    await reg.page.screenshot({ path: `${ARTIFACTS}/complaint-resolved.png`, fullPage: true });

    // The parent sees the outcome; the public page counts the complaint.
    await page.goto(complaintUrl);
    assert.equal(await text(page, '#complaint-status'), '监管部门已处理，已办结');
    assert.ok((await text(page, '#complaint-outcome')).includes('查实，依法处罚'));
    await page.goto(`${BASE}${institutionPath}`);
    assert.equal(Number(await text(page, '#complaint-figures .received')), receivedBefore + 1);
    assert.ok(Number(await text(page, '#complaint-figures .escalated')) >= 1);
  } finally {
    await Promise.all([inst.context.close(), parent.context.close(), reg.context.close()]);
  }
});
