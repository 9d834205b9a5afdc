import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildIntegrations } from '../../src/app/build.ts';
import { signIntegrations } from '../../src/app/sign.ts';
import { verifyAttestationBundle } from '../../src/attest/verify.ts';
import { isProvenantError } from '../../src/errors.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { fakeIntegration, syntheticBuilder } from '../app-build/fixtures.ts';
import { tempDir } from '../helpers/peers.ts';
import { testSigner } from './keys.ts';

const BASE = 'https://packages.example.com/integrations';

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await readdir(dir)).sort()) out[n] = sha256Hex(await readFile(path.join(dir, n)));
  return out;
}

async function built(t: { after(fn: () => unknown): void }, baseUrl?: string) {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  const [r] = await buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder(), ...(baseUrl ? { baseUrl } : {}) });
  return { root, pg, build: r!, dist: path.join(pg.dir, 'dist') };
}

test('sign writes the bundle beside the statement and re-pins the pointer (absolute base URL)', async (t) => {
  const { pg, build, dist } = await built(t, BASE);
  const before = parsePointer(await readFile(build.pointer.path, 'utf8'), build.pointer.path);
  const signer = testSigner('ecdsa');
  const [r] = await signIntegrations([pg], { signers: [signer] });
  assert.ok(r);
  assert.equal(r.status, 'signed');
  assert.deepEqual(r.keyIds, [signer.keyId]);
  assert.equal(r.bundle.fileName, 'datadog-postgres-23.2.0-attestation.sigstore.json');
  assert.deepEqual((await readdir(dist)).sort(), [
    'datadog-postgres-23.2.0-attestation.json',
    'datadog-postgres-23.2.0-attestation.sigstore.json',
    'datadog-postgres-23.2.0.pointer',
    'datadog_postgres-23.2.0-py3-none-any.whl',
  ]);
  const bundle = await readFile(r.bundle.path);
  const pointer = parsePointer(await readFile(r.pointer.path, 'utf8'), r.pointer.path);
  // Only the attestation block changed, and it pins exactly the bundle file.
  assert.deepEqual({ ...pointer, attestation: undefined }, { ...before, attestation: undefined });
  assert.deepEqual(pointer.attestation, {
    uri: `${BASE}/attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json`,
    digest: sha256Hex(bundle),
    length: bundle.length,
  });
  assert.equal(r.bundle.uri, pointer.attestation.uri);
  // The bundle verifies against a policy holding the key, and carries the statement byte for byte.
  const v = verifyAttestationBundle(bundle, defaultPolicy({ attestationKeys: [signer] }));
  assert.deepEqual(Buffer.from(v.payload), await readFile(build.statement.path));

  // Signing again keeps the valid bundle (ECDSA would otherwise change the pinned digest).
  const again = await snapshot(dist);
  const [r2] = await signIntegrations([pg], { signers: [signer] });
  assert.equal(r2!.status, 'unchanged');
  assert.deepEqual(await snapshot(dist), again);
  // Another key re-signs, and the pointer follows.
  const other = testSigner('ed25519');
  const [r3] = await signIntegrations([pg], { signers: [other] });
  assert.equal(r3!.status, 'signed');
  const p3 = parsePointer(await readFile(r3!.pointer.path, 'utf8'), r3!.pointer.path);
  assert.equal(p3.attestation.digest, sha256Hex(await readFile(r3!.bundle.path)));
  assert.notEqual(p3.attestation.digest, pointer.attestation.digest);
});

test('relative pointers (no base URL) get a relative attestation uri', async (t) => {
  const { pg } = await built(t);
  const [r] = await signIntegrations([pg], { signers: [testSigner('ed25519')] });
  const pointer = parsePointer(await readFile(r!.pointer.path, 'utf8'), r!.pointer.path);
  assert.equal(pointer.uri, 'simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl');
  assert.equal(pointer.attestation.uri, 'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json');
});

test('refuses a wheel that is not the statement subject (E_STATEMENT_SUBJECT_MISMATCH), leaving dist/ untouched', async (t) => {
  const { pg, build, dist } = await built(t, BASE);
  const signer = testSigner('ed25519');
  // 1. The wheel changed after build.
  await writeFile(build.wheel.path, 'PK another wheel');
  let before = await snapshot(dist);
  await assert.rejects(signIntegrations([pg], { signers: [signer] }), (e: unknown) => isProvenantError(e) && e.code === 'E_STATEMENT_SUBJECT_MISMATCH' && e.exitClass === 'verification');
  assert.deepEqual(await snapshot(dist), before);
  // 2. Wheel and pointer agree, but the statement names another digest.
  const { pg: pg2, build: b2, dist: dist2 } = await built(t, BASE);
  const statement = JSON.parse(await readFile(b2.statement.path, 'utf8'));
  statement.subject[0].digest.sha256 = 'ab'.repeat(32);
  await writeFile(b2.statement.path, JSON.stringify(statement));
  before = await snapshot(dist2);
  await assert.rejects(
    signIntegrations([pg2], { signers: [signer] }),
    (e: unknown) => isProvenantError(e) && e.code === 'E_STATEMENT_SUBJECT_MISMATCH' && e.file === b2.statement.path && e.field === 'subject',
  );
  assert.deepEqual(await snapshot(dist2), before);
});

test('nothing built → E_NOT_BUILT; a failing signer leaves dist/ as it was', async (t) => {
  const root = await tempDir(t);
  const bare = await fakeIntegration(root, 'nginx');
  await assert.rejects(signIntegrations([bare], { signers: [testSigner('ed25519')] }), (e: unknown) => isProvenantError(e) && e.code === 'E_NOT_BUILT' && e.exitClass === 'not-found');
  const { pg, dist } = await built(t, BASE);
  const before = await snapshot(dist);
  const broken = { ...testSigner('ecdsa'), sign: async () => Promise.reject(new Error('HSM unplugged')) };
  await assert.rejects(signIntegrations([pg], { signers: [broken] }), /HSM unplugged/);
  assert.deepEqual(await snapshot(dist), before);
});

test('several versions in dist/: the newest is signed unless --version picks one', async (t) => {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  await buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder('23.10.0') });
  await buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder('23.9.0') });
  const signer = testSigner('ed25519');
  const [newest] = await signIntegrations([pg], { signers: [signer] });
  assert.equal(newest!.version, '23.10.0');
  const [picked] = await signIntegrations([pg], { signers: [signer], version: '23.9.0' });
  assert.equal(picked!.version, '23.9.0');
  await assert.rejects(signIntegrations([pg], { signers: [signer], version: '1.0' }), (e: unknown) => isProvenantError(e) && e.code === 'E_NOT_BUILT');
});
