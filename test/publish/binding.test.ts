import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { TargetFile, Targets } from '@tufjs/models';
import { buildIntegrations } from '../../src/app/build.ts';
import { readReleaseFromDist } from '../../src/app/publish-inputs.ts';
import { publishReleases } from '../../src/app/publish.ts';
import { signIntegrations } from '../../src/app/sign.ts';
import { BUNDLED_ROOT, listIntegrations } from '../../src/app/workspace.ts';
import { ProvenantError } from '../../src/errors.ts';
import { bundleFileName, pointerFileName } from '../../src/formats/layout.ts';
import { parsePointer, renderPointer } from '../../src/formats/pointer.ts';
import { generatePrivateKey, keyObjectSigner } from '../../src/signers/key-file.ts';
import { binWithTargets, targetFile } from '../../src/tuf/changes.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { tempDir } from '../helpers/peers.ts';
import { pinnedRelease } from '../helpers/release.ts';
import { freshRepository, treeHash } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('publish refuses to change a published pointer (E_RELEASE_IMMUTABLE, naming the release); the identical pointer republishes as a no-op', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  await publishReleases(storage, signers, [syntheticRelease('datadog-postgres', '23.4.0'), syntheticRelease('datadog-postgres', '23.2.0')]);
  const before = await treeHash(repoDir);
  // The published 23.4.0 pointer switched to other bytes (here: another wheel) is refused, nothing written.
  const changed = syntheticRelease('datadog-postgres', '23.4.0', 'rebuilt');
  await assert.rejects(publishReleases(storage, signers, [changed]), (e: unknown) => {
    assert.ok(e instanceof ProvenantError);
    assert.equal(e.code, 'E_RELEASE_IMMUTABLE');
    assert.equal(e.exitClass, 'conflict');
    assert.match(e.message, /^datadog-postgres 23\.4\.0 is already published with other content/);
    assert.match(e.message, /releases are immutable/);
    assert.match(e.hint ?? '', /publish a new version/);
    return true;
  });
  assert.equal(await treeHash(repoDir), before);
  const again = await publishReleases(storage, signers, [syntheticRelease('datadog-postgres', '23.4.0')]);
  assert.equal(again.committed, false);
  assert.deepEqual(
    again.releases.map((r) => r.status),
    ['unchanged'],
  );
  assert.equal(await treeHash(repoDir), before);
});

test('the bin writer itself never changes a published target: binWithTargets refuses, adds new paths, keeps identical ones', () => {
  const path1 = 'pointers/datadog-postgres/datadog-postgres-23.4.0.pointer';
  const original = targetFile(path1, enc('original pointer'), { name: 'datadog-postgres', version: '23.4.0' });
  const bin = new Targets({ version: 2, specVersion: '1.0.31', expires: '2099-01-01T00:00:00Z', targets: { [path1]: original } });
  const swapped = targetFile(path1, enc('pointer to 23.2.0'), { name: 'datadog-postgres', version: '23.4.0' });
  assert.throws(
    () => binWithTargets(bin, [swapped], 3, '2099-01-01T00:00:00Z'),
    (e) => e instanceof ProvenantError && e.code === 'E_RELEASE_IMMUTABLE' && /^datadog-postgres 23\.4\.0 /.test(e.message),
  );
  const other = 'pointers/datadog-postgres/datadog-postgres-23.5.0.pointer';
  const next = binWithTargets(bin, [new TargetFile({ path: path1, length: original.length, hashes: { ...original.hashes } }), targetFile(other, enc('new'))], 3, '2099-01-01T00:00:00Z');
  assert.deepEqual(Object.keys(next.targets).sort(), [path1, other]);
  assert.equal(next.targets[path1]!.hashes.sha256, original.hashes.sha256);
});

test('publish refuses a release whose wheel is another release\'s, with the binding codes; a PEP 440-equal version is accepted', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  const before = await treeHash(repoDir);
  const redis = syntheticRelease('datadog-redisdb', '7.2.0');
  const old = syntheticRelease('datadog-postgres', '23.2.0');
  const as = (victim: typeof redis, project: string, version: string) => pinnedRelease(project, version, victim.wheel, victim.attestation);
  const cases: [ReturnType<typeof as>, string][] = [
    [as(redis, 'datadog-postgres', '23.4.0'), 'E_WHEEL_PROJECT_MISMATCH'],
    [as(old, 'datadog-postgres', '99.0.0'), 'E_WHEEL_VERSION_MISMATCH'],
    [as({ ...old, wheel: { ...old.wheel, fileName: 'datadog_postgres-23.2.0.whl' } }, 'datadog-postgres', '23.2.0'), 'E_WHEEL_NAME_INVALID'],
  ];
  for (const [release, code] of cases) {
    await assert.rejects(publishReleases(storage, signers, [release]), (e: unknown) => {
      assert.ok(e instanceof ProvenantError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.exitClass, 'input');
      assert.equal(e.field, 'wheel.fileName');
      return true;
    });
  }
  assert.equal(await treeHash(repoDir), before, 'nothing was written');
  const demo = syntheticRelease('datadog-demo', '1.0.0');
  const res = await publishReleases(storage, signers, [as(demo, 'datadog-demo', '1.0')]);
  assert.equal(res.releases[0]!.status, 'published');
});

test('publish inputs: a dist/ pointer naming another version\'s wheel is refused before it is read (E_WHEEL_VERSION_MISMATCH, exit class input)', async (t) => {
  const dir = await tempDir(t);
  const root = path.join(dir, 'integrations');
  await cp(path.join(BUNDLED_ROOT, 'postgres'), path.join(root, 'postgres'), { recursive: true, filter: (src) => path.basename(src) !== 'dist' });
  const [pg] = await listIntegrations(root);
  const [built] = await buildIntegrations([pg!], { env: { SOURCE_DATE_EPOCH: '1580601600' }, buildWheel });
  await signIntegrations([pg!], { signers: [keyObjectSigner(generatePrivateKey('ed25519'))] });
  const dist = built!.dist;
  // A hand-made 23.9.0 pointer in dist/ pinning the built 23.2.0 wheel and a copy of its signed bundle.
  const signed = parsePointer(await readFile(path.join(dist, pointerFileName('datadog-postgres', built!.version)), 'utf8'), 'pointer');
  const bundle = await readFile(path.join(dist, bundleFileName('datadog-postgres', built!.version)));
  await writeFile(path.join(dist, bundleFileName('datadog-postgres', '23.9.0')), bundle);
  const forgedPointer = path.join(dist, pointerFileName('datadog-postgres', '23.9.0'));
  const attestationUri = signed.attestation.uri.replace(bundleFileName('datadog-postgres', built!.version), bundleFileName('datadog-postgres', '23.9.0'));
  await writeFile(forgedPointer, renderPointer({ ...signed, version: '23.9.0', attestation: { ...signed.attestation, uri: attestationUri, digest: sha256Hex(bundle) } }));
  // The built release itself reads fine.
  assert.equal((await readReleaseFromDist(pg!, built!.version)).version, built!.version);
  await assert.rejects(readReleaseFromDist(pg!, '23.9.0'), (e: unknown) => {
    assert.ok(e instanceof ProvenantError, String(e));
    assert.equal(e.code, 'E_WHEEL_VERSION_MISMATCH', e.message);
    assert.equal(e.exitClass, 'input');
    assert.equal(e.file, forgedPointer);
    assert.equal(e.field, 'pointer.uri');
    assert.match(e.message, /datadog_postgres-23\.2\.0-py3-none-any\.whl is version 23\.2\.0, not datadog-postgres 23\.9\.0/);
    return true;
  });
});
