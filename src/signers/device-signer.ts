import { createHash, randomBytes, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ProvenantError } from '../errors.ts';
import { keyIdOf, SCHEME_DIGEST, tufPublicKey } from './key-file.ts';
import type { Signer } from './signer.ts';

/**
 * What a device adapter (PKCS#11, KMS) hands over: the public key it read from the device and
 * a signing call that never sees the private key.
 */
export interface DeviceKey {
  /** The reference, for messages (never with a PIN in it). */
  describe: string;
  publicKey: KeyObject;
  /** ECDSA: signs `input`, the scheme's digest of the message, returning DER. Ed25519: signs the message. */
  signDigestOrMessage(input: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * A Signer over a device key. Every signature is verified with the device's own public key
 * before it is used, and one probe signature is made here, at open: a key that cannot sign
 * (access denied, disabled, wrong mechanism) or signs something other than asked fails now,
 * before a caller writes anything, and never as a published signature no client accepts.
 */
export async function deviceSigner(key: DeviceKey): Promise<Signer> {
  let publicKey;
  try {
    publicKey = tufPublicKey(key.publicKey);
  } catch (e) {
    await key.close();
    throw e;
  }
  const digest = SCHEME_DIGEST[publicKey.scheme];
  const sign = async (data: Uint8Array): Promise<Uint8Array> => {
    const signature = await key.signDigestOrMessage(digest ? createHash(digest).update(data).digest() : data);
    if (!cryptoVerify(digest, data, key.publicKey, signature)) {
      throw new ProvenantError('E_SIGNER_MISMATCH', `${key.describe} returned a signature that its own public key does not verify`, {
        exitClass: 'input',
        hint: 'the device signed other bytes than asked (a KMS must honour MessageType DIGEST) or with another key; check the device and the key reference',
      });
    }
    return signature;
  };
  // Neither canonical JSON nor a DSSE PAE: a probe signature can never pass for metadata or an attestation.
  const probe = new TextEncoder().encode(`provenant signer probe v1 ${randomBytes(16).toString('hex')}`);
  try {
    await sign(probe);
  } catch (e) {
    await key.close();
    throw e;
  }
  let closed: Promise<void> | undefined;
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    publicKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    sign,
    close: () => (closed ??= key.close()),
  };
}
