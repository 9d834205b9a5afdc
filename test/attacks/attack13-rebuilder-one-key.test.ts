import assert from 'node:assert/strict';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { signRebuildVsa } from '../../src/app/rebuild-vsa.ts';
import type { SignerQuorum } from '../../src/policy/policy.ts';
import type { PublicKeyInfo, Signer } from '../../src/signers/signer.ts';
import { tallyRebuilds } from '../../src/verify/rebuilds-check.ts';
import { testSigner } from '../attest/keys.ts';
import { matched, release } from '../rebuild/vsa-fixtures.ts';

/*
 * Attack of issue 13, capacity D: one rebuilder key of a policy whose `rebuilders` threshold is 2.
 * Whatever files and envelopes it makes, its VSA must count once.
 */

async function vsaBy(signer: Signer): Promise<Uint8Array> {
  return (await signRebuildVsa(matched(), signer)).bytes;
}

/** The same P-256 key as SPKI PEM with its point compressed (SEC1 0x02/0x03 || x): other bytes, the same key. */
function compressedPem(pem: string): string {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const y = Buffer.from(jwk.y!, 'base64url');
  const point = Buffer.concat([Buffer.from([y[y.length - 1]! & 1 ? 3 : 2]), Buffer.from(jwk.x!, 'base64url')]);
  const spki = Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), point]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/** The same ed25519 key as SPKI PEM (the signer lists it as raw hex). */
function ed25519Pem(signer: Signer & { privateKey: KeyObject }): string {
  return createPublicKey(signer.privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

function withEnvelope(bundle: Uint8Array, edit: (env: { signatures: { sig: string; keyid: string }[] }) => void): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(bundle)) as { dsseEnvelope: { signatures: { sig: string; keyid: string }[] } };
  edit(json.dsseEnvelope);
  return new TextEncoder().encode(JSON.stringify(json));
}

test('attack D: one rebuilder key never counts twice toward a threshold of 2', async () => {
  const ec = testSigner('ecdsa');
  const ed = testSigner('ed25519');
  const other = testSigner('ed25519');
  const info = (s: Signer, over: Partial<PublicKeyInfo['keyval']> = {}) => ({ keytype: s.publicKey.keytype, scheme: s.publicKey.scheme, keyval: { ...s.publicKey.keyval, ...over } }) as SignerQuorum['keys'][string];
  const vEc = await vsaBy(ec);
  const vEd = await vsaBy(ed);
  const cases: { name: string; keys: SignerQuorum['keys']; files: Uint8Array[] }[] = [
    { name: 'one VSA at two rebuilders\' paths', keys: { [ec.keyId]: info(ec), [other.keyId]: info(other) }, files: [vEc, vEc] },
    { name: 'its one signature listed twice in the envelope', keys: { [ec.keyId]: info(ec), [other.keyId]: info(other) }, files: [withEnvelope(vEc, (e) => e.signatures.push({ ...e.signatures[0]! }))] },
    {
      name: 'its signature again under the other rebuilder\'s key id',
      keys: { [ec.keyId]: info(ec), [other.keyId]: info(other) },
      files: [withEnvelope(vEc, (e) => e.signatures.push({ ...e.signatures[0]!, keyid: other.keyId }))],
    },
    { name: 'its key listed under a second key id (same PEM)', keys: { [ec.keyId]: info(ec), ['f'.repeat(64)]: info(ec) }, files: [vEc, withEnvelope(vEc, (e) => void (e.signatures[0]!.keyid = 'f'.repeat(64)))] },
    // The same key material in another encoding: what a rebuilder submitting "a second key" could hand in.
    { name: 'its P-256 key listed again, point compressed', keys: { [ec.keyId]: info(ec), ['e'.repeat(64)]: info(ec, { public: compressedPem(ec.publicKey.keyval.public) }) }, files: [vEc, withEnvelope(vEc, (e) => void (e.signatures[0]!.keyid = 'e'.repeat(64)))] },
    { name: 'its ed25519 key listed again as PEM', keys: { [ed.keyId]: info(ed), ['d'.repeat(64)]: info(ed, { public: ed25519Pem(ed) }) }, files: [vEd, withEnvelope(vEd, (e) => void (e.signatures[0]!.keyid = 'd'.repeat(64)))] },
  ];
  for (const c of cases) {
    const tally = tallyRebuilds(c.files.map((bytes, i) => ({ file: `vsa-${i}`, bytes })), { keys: c.keys, threshold: 2 }, release);
    assert.equal(tally.accepted.length, 1, `${c.name}: ${JSON.stringify(tally)}`);
  }
  // Control: two distinct keys do count 2.
  assert.equal(tallyRebuilds([{ file: 'a', bytes: vEc }, { file: 'b', bytes: await vsaBy(other) }], { keys: { [ec.keyId]: info(ec), [other.keyId]: info(other) }, threshold: 2 }, release).accepted.length, 2);
});
