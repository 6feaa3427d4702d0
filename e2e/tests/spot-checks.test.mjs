// 抽检 in a real Chromium: the Haidian supervisor (a county regulator) draws a spot-check campaign, records one
// drawn institution's findings with evidence (a finding without a note is refused first), and the
// institution's credit page shows the findings' deduction and the warning they raised.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { ARTIFACTS, BASE, launch, newPage, signIn } from '../lib/browser.mjs';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a county supervisor runs a spot-check campaign and the institution\'s credit shows the result', { timeout: 120_000 }, async () => {
  const { context, page } = await newPage(browser, { width: 390, height: 844 });
  try {
    await signIn(page, 'regulator', 'haidian.supervisor');
    await Promise.all([page.waitForNavigation(), page.click('#spot-checks-link')]);
    await page.fill('#new-campaign [name=name]', '海淀区2026年12月专项抽检');
    await page.fill('#new-campaign [name=share_percent]', '20');
    await Promise.all([page.waitForNavigation(), page.click('#new-campaign button[type=submit]')]);
    assert.match(new URL(page.url()).pathname, /^\/regulator\/spot-checks\/[0-9a-f-]{36}$/);
    assert.match(await page.textContent('#seed'), /^\d+$/, 'the seed is recorded');
    const rows = page.locator('#checks tbody tr');
    assert.ok((await rows.count()) > 0, 'institutions were drawn');
    assert.equal(await page.textContent('#recorded'), '0');

    const first = rows.first().locator('a');
    const name = await first.textContent();
    await Promise.all([page.waitForNavigation(), first.click()]);
    const institutionId = new URL(await page.getAttribute('a[href$="/credit"]', 'href'), BASE).pathname.split('/')[3];

    // The credit before, on the institution's credit page (the demo's own campaign may have checked it too).
    const points = async (key) => {
      const cell = page.locator(`#credit-breakdown tr[data-key="${key}"] td:last-child`);
      return (await cell.count()) ? Number(await cell.textContent()) : 0;
    };
    await page.goto(`${BASE}/regulator/institutions/${institutionId}/credit`);
    const before = Number(await page.getAttribute('#credit-score', 'data-score'));
    const findingsBefore = await points('spot_check_finding');
    await page.goBack();

    // A finding needs a note: refused, nothing recorded.
    await page.check('#record input[name=staff][value=issue]');
    await Promise.all([page.waitForNavigation(), page.click('#record button[type=submit]')]);
    assert.match(await page.textContent('#check-error'), /检查项目“人员材料”：不合格时须填写说明/);
    assert.equal(await page.textContent('#check-status'), '待核查');

    await page.check('#record input[name=staff][value=issue]');
    await page.fill('#record [name=staff_note]', '两名教师无入职查询记录');
    await page.check('#record input[name=statements][value=issue]');
    await page.fill('#record [name=statements_note]', '未报送三季度财务报表');
    await page.setInputFiles('#record input[type=file]', { name: '现场核查记录.pdf', mimeType: 'application/pdf', buffer: PDF });
    await Promise.all([page.waitForNavigation(), page.click('#record button[type=submit]')]);
    assert.equal(await page.textContent('#recorded'), '1');
    assert.equal(await page.textContent('#with-findings'), '1');
    const row = page.locator('#checks tbody tr', { hasText: name });
    assert.equal(await row.getAttribute('data-status'), 'recorded');
    assert.equal(await row.locator('.status').textContent(), '发现问题');
    await page.screenshot({ path: `${ARTIFACTS}spot-check-campaign.png`, fullPage: true });

    // The institution's credit page: the findings' line, the warning they raised, a lower score that the
    // breakdown adds up to.
    await page.goto(`${BASE}/regulator/institutions/${institutionId}/credit`);
    const after = Number(await page.getAttribute('#credit-score', 'data-score'));
    assert.ok(after < before, `credit ${before} → ${after}`);
    assert.equal(await points('spot_check_finding'), findingsBefore - 4, 'two items at -2');
    assert.ok((await points('warning_orange')) < 0, 'the orange warning the findings raised');
    const all = await page.locator('#credit-breakdown tr[data-key] td:last-child').allTextContents();
    const base = Number(await page.textContent('#credit-breakdown tbody tr:first-child td:last-child'));
    assert.equal(after, Math.min(100, Math.max(0, base + all.map(Number).reduce((a, b) => a + b, 0))));
    assert.match(await page.textContent('#spot-checks'), /未报送三季度财务报表/);
    await page.screenshot({ path: `${ARTIFACTS}credit.png`, fullPage: true });

    // 年检年审: the year's data lists the spot check; the supervisor records a conditional result once.
    await Promise.all([page.waitForNavigation(), page.click('#annual-link')]);
    assert.match(await page.textContent('#annual'), /海淀区2026年12月专项抽检：发现问题（2 项问题）/);
    await page.selectOption('#review [name=result]', 'conditional');
    await page.fill('#review [name=remarks]', '限期一个月补齐财务报表和入职查询记录');
    await Promise.all([page.waitForNavigation(), page.click('#review button[type=submit]')]);
    assert.equal(await page.getAttribute('#annual-review', 'data-result'), 'conditional');
    const annualCsv = await page.request.get(`${BASE}${await page.getAttribute('#annual-csv', 'href')}`);
    assert.equal(annualCsv.status(), 200);
    const lines = (await annualCsv.text()).replace(/^\uFEFF/, '').split('\n');
    assert.equal(lines[0], '类别,项目,数值,显示');
    assert.ok(lines.some((r) => r.startsWith('年检结论,基本合格（限期整改）')), lines.join('|'));
    // The server-made PDF holds the same report: read back with poppler's pdftotext.
    const annualPdf = await page.request.get(`${BASE}${await page.getAttribute('#annual-pdf', 'href')}`);
    assert.equal(annualPdf.status(), 200);
    assert.equal(annualPdf.headers()['content-type'], 'application/pdf');
    const pdfPath = `${ARTIFACTS}annual.pdf`;
    writeFileSync(pdfPath, await annualPdf.body());
    const pdfText = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
    assert.match(pdfText, new RegExp(`${name.trim()} · \\d{4} 年度年检年审数据`));
    assert.match(pdfText, /海淀区2026年12月专项抽检\s+发现问题（2 项问题）/);
    assert.match(pdfText, /基本合格（限期整改）：限期一个月补齐财务报表和入职查询记录/);
    assert.match(pdfText, /第 1 页，共 \d+ 页/);
    await page.screenshot({ path: `${ARTIFACTS}annual.png`, fullPage: true });

    // 行政处罚: a published fine costs 10 points and shows on the public institution page.
    await page.goto(`${BASE}/regulator/institutions/${institutionId}/credit`);
    const beforeFine = Number(await page.getAttribute('#credit-score', 'data-score'));
    const decisionNo = `海教罚〔2026〕E2E${Date.now() % 100000}号`;
    await page.selectOption('#penalty [name=kind]', 'fine');
    await page.fill('#penalty [name=decision_no]', decisionNo);
    await page.fill('#penalty [name=decided_on]', '2026-11-20');
    await page.fill('#penalty [name=amount_yuan]', '20000');
    await page.fill('#penalty [name=facts]', '超出规定时限预收培训费用');
    await Promise.all([page.waitForNavigation(), page.click('#penalty button[type=submit]')]);
    assert.equal(await page.textContent('#credit-notice'), '处罚决定已记录。');
    assert.equal(Number(await page.getAttribute('#credit-score', 'data-score')), Math.max(0, beforeFine - 10));
    const visitor = await newPage(browser);
    try {
      await visitor.page.goto(`${BASE}/institutions/${institutionId}`);
      assert.match(await visitor.page.textContent('#penalties'), new RegExp(`罚款 ¥20000.00（${decisionNo}）`));
    } finally {
      await visitor.context.close();
    }

    // 年度公布 and the export for the national credit system.
    await page.goto(`${BASE}/regulator/credit`);
    await Promise.all([page.waitForNavigation(), page.click('#publish button[type=submit]')]);
    assert.match(await page.textContent('#publish-notice'), /已公布 \d+ 家机构/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#credit-export')]);
    const csv = readFileSync(await download.path()).subarray(3).toString('utf8');
    assert.ok(csv.startsWith('统一社会信用代码,机构名称,行政区划代码,评价年度,信用分,信用等级'), csv.slice(0, 80));
    assert.ok(csv.split('\n').length > 3, 'a row per Haidian institution');
  } finally {
    await context.close();
  }
});
