import { createPublicKey, type KeyObject } from 'node:crypto';
import { ProvenantError } from '../errors.ts';
import type { Policy } from '../policy/policy.ts';
import { keyIdentity } from '../util/key-identity.ts';
import type { PublicKeyInfo } from '../signers/signer.ts';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * A policy key as a KeyObject. `keyval.public` is what TUF tooling writes: for ed25519 the raw
 * key in hex (securesystemslib) or SPKI PEM, for ecdsa SPKI PEM. The key's actual type must be
 * the one the policy declares, so a policy cannot be read two ways.
 */
export function policyKeyObject(keyId: string, key: PublicKeyInfo): KeyObject {
  const bad = (why: string) =>
    new ProvenantError('E_POLICY_INVALID', `attestation key ${keyId} ${why}`, {
      field: `attestation.keys.${keyId}.keyval.public`,
      hint: 'ed25519 keys are 64 hex characters or SPKI PEM; ecdsa keys are SPKI PEM on P-256 (docs/policy.md)',
    });
  const text = key.keyval.public.trim();
  let obj: KeyObject;
  try {
    if (text.startsWith('-----BEGIN PUBLIC KEY-----')) obj = createPublicKey(text);
    else if (key.keytype === 'ed25519' && /^[0-9a-fA-F]{64}$/.test(text)) {
      obj = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(text, 'hex')]), format: 'der', type: 'spki' });
    } else throw bad('is neither SPKI PEM nor a raw ed25519 key in hex');
  } catch (e) {
    if (e instanceof ProvenantError) throw e;
    throw bad(`cannot be read: ${(e as Error).message}`);
  }
  const ok =
    key.keytype === 'ed25519'
      ? obj.asymmetricKeyType === 'ed25519' && key.scheme === 'ed25519'
      : obj.asymmetricKeyType === 'ec' && obj.asymmetricKeyDetails?.namedCurve === 'prime256v1' && key.scheme === 'ecdsa-sha2-nistp256';
  if (!ok) throw bad(`is not a ${key.keytype}/${key.scheme} key as the policy declares`);
  return obj;
}

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  /** The key's public parameters (src/util/key-identity.ts): two key ids naming one key count once. */
  identity: string;
}

/** Every attestation key of the policy, read and checked. The ONLY source of trusted keys. */
export function trustedKeys(policy: Policy): Map<string, TrustedKey> {
  const out = keyMap(policy.attestation.keys);
  const revoked = revokedKeys(policy);
  for (const r of revoked.values()) {
    const same = [...out.values()].find((k) => k.identity === r.identity);
    if (same) {
      // The same key under two ids, trusted and revoked at once: the policy cannot mean both.
      throw new ProvenantError('E_POLICY_INVALID', `attestation key ${same.keyId} is also revoked (as ${r.keyId}); a key cannot be both trusted and revoked`, {
        field: `attestation.revokedKeys.${r.keyId}`,
        hint: 'remove the key from attestation.keys (docs/attestation-keys.md)',
      });
    }
  }
  return out;
}

/** The policy's revoked attestation keys (never trusted): only to recognise, and name, what they signed. */
export function revokedKeys(policy: Policy): Map<string, TrustedKey> {
  return keyMap(policy.attestation.revokedKeys ?? {});
}

function keyMap(keys: Record<string, PublicKeyInfo>): Map<string, TrustedKey> {
  const out = new Map<string, TrustedKey>();
  for (const [keyId, k] of Object.entries(keys)) {
    const key = policyKeyObject(keyId, k);
    out.set(keyId, { keyId, key, identity: keyIdentity(key) });
  }
  return out;
}
