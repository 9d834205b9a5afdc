import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';

export function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

test('--help teaches the typical flow and exits 0', async () => {
  const o = capture();
  assert.equal(await main(['--help'], o), 0);
  assert.match(o.out, /Typical flow/);
  assert.match(o.out, /provenant release --all/);
});

test('an unknown command is a usage error (exit 2)', async () => {
  const o = capture();
  assert.equal(await main(['no-such-command'], o), 2);
  assert.match(o.err, /unknown command 'no-such-command'/);
});
