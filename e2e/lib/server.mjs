// A platform and a simulated bank of a test file's own, started like `.ci/run` starts the shared ones: for the
// files that move the clock, so what they do to time and to the demo institution reaches no other file and no
// file depends on running last.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Starts `program args…` and resolves with the URL it prints on a line `<name> listening on <url>`. */
function listening(program, args, name) {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const said = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start in 120 s`)), 120_000);
    const fail = (e) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${e.message}\n${said.join('')}`));
    };
    const read = (chunk) => {
      said.push(chunk.toString());
      const url = said.join('').match(new RegExp(`^${name} listening on (http:\\S+)$`, 'm'))?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => fail(new Error(`${name} exited with ${code}`)));
  });
}

/**
 * `xiaowai serve --demo --test-clock` on a fresh data directory and a `bank-sim` registered with it. The
 * binaries are `XIAOWAI_E2E_BIN` and the `bank-sim` beside it.
 */
export async function startServers() {
  const bin = process.env.XIAOWAI_E2E_BIN;
  if (!bin) throw new Error('XIAOWAI_E2E_BIN names the xiaowai binary');
  const dataDir = mkdtempSync(join(tmpdir(), 'xiaowai-e2e-'));
  const platform = await listening(
    bin, ['serve', '--demo', '--test-clock', '--listen', '127.0.0.1:0', '--data-dir', dataDir], 'xiaowai');
  platform.child.removeAllListeners('exit');
  let bank;
  try {
    bank = await listening(join(dirname(bin), 'bank-sim'),
      ['serve', '--platform', platform.url, '--listen', '127.0.0.1:0', '--data', join(dataDir, 'bank.sqlite3')],
      'bank-sim');
    bank.child.removeAllListeners('exit');
  } catch (e) {
    platform.child.kill();
    throw e;
  }
  const stop = () => {
    bank.child.kill();
    platform.child.kill();
  };
  process.on('exit', stop);
  return { base: platform.url, bank: bank.url, dataDir, stop };
}
