import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases, type PublishResult } from '../../src/app/publish.ts';
import { initRepository, repoStatus } from '../../src/app/repo.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { startMinio } from '../helpers/minio.ts';
import { tempDir } from '../helpers/peers.ts';
import { clientView, releaseId } from './checks.ts';
import { makeRelease } from './fixtures.ts';

const PUBLISHERS = 8;
const ROUNDS = 3;

/**
 * Eight publishers, each with its own S3 client, release different integrations into one bucket at
 * the same moment, for several rounds; some share a project (one index page) or a bin. No release
 * may be lost, every commit must get its own timestamp version, and a tuf-js client polling
 * throughout must always verify (a lost update or a rollback would break one of these).
 */
test(`concurrency on MinIO: ${PUBLISHERS} publishers × ${ROUNDS} rounds, no lost update, versions strictly increasing`, async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  await m.makePublicRead(bucket);
  const keysDir = path.join(await tempDir(t), 'keys');
  await initRepository(m.storage(`s3://${bucket}/repo`), undefined, { keysDir, binCount: 16 });
  const baseUrl = m.httpUrl(bucket, 'repo');
  const trustedRoot = (await m.storage(`s3://${bucket}/repo`).get('metadata/1.root.json'))!.bytes;
  const projects = ['datadog-postgres', 'datadog-nginx', 'datadog-redisdb', 'datadog-mysql', 'datadog-kafka'];
  const releases = Array.from({ length: ROUNDS }, (_, round) =>
    Array.from({ length: PUBLISHERS }, (_, p) => makeRelease(projects[p % projects.length]!, `${round + 1}.${p}.0`)),
  );

  // A client that keeps its trusted metadata and refreshes while the publishers run.
  const watcherDir = await tempDir(t);
  let publishing = true;
  let watcherRefreshes = 0;
  let lastSeen = 0;
  const watcher = (async () => {
    while (publishing) {
      const v = await clientView(baseUrl, trustedRoot, watcherDir, []);
      assert.ok(v.timestampVersion >= lastSeen, 'the watcher never sees the timestamp go back');
      lastSeen = v.timestampVersion;
      watcherRefreshes++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const results: PublishResult[] = [];
  try {
    for (const round of releases) {
      const signers = keyStoreSignerSource(keysDir);
      results.push(...(await Promise.all(round.map((r) => publishReleases(m.storage(`s3://${bucket}/repo`), signers, [r])))));
    }
  } finally {
    publishing = false;
    await watcher;
  }

  assert.ok(results.every((r) => r.committed));
  const byCommit = [...results].sort((a, b) => a.timestampVersion - b.timestampVersion);
  assert.equal(new Set(byCommit.map((r) => r.timestampVersion)).size, PUBLISHERS * ROUNDS, 'each commit got its own timestamp version');
  for (let i = 1; i < byCommit.length; i++) {
    assert.ok(byCommit[i]!.snapshotVersion > byCommit[i - 1]!.snapshotVersion, 'snapshot versions strictly increase in commit order');
  }
  // Timestamp version N pins snapshot version N (the numbers losers' orphan snapshots took are skipped).
  for (const r of byCommit) assert.equal(r.timestampVersion, r.snapshotVersion);
  const all = releases.flat();
  const final = await clientView(baseUrl, trustedRoot, await tempDir(t), all);
  assert.deepEqual([...final.inTuf].sort(), all.map(releaseId).sort(), 'tuf-js verifies every release');
  assert.deepEqual([...final.inIndex].sort(), all.map(releaseId).sort(), 'the index lists every release');
  assert.equal((await repoStatus(m.storage(`s3://${bucket}/repo`))).releases, all.length);
  assert.ok(watcherRefreshes > 0);

  const retries = results.reduce((n, r) => n + r.attempts - 1, 0);
  assert.ok(retries > 0, 'the publishers did contend (otherwise this test shows nothing)');
  t.diagnostic(`${all.length} releases, ${retries} compare-and-swap retries (max ${Math.max(...results.map((r) => r.attempts))} attempts), ${watcherRefreshes} watcher refreshes`);
});
