import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, Root, Signature } from '@tufjs/models';
import { signedBytes, thresholds, type Proposal } from '../../src/ceremony/proposal.ts';
import { generatePrivateKey, keyIdOf, keyObjectSigner } from '../../src/signers/key-file.ts';
import type { PublicKeyInfo } from '../../src/signers/signer.ts';

/**
 * A root that already names one key under two ids (written before sign refused that, or by other
 * tooling): the holder of that key signs under both ids. Publish counts distinct keys, not ids,
 * toward each threshold, so one holder never meets a threshold of two.
 */
test('attack: one key under two ids in the current root counts once toward its threshold', async () => {
  const a = keyObjectSigner(generatePrivateKey('ecdsa'));
  const b = keyObjectSigner(generatePrivateKey('ecdsa'));
  const pubA = a.publicKey;
  const twin: PublicKeyInfo = { ...pubA, keyval: { public: `${pubA.keyval.public}\n` } };
  const [idA, idTwin, idB] = [keyIdOf(pubA), keyIdOf(twin), keyIdOf(b.publicKey)];
  assert.notEqual(idA, idTwin);
  const role = (keyids: string[], threshold: number) => ({ keyids, threshold });
  const rootJson = (version: number) => ({
    _type: 'root',
    spec_version: '1.0.31',
    version,
    expires: '2030-01-01T00:00:00Z',
    consistent_snapshot: true,
    keys: { [idA]: pubA, [idTwin]: twin, [idB]: b.publicKey },
    roles: { root: role([idA, idTwin, idB], 2), targets: role([idB], 1), snapshot: role([idB], 1), timestamp: role([idB], 1) },
  });
  const current = Root.fromJSON(rootJson(1) as never);
  const next = Root.fromJSON(rootJson(2) as never);
  const md = new Metadata(next);
  const sig = Buffer.from(await a.sign(signedBytes(md))).toString('hex');
  md.signatures[idA] = new Signature({ keyID: idA, sig });
  md.signatures[idTwin] = new Signature({ keyID: idTwin, sig });
  const p = { doc: {} as Proposal['doc'], root: md } as Proposal;
  const status = thresholds(p, current, 'p.json');
  for (const s of status) assert.equal(s.met, false, `${s.of}: ${s.signed.length} of ${s.threshold}`);
  // With B's signature too, two distinct keys: met.
  md.signatures[idB] = new Signature({ keyID: idB, sig: Buffer.from(await b.sign(signedBytes(md))).toString('hex') });
  for (const s of thresholds(p, current, 'p.json')) assert.equal(s.met, true, s.of);
});
