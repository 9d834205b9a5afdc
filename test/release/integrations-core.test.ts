// `provenant release --all` over a tree of 85 real integrations-core integrations (the fixtures,
// hatch.toml and all, copied under renamed projects), run where a release engineer runs it: in
// the integrations directory. Every step of every integration must pass, and every published
// wheel must be the one hatchling builds from the same source.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ReleaseSummary } from '../../src/app/release.ts';
import { main } from '../../src/cli/main.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { hatchlingDigests, integrationsCoreTree } from '../helpers/integrations-core.ts';
import { tempDir } from '../helpers/peers.ts';

const COPIES = 17; // of each of the 5 fixtures: 85 integrations

test(`release --all over ${COPIES * 5} integrations-core integrations: every step passes, every wheel is hatchling's`, async (t) => {
  const work = await tempDir(t, 'provenant-ic-release-');
  const tree = path.join(work, 'integrations');
  await mkdir(tree);
  const names = await integrationsCoreTree(tree, COPIES);
  assert.ok(names.length >= 80, `${names.length} integrations`);

  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  const env = { PATH: process.env.PATH, HOME: work, SOURCE_DATE_EPOCH: '1700000000' };
  const repo = path.join(work, 'repository');
  const code = await main(['release', '--all', '--json', '--repository', repo, '--keys', path.join(work, 'keys')], o, env, tree);
  assert.equal(code, 0, o.err.slice(-4000));
  const summary = JSON.parse(o.out) as ReleaseSummary;
  assert.equal(summary.ok, true);
  assert.deepEqual(summary.integrations.map((i) => i.integration), names);
  for (const i of summary.integrations) {
    assert.deepEqual(i.steps.filter((s) => s.status !== 'ok'), [], i.integration);
    assert.equal(i.steps.length, 8, i.integration);
    assert.ok(i.downloaded, `${i.integration} was downloaded back and verified`);
  }
  assert.equal(summary.timestampVersion, 2, 'all of them in one commit');

  const hatchling = await hatchlingDigests(names.map((n) => path.join(tree, n)), '1700000000');
  assert.equal(Object.keys(hatchling).length, names.length);
  for (const i of summary.integrations) {
    const wheel = summary.writes.find((w) => w.key.startsWith(`simple/${i.project}/`) && w.key.endsWith('.whl'));
    assert.ok(wheel, `${i.project}'s wheel was uploaded`);
    const fileName = path.posix.basename(wheel.key);
    assert.equal(sha256Hex(await readFile(path.join(repo, wheel.key))), hatchling[fileName], fileName);
  }
});
