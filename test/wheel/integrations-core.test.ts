// Real integrations from DataDog/integrations-core, hatch.toml and all, laid out as in a checkout:
// provenant's wheel must be hatchling's, byte for byte, also at a SOURCE_DATE_EPOCH before 1980.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { integrationsCoreTree } from '../helpers/integrations-core.ts';
import { tempDir } from '../helpers/peers.ts';
import { hatchlingWheel } from './helpers.ts';

test('provenant build --all over integrations-core integrations at SOURCE_DATE_EPOCH=0: hatchling\'s wheels, byte for byte', async (t) => {
  const tree = await tempDir(t, 'provenant-ic-');
  const names = await integrationsCoreTree(tree);
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  // The integrations directory is the working directory, as in a checkout.
  const code = await main(['build', '--all', '--json'], o, { PATH: process.env.PATH, SOURCE_DATE_EPOCH: '0' }, tree);
  assert.equal(code, 0, o.err);
  const built = (JSON.parse(o.out) as { sourceDateEpoch: number; results: { integration: string; wheel: { path: string; fileName: string } }[] });
  assert.equal(built.sourceDateEpoch, 0);
  assert.deepEqual(built.results.map((r) => r.integration), names);
  for (const r of built.results) {
    const theirs = await hatchlingWheel(t, path.join(tree, r.integration), 0);
    assert.equal(r.wheel.fileName, theirs.fileName);
    assert.equal(sha256Hex(await readFile(r.wheel.path)), sha256Hex(theirs.bytes), r.integration);
  }
});

test('integrations-core integrations at hatchling\'s default epoch and a 2025 one: byte-identical; hatch.toml left in place', async (t) => {
  const tree = await tempDir(t, 'provenant-ic-');
  for (const name of await integrationsCoreTree(tree)) {
    const dir = path.join(tree, name);
    assert.ok((await readdir(dir)).includes('hatch.toml'), `${name} keeps its hatch.toml`);
    for (const epoch of [1580601600, 1758067200]) {
      const ours = await buildWheel(dir, { sourceDateEpoch: epoch });
      const theirs = await hatchlingWheel(t, dir, epoch);
      assert.equal(ours.fileName, theirs.fileName);
      assert.equal(ours.sha256, sha256Hex(theirs.bytes), `${name} at ${epoch}`);
    }
  }
});
