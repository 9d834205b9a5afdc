// Version numbers past 2^53 keep every digit: wheel file name, .dist-info directory and METADATA.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { copyExample, hatchlingWheel } from './helpers.ts';

const EPOCH = 1580601600;

async function nginxAt(t: { after(fn: () => unknown): void }, version: string): Promise<string> {
  const dir = await copyExample(t, 'nginx');
  await writeFile(path.join(dir, 'datadog_checks/nginx/__about__.py'), `__version__ = "${version}"\n`);
  return dir;
}

test('1.9007199254740993 (2^53+1): exact in the file name, .dist-info and METADATA, and byte-identical to hatchling', async (t) => {
  const dir = await nginxAt(t, '1.9007199254740993');
  const w = await buildWheel(dir, { sourceDateEpoch: EPOCH });
  assert.equal(w.version, '1.9007199254740993');
  assert.equal(w.fileName, 'datadog_nginx-1.9007199254740993-py3-none-any.whl');
  assert.match(new TextDecoder().decode(w.metadata), /^Version: 1\.9007199254740993$/m);
  assert.ok(w.entries?.includes('datadog_nginx-1.9007199254740993.dist-info/METADATA'));
  const theirs = await hatchlingWheel(t, dir, EPOCH);
  assert.equal(w.fileName, theirs.fileName);
  assert.equal(w.sha256, sha256Hex(theirs.bytes));
});

test('a 300-digit release segment (and a spelling to normalise) stays exact, never 1e+300', async (t) => {
  const huge = '9'.repeat(300);
  const dir = await nginxAt(t, `1.${huge}-RC.${huge}`);
  const w = await buildWheel(dir, { sourceDateEpoch: EPOCH });
  const normal = `1.${huge}rc${huge}`;
  assert.equal(w.version, normal);
  assert.equal(w.fileName, `datadog_nginx-${normal}-py3-none-any.whl`);
  // METADATA keeps the version as written, as hatchling does.
  assert.match(new TextDecoder().decode(w.metadata), new RegExp(`^Version: 1\\.${huge}-RC\\.${huge}$`, 'm'));
  assert.ok(w.entries?.includes(`datadog_nginx-${normal}.dist-info/RECORD`));
});
