import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { PublicKeyInfo, Signer } from '../../src/signers/signer.ts';

/**
 * Test signers made with node:crypto behind the shared Signer interface (the real key-file
 * signers are the tuf engineer's). ed25519 keys are written as securesystemslib does (raw hex),
 * ecdsa keys as SPKI PEM.
 */
export function testSigner(type: 'ed25519' | 'ecdsa'): Signer & { privateKey: KeyObject } {
  const { publicKey, privateKey } =
    type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const info: PublicKeyInfo =
    type === 'ed25519'
      ? { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: rawEd25519Hex(publicKey) } }
      : { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: publicKeyPem } };
  const canonical = JSON.stringify({ keytype: info.keytype, keyval: { public: info.keyval.public }, scheme: info.scheme });
  return {
    keyId: createHash('sha256').update(canonical).digest('hex'),
    publicKey: info,
    publicKeyPem,
    privateKey,
    async sign(data) {
      return new Uint8Array(cryptoSign(type === 'ed25519' ? undefined : 'sha256', data, privateKey));
    },
  };
}

function rawEd25519Hex(key: KeyObject): string {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
}
