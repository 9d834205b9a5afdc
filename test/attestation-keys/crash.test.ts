// repo reattest commits through the publish protocol, so a crash at any write leaves a
// repository hosts verify in its old state (the release refused as revoked) or its new one (the
// release installs), never a broken one; running reattest again then finishes the job.
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { reattestReleases } from '../../src/app/reattest.ts';
import { isProvenantError } from '../../src/errors.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download } from '../download/helpers/run.ts';
import { FaultyStorage, type FaultMode } from '../s3/faulty-storage.ts';
import { newAttestationKey, publishLifecyclePolicy } from './helpers.ts';

const DEMO = 'datadog-demo';

/** A copy of the fixture's repository and key store, so each crash position starts from the same state. */
async function copyOf(fx: RepoFixture, name: string): Promise<RepoFixture> {
  const dir = path.join(fx.dir, name);
  const repoDir = path.join(dir, 'repository');
  const keysDir = path.join(dir, 'keys');
  await cp(fx.repoDir, repoDir, { recursive: true });
  await cp(fx.keysDir, keysDir, { recursive: true });
  return { ...fx, dir, repoDir, keysDir, storage: new FsStorage(repoDir), signers: keyStoreSignerSource(keysDir, {}), rootFile: path.join(repoDir, 'metadata/1.root.json') };
}

/** What a host sees: 'old' (refused as revoked) or 'new' (installs, signed by the new key); anything else fails. */
async function hostSees(fx: RepoFixture, state: string, newKeyId: string): Promise<'old' | 'new'> {
  try {
    const r = await download(fx, fx.repoDir, DEMO, { stateDir: path.join(fx.dir, state) });
    assert.deepEqual(r.attestation?.keyIds, [newKeyId]);
    return 'new';
  } catch (e) {
    if (isProvenantError(e) && e.code === 'E_ATTESTATION_KEY_REVOKED') return 'old';
    throw e;
  }
}

test('a reattest that crashes at any write, before or after it lands, leaves the old or the new state; running it again finishes', async (t) => {
  const base = await repoFixture(t);
  await publish(base, [await signedRelease(base, DEMO, '1.0.0')]);
  const b = await newAttestationKey(base.dir, 'attestation-2.pem');
  await publishLifecyclePolicy(base, { keys: [b.signer], revoked: [base.attestation] });

  const probe = await copyOf(base, 'probe');
  const counting = new FaultyStorage(probe.storage);
  await reattestReleases(counting, probe.signers, { releases: 'all', attestationSigners: [b.signer] });
  assert.ok(counting.writes.some((k) => k.endsWith('timestamp.json')), counting.writes.join(' '));

  const seen = new Set<string>();
  for (const mode of ['before', 'after'] as FaultMode[]) {
    for (let k = 1; k <= counting.writes.length; k++) {
      const fx = await copyOf(base, `${mode}-${k}`);
      const where = `${mode} write #${k} (${counting.writes[k - 1]})`;
      // The commit point is the timestamp: before it lands nothing changed for hosts.
      const committed = counting.writes.indexOf('metadata/timestamp.json') + 1;
      const failed = await reattestReleases(new FaultyStorage(fx.storage, k, mode), fx.signers, { releases: 'all', attestationSigners: [b.signer] }).then(
        () => false,
        () => true,
      );
      // Only a status page after the commit may fail quietly (E_PUBLISH_STATUS_PAGE is a warning).
      assert.ok(failed || (k > committed && counting.writes[k - 1]!.endsWith('.html')), `${where}: no error`);
      const state = await hostSees(fx, 'host', b.signer.keyId);
      seen.add(state);
      assert.equal(state, k < committed || (k === committed && mode === 'before') ? 'old' : 'new', where);
      await reattestReleases(fx.storage, fx.signers, { releases: 'all', attestationSigners: [b.signer] });
      assert.equal(await hostSees(fx, 'host-after-retry', b.signer.keyId), 'new', `retry after ${mode} write #${k}`);
    }
  }
  assert.deepEqual([...seen].sort(), ['new', 'old']);
});
