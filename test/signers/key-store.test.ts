import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository, refreshRepository, repoStatus } from '../../src/app/repo.ts';
import { loadSigner, readKeyIndex } from '../../src/signers/key-store.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { tempDir } from '../helpers/peers.ts';
import { treeHash } from '../publish/fixtures.ts';
import { syntheticRelease } from '../publish/synthetic.ts';
import { isError } from './helpers/errors.ts';
import { startMoto } from './helpers/moto.ts';
import { softHsm, useSoftHsm, type SoftHsm } from './helpers/softhsm.ts';

const PIN = '97531';


async function tokenWithKeys(t: { after(fn: () => unknown): void }): Promise<SoftHsm> {
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('repo', PIN);
  await hsm.generate('repo', PIN, 'EC:edwards25519', '01', 'root');
  await hsm.generate('repo', PIN, 'EC:secp384r1', '02', 'online');
  return hsm;
}

/** Publishes one synthetic release with the key store's signers, closing them after. */
async function publish(storage: FsStorage, keysDir: string, env: NodeJS.ProcessEnv, version: string) {
  const source = keyStoreSignerSource(keysDir, env);
  try {
    return await publishReleases(storage, source, [syntheticRelease('datadog-postgres', version)]);
  } finally {
    await source.close?.();
  }
}

test('repo init with keys by reference: root (Ed25519) and online (P-384) on a token, attestation in KMS; keys.json records references and public keys, no secret; publish and refresh sign through them', async (t) => {
  const hsm = await tokenWithKeys(t);
  const kms = await startMoto(t);
  const attestation = await kms.createKey('ECC_NIST_P256');
  await kms.alias('alias/attestation', attestation.keyId);
  const dir = await tempDir(t);
  const keysDir = path.join(dir, 'keys');
  const storage = new FsStorage(path.join(dir, 'repository'));
  const env = { ...kms.env, PROVENANT_PKCS11_PIN: PIN };
  const res = await initRepository(storage, undefined, {
    keysDir,
    env,
    binCount: 4,
    keyRefs: { root: [hsm.uri('repo', 'root')], online: hsm.uri('repo', 'online'), attestation: 'awskms:///alias/attestation' },
  });
  assert.deepEqual(
    res.keys.map((k) => [k.name, k.created, k.ref ?? '(file)']),
    [
      ['root', false, hsm.uri('repo', 'root')],
      ['targets', true, '(file)'],
      ['online', false, hsm.uri('repo', 'online')],
      ['attestation', false, 'awskms:///alias/attestation'],
    ],
  );
  const index = await readKeyIndex(keysDir);
  assert.deepEqual(Object.keys(index.keys).sort(), ['attestation', 'online', 'root', 'targets']);
  assert.equal(index.keys.online!.scheme, 'ecdsa-sha2-nistp384');
  assert.equal(index.keys.root!.scheme, 'ed25519');
  assert.equal(index.keys.online!.file, undefined);
  const stored = await readFile(path.join(keysDir, 'keys.json'), 'utf8');
  assert.ok(!stored.includes(PIN), 'no PIN in keys.json');
  assert.ok(!existsSync(path.join(keysDir, 'online.pem')) && !existsSync(path.join(keysDir, 'root.pem')), 'no key file for device keys');
  // The repository trusts exactly the device keys for their roles.
  const root = JSON.parse(new TextDecoder().decode(await readTrustedRoot(keysDir))) as { signed: { roles: Record<string, { keyids: string[] }>; keys: Record<string, { scheme: string }> } };
  assert.deepEqual(root.signed.roles.root!.keyids, [index.keys.root!.keyid]);
  assert.deepEqual(root.signed.roles.timestamp!.keyids, [index.keys.online!.keyid]);
  assert.equal(root.signed.keys[index.keys.online!.keyid]!.scheme, 'ecdsa-sha2-nistp384');

  assert.equal((await publish(storage, keysDir, env, '1.0.0')).committed, true);
  const source = keyStoreSignerSource(keysDir, env);
  const refreshed = await refreshRepository(storage, source, undefined, { force: ['root', 'timestamp'] }).finally(() => source.close?.());
  assert.ok(refreshed.metadataWritten.includes('metadata/2.root.json'), refreshed.metadataWritten.join());
  const status = await repoStatus(storage, { trustedRoot: await readTrustedRoot(keysDir) });
  assert.deepEqual(status.roles.map((r) => [r.role, r.version]), [['root', 2], ['targets', 1], ['snapshot', 3], ['timestamp', 3]]);
  assert.equal(status.releases, 1);
});

test('repo init with a bad key reference leaves nothing behind: a PIN in the reference (E_KEYREF_SECRET), a wrong PIN, a P-384 attestation key (E_KEY_TYPE)', async (t) => {
  const hsm = await tokenWithKeys(t);
  const kms = await startMoto(t);
  const p384 = await kms.createKey('ECC_NIST_P384');
  const dir = await tempDir(t);
  const keysDir = path.join(dir, 'keys');
  const storage = new FsStorage(path.join(dir, 'repository'));
  const cases: [Parameters<typeof initRepository>[2], (e: unknown) => boolean][] = [
    [{ keysDir, env: {}, keyRefs: { online: hsm.uri('repo', 'online', `pin-value=${PIN}`) } }, isError('E_KEYREF_SECRET', undefined, PIN)],
    [{ keysDir, env: { PROVENANT_PKCS11_PIN: '13579' }, keyRefs: { online: hsm.uri('repo', 'online') } }, isError('E_PKCS11_PIN', /wrong PIN/)],
    [{ keysDir, env: { ...kms.env, PROVENANT_PKCS11_PIN: PIN }, keyRefs: { online: hsm.uri('repo', 'online'), attestation: `awskms:///${p384.keyId}` } }, isError('E_KEY_TYPE', /attestation key .* is ECDSA P-384/)],
  ];
  for (const [opts, check] of cases) {
    await assert.rejects(initRepository(storage, undefined, opts), check);
    assert.equal(existsSync(path.join(dir, 'repository')), false);
    assert.equal(existsSync(keysDir), false, 'no key generated for the other roles either');
  }
});

test('a device key that is no longer the one the repository trusts (token key regenerated, KMS alias moved) is E_KEY_MISMATCH; nothing is published', async (t) => {
  const hsm = await tokenWithKeys(t);
  const kms = await startMoto(t);
  const first = await kms.createKey('ECC_NIST_P256');
  await kms.alias('alias/attestation', first.keyId);
  const dir = await tempDir(t);
  const keysDir = path.join(dir, 'keys');
  const repoDir = path.join(dir, 'repository');
  const storage = new FsStorage(repoDir);
  const env = { ...kms.env, PROVENANT_PKCS11_PIN: PIN };
  await initRepository(storage, undefined, { keysDir, env, binCount: 4, keyRefs: { online: hsm.uri('repo', 'online'), attestation: 'awskms:///alias/attestation' } });
  const before = await treeHash(repoDir);

  // Same label, same id, new key material: what a re-initialised or swapped token looks like.
  await hsm.destroy('repo', PIN, '02');
  await hsm.generate('repo', PIN, 'EC:secp384r1', '02', 'online');
  await assert.rejects(publish(storage, keysDir, env, '1.0.0'), isError('E_KEY_MISMATCH', /key online \(for (bins|snapshot|timestamp)\) at pkcs11:token=repo;object=online.* keys\.json records/));
  assert.equal(await treeHash(repoDir), before, 'the repository is byte-identical');

  const second = await kms.createKey('ECC_NIST_P256');
  await kms.retarget('alias/attestation', second.keyId);
  await assert.rejects(loadSigner(keysDir, 'attestation', env), isError('E_KEY_MISMATCH', /at awskms:\/\/\/alias\/attestation/));
});

test('a wrong PIN, or KMS refusing the online key, fails the publish before anything is written', async (t) => {
  const hsm = await tokenWithKeys(t);
  const kms = await startMoto(t);
  const dir = await tempDir(t);

  const tokenRepo = path.join(dir, 'token-repo');
  const tokenKeys = path.join(dir, 'token-keys');
  const tokenStorage = new FsStorage(tokenRepo);
  await initRepository(tokenStorage, undefined, { keysDir: tokenKeys, env: { PROVENANT_PKCS11_PIN: PIN }, binCount: 4, keyRefs: { online: hsm.uri('repo', 'online') } });
  const tokenBefore = await treeHash(tokenRepo);
  await assert.rejects(publish(tokenStorage, tokenKeys, { PROVENANT_PKCS11_PIN: '11111' }, '1.0.0'), isError('E_PKCS11_PIN', /wrong PIN for token repo/));
  assert.equal(await treeHash(tokenRepo), tokenBefore);

  const online = await kms.createKey('ECC_NIST_P256');
  const kmsRepo = path.join(dir, 'kms-repo');
  const kmsKeys = path.join(dir, 'kms-keys');
  const kmsStorage = new FsStorage(kmsRepo);
  await initRepository(kmsStorage, undefined, { keysDir: kmsKeys, env: kms.env, binCount: 4, keyRefs: { online: `awskms:///${online.arn}` } });
  const kmsBefore = await treeHash(kmsRepo);
  await kms.denyAll(online.keyId);
  await assert.rejects(publish(kmsStorage, kmsKeys, kms.env, '1.0.0'), isError('E_KMS_ACCESS_DENIED'));
  assert.equal(await treeHash(kmsRepo), kmsBefore);
});
