// After a compromised attestation key is revoked and its releases re-attested, an attacker holds
// the revoked key and the online key (bins, snapshot, timestamp), not the targets key nor the new
// attestation key. Can they use the re-attest path to put the revoked key's attestation back, or
// to change a wheel? Every attempt must be refused: by the publisher where it runs our code, and
// by every host where the attacker signs the bins themselves.
import assert from 'node:assert/strict';
import { cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases, type Release } from '../../src/app/publish.ts';
import { parsePointer, renderPointer } from '../../src/formats/pointer.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { cli, newAttestationKey, publishLifecyclePolicy } from '../attestation-keys/helpers.ts';
import { forgeWithOnlineKey, publish, repoFixture, rogueSigner, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';

const DEMO = 'datadog-demo';

/** The repository after the runbook: A revoked, B trusted, 1.0.0 (first attested by A) re-attested by B and installed by a host. */
async function afterRecovery(t: Parameters<typeof repoFixture>[0]) {
  const fx = await repoFixture(t);
  const byA = await signedRelease(fx, DEMO, '1.0.0');
  await publish(fx, [byA]);
  const b = await newAttestationKey(fx.dir, 'attestation-2.pem');
  await publishLifecyclePolicy(fx, { keys: [b.signer], revoked: [fx.attestation] });
  const re = await cli(['repo', 'reattest', `${DEMO}==1.0.0`, '--repository', fx.repoDir, '--keys', fx.keysDir, '--key', b.file], fx.dir);
  assert.equal(re.code, 0, re.err);
  assert.deepEqual((await download(fx, fx.repoDir, DEMO)).attestation?.keyIds, [b.signer.keyId]);
  return { fx, byA, b, onlineOnly: await onlineOnlyStore(fx) };
}

/**
 * What the online key alone can do: upload `r`'s wheel and attestation under `dir/` (beside the
 * published ones, which are immutable) and re-sign the bins so 1.0.0's pointer pins them.
 */
async function forgeRelease(fx: RepoFixture, r: Release, dir: string): Promise<void> {
  const wheel = `simple/${DEMO}/${dir}/${r.wheel.fileName}`;
  const attestation = `attestations/${DEMO}/${dir}/${r.attestation.fileName}`;
  await fx.storage.putImmutable(wheel, r.wheel.bytes, objectPropsFor(wheel));
  await fx.storage.putImmutable(attestation, r.attestation.bytes, objectPropsFor(attestation));
  const p = parsePointer(new TextDecoder().decode(r.pointer), 'forged');
  const pointer = renderPointer({ ...p, uri: wheel, attestation: { ...p.attestation, uri: attestation } });
  await forgeWithOnlineKey(fx, [{ project: DEMO, version: '1.0.0', pointer: new TextEncoder().encode(pointer) }]);
}

/** A copy of the key store with only the online key's file: what a CI runner (or its thief) holds. */
async function onlineOnlyStore(fx: RepoFixture): Promise<string> {
  const dir = path.join(fx.dir, 'online-only');
  await cp(fx.keysDir, dir, { recursive: true });
  for (const f of ['root.pem', 'targets.pem', 'attestation.pem']) await rm(path.join(dir, f));
  return dir;
}

test('online key + revoked key: repo reattest refuses the revoked key as the "new" one, nothing committed', async (t) => {
  const { fx, onlineOnly } = await afterRecovery(t);
  const before = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  const attacker = path.join(fx.dir, 'stolen-attestation.pem');
  await cp(path.join(fx.keysDir, 'attestation.pem'), attacker);
  const r = await cli(['repo', 'reattest', `${DEMO}==1.0.0`, '--repository', fx.repoDir, '--keys', onlineOnly, '--key', attacker], fx.dir);
  assert.equal(r.code, 5, r.err);
  assert.match(r.err, /E_ATTESTATION_KEY_REVOKED/);
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before);
});

test('online key alone, through the publisher\'s re-attest path, puts the revoked key\'s attestation back: every host refuses it', async (t) => {
  const { fx, byA, onlineOnly } = await afterRecovery(t);
  // The publish protocol accepts an attestation-only change with the online key (it is what
  // reattest commits); what protects hosts is the TUF-signed policy, which the online key cannot change.
  const res = await publishReleases(fx.storage, keyStoreSignerSource(onlineOnly, {}), [byA], undefined, { updateIndex: null, reattest: true });
  assert.equal(res.committed, true);
  const err = await expectRefused(fx, fx.repoDir, DEMO, 'E_ATTESTATION_KEY_REVOKED', 'verification');
  assert.match(err.message, new RegExp(fx.attestation.keyId));
  await expectRefused(fx, fx.repoDir, DEMO, 'E_ATTESTATION_KEY_REVOKED', 'verification', { stateDir: path.join(fx.dir, 'fresh') });
});

test('online key alone, through the publisher\'s re-attest path, changes the wheel or the pointer: E_RELEASE_IMMUTABLE, nothing committed', async (t) => {
  const { fx, b, onlineOnly } = await afterRecovery(t);
  const source = keyStoreSignerSource(onlineOnly, {});
  const before = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  // Another wheel, even one attested by the trusted key for this very release.
  const otherWheel = await signedRelease(fx, DEMO, '1.0.0', { size: 5000, signers: [b.signer] });
  await assert.rejects(publishReleases(fx.storage, source, [otherWheel], undefined, { updateIndex: null, reattest: true }), { code: 'E_RELEASE_IMMUTABLE' });
  // The same wheel under another uri: only the attestation reference may change.
  const same = await signedRelease(fx, DEMO, '1.0.0', { signers: [b.signer] });
  const moved = { ...same, pointer: new TextEncoder().encode(new TextDecoder().decode(same.pointer).replace('uri: simple/', 'uri: ./simple/')) };
  await assert.rejects(publishReleases(fx.storage, source, [moved], undefined, { updateIndex: null, reattest: true }), (e: { code?: string; message?: string }) => {
    assert.equal(e.code, 'E_RELEASE_IMMUTABLE');
    assert.match(e.message ?? '', /pointer\.uri/);
    return true;
  });
  // A release that was never published cannot be "re-attested" into existence.
  const fresh = await signedRelease(fx, DEMO, '9.9.9', { signers: [b.signer] });
  await assert.rejects(publishReleases(fx.storage, source, [fresh], undefined, { updateIndex: null, reattest: true }), { code: 'E_REATTEST_NOT_PUBLISHED' });
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before);
});

test('online key + revoked key sign the bins by hand for another wheel: refused (revoked; on the installed host, changed)', async (t) => {
  const { fx } = await afterRecovery(t);
  const evil = await signedRelease(fx, DEMO, '1.0.0', { size: 6000 });
  await forgeRelease(fx, evil, 'evil');
  await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_CHANGED', 'verification');
  await expectRefused(fx, fx.repoDir, DEMO, 'E_ATTESTATION_KEY_REVOKED', 'verification', { stateDir: path.join(fx.dir, 'fresh') });
});

test('a revoked key\'s signature without any key id is still recognised as the revoked key\'s and refused', async (t) => {
  const { fx } = await afterRecovery(t);
  const anonymous = await signedRelease(fx, DEMO, '1.0.0', {
    size: 7000,
    editBundle: (bundle) => {
      const env = bundle.dsseEnvelope as { signatures: { keyid?: string }[] };
      for (const s of env.signatures) s.keyid = '';
      (bundle.verificationMaterial as { publicKey: { hint?: string } }).publicKey = {};
    },
  });
  await forgeRelease(fx, anonymous, 'anon');
  await expectRefused(fx, fx.repoDir, DEMO, 'E_ATTESTATION_KEY_REVOKED', 'verification', { stateDir: path.join(fx.dir, 'fresh') });
});

test('the online key plants an attestation by a key the policy never knew; the operator\'s repo reattest refuses to launder it (E_REATTEST_SOURCE)', async (t) => {
  const { fx, b } = await afterRecovery(t);
  const rogue = rogueSigner();
  const planted = await signedRelease(fx, DEMO, '1.0.0', { signers: [rogue] });
  await forgeRelease(fx, planted, 'planted');
  const before = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  const r = await cli(['repo', 'reattest', `${DEMO}==1.0.0`, '--repository', fx.repoDir, '--keys', fx.keysDir, '--key', b.file], fx.dir);
  assert.equal(r.code, 5, r.err);
  assert.match(r.err, /E_REATTEST_SOURCE/);
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before);
});
