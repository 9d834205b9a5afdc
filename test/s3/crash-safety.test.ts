import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository } from '../../src/app/repo.ts';
import { cp, writeFile } from 'node:fs/promises';
import { createKey, loadSigner } from '../../src/signers/key-store.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { startMinio } from '../helpers/minio.ts';
import { tempDir } from '../helpers/peers.ts';
import { clientView, provenantDownloads, releaseId } from './checks.ts';
import { FaultyStorage, InjectedFault, type FaultMode } from './faulty-storage.ts';
import { makeSignedRelease } from './fixtures.ts';

/**
 * A publisher can die between any two requests. For every write position k of a publish (found by
 * counting the writes of an undisturbed run), and both for a write that never happened and for one
 * that landed without the publisher learning it: after the failure a tuf-js client that already
 * trusted the repository (and `provenant download`, with its own kept state) still verifies every
 * earlier release, sees the new ones either all or
 * none, and the index never lists a release TUF does not; rerunning the publish completes it.
 * A failure writing a status page (after the index) leaves the commit standing, with a warning.
 */
const isStatusPage = (key: string) => key === 'index.html' || key.startsWith('status/');

test('crash safety on MinIO: a failure at every write of a publish leaves a verifiable repository, and a rerun completes it', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  await m.makePublicRead(bucket);
  const baseKeys = path.join(await tempDir(t), 'keys');
  // Every repository below gets its own key store (one per repository, holding its trusted root)
  // seeded with this attestation key, so the releases' signed attestations satisfy each
  // repository's default policy.
  await createKey(baseKeys, 'attestation', { type: 'ecdsa', roles: ['attestation'] });
  const attestationKey = await loadSigner(baseKeys, 'attestation', {});
  const earlier = [await makeSignedRelease('datadog-postgres', '23.1.0', attestationKey), await makeSignedRelease('datadog-nginx', '9.0.0', attestationKey)];
  // A new version of a known project and a new project: bins, project pages and the root page all change.
  const next = [await makeSignedRelease('datadog-postgres', '23.2.0', attestationKey), await makeSignedRelease('datadog-redisdb', '1.0.0', attestationKey)];
  const all = [...earlier, ...next];

  let scenario = 0;
  // One repository per scenario (a prefix of the same bucket), in the state "earlier releases published".
  async function repository() {
    const prefix = `crash-${scenario++}`;
    const storage = m.storage(`s3://${bucket}/${prefix}`);
    const keysDir = path.join(await tempDir(t), 'keys');
    await cp(baseKeys, keysDir, { recursive: true });
    await initRepository(storage, undefined, { keysDir, binCount: 16 });
    const signers = keyStoreSignerSource(keysDir);
    await publishReleases(storage, signers, earlier);
    const baseUrl = m.httpUrl(bucket, prefix);
    const trustedRoot = (await storage.get('metadata/1.root.json'))!.bytes;
    const clientDir = await tempDir(t);
    const rootFile = `${clientDir}/trusted-root.json`;
    await writeFile(rootFile, trustedRoot);
    const downloadState = await tempDir(t);
    const before = await clientView(baseUrl, trustedRoot, clientDir, all);
    assert.deepEqual([...before.inTuf].sort(), earlier.map(releaseId).sort());
    assert.deepEqual([...(await provenantDownloads(baseUrl, rootFile, downloadState, all))].sort(), earlier.map(releaseId).sort());
    return {
      storage,
      signers,
      before,
      view: () => clientView(baseUrl, trustedRoot, clientDir, all),
      downloads: () => provenantDownloads(baseUrl, rootFile, downloadState, all),
    };
  }

  const probe = await repository();
  const counting = new FaultyStorage(probe.storage);
  await publishReleases(counting, probe.signers, next);
  const writes = counting.writes;
  assert.ok(writes.includes('metadata/timestamp.json') && writes.length >= 7, `a publish writes objects, metadata and index: ${writes.join(', ')}`);
  const commitAt = writes.indexOf('metadata/timestamp.json') + 1;

  const seen: string[] = [];
  for (const mode of ['before', 'after'] as FaultMode[]) {
    for (let k = 1; k <= writes.length; k++) {
      const label = `${mode} write #${k} (${writes[k - 1]})`;
      const repo = await repository();
      const faulty = new FaultyStorage(repo.storage, k, mode);
      if (isStatusPage(writes[k - 1]!)) {
        // The pages come after the commit and are only a view: their failure is a warning.
        const res = await publishReleases(faulty, repo.signers, next);
        assert.equal(res.statusPages.warning?.code, 'E_PUBLISH_STATUS_PAGE', label);
      } else {
        await assert.rejects(publishReleases(faulty, repo.signers, next), (e) => e instanceof InjectedFault || (e as Error).cause instanceof InjectedFault, label);
      }

      const after = await repo.view();
      for (const r of earlier) assert.ok(after.inTuf.has(releaseId(r)), `${label}: earlier release ${releaseId(r)} still verifies`);
      const committed = k > commitAt || (k === commitAt && mode === 'after');
      for (const r of next) {
        assert.equal(after.inTuf.has(releaseId(r)), committed, `${label}: ${releaseId(r)} is visible exactly when timestamp.json was swapped`);
      }
      for (const id of after.inIndex) assert.ok(after.inTuf.has(id), `${label}: the index lists ${id} only once TUF does`);
      assert.ok(after.timestampVersion >= repo.before.timestampVersion);
      assert.deepEqual([...(await repo.downloads())].sort(), [...after.inTuf].sort(), `${label}: provenant download verifies exactly what tuf-js does`);

      const rerun = await publishReleases(repo.storage, repo.signers, next);
      assert.equal(rerun.committed, !committed, `${label}: the rerun commits only what was not committed`);
      const final = await repo.view();
      assert.deepEqual([...final.inTuf].sort(), all.map(releaseId).sort(), `${label}: after the rerun tuf-js verifies every release`);
      assert.deepEqual([...final.inIndex].sort(), all.map(releaseId).sort(), `${label}: after the rerun the index lists every release`);
      assert.deepEqual([...(await repo.downloads())].sort(), all.map(releaseId).sort(), `${label}: after the rerun provenant download verifies every release`);
      seen.push(label);
    }
  }
  assert.equal(seen.length, 2 * writes.length);
  assert.ok(writes.some(isStatusPage), `the status pages are among the writes: ${writes.join(', ')}`);
  t.diagnostic(`publish writes: ${writes.join(', ')}; crashed at all ${seen.length} positions`);
});
