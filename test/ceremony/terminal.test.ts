import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import { ok, repoFlags } from './helpers.ts';

/** `provenant <args>` on a real terminal (util-linux `script` gives it a pty), typing `answer`. */
async function onTerminal(cwd: string, answer: string, args: string[]): Promise<{ code: number; out: string }> {
  const command = [path.join(REPO_ROOT, 'node_modules/.bin/node'), path.join(REPO_ROOT, 'bin/provenant.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: { PATH: process.env.PATH, TERM: 'dumb' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    // Answer once the question is on the screen.
    if (out.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`);
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { code, out };
}

test('on a terminal, sign shows the summary and signs only when the holder answers y', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  const signatures = async () => (JSON.parse(await readFile(file, 'utf8')) as { root: { signatures: unknown[] } }).root.signatures.length;
  const args = ['repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, 'root.pem'), ...flags];

  const no = await onTerminal(fx.dir, 'n', args);
  assert.notEqual(no.code, 0);
  assert.match(no.out, /root role: threshold 1 -> 2/);
  assert.match(no.out, /E_PROPOSAL_NOT_CONFIRMED/);
  assert.equal(await signatures(), 0);

  const yes = await onTerminal(fx.dir, 'y', args);
  assert.equal(yes.code, 0, yes.out);
  assert.match(yes.out, /signed root with/);
  assert.equal(await signatures(), 1);
});
