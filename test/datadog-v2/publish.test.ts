import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { syntheticRelease } from '../publish/synthetic.ts';
import { treeHash } from '../release/workspace.ts';
import { publish, repoFixture } from '../download/helpers/fixture.ts';

async function refused(p: Promise<unknown>, code: string, field?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof ProvenantError && e.code === code && (field === undefined || e.field === field));
}

test('datadog-v2: a published version is immutable, whatever latest.json does', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [syntheticRelease('datadog-demo', '1.0.0')]);
  const before = await treeHash(fx.repoDir);
  await refused(publish(fx, [syntheticRelease('datadog-demo', '1.0.0', 'other bytes')]), 'E_RELEASE_IMMUTABLE');
  assert.equal(await treeHash(fx.repoDir), before, 'nothing written');
  const again = await publish(fx, [syntheticRelease('datadog-demo', '1.0.0')]);
  assert.equal(again.committed, false);
});

test('datadog-v2: settings that do not say the layout the signed targets delegate are refused (both directions)', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const settings = path.join(fx.keysDir, 'provenant-repository.json');
  const json = JSON.parse(await readFile(settings, 'utf8')) as Record<string, unknown>;
  delete json.layout;
  await writeFile(settings, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(path.join(fx.repoDir, 'provenant-repository.json'), `${JSON.stringify(json, null, 2)}\n`);
  await refused(publish(fx, [syntheticRelease('datadog-demo', '1.0.0')]), 'E_REPO_CONFIG_MISMATCH', 'layout');

  const plain = await repoFixture(t);
  const other = path.join(plain.keysDir, 'provenant-repository.json');
  const withLayout = { ...(JSON.parse(await readFile(other, 'utf8')) as Record<string, unknown>), layout: 'datadog-v2' };
  await writeFile(other, `${JSON.stringify(withLayout, null, 2)}\n`);
  await writeFile(path.join(plain.repoDir, 'provenant-repository.json'), `${JSON.stringify(withLayout, null, 2)}\n`);
  await refused(publish(plain, [syntheticRelease('datadog-demo', '1.0.0')]), 'E_REPO_CONFIG_MISMATCH', 'layout');
});
