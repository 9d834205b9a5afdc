import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { expiresFor, nextSnapshot, nextTimestamp } from '../../src/tuf/changes.ts';
import { metadataKey, serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { newAttestationKey, publishLifecyclePolicy } from '../attestation-keys/helpers.ts';
import { forgeWithOnlineKey, publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download } from '../download/helpers/run.ts';
import { rotateOnlineKey } from '../ceremony/helpers.ts';

const DEMO = 'datadog-demo';

/** The online key signs snapshot: one naming targets.json at `targetsVersion` (an older, still unexpired policy). */
async function snapshotWithTargets(fx: RepoFixture, targetsVersion: number): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const now = new Date();
  const v = state.snapshot.signed.version + 1;
  const snap = await signMetadata(nextSnapshot(state.snapshot.signed, { 'targets.json': targetsVersion }, v, state.config.specVersion, expiresFor(state.config, 'snapshot', now)), [fx.online], 'snapshot');
  const bytes = serializeMetadata(snap);
  const ts = await signMetadata(nextTimestamp(v, bytes, state.timestamp.signed.version + 1, state.config.specVersion, expiresFor(state.config, 'timestamp', now)), [fx.online], 'timestamp');
  await writeFile(path.join(fx.repoDir, metadataKey('snapshot', v)), bytes);
  await writeFile(path.join(fx.repoDir, metadataKey('timestamp')), serializeMetadata(ts));
}

/**
 * The revoked key and the online key together: a new release attested by the revoked key (bins
 * forged with the online key), and a snapshot (online key) naming the targets.json from before
 * the revocation, whose policy still trusted the key and which has not expired. TUF compares a
 * snapshot only with the one a host already trusts, so a host that never saw the revocation (a
 * fresh install) takes the older policy and installs the release: a revocation protects hosts
 * that saw it. The runbook's answer when the online key may be compromised too (docs/attestation-
 * keys.md): rotate the online key by root ceremony; then nobody can sign such a snapshot.
 */
async function revokedAndRolledBack(t: Parameters<typeof repoFixture>[0]) {
  const fx = await repoFixture(t, { binCount: 2 });
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
  const before = await loadTrustedState(fx.storage);
  const b = await newAttestationKey(fx.dir, 'attestation-2.pem');
  await publishLifecyclePolicy(fx, { keys: [b.signer], revoked: [fx.attestation] });
  const seen = path.join(fx.dir, 'state-saw-revocation');
  await download(fx, fx.repoDir, DEMO, { version: '1.0.0', stateDir: seen }).then(
    () => assert.fail('1.0.0, attested by the revoked key, installed'),
    (e: Error & { code?: string }) => assert.equal(e.code, 'E_ATTESTATION_KEY_REVOKED'),
  );
  const evil = await signedRelease(fx, DEMO, '2.0.0', { size: 5555 });
  for (const [k, bytes] of [[`simple/${DEMO}/${evil.wheel.fileName}`, evil.wheel.bytes], [`simple/${DEMO}/${evil.wheel.fileName}.metadata`, evil.wheel.metadata], [`attestations/${DEMO}/${evil.attestation.fileName}`, evil.attestation.bytes]] as const) {
    await fx.storage.putImmutable(k, bytes, objectPropsFor(k));
  }
  return { fx, seen, oldTargets: before.targets.signed.version, forge: () => forgeWithOnlineKey(fx, [{ project: DEMO, version: '2.0.0', pointer: evil.pointer }]) };
}

test('attack: revoked attestation key + online key roll targets back to the policy that trusted the key: a host that saw the revocation refuses (rollback); a fresh host is the documented limit', async (t) => {
  const { fx, seen, oldTargets, forge } = await revokedAndRolledBack(t);
  await forge();
  await snapshotWithTargets(fx, oldTargets);
  await download(fx, fx.repoDir, DEMO, { version: '2.0.0', stateDir: seen }).then(
    () => assert.fail('a host that saw the revocation installed the revoked key\'s release'),
    (e: Error & { code?: string }) => assert.equal(e.code, 'E_TUF_ROLLBACK'),
  );
  // The limit this test pins down (docs/attestation-keys.md): a host with no state accepts the older, unexpired targets.
  const fresh = await download(fx, fx.repoDir, DEMO, { version: '2.0.0', stateDir: path.join(fx.dir, 'fresh') });
  assert.deepEqual(fresh.attestation?.keyIds, [fx.attestation.keyId]);
});

test('after the runbook\'s online-key rotation, the same rollback is refused by a fresh host too', async (t) => {
  // Without the rotation (another repository, same steps), the rolled-back snapshot makes 1.0.0, the revoked key's, install on a fresh host.
  const unrotated = await revokedAndRolledBack(t);
  await snapshotWithTargets(unrotated.fx, unrotated.oldTargets);
  const got = await download(unrotated.fx, unrotated.fx.repoDir, DEMO, { version: '1.0.0', stateDir: path.join(unrotated.fx.dir, 'fresh') });
  assert.deepEqual(got.attestation?.keyIds, [unrotated.fx.attestation.keyId]);

  const { fx, oldTargets } = await revokedAndRolledBack(t);
  await rotateOnlineKey(fx);
  // The thief still signs with the old online key (fx.online): the rolled-back snapshot would make 1.0.0 (the revoked key's) installable again.
  await snapshotWithTargets(fx, oldTargets);
  await download(fx, fx.repoDir, DEMO, { version: '1.0.0', stateDir: path.join(fx.dir, 'fresh') }).then(
    () => assert.fail('a fresh host installed the revoked key\'s release after the online key was rotated'),
    (e: Error & { code?: string }) => assert.match(e.code ?? '', /^E_TUF_/),
  );
});
