import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { repoStatus } from '../../src/app/repo.ts';
import { freshRepository, RecordingStorage } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

/**
 * The point of hashed bins: adding one release re-signs its bin, the snapshot and the timestamp,
 * however many releases the repository already holds. Counted in metadata writes, not time.
 */
test('publishing one release re-signs the same number of metadata files at 1 and at 10,001 releases', async (t) => {
  const { storage, signers } = await freshRepository(t, { binCount: 256, memoryBacked: true });
  const noIndex = { updateIndex: null, statusPages: false };
  const measure = async (project: string, version: string) => {
    const rec = new RecordingStorage(storage);
    const res = await publishReleases(rec, signers, [syntheticRelease(project, version)], undefined, noIndex);
    assert.equal(res.committed, true);
    assert.deepEqual(rec.metadataWrites(), res.metadataWritten);
    return rec.metadataWrites();
  };

  const small = await measure('datadog-first', '1.0.0');
  assert.equal(small.length, 3, small.join(', '));
  assert.match(small[0]!, /^metadata\/2\.bins-[0-9a-f]{2}\.json$/);
  assert.deepEqual(small.slice(1), ['metadata/2.snapshot.json', 'metadata/timestamp.json']);

  // 10,000 more through the same code path, in batches (one commit per batch).
  const total = 10_000;
  const batch = 2_000;
  for (let start = 0; start < total; start += batch) {
    const releases = Array.from({ length: batch }, (_, k) => {
      const i = start + k;
      return syntheticRelease(`datadog-synth${i % 500}`, `1.${Math.floor(i / 500)}.0`);
    });
    const res = await publishReleases(storage, signers, releases, undefined, noIndex);
    assert.equal(res.releases.filter((r) => r.status === 'published').length, batch);
  }
  const status = await repoStatus(storage);
  assert.equal(status.releases, total + 1);

  const large = await measure('datadog-last', '1.0.0');
  assert.equal(large.length, small.length, large.join(', '));
  assert.match(large[0]!, /^metadata\/\d+\.bins-[0-9a-f]{2}\.json$/);
  assert.equal(large[2], 'metadata/timestamp.json');
});
