import { ProvenantError } from '../errors.ts';
import type { Policy } from './policy.ts';

/**
 * The two ways out for an attestation key (docs/attestation-keys.md): retired (routine; what it
 * signed stays valid, nothing new may be signed by it) and revoked (compromise; what it signed
 * is refused). Pure: the callers read the TUF-distributed policy.
 */
export type AttestationKeyStatus = 'trusted' | 'retired' | 'revoked' | 'unknown';

export function attestationKeyStatus(policy: Policy, keyId: string): AttestationKeyStatus {
  const a = policy.attestation;
  if (a.revokedKeys && Object.hasOwn(a.revokedKeys, keyId)) return 'revoked';
  if (!Object.hasOwn(a.keys, keyId)) return 'unknown';
  return a.retiredKeys?.includes(keyId) ? 'retired' : 'trusted';
}

/**
 * Refuses keys that may not attest a new release: each must be listed in the policy, neither
 * retired nor revoked. `sign`, `publish`, `release` and `repo reattest` call this before anything
 * is written, so no new release depends on a key on its way out.
 */
export function checkKeysMayAttest(policy: Policy, keyIds: readonly string[], field: string): void {
  for (const keyId of keyIds) {
    const status = attestationKeyStatus(policy, keyId);
    if (status === 'trusted') continue;
    const short = `${keyId.slice(0, 12)}…`;
    if (status === 'retired') {
      throw new ProvenantError('E_ATTESTATION_KEY_RETIRED', `attestation key ${short} is retired by the repository's policy: releases it attested stay valid, but it may not attest new ones`, {
        exitClass: 'verification',
        field,
        hint: "sign with the key that replaced it (the policy's attestation.keys, not in retiredKeys); see docs/attestation-keys.md",
      });
    }
    if (status === 'revoked') {
      throw new ProvenantError('E_ATTESTATION_KEY_REVOKED', `attestation key ${short} is revoked by the repository's policy (compromised); hosts refuse what it signs`, {
        exitClass: 'verification',
        field,
        hint: 'sign with a trusted attestation key; see "A compromised attestation key" in docs/attestation-keys.md',
      });
    }
    throw new ProvenantError('E_ATTESTATION_KEY_UNTRUSTED', `attestation key ${short} is not listed in the repository's attestation policy`, {
      exitClass: 'verification',
      field,
      hint: 'sign with a key the policy lists, or publish a policy that lists this key (`provenant repo set-trust --policy`, docs/policy.md)',
    });
  }
}

/**
 * The retired keys among `keyIds` that an attestation relies on: those without which the trusted
 * keys alone would not meet the threshold (empty when it does not rely on any).
 */
export function retiredKeysReliedOn(policy: Policy, keyIds: readonly string[]): string[] {
  const retired = keyIds.filter((k) => attestationKeyStatus(policy, k) === 'retired');
  return retired.length > 0 && keyIds.length - retired.length < policy.attestation.threshold ? retired : [];
}

/**
 * For a release about to be published whose attestation verified with `keyIds`: without the
 * retired keys among them the threshold must still be met, so a retired key never decides a new release.
 */
export function checkNotRetiredAttestation(policy: Policy, keyIds: readonly string[], file: string): void {
  const retired = retiredKeysReliedOn(policy, keyIds);
  if (retired.length === 0) return;
  throw new ProvenantError('E_ATTESTATION_KEY_RETIRED', `the attestation relies on retired key(s) ${retired.map((k) => `${k.slice(0, 12)}…`).join(', ')}: releases they attested stay valid, but they may not attest new ones`, {
    exitClass: 'verification',
    file,
    field: 'dsseEnvelope.signatures',
    hint: "sign again with the key that replaced it (`provenant sign --key NEW` or the key store's attestation key); see docs/attestation-keys.md",
  });
}
