// An institution joins the platform in a real Chromium, against `xiaowai serve --demo`: it signs up, files
// its information, uploads its licence and submits; the Haidian reviewer rejects one field; the institution
// fixes it; the reviewer approves; the public site shows the institution (grey until its supervised
// account is confirmed); it binds an account, the bank confirms it, the institution is white-listed; its
// plate verifies, an altered token does not, and removal turns the plate red.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { ARTIFACTS, BASE, DEMO_PASSWORD, launch, newPage as openPage, signIn } from '../lib/browser.mjs';

// The demo bank's API key (README).
const DEMO_BANK_KEY = 'xwk_demo_bank';
const DEMO_BANK_SECRET = 'demo-bank-secret-0123456789abcdef';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const newPage = () => openPage(browser);

/** GB 32100 with the GB 11714 organisation check character: a valid code from 16 characters. */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
function creditCode(first16) {
  const orgWeights = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += parseInt(first16[8 + i], 36) * orgWeights[i];
  const c = 11 - (sum % 11);
  const org = c === 10 ? 'X' : c === 11 ? '0' : String(c);
  const first17 = first16 + org;
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  sum = 0;
  for (let i = 0; i < 17; i++) sum += CHARSET.indexOf(first17[i]) * weights[i];
  return first17 + CHARSET[(31 - (sum % 31)) % 31];
}

test('an institution signs up, files, is rejected on one field, fixes it and is approved', { timeout: 180_000 }, async () => {
  // The JS check characters agree with the platform's: a demo institution's code reproduces.
  const any = (await (await fetch(`${BASE}/api/v1/public/institutions?per_page=1`)).json()).items[0];
  const known = (await (await fetch(`${BASE}/api/v1/public/institutions/${any.id}`)).json()).credit_code;
  assert.equal(creditCode(known.slice(0, 16)), known);

  const suffix = String(Date.now() % 1_000_000).padStart(6, '0');
  const code = creditCode(`52110108MJ${suffix}`);
  const name = `海淀明志围棋培训中心${suffix}`;
  const admin = `mingzhi${suffix}`;
  const inst = await newPage();
  const reviewer = await newPage();
  try {
    const p = inst.page;
    await p.goto(`${BASE}/join`);
    await p.fill('input[name=name]', name);
    await p.fill('input[name=credit_code]', code.slice(0, 17) + (code[17] === '0' ? '1' : '0'));
    await p.fill('input[name=region_code]', '110108');
    await p.fill('input[name=address]', '北京市海淀区成府路1号');
    await p.fill('input[name=categories]', 'arts');
    await p.fill('input[name=admin_username]', admin);
    await p.fill('input[name=admin_display_name]', '陈校长');
    await p.fill('input[name=admin_password]', 'mingzhi passphrase');
    await Promise.all([p.waitForNavigation(), p.click('#join button[type=submit]')]);
    assert.match(await p.textContent('#join-error'), /统一社会信用代码不正确/);
    await p.fill('input[name=credit_code]', code);
    await p.fill('input[name=admin_password]', 'mingzhi passphrase');
    await Promise.all([p.waitForNavigation(), p.click('#join button[type=submit]')]);
    await p.waitForSelector('#joined');

    await signIn(p, 'institution', admin, 'mingzhi passphrase', false);
    assert.equal(new URL(p.url()).pathname, '/institution/filing');
    const fill = async (field, value) => p.fill(`#filing [name=${field}]`, value);
    assert.equal(await p.inputValue('#filing [name=name]'), name, 'the first draft starts from the sign-up');
    await fill('legal_representative', '陈明志');
    await fill('school_licence_no', '教民111010870099号');
    await fill('school_licence_expires', '2029-12-31');
    await fill('legal_person_cert_no', code);
    await fill('legal_person_cert_expires', '2030-12-31');
    await p.selectOption('#filing [name=tenure]', 'owned');
    await fill('health_cert_no', '海卫2026-099');
    await fill('health_cert_expires', '2027-12-31');
    await fill('fire_cert_no', '海消2026-WRONG');
    await fill('fire_cert_expires', '2027-12-31');
    await fill('training_materials', '自编围棋讲义');
    await fill('staff', '陈老师,teaching,否,');
    await fill('courses_summary', '少儿围棋启蒙');
    await Promise.all([p.waitForNavigation(), p.click('#filing button[type=submit]')]);
    await p.waitForSelector('#filing-notice');
    assert.ok((await p.textContent('#missing')).includes('办学许可证扫描件'));

    await p.setInputFiles('#upload input[type=file]', { name: '办学许可证.pdf', mimeType: 'application/pdf', buffer: PDF });
    await Promise.all([p.waitForNavigation(), p.click('#upload button[type=submit]')]);
    assert.equal(await p.textContent('#filing-notice'), '材料已上传。');
    assert.equal(await p.textContent('#completeness'), '100%');
    await Promise.all([p.waitForNavigation(), p.click('#submit button[type=submit]')]);
    assert.equal(await p.textContent('#filing-status'), '审核中');

    // The Haidian reviewer finds it in the queue and rejects the fire-safety certificate number.
    const r = reviewer.page;
    await signIn(r, 'regulator', 'haidian.reviewer', DEMO_PASSWORD, true);
    await r.goto(`${BASE}/regulator/reviews`);
    await Promise.all([r.waitForNavigation(), r.click(`#queue a:has-text("${name}")`)]);
    await r.selectOption('#reject [name=field1]', 'premises.fire_cert_no');
    await r.fill('#reject [name=reason1]', '消防证明编号与扫描件不符');
    await Promise.all([r.waitForNavigation(), r.click('#reject button[type=submit]')]);
    assert.match(await r.textContent('#review-notice'), /已退回/);

    await p.goto(`${BASE}/institution/filing`);
    assert.match(await p.textContent('#rejected-fields'), /消防证明：消防证明编号与扫描件不符/);
    await fill('fire_cert_no', '海消2026-099');
    await Promise.all([p.waitForNavigation(), p.click('#filing button[type=submit]')]);
    await Promise.all([p.waitForNavigation(), p.click('#submit button[type=submit]')]);
    assert.equal(await p.textContent('#filing-status'), '审核中');
    await p.screenshot({ path: `${ARTIFACTS}filing.png`, fullPage: true });

    await r.goto(`${BASE}/regulator/reviews`);
    await Promise.all([r.waitForNavigation(), r.click(`#queue a:has-text("${name}")`)]);
    await Promise.all([r.waitForNavigation(), r.click('#approve button[type=submit]')]);
    assert.match(await r.textContent('#review-notice'), /审核通过/);

    // The public site shows it at once: grey until its supervised account is confirmed.
    const visitor = await newPage();
    const v = visitor.page;
    try {
      await v.goto(`${BASE}/institutions?q=${encodeURIComponent(name)}`);
      await Promise.all([v.waitForNavigation(), v.click(`#results a:has-text("${name}")`)]);
      assert.equal(await v.textContent('#list-status'), '灰名单');
      assert.ok((await v.textContent('body')).includes('教民111010870099号'));
      const institutionId = new URL(v.url()).pathname.split('/').pop();

      // It binds a supervised account; the demo bank's system confirms it with a signed request.
      await p.goto(`${BASE}/institution/filing`);
      await p.fill('#bind [name=account_no]', `62220202${suffix}`);
      await Promise.all([p.waitForNavigation(), p.click('#bind button[type=submit]')]);
      const accountId = await p.getAttribute('#supervised-accounts li[data-status="pending"]', 'data-id');
      const confirmed = await bankConfirms(accountId);
      assert.equal(confirmed.status, 'confirmed');
      await v.reload();
      assert.equal(await v.textContent('#list-status'), '白名单', 'white-listed under fund supervision');

      // 财务报表: the admin files the third quarter's statement. A figure with three decimals is refused and
      // nothing is kept; the corrected one is listed, and the Haidian reviewer reads it among the focus items.
      await p.goto(`${BASE}/institution/statements`);
      const fileStatement = async (revenue) => {
        await p.fill('#file-statement [name=period]', '2026-Q3');
        await p.fill('#file-statement [name=revenue]', revenue);
        await p.fill('#file-statement [name=expenses]', '86000');
        await p.fill('#file-statement [name=net_assets]', '350000');
        await p.fill('#file-statement [name=prepaid]', '42000.5');
        await p.setInputFiles('#file-statement input[type=file]', { name: '2026年三季度财务报表.pdf', mimeType: 'application/pdf', buffer: PDF });
        await Promise.all([p.waitForNavigation(), p.click('#file-statement button[type=submit]')]);
      };
      await fileStatement('120000.125');
      assert.match(await p.textContent('#statements-error'), /营业收入：以元为单位，最多两位小数/);
      assert.equal(await p.locator('#statements tbody tr td[colspan]').count(), 1, 'nothing was kept');
      await fileStatement('120000.50');
      assert.equal(await p.textContent('#statements-notice'), '财务报表已报送。');
      const filed = await p.locator('#statements tbody tr').first().locator('td').allTextContents();
      assert.deepEqual(filed.slice(0, 5), ['2026-Q3', '¥120000.50', '¥86000.00', '¥350000.00', '¥42000.50']);
      await r.goto(`${BASE}/regulator/institutions/${institutionId}/monitoring?focus=statements`);
      await r.waitForSelector('#monitoring[data-focus="statements"]');
      assert.match(await r.textContent('#monitoring tbody'), /2026-Q3/);

      // Its plate: printed from the account page, genuine when scanned, invalid when altered.
      await p.goto(`${BASE}/account`);
      await Promise.all([p.waitForNavigation(), p.click('a:has-text("合规码牌")')]);
      assert.ok(await p.locator('#plate-qr svg').count(), 'the QR code is drawn');
      assert.equal(await p.textContent('#plate-name'), name);
      const token = new URL(await p.textContent('#plate-url')).pathname.split('/').pop();
      await p.screenshot({ path: `${ARTIFACTS}plate.png`, fullPage: true });
      await v.goto(`${BASE}/verify/${token}`);
      assert.equal(await v.getAttribute('#verdict', 'data-verdict'), 'valid');
      const altered = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
      await v.goto(`${BASE}/verify/${altered}`);
      assert.equal(await v.getAttribute('#verdict', 'data-verdict'), 'invalid');
      assert.match(await v.textContent('#verdict'), /无效码牌/);

      // The Haidian supervisor removes it: the same plate now scans red, and its staff are told.
      const supervisor = await newPage();
      try {
        const s = supervisor.page;
        await signIn(s, 'regulator', 'haidian.supervisor', DEMO_PASSWORD, true);
        await s.goto(`${BASE}/regulator/institutions/${institutionId}`);
        await s.fill('#removal [name=reason]', '停止办学');
        await s.fill('#removal [name=decision_no]', '海教监〔2026〕99号');
        await s.fill('#removal [name=decided_on]', new Date().toISOString().slice(0, 10));
        await Promise.all([s.waitForNavigation(), s.click('#removal button[type=submit]')]);
        assert.match(await s.textContent('#action-notice'), /码牌已撤销/);
      } finally {
        await supervisor.context.close();
      }
      await v.goto(`${BASE}/verify/${token}`);
      assert.equal(await v.getAttribute('#verdict', 'data-verdict'), 'warning');
      assert.match(await v.textContent('#verdict'), /码牌已被撤销/);
      await v.screenshot({ path: `${ARTIFACTS}verify-revoked.png`, fullPage: true });
      await p.goto(`${BASE}/account`);
      assert.match(await p.textContent('#notifications'), /已被撤除/, 'the staff are told');
    } finally {
      await visitor.context.close();
    }
  } finally {
    await inst.context.close();
    await reviewer.context.close();
  }
});

/** The demo bank's system confirms a supervised account: a request signed with HMAC-SM3 (docs/api.md). */
async function bankConfirms(accountId) {
  const path = `/api/v1/bank/supervised-accounts/${accountId}/confirm`;
  const ts = Date.now();
  const nonce = `e2e-confirm-${ts}`;
  const canonical = ['POST', path, createHash('sm3').update('').digest('hex'), String(ts), nonce].join('\n');
  const signature = createHmac('sm3', DEMO_BANK_SECRET).update(canonical).digest('hex');
  const res = await fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: {
      'x-xiaowai-key': DEMO_BANK_KEY,
      'x-xiaowai-timestamp': String(ts),
      'x-xiaowai-nonce': nonce,
      'x-xiaowai-signature': signature,
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

