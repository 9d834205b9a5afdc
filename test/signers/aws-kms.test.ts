import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeAll } from '../../src/signers/key-store.ts';
import { openSigner } from '../../src/signers/open-signer.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { freePort } from '../helpers/minio.ts';
import { isError } from './helpers/errors.ts';
import { startMoto } from './helpers/moto.ts';
import { sslibKeyIds } from './helpers/sslib.ts';


test('ECC_NIST_P256 and ECC_NIST_P384 keys in KMS (moto) by key id, alias and ARN: public key from GetPublicKey, TUF key ids, signatures securesystemslib accepts', async (t) => {
  const kms = await startMoto(t);
  const p256 = await kms.createKey('ECC_NIST_P256');
  const p384 = await kms.createKey('ECC_NIST_P384');
  await kms.alias('alias/provenant-online', p384.keyId);
  const signers: Signer[] = [];
  t.after(() => closeAll(signers));
  const open = async (ref: string, env = kms.env) => {
    const s = await openSigner(ref, { env, cwd: '/' });
    signers.push(s);
    return s;
  };
  const byId = await open(`awskms:///${p256.keyId}`);
  const byAlias = await open('awskms:///alias/provenant-online');
  // The ARN names its region: it wins over AWS_REGION, which here points elsewhere.
  const byArn = await open(`awskms:///${p256.arn}`, { ...kms.env, AWS_REGION: 'eu-west-3' });
  assert.deepEqual([byId, byAlias].map((s) => s.publicKey.scheme), ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384']);
  assert.equal(byArn.keyId, byId.keyId);
  await assert.rejects(open(`awskms:///${p256.keyId}`, { ...kms.env, AWS_REGION: 'eu-west-3' }), isError('E_KMS_KEY_NOT_FOUND'), 'KMS keys are regional');
  // MessageType DIGEST: no 4 KiB limit on what is signed (snapshot metadata of many bins is larger).
  const big = new TextEncoder().encode(JSON.stringify({ signed: { meta: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`bins-${i}.json`, { version: i }])) } }));
  assert.ok(big.length > 4096);
  assert.deepEqual(await sslibKeyIds([byId, byAlias], big), [byId.keyId, byAlias.keyId]);
});

test('KMS refusals, before any signature is used: no such key, a disabled key, access denied, an RSA, symmetric or secp256k1 key, an unreachable endpoint', async (t) => {
  const kms = await startMoto(t);
  const open = (ref: string, env = kms.env) => openSigner(ref, { env, cwd: '/' });
  await assert.rejects(open('awskms:///11111111-2222-3333-4444-555555555555'), isError('E_KMS_KEY_NOT_FOUND'));
  await assert.rejects(open('awskms:///alias/no-such-alias'), isError('E_KMS_KEY_NOT_FOUND'));
  const disabled = await kms.createKey('ECC_NIST_P256');
  await kms.disable(disabled.keyId);
  await assert.rejects(open(`awskms:///${disabled.keyId}`), isError('E_KMS_KEY_DISABLED', /is Disabled/));
  const denied = await kms.createKey('ECC_NIST_P256');
  await kms.denyAll(denied.keyId);
  await assert.rejects(open(`awskms:///${denied.keyId}`), isError('E_KMS_ACCESS_DENIED', /denied DescribeKey/));
  for (const spec of ['RSA_2048', 'SYMMETRIC_DEFAULT', 'ECC_SECG_P256K1'] as const) {
    const k = await kms.createKey(spec);
    await assert.rejects(open(`awskms:///${k.keyId}`), isError('E_KEY_TYPE', new RegExp(`${spec} key`)));
  }
  const closed = `http://127.0.0.1:${await freePort()}`;
  await assert.rejects(open(`awskms:///${disabled.keyId}`, { ...kms.env, AWS_ENDPOINT_URL_KMS: closed }), isError('E_KMS_NETWORK'));
});

test('a KMS that signs other bytes than asked is refused when the key is opened (E_SIGNER_MISMATCH): moto as released hashes a DIGEST again', async (t) => {
  const kms = await startMoto(t, { faithful: false });
  const k = await kms.createKey('ECC_NIST_P256');
  await assert.rejects(openSigner(`awskms:///${k.keyId}`, { env: kms.env, cwd: '/' }), isError('E_SIGNER_MISMATCH', /its own public key does not verify/));
});
