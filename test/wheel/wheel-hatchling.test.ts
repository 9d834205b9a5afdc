// The builder's goal: the same bytes hatchling writes, for every example, at two epochs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { copyExample, exampleNames, EXAMPLES_DIR, hatchlingWheel } from './helpers.ts';
import path from 'node:path';

for (const name of await exampleNames()) {
  for (const epoch of [1580601600, 1767225600]) {
    test(`${name}: byte-identical to hatchling's wheel at SOURCE_DATE_EPOCH=${epoch}`, async (t) => {
      const dir = await copyExample(t, name);
      const ours = await buildWheel(dir, { sourceDateEpoch: epoch });
      const theirs = await hatchlingWheel(t, dir, epoch);
      assert.equal(ours.fileName, theirs.fileName);
      assert.equal(sha256Hex(ours.bytes), sha256Hex(theirs.bytes));
      assert.equal(ours.sha256, sha256Hex(theirs.bytes));
    });
  }
}

test('building in place (inside the git checkout) gives the same bytes as building a copy', async (t) => {
  for (const name of await exampleNames()) {
    const inPlace = await buildWheel(path.join(EXAMPLES_DIR, name), { sourceDateEpoch: 1580601600 });
    const copy = await buildWheel(await copyExample(t, name), { sourceDateEpoch: 1580601600 });
    assert.equal(inPlace.sha256, copy.sha256, name);
  }
});
