import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { consistentTargetPath, pointerTargetPath } from '../../src/formats/layout.ts';
import { collectStatusFacts } from '../../src/status-page/collect.ts';
import type { ReleaseFacts } from '../../src/status-page/model.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { trustAnchorOf } from '../../src/tuf/signer-source.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { expectRefused, download } from '../download/helpers/run.ts';
import { forgeWithOnlineKey, pointerTo, publish, repoFixture, rogueSigner, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';

/**
 * The status model's facts are what `provenant download` verifies: for good releases the same
 * digest, version, builder and source; for each kind of tampering the same error code, and then
 * nothing of what the failed data claims.
 */
async function factsOf(fx: RepoFixture, project: string) {
  const facts = await collectStatusFacts(fx.storage, { anchor: await trustAnchorOf(fx.signers), details: [project] });
  return { facts, byVersion: new Map((facts.details.find((d) => d.name === project)?.releases ?? []).map((r) => [r.version, r])) };
}

test('good releases: the facts are exactly what download --json reports', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0'), await signedRelease(fx, 'datadog-demo', '1.1.0', { format: 'slsa-v0.2' }), await signedRelease(fx, 'datadog-other', '2.0.0')]);
  const { facts, byVersion } = await factsOf(fx, 'datadog-demo');
  assert.equal(facts.anchored, true);
  assert.deepEqual(facts.projects.map((p) => [p.name, [...p.versions].sort()]).sort(), [['datadog-demo', ['1.0.0', '1.1.0']], ['datadog-other', ['2.0.0']]]);
  assert.deepEqual(facts.details.map((d) => d.name), ['datadog-demo'], 'only the projects asked for are verified release by release');
  assert.deepEqual(facts.roles.map((r) => r.role), ['root', 'targets', 'snapshot', 'timestamp']);
  assert.equal(facts.bins.count, 16);
  for (const version of ['1.0.0', '1.1.0']) {
    const r = byVersion.get(version)!;
    const d = await download(fx, fx.repoDir, 'datadog-demo', { version });
    assert.equal(r.problem, undefined, JSON.stringify(r.problem));
    assert.deepEqual([r.version, r.wheel?.fileName, r.wheel?.sha256, r.wheel?.length], [d.version, d.wheel.fileName, d.wheel.sha256, d.wheel.length]);
    assert.deepEqual(
      [r.provenance?.format, r.provenance?.builderId, r.provenance?.sourceRepository, r.provenance?.ref, r.provenance?.commit],
      [d.attestation?.format, d.attestation?.builderId, d.attestation?.sourceRepository, d.attestation?.ref, d.attestation?.commit],
    );
    assert.deepEqual(r.signature, { kind: 'key', keyIds: d.attestation?.keyIds });
    assert.equal(r.provenance?.finishedOn, '2026-01-01T00:00:01Z');
  }
});

async function editFile(file: string, edit: (b: Buffer) => Buffer): Promise<void> {
  await writeFile(file, edit(await readFile(file)));
}

function flipLastByte(b: Buffer): Buffer {
  const out = Buffer.from(b);
  out[out.length - 2]! ^= 1;
  return out;
}

type Tamper = { name: string; code: string; make: (fx: RepoFixture) => Promise<void> };

const TAMPERS: Tamper[] = [
  {
    name: 'attestation bytes changed in the bucket',
    code: 'E_ATTESTATION_DIGEST',
    make: async (fx) => {
      await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
      await editFile(path.join(fx.repoDir, 'attestations/datadog-demo/datadog-demo-1.0.0-attestation.sigstore.json'), (b) => flipLastByte(b));
    },
  },
  {
    name: 'attestation cut short in the bucket',
    code: 'E_ATTESTATION_LENGTH',
    make: async (fx) => {
      await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
      await editFile(path.join(fx.repoDir, 'attestations/datadog-demo/datadog-demo-1.0.0-attestation.sigstore.json'), (b) => b.subarray(0, 100));
    },
  },
  {
    name: 'attestation deleted from the bucket',
    code: 'E_NET_NOT_FOUND',
    make: async (fx) => {
      await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
      await rm(path.join(fx.repoDir, 'attestations/datadog-demo/datadog-demo-1.0.0-attestation.sigstore.json'));
    },
  },
  ...(['E_TARGET_DIGEST', 'E_TARGET_LENGTH'] as const).map((code) => ({
    name: `pointer bytes changed in the bucket (${code === 'E_TARGET_DIGEST' ? 'same length' : 'other length'})`,
    code,
    make: async (fx: RepoFixture) => {
      const r = await signedRelease(fx, 'datadog-demo', '1.0.0');
      await publish(fx, [r]);
      const file = path.join(fx.repoDir, consistentTargetPath(pointerTargetPath('datadog-demo', '1.0.0'), sha256Hex(r.pointer)));
      await editFile(file, (b) => (code === 'E_TARGET_DIGEST' ? flipLastByte(b) : Buffer.concat([b, Buffer.from('#\n')])));
    },
  })),
  {
    name: 'attestation signed by a key the policy does not list',
    code: 'E_ATTESTATION_KEY_UNTRUSTED',
    make: async (fx) => publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0', { signers: [rogueSigner()] })]).then(() => undefined),
  },
  {
    name: 'attestation about another file',
    code: 'E_SUBJECT_MISMATCH',
    make: async (fx) => publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0', { subjectName: 'datadog_demo-6.6.6-py3-none-any.whl' })]).then(() => undefined),
  },
  {
    name: 'a builder the policy does not allow',
    code: 'E_PROVENANCE_BUILDER',
    make: async (fx) => publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0', { context: { builderId: 'https://ci.evil.example/builder' } })]).then(() => undefined),
  },
  {
    name: 'the online key moves another release under this version',
    code: 'E_WHEEL_VERSION_MISMATCH',
    make: async (fx) => {
      const victim = await signedRelease(fx, 'datadog-demo', '0.9.0');
      await publish(fx, [victim]);
      await forgeWithOnlineKey(fx, [{ project: 'datadog-demo', version: '1.0.0', pointer: pointerTo(victim, 'datadog-demo', '1.0.0') }]);
    },
  },
];

for (const tamper of TAMPERS) {
  test(`${tamper.name}: the same code as download (${tamper.code}), and no claim from the failed data`, async (t) => {
    const fx = await repoFixture(t);
    await tamper.make(fx);
    const refused = await expectRefused(fx, fx.repoDir, 'datadog-demo', tamper.code, tamper.code === 'E_NET_NOT_FOUND' ? 'not-found' : 'verification', { version: '1.0.0' });
    const r: ReleaseFacts = (await factsOf(fx, 'datadog-demo')).byVersion.get('1.0.0')!;
    assert.equal(r.problem?.code, refused.code);
    const check = CHECKS.find((c) => refused.message.startsWith(`${c}: `));
    if (check) assert.equal(r.problem!.check, check, 'the same check fails');
    assert.equal(r.provenance, undefined);
    assert.equal(r.signature, undefined);
  });
}

test('unsigned objects in the bucket are not facts: a pointer no bin lists, an index entry, a page', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const fake = 'pointer:\n  name: datadog-demo\n  version: 9.9.9\n';
  await writeFile(path.join(fx.repoDir, consistentTargetPath(pointerTargetPath('datadog-demo', '9.9.9'), sha256Hex(fake))), fake);
  await writeFile(path.join(fx.repoDir, 'simple/datadog-demo/index.json'), JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'datadog-demo', files: [], versions: ['9.9.9'] }));
  await writeFile(path.join(fx.repoDir, 'status/datadog-ghost.html'), '<html>released!</html>');
  const { facts, byVersion } = await factsOf(fx, 'datadog-demo');
  assert.deepEqual([...byVersion.keys()], ['1.0.0']);
  assert.deepEqual(facts.projects.map((p) => p.name), ['datadog-demo']);
});

test('a storage failure is thrown, never shown as a release that failed verification', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const flaky: Storage = {
    location: fx.storage.location,
    get: async (key) => {
      if (key.startsWith('attestations/')) throw new ProvenantError('E_S3_NETWORK', 'connection reset', { exitClass: 'network', hint: 'retry' });
      return fx.storage.get(key);
    },
    put: (k, b, p) => fx.storage.put(k, b, p),
    putImmutable: (k, b, p) => fx.storage.putImmutable(k, b, p),
    putIfMatch: (k, b, p, e) => fx.storage.putIfMatch(k, b, p, e),
    list: (p) => fx.storage.list(p),
  };
  await assert.rejects(collectStatusFacts(flaky, { anchor: await trustAnchorOf(fx.signers), details: 'all' }), { code: 'E_S3_NETWORK' });
});

test('without the key store the facts say so (the repository checked against its own 1.root.json)', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const facts = await collectStatusFacts(fx.storage, { details: 'all' });
  assert.equal(facts.anchored, false);
  assert.equal(facts.settings, 'repository');
  assert.equal(facts.details[0]?.releases[0]?.problem, undefined);
});
