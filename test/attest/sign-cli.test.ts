import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildIntegrations } from '../../src/app/build.ts';
import { verifyAttestationBundle } from '../../src/attest/verify.ts';
import { main } from '../../src/cli/main.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { keyObjectSigner } from '../../src/signers/key-file.ts';
import { createKey, loadSigner } from '../../src/signers/key-store.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { fakeIntegration, syntheticBuilder } from '../app-build/fixtures.ts';
import type { Output } from '../../src/cli/output.ts';
import { tempDir } from '../helpers/peers.ts';

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

async function builtRoot(t: { after(fn: () => unknown): void }) {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  await fakeIntegration(root, 'redisdb');
  await buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder(), baseUrl: 'https://pkgs.example.com' });
  return { root, pg };
}

test('provenant sign --key FILE --json: signs, prints the result document, pointer pins the bundle', async (t) => {
  const { root, pg } = await builtRoot(t);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = path.join(root, 'attest.pem');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const o = capture();
  const code = await main(['sign', 'datadog-postgres', '--integrations-dir', root, '--key', keyFile, '--json'], o, {}, root);
  assert.equal(code, 0, o.err);
  const doc = JSON.parse(o.out) as { ok: boolean; results: { status: string; bundle: { path: string; uri: string; sha256: string }; pointer: { path: string }; keyIds: string[] }[] };
  assert.equal(doc.ok, true);
  assert.equal(doc.results.length, 1);
  const r = doc.results[0]!;
  assert.equal(r.status, 'signed');
  assert.equal(r.bundle.path, path.join(pg.dir, 'dist', 'datadog-postgres-23.2.0-attestation.sigstore.json'));
  const bundle = await readFile(r.bundle.path);
  const pointer = parsePointer(await readFile(r.pointer.path, 'utf8'), r.pointer.path);
  assert.deepEqual(pointer.attestation, {
    uri: 'https://pkgs.example.com/attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json',
    digest: sha256Hex(bundle),
    length: bundle.length,
  });
  const signer = keyObjectSigner(privateKey);
  assert.deepEqual(r.keyIds, [signer.keyId]);
  assert.deepEqual(verifyAttestationBundle(bundle, defaultPolicy({ attestationKeys: [signer] })).keyIds, [signer.keyId]);
});

test('provenant sign --keys DIR uses the `attestation` key of the key store; human output is the bundle path', async (t) => {
  const { root, pg } = await builtRoot(t);
  const keys = path.join(root, 'keys');
  await createKey(keys, 'attestation', { type: 'ed25519', roles: ['attestation'] });
  const o = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keys', keys], o, {}, root), 0, o.err);
  assert.equal(o.out, `${path.join(pg.dir, 'dist', 'datadog-postgres-23.2.0-attestation.sigstore.json')}\n`);
  const signer = await loadSigner(keys, 'attestation', {});
  const bundle = await readFile(o.out.trim());
  assert.deepEqual(verifyAttestationBundle(bundle, defaultPolicy({ attestationKeys: [signer] })).keyIds, [signer.keyId]);
});

test('provenant sign failures: exit codes by class, JSON error, nothing written', async (t) => {
  const { root, pg } = await builtRoot(t);
  // No key store → input error (3) saying the store is missing, and where.
  let o = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keys', path.join(root, 'nokeys'), '--json'], o, {}, root), 3);
  const missing = (JSON.parse(o.out) as { error: { code: string; file: string; hint: string } }).error;
  assert.deepEqual([missing.code, missing.file], ['E_KEYSTORE_MISSING', path.join(root, 'nokeys')]);
  assert.match(missing.hint, /provenant repo init.*--keys/);
  assert.doesNotMatch(o.err, /no key named/);
  // Not built → not-found (4).
  const keys = path.join(root, 'keys');
  await createKey(keys, 'attestation', { type: 'ecdsa', roles: ['attestation'] });
  o = capture();
  assert.equal(await main(['sign', 'redisdb', '--integrations-dir', root, '--keys', keys], o, {}, root), 4);
  assert.match(o.err, /E_NOT_BUILT/);
  // A wheel that is not the statement's subject → verification (5), dist/ untouched.
  const wheel = path.join(pg.dir, 'dist', 'datadog_postgres-23.2.0-py3-none-any.whl');
  await writeFile(wheel, 'PK swapped');
  const pointerBefore = await readFile(path.join(pg.dir, 'dist', 'datadog-postgres-23.2.0.pointer'));
  o = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keys', keys, '--json'], o, {}, root), 5);
  assert.equal((JSON.parse(o.out) as { error: { code: string } }).error.code, 'E_STATEMENT_SUBJECT_MISMATCH');
  assert.deepEqual(await readFile(path.join(pg.dir, 'dist', 'datadog-postgres-23.2.0.pointer')), pointerBefore);
  // Usage: nothing named.
  o = capture();
  assert.equal(await main(['sign', '--integrations-dir', root, '--keys', keys], o, {}, root), 2);
});

test('provenant sign --help teaches with examples', async () => {
  const o = capture();
  assert.equal(await main(['sign', '--help'], o), 0);
  assert.match(o.out, /Examples:/);
  assert.match(o.out, /provenant sign postgres/);
});
