import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { refreshRepository, repoStatus } from '../../src/app/repo.ts';
import { freshRepository, treeHash } from '../publish/fixtures.ts';
import { syntheticRelease } from '../publish/synthetic.ts';

const DAY = 86_400_000;

test('refresh re-signs only what is within half its period of expiry, as new versions', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t, { binCount: 4 });
  await publishReleases(storage, signers, [syntheticRelease('datadog-postgres', '1.0.0')]);
  const start = Date.now();

  // One hour on, nothing is due (the timestamp has 23 of its 24 hours left).
  const before = await treeHash(repoDir);
  const idle = await refreshRepository(storage, signers, undefined, { now: () => new Date(start + DAY / 24) });
  assert.deepEqual(idle.resigned, []);
  assert.equal(await treeHash(repoDir), before);

  // 20 days on: bins (30d), snapshot (7d) and timestamp (1d) are due; root and targets (365d) are not.
  const later = new Date(start + 20 * DAY);
  const r = await refreshRepository(storage, signers, undefined, { now: () => later });
  assert.deepEqual(r.resigned, ['bins-0', 'bins-1', 'bins-2', 'bins-3', 'snapshot', 'timestamp']);
  assert.equal(r.metadataWritten.length, 4 + 2);
  const status = await repoStatus(storage, { now: () => later });
  for (const role of status.roles) assert.equal(role.expired, false, role.role);
  assert.equal(status.bins.expired, 0);
  assert.equal(status.releases, 1);
  const ts = status.roles.find((x) => x.role === 'timestamp')!;
  assert.equal(Date.parse(ts.expires), Math.floor(later.getTime() / 1000) * 1000 + DAY);

  // Publishing still works on top of the refreshed state.
  const next = await publishReleases(storage, signers, [syntheticRelease('datadog-postgres', '1.0.1')], undefined, { now: () => later });
  assert.equal(next.committed, true);
});
