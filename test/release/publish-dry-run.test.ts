import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { PlannedWrite } from '../../src/storage/recording.ts';
import { treeHash, workspace } from './workspace.ts';

test('publish --dry-run prints the plan of a new version and writes nothing', async (t) => {
  const w = await workspace(t);
  assert.equal((await w.release('postgres', 'datadog_checks_base')).code, 0);
  await writeFile(path.join(w.dir, 'integrations/postgres/datadog_checks/postgres/__about__.py'), "__version__ = '23.4.0'\n");
  assert.equal((await w.cli('build', 'postgres')).code, 0);
  assert.equal((await w.cli('sign', 'postgres')).code, 0);
  const before = await treeHash(w.repo);
  const r = await w.cli('publish', 'postgres', '--dry-run');
  assert.equal(r.code, 0, r.err);
  const writes = r.json!.writes as PlannedWrite[];
  const wheel = writes.find((x) => x.key === 'simple/datadog-postgres/datadog_postgres-23.4.0-py3-none-any.whl');
  assert.equal(wheel?.kind, 'create');
  assert.equal(wheel?.cacheControl, 'public, max-age=31536000, immutable');
  assert.equal(writes.find((x) => x.key === 'metadata/timestamp.json')?.cacheControl, 'public, max-age=60, must-revalidate');
  assert.equal(r.json!.dryRun, true);
  assert.equal(await treeHash(w.repo), before, 'no write reached the repository');

  const real = await w.cli('publish', 'postgres');
  assert.equal(real.code, 0, real.err);
  assert.deepEqual(
    (real.json!.metadataWritten as string[]).sort(),
    writes.map((x) => x.key).filter((k) => k.startsWith('metadata/')).sort(),
    'the real publish writes the metadata the dry run planned',
  );
});
