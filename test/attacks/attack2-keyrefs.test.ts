/**
 * Attacks through key references: whoever can write keys.json (a CI cache, a config repository)
 * but holds no key, and the PIN's way through errors and output.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { ProvenantError } from '../../src/errors.ts';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository } from '../../src/app/repo.ts';
import { exportPrivateKeyPem, generatePrivateKey, keyIdOf, tufPublicKey } from '../../src/signers/key-file.ts';
import { parseKeyRef } from '../../src/signers/key-ref.ts';
import { closeAll, loadSigner, readKeyIndex } from '../../src/signers/key-store.ts';
import { openSigner } from '../../src/signers/open-signer.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { tempDir } from '../helpers/peers.ts';
import { treeHash } from '../publish/fixtures.ts';
import { syntheticRelease } from '../publish/synthetic.ts';
import { isError } from '../signers/helpers/errors.ts';
import { softHsm, useSoftHsm } from '../signers/helpers/softhsm.ts';

const PIN = '86420731';

test('FOUND+fixed: a PIN written in the wrong place or spelling never shows in an error, on the command line or in --json', async (t) => {
  const refs = [
    `pkcs11:token=ci;object=online;pin-value=${PIN}`,
    `pkcs11:pin-value=${PIN};token=ci;object=online`,
    `pkcs11:token=ci;object=online?PIN-VALUE=${PIN}`,
    `pkcs11:token=ci;object=online?pin%2Dvalue=${PIN}`,
    `pkcs11:token=ci;object=online?pin_value=${PIN}`,
    `pkcs11:token=ci;object=online?pin-value=${PIN.slice(0, 4)}&${PIN.slice(4)}`,
    `pkcs11:token=ci;object=online?pin-value=${PIN.slice(0, 4)}&${PIN.slice(4)}&module-path=/m.so`,
    `pkcs11:token=ci?pin-value=${PIN}`,
  ];
  for (const ref of refs) {
    assert.throws(() => parseKeyRef(ref, '--online-key'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_KEYREF_INVALID' && !e.describe().includes(PIN.slice(4)), ref);
  }
  const dir = await tempDir(t, 'provenant-attack2-pin-');
  for (const ref of refs) {
    for (const json of [[], ['--json']]) {
      const o: Output & { out: string; err: string } = { out: '', err: '', interactive: false, stdout: (s) => void (o.out += s), stderr: (s) => void (o.err += s) };
      const code = await main(['repo', 'init', '--online-key', ref, '--keys', 'keys', '--repository', 'repository', '-vv', ...json], o, {}, dir);
      assert.equal(code, 2, `${ref}: ${o.err}`);
      assert.ok(!`${o.out}${o.err}`.includes(PIN.slice(4)), `the PIN shows: ${o.out}${o.err}`);
    }
  }
});

test('FOUND+fixed: a PKCS#11 module outside the system library directories is never loaded from a reference (keys.json or --key) unless the operator names it', async (t) => {
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('ci', PIN);
  await hsm.generate('ci', PIN, 'EC:secp384r1', '02', 'online');
  // What a keys.json writer would plant: any shared library they can write, here a working module.
  const planted = path.join(hsm.dir, 'planted-module.so');
  await copyFile(hsm.module, planted);
  const uri = (module: string, query = '') => `pkcs11:token=ci;object=online?module-path=${module}${query}`;
  const opened: Signer[] = [];
  t.after(() => closeAll(opened));
  const env = { PROVENANT_PKCS11_PIN: PIN };

  await assert.rejects(openSigner(uri(planted), { env, cwd: hsm.dir }), isError('E_PKCS11_MODULE', /refusing to load .*planted-module\.so.*not in a system library directory/, PIN));
  // keys.json written by someone else: the genuine key's entry, its ref pointed at the planted module.
  const genuine = await openSigner(uri(hsm.module), { env, cwd: hsm.dir });
  // Closed at once: a token logged in by an open session would not check the next PIN at all.
  await closeAll([genuine]);
  const keysDir = path.join(hsm.dir, 'keys');
  const entry = { keyid: genuine.keyId, keytype: genuine.publicKey.keytype, scheme: genuine.publicKey.scheme, public: genuine.publicKey.keyval.public, encrypted: false, roles: ['timestamp'] };
  const writeIndex = (ref: string) => writeFile(path.join(keysDir, 'keys.json'), JSON.stringify({ keystoreVersion: 1, keys: { online: { ...entry, ref } } }));
  await (await import('node:fs/promises')).mkdir(keysDir);
  await writeIndex(uri(planted));
  await assert.rejects(loadSigner(keysDir, 'online', env), isError('E_PKCS11_MODULE', /refusing to load/, PIN));
  // A pin-source aimed at another secret: read as a PIN, refused by the token, never echoed.
  const other = path.join(hsm.dir, 'other-secret');
  await writeFile(other, 'S3CRET-NOT-A-PIN\n');
  await writeIndex(uri(hsm.module, `&pin-source=${other}`));
  await assert.rejects(loadSigner(keysDir, 'online', {}), isError('E_PKCS11_PIN', /wrong PIN/, 'S3CRET-NOT-A-PIN'));
  // The operator's own choice of module (PROVENANT_PKCS11_MODULE) is loaded, by any path to it.
  const chosen = await openSigner(uri(planted), { env: { ...env, PROVENANT_PKCS11_MODULE: planted }, cwd: hsm.dir });
  opened.push(chosen);
  assert.equal(chosen.keyId, genuine.keyId);
});

test('a keys.json writer pointing a role at their own key signs nothing: another key at the recorded id is E_KEY_MISMATCH, another id is E_KEY_UNKNOWN; the repository is untouched', async (t) => {
  const dir = await tempDir(t, 'provenant-attack2-keys-');
  const keysDir = path.join(dir, 'keys');
  const repoDir = path.join(dir, 'repository');
  const storage = new FsStorage(repoDir);
  await initRepository(storage, undefined, { keysDir, env: {}, binCount: 4 });
  const before = await treeHash(repoDir);
  const original = await readFile(path.join(keysDir, 'keys.json'), 'utf8');
  const attacker = generatePrivateKey('ed25519');
  const attackerFile = path.join(dir, 'attacker.pem');
  await writeFile(attackerFile, exportPrivateKeyPem(attacker), { mode: 0o600 });
  const pub = tufPublicKey(attacker);
  const edits: [string, (e: Record<string, unknown>) => void, string][] = [
    ['ref only', (e) => ((e.ref = attackerFile), delete e.file), 'E_KEY_MISMATCH'],
    ['ref, key id and public key', (e) => ((e.ref = attackerFile), delete e.file, (e.keyid = keyIdOf(pub)), (e.public = pub.keyval.public)), 'E_KEY_UNKNOWN'],
    ['file of another key, key id and public key', (e) => ((e.file = 'attestation.pem'), (e.keyid = '0'.repeat(64))), 'E_KEY_UNKNOWN'],
  ];
  for (const [what, edit, code] of edits) {
    const index = JSON.parse(original) as { keys: Record<string, Record<string, unknown>> };
    edit(index.keys.online!);
    await writeFile(path.join(keysDir, 'keys.json'), JSON.stringify(index));
    assert.equal((await readKeyIndex(keysDir)).keys.online!.roles.includes('timestamp'), true);
    const source = keyStoreSignerSource(keysDir, {});
    await assert.rejects(publishReleases(storage, source, [syntheticRelease('datadog-postgres', '1.0.0')]).finally(() => source.close?.()), isError(code), what);
    assert.equal(await treeHash(repoDir), before, `${what}: the repository changed`);
  }
});
