// What the browser tests share: a Chromium that never leaves the site, the demo's secrets, TOTP codes as
// an authenticator computes them, and signing in on an end's page.
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startServers } from './server.mjs';

/** The platform under test: the shared one `.ci/run` started, or this file's own (`useOwnServers`). */
export let BASE = process.env.XIAOWAI_E2E_BASE_URL ?? 'http://127.0.0.1:18080';
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });
/** The demo accounts' password and TOTP secret (README). */
export const DEMO_PASSWORD = 'xiaowai-demo-2026';
export const DEMO_TOTP_SECRET = Buffer.from('12345678901234567890');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** The simulated bank's base URL and the platform's data directory (set by `.ci/run`). */
export let BANK = process.env.XIAOWAI_E2E_BANK_URL ?? 'http://127.0.0.1:18090';
export let DATA_DIR = process.env.XIAOWAI_E2E_DATA_DIR ?? '';

/**
 * Points this test file at a platform and a bank of its own (fresh demo data, the wall clock): a file that
 * moves the clock or changes the demo institution's standing calls it in `before`, and `stop()` in `after`.
 * `BASE`, `BANK` and `DATA_DIR` are live bindings, so every importer sees the new ones.
 */
export async function useOwnServers() {
  const own = await startServers();
  BASE = own.base;
  BANK = own.bank;
  DATA_DIR = own.dataDir;
  clockOffsetMs = 0;
  return own.stop;
}

/**
 * A fresh context and page; any request leaving the site (a CDN) fails the test, except to the origins a
 * test names (the bank's checkout page).
 */
export async function newPage(browser, viewport = { width: 1280, height: 900 }, alsoAllowed = []) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await context.newPage();
  const allowed = [BASE, ...alsoAllowed];
  page.on('request', (req) => {
    const url = req.url();
    if (!allowed.some((origin) => url.startsWith(origin)) && !url.startsWith('data:')) {
      throw new Error(`request left the site: ${url}`);
    }
  });
  return { context, page };
}

/** RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits). */
export function totp(secret = DEMO_TOTP_SECRET, at = platformNow()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/**
 * Signs in on an end's page (`institution`, `regulator`, `bank`). A TOTP code works once per account: if
 * another test just used this step's code, the next step's is taken.
 */
export async function signIn(page, end, username, password = DEMO_PASSWORD, withTotp = true) {
  for (let attempt = 0; attempt < 2; attempt++) {
    await page.goto(`${BASE}/login/${end}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    if (withTotp) await page.fill('input[name=totp]', totp());
    await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
    if (!page.url().includes('/login/')) return;
    await page.waitForTimeout(30_000 - (platformNow() % 30_000) + 500);
  }
  throw new Error(`${username} could not sign in`);
}

/** How far the platform's and the bank's clocks have been moved ahead of the wall clock. */
let clockOffsetMs = 0;

/** Now, as the platform sees it (TOTP codes follow the platform's clock). */
export const platformNow = () => Date.now() + clockOffsetMs;

/**
 * Moves the platform's clock (`serve --test-clock`) past the close of `workingDays` working days from today,
 * and the simulated bank's by the same amount, so the bank's signed messages stay fresh. Sessions made
 * before the move have expired afterwards: sign in again.
 */
export async function moveClock(workingDays, hours = 0) {
  const res = await fetch(`${BASE}/test/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ working_days: workingDays, hours }),
  });
  if (res.status !== 200) throw new Error(`the platform's clock did not move: ${res.status} ${await res.text()}`);
  const { moved_ms: movedMs, now, now_ms: nowMs } = await res.json();
  const bank = await fetch(`${BANK}/admin/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advance_ms: movedMs }),
  });
  if (bank.status !== 200) throw new Error(`the bank's clock did not move: ${bank.status}`);
  // From the platform's own answer, so a test file run after another that moved the clock agrees with it.
  clockOffsetMs = nowMs - Date.now();
  return now;
}
