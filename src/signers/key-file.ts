import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ProvenantError } from '../errors.ts';
import { canonicalJson } from '../formats/canonical-json.ts';
import { sha256Hex } from '../util/hash.ts';
import { envValue } from '../util/env.ts';
import type { KeyType, PublicKeyInfo, SignatureScheme, Signer } from './signer.ts';

/**
 * Key material as files: PKCS#8 PEM private keys (optionally passphrase-encrypted, PBES2 with
 * AES-256-CBC), and the TUF public-key form securesystemslib and python-tuf expect: ed25519
 * public keys as 64 hex characters, ecdsa P-256/P-384 public keys as SPKI PEM.
 */
export const KEY_TYPES: readonly KeyType[] = ['ed25519', 'ecdsa'];
export const PASSPHRASE_ENV = 'PROVENANT_KEY_PASSPHRASE';

// Ed25519 SubjectPublicKeyInfo DER is this fixed prefix followed by the raw 32-byte key (RFC 8410).
const ED25519_SPKI_PREFIX_LEN = 12;

export function generatePrivateKey(type: KeyType): KeyObject {
  return type === 'ed25519'
    ? generateKeyPairSync('ed25519').privateKey
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

/**
 * The digest each TUF scheme signs (securesystemslib's names): ECDSA hashes by curve size,
 * ed25519 signs the message itself. Signers that take a digest (PKCS#11, KMS) compute this one.
 */
export const SCHEME_DIGEST: Readonly<Record<SignatureScheme, 'sha256' | 'sha384' | null>> = {
  ed25519: null,
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
};

const EC_SCHEMES: Readonly<Record<string, SignatureScheme>> = { prime256v1: 'ecdsa-sha2-nistp256', secp384r1: 'ecdsa-sha2-nistp384' };

/** The TUF public key object of a private or public key. */
export function tufPublicKey(key: KeyObject): PublicKeyInfo {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType === 'ed25519') {
    const der = pub.export({ type: 'spki', format: 'der' });
    return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: der.subarray(ED25519_SPKI_PREFIX_LEN).toString('hex') } };
  }
  const curve = pub.asymmetricKeyDetails?.namedCurve;
  const scheme = pub.asymmetricKeyType === 'ec' && curve ? EC_SCHEMES[curve] : undefined;
  if (scheme) return { keytype: 'ecdsa', scheme, keyval: { public: spkiPem(pub) } };
  throw new ProvenantError('E_KEY_TYPE', `unsupported key type ${pub.asymmetricKeyType ?? 'unknown'}${curve ? ` (curve ${curve})` : ''}`, {
    hint: 'use an ed25519, ECDSA P-256 or ECDSA P-384 key',
  });
}

/** TUF key id: hex sha256 over the canonical JSON of the public key object. */
export function keyIdOf(info: PublicKeyInfo): string {
  return sha256Hex(canonicalJson({ keytype: info.keytype, scheme: info.scheme, keyval: { public: info.keyval.public } }));
}

export function exportPrivateKeyPem(key: KeyObject, passphrase?: string): string {
  return passphrase
    ? (key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string)
    : (key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

export function isEncryptedPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

/**
 * Reads a PKCS#8 PEM private key. A missing or wrong passphrase is E_KEY_PASSPHRASE, naming
 * the file and the environment variables that supply it.
 */
export function readPrivateKeyPem(pem: string, file: string, passphrase: string | undefined, passphraseHint: string): KeyObject {
  const encrypted = isEncryptedPem(pem);
  if (encrypted && !passphrase) {
    throw new ProvenantError('E_KEY_PASSPHRASE', 'the key is encrypted and no passphrase was given', {
      exitClass: 'input',
      file,
      hint: passphraseHint,
    });
  }
  try {
    return createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch (e) {
    if (encrypted) {
      throw new ProvenantError('E_KEY_PASSPHRASE', 'wrong passphrase for the encrypted key', {
        exitClass: 'input',
        file,
        hint: passphraseHint,
        cause: e,
      });
    }
    throw new ProvenantError('E_KEY_INVALID', `not a PKCS#8 PEM private key: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      hint: 'key files are written by `provenant repo init`; restore the file from your backup',
      cause: e,
    });
  }
}

/** Environment variables consulted for a key's passphrase, most specific first (docs/keys.md). */
export function passphraseEnvNames(name: string): string[] {
  return [`${PASSPHRASE_ENV}_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, PASSPHRASE_ENV];
}

export function passphraseFor(name: string, env: NodeJS.ProcessEnv): string | undefined {
  return envValue(env, ...passphraseEnvNames(name));
}

/**
 * The signer of a PEM key file, decrypted with the passphrase of `name` (the key store's name
 * for it, or the file's base name). A missing file is E_KEY_MISSING.
 */
export async function openKeyFile(file: string, name: string, env: NodeJS.ProcessEnv): Promise<Signer> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new ProvenantError('E_KEY_MISSING', `cannot read key file: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      hint: 'pass a PKCS#8 PEM private key file (ed25519, ECDSA P-256 or P-384), a pkcs11: or an awskms:// reference (docs/keys.md)',
      cause: e,
    });
  }
  return keyObjectSigner(readPrivateKeyPem(pem, file, passphraseFor(name, env), `set ${passphraseEnvNames(name).join(' or ')} to the key's passphrase`));
}

/** A Signer over an in-memory private key (ed25519: raw signature; ecdsa: sha256/sha384 + DER). */
export function keyObjectSigner(privateKey: KeyObject): Signer {
  const publicKey = tufPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  const publicKeyPem = spkiPem(createPublicKey(privateKey));
  const algorithm = SCHEME_DIGEST[publicKey.scheme];
  return {
    keyId,
    publicKey,
    publicKeyPem,
    sign: async (data) => new Uint8Array(cryptoSign(algorithm, data, privateKey)),
  };
}

function spkiPem(pub: KeyObject): string {
  return pub.export({ type: 'spki', format: 'pem' }) as string;
}
