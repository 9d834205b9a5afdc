import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishedTrustCheck } from '../../src/app/release-trust.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { publish, repoFixture, signedRelease } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { python } from '../helpers/peers.ts';
import { PY_TUF_CLIENT } from '../helpers/python-tuf.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { renderPolicy } from '../../src/policy/policy.ts';
import { cli, lifecyclePolicy, newAttestationKey, publishLifecyclePolicy } from './helpers.ts';

const DEMO = 'datadog-demo';
const OTHER = 'datadog-other';


test('retire: published releases still install and status lists them; a new release by the retired key is refused', async (t) => {
  const fx = await repoFixture(t);
  const old = await signedRelease(fx, DEMO, '1.0.0');
  await publish(fx, [old]);
  const b = await newAttestationKey(fx.dir, 'attestation-2.pem');
  await publishLifecyclePolicy(fx, { keys: [fx.attestation, b.signer], retired: [fx.attestation] });

  // Hosts keep accepting what the retired key attested, a host that never saw it included.
  assert.equal((await download(fx, fx.repoDir, DEMO, { stateDir: path.join(fx.dir, 'fresh') })).version, '1.0.0');

  // A new release attested by the retired key is refused before anything is written; by the new key it passes.
  const check = publishedTrustCheck(fx.storage, fx.signers);
  const byRetired = await signedRelease(fx, DEMO, '1.1.0');
  await assert.rejects(check(byRetired.attestation.bytes, DEMO, 'new.sigstore.json'), { code: 'E_ATTESTATION_KEY_RETIRED' });
  const byNew = await signedRelease(fx, DEMO, '1.1.0', { signers: [b.signer] });
  await check(byNew.attestation.bytes, DEMO, 'new.sigstore.json');
  // Signed by both, the new key alone meets the threshold: the retired one decides nothing.
  const byBoth = await signedRelease(fx, DEMO, '1.1.0', { signers: [fx.attestation, b.signer] });
  await check(byBoth.attestation.bytes, DEMO, 'new.sigstore.json');

  const status = await cli(['repo', 'status', '--repository', fx.repoDir, '--keys', fx.keysDir, '--json'], fx.dir);
  assert.equal(status.code, 0, status.err);
  assert.deepEqual(JSON.parse(status.out).releasesOnOldKeys, [
    { project: DEMO, version: '1.0.0', target: pointerTargetPath(DEMO, '1.0.0'), reason: 'retired', installable: true, keyIds: [fx.attestation.keyId] },
  ]);
  // reattest refuses the retired key as the new one.
  const again = await cli(['repo', 'reattest', `${DEMO}==1.0.0`, '--repository', fx.repoDir, '--keys', fx.keysDir], fx.dir);
  assert.equal(again.code, 5, again.err);
  assert.match(again.err, /E_ATTESTATION_KEY_RETIRED/);
});

test('revoke: releases are refused with E_ATTESTATION_KEY_REVOKED, status lists them, reattest makes them install again (also where installed before)', async (t) => {
  const fx = await repoFixture(t);
  const demo = await signedRelease(fx, DEMO, '1.0.0');
  const other = await signedRelease(fx, OTHER, '2.0.0');
  await publish(fx, [demo, other]);
  const installedBefore = await download(fx, fx.repoDir, DEMO);
  const b = await newAttestationKey(fx.dir, 'attestation-2.pem');
  await publishLifecyclePolicy(fx, { keys: [b.signer], revoked: [fx.attestation] });

  // Refused by every host, the one that installed it before included, with the revocation's own code.
  const err = await expectRefused(fx, fx.repoDir, DEMO, 'E_ATTESTATION_KEY_REVOKED', 'verification');
  assert.match(err.message, new RegExp(`revoked key ${fx.attestation.keyId}`));
  await expectRefused(fx, fx.repoDir, OTHER, 'E_ATTESTATION_KEY_REVOKED', 'verification', { stateDir: path.join(fx.dir, 'fresh') });

  const keys = ['--repository', fx.repoDir, '--keys', fx.keysDir];
  const status = await cli(['repo', 'status', ...keys, '--json'], fx.dir);
  assert.equal(status.code, 0, status.err);
  const listed = JSON.parse(status.out).releasesOnOldKeys as { project: string; reason: string; installable: boolean; keyIds: string[] }[];
  assert.deepEqual(listed.map((r) => [r.project, r.reason, r.installable, r.keyIds]), [
    [DEMO, 'revoked', false, [fx.attestation.keyId]],
    [OTHER, 'revoked', false, [fx.attestation.keyId]],
  ]);
  const human = await cli(['repo', 'status', ...keys], fx.dir);
  assert.match(human.out, /datadog-demo==1\.0\.0 {2}revoked key .* NOT INSTALLABLE/);

  // A revoked or an unknown key is refused as the new key; nothing changes.
  const before = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  const byRevoked = await cli(['repo', 'reattest', '--all', ...keys], fx.dir);
  assert.equal(byRevoked.code, 5, byRevoked.err);
  assert.match(byRevoked.err, /E_ATTESTATION_KEY_REVOKED/);
  const rogue = await newAttestationKey(fx.dir, 'rogue.pem');
  const byRogue = await cli(['repo', 'reattest', '--all', ...keys, '--key', rogue.file], fx.dir);
  assert.equal(byRogue.code, 5, byRogue.err);
  assert.match(byRogue.err, /E_ATTESTATION_KEY_UNTRUSTED/);
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before);

  const re = await cli(['repo', 'reattest', '--all', ...keys, '--key', b.file, '--json'], fx.dir);
  assert.equal(re.code, 0, re.err);
  const doc = JSON.parse(re.out) as { releases: { project: string }[]; publish: { committed: boolean } };
  assert.deepEqual(doc.releases.map((r) => r.project).sort(), [DEMO, OTHER]);
  assert.equal(doc.publish.committed, true);

  // The same wheel, now attested by the new key: a fresh host and the one that installed it before accept it.
  const again = await download(fx, fx.repoDir, DEMO);
  assert.equal(again.wheel.sha256, installedBefore.wheel.sha256);
  assert.deepEqual(again.attestation?.keyIds, [b.signer.keyId]);
  assert.equal((await download(fx, fx.repoDir, OTHER, { stateDir: path.join(fx.dir, 'fresh-2') })).version, '2.0.0');
  assert.equal(JSON.parse((await cli(['repo', 'status', ...keys, '--json'], fx.dir)).out).releasesOnOldKeys.length, 0);
  // Re-running finds nothing left to re-attest.
  assert.match((await cli(['repo', 'reattest', '--all', ...keys, '--key', b.file], fx.dir)).out, /nothing to re-attest/);

  // python-tuf walks the re-attested repository from 1.root.json and fetches the replaced pointers.
  const srv = await startStaticServer(fx.repoDir, t);
  const pyMeta = path.join(fx.dir, 'py-meta');
  const pyTargets = path.join(fx.dir, 'py-targets');
  await mkdir(pyMeta);
  await mkdir(pyTargets);
  const wanted = [pointerTargetPath(DEMO, '1.0.0'), pointerTargetPath(OTHER, '2.0.0')];
  const { stdout } = await python(['-c', PY_TUF_CLIENT, pyMeta, fx.rootFile, srv.url, pyTargets, ...wanted]);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 3, stdout);
  assert.match(lines[2]!, /^root \d+$/);
  const fetched = parsePointer(await readFile(lines[0]!.split(' ')[1]!, 'utf8'), 'pointer');
  const original = parsePointer(new TextDecoder().decode(demo.pointer), 'original');
  const { attestation: newRef, ...rest } = fetched;
  const { attestation: oldRef, ...origRest } = original;
  assert.deepEqual(rest, origRest, 'everything but the attestation reference is what was published');
  assert.notEqual(newRef.digest, oldRef.digest);
  const served = await readFile(path.join(fx.repoDir, newRef.uri));
  assert.equal(sha256Hex(served), newRef.digest);
});

test('datadog-v2 layout: repo reattest refuses it (E_REPO_LAYOUT) and repo status says it lists no releases on old keys there', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
  const b = await newAttestationKey(fx.dir, 'attestation-2.pem');
  await writeFile(path.join(fx.dir, 'policy.json'), renderPolicy(lifecyclePolicy({ keys: [b.signer], revoked: [fx.attestation] })));
  const keys = ['--repository', fx.repoDir, '--keys', fx.keysDir];
  const set = await cli(['repo', 'set-trust', '--policy', 'policy.json', ...keys], fx.dir);
  assert.equal(set.code, 0, set.err);
  const status = await cli(['repo', 'status', ...keys, '--json'], fx.dir);
  assert.equal(status.code, 0, status.err);
  assert.equal(JSON.parse(status.out).releasesOnOldKeys, null);
  assert.match((await cli(['repo', 'status', ...keys], fx.dir)).out, /not listed in the datadog-v2 layout/);
  for (const which of [['--all'], [`${DEMO}==1.0.0`]]) {
    const r = await cli(['repo', 'reattest', ...which, ...keys, '--key', b.file], fx.dir);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /E_REPO_LAYOUT/);
  }
});
