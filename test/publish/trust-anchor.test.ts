import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Key, Metadata, MetadataKind, type Root } from '@tufjs/models';
import { publishReleases } from '../../src/app/publish.ts';
import { refreshRepository } from '../../src/app/repo.ts';
import { isProvenantError } from '../../src/errors.ts';
import { generatePrivateKey, keyObjectSigner } from '../../src/signers/key-file.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { freshRepository, treeHash } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

/**
 * Someone who can write to the repository's storage but holds no key replaces 1.root.json with a
 * root that also trusts their key (signed by that key alone) and edits the public settings to
 * match. A scheduled `repo refresh` must not re-sign that root with the real root key.
 */
test('a swapped 1.root.json is refused by refresh and publish: the chain starts from the key store\'s root', async (t) => {
  const r = await freshRepository(t);
  const rootFile = path.join(r.repoDir, 'metadata/1.root.json');
  const configFile = path.join(r.repoDir, 'provenant-repository.json');
  const real = await readFile(rootFile);

  const attacker = keyObjectSigner(generatePrivateKey('ed25519'));
  const forged = Metadata.fromJSON(MetadataKind.Root, JSON.parse(real.toString('utf8')) as never) as Metadata<Root>;
  const key = new Key({ keyID: attacker.keyId, keyType: attacker.publicKey.keytype, scheme: attacker.publicKey.scheme, keyVal: attacker.publicKey.keyval });
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) forged.signed.addKey(key, role);
  await writeFile(rootFile, serializeMetadata(await signMetadata(forged.signed, [attacker], 'root')));
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { roles: Record<string, { keyids: string[] }> };
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) config.roles[role]!.keyids.push(attacker.keyId);
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const before = await treeHash(r.repoDir);

  const refused = (e: unknown) => isProvenantError(e) && e.code === 'E_TRUSTED_ROOT_MISMATCH' && e.exitClass === 'verification';
  await assert.rejects(refreshRepository(r.storage, r.signers, undefined, { force: ['root'] }), refused);
  await assert.rejects(publishReleases(r.storage, r.signers, [syntheticRelease('datadog-postgres', '1.0.0')]), refused);
  assert.equal(await treeHash(r.repoDir), before, 'nothing was signed or written');
  assert.deepEqual(await readTrustedRoot(r.keysDir), new Uint8Array(real), 'the key store still trusts the real root');
});

test('a legitimate root refresh moves the key store\'s trusted root forward; publishing continues', async (t) => {
  const r = await freshRepository(t);
  const res = await refreshRepository(r.storage, r.signers, undefined, { force: ['root'] });
  assert.ok(res.metadataWritten.includes('metadata/2.root.json'));
  const trusted = JSON.parse(new TextDecoder().decode(await readTrustedRoot(r.keysDir))) as { signed: { version: number } };
  assert.equal(trusted.signed.version, 2);
  assert.deepEqual(await readTrustedRoot(r.keysDir), new Uint8Array(await readFile(path.join(r.repoDir, 'metadata/2.root.json'))));
  const pub = await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-postgres', '1.0.0')]);
  assert.equal(pub.committed, true);
});
