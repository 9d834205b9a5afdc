import assert from 'node:assert/strict';
import { createPublicKey, ECDH, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { Key, Metadata, MetadataKind, Root, Targets } from '@tufjs/models';
import type { PublicKeyInfo } from '../../src/signers/signer.ts';
import { shapeProblems } from '../../src/ceremony/proposal.ts';
import { keyIdOf } from '../../src/signers/key-file.ts';
import { keyIdentity } from '../../src/util/key-identity.ts';

/** One P-256 key as SPKI PEM with its point uncompressed (as usual) and compressed: two spellings, two key ids. */
function twoSpellings() {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const point = der.subarray(der.length - 65);
  const compressedPoint = ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
  // The SPKI header for a 33-byte point: same algorithm identifiers, shorter BIT STRING.
  const header = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');
  const compressed = createPublicKey({ key: Buffer.concat([header, compressedPoint]), format: 'der', type: 'spki' });
  const pem = (k: typeof publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();
  return { publicKey, compressed, pems: [pem(publicKey), pem(compressed)] };
}

test('one key spelt two ways (compressed and uncompressed P-256 point) is one key: keyIdentity agrees though the bytes differ', () => {
  const { publicKey, compressed, pems } = twoSpellings();
  assert.notEqual(pems[0], pems[1]);
  assert.equal(keyIdentity(publicKey), keyIdentity(compressed));
  assert.notEqual(keyIdentity(publicKey), keyIdentity(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey));
});

test('attack: a root proposal listing one P-256 key twice (compressed and uncompressed) for a threshold of 2 is refused', () => {
  const { pems } = twoSpellings();
  const keys = pems.map((pem) => ({ keytype: 'ecdsa' as const, scheme: 'ecdsa-sha2-nistp256' as const, keyval: { public: pem } }));
  const ids = keys.map((k) => keyIdOf(k));
  assert.notEqual(ids[0], ids[1]);
  const base = new Root({ version: 1, specVersion: '1.0.31', expires: '2030-01-01T00:00:00Z', consistentSnapshot: true });
  for (const [i, k] of keys.entries()) base.addKey(new Key({ keyID: ids[i]!, keyType: k.keytype, scheme: k.scheme, keyVal: k.keyval }), 'root');
  for (const role of ['targets', 'snapshot', 'timestamp']) base.addKey(new Key({ keyID: ids[0]!, keyType: keys[0]!.keytype, scheme: keys[0]!.scheme, keyVal: keys[0]!.keyval }), role);
  const json = base.toJSON() as { roles: Record<string, unknown> };
  const next = Metadata.fromJSON(MetadataKind.Root, { signed: { ...json, version: 2, roles: { ...json.roles, root: { keyids: ids, threshold: 2 } } }, signatures: [] }).signed;
  const idOf = (k: { keytype: string; scheme: string; keyval: Record<string, string> }) => keyIdOf(k as unknown as PublicKeyInfo);
  const problems = shapeProblems({ root: base, targets: new Targets({ version: 1, specVersion: '1.0.31', expires: '2030-01-01T00:00:00Z' }) }, { root: next }, idOf);
  assert.ok(problems.some((p) => /same public key as/.test(p)), problems.join('\n'));
});
