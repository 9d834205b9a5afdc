import { ProvenantError } from '../errors.ts';
import { signersForRole } from '../signers/key-store.ts';
import type { Signer } from '../signers/signer.ts';

/**
 * Where the repository writer gets signers: asked per role with the key ids the trusted
 * metadata names for it, so a key the repository does not trust is never used. The key store
 * is one source; HSM/KMS sources implement the same call.
 */
export interface SignerSource {
  /** At least `threshold` signers among `keyIds`, or E_KEY_MISSING / E_KEY_UNKNOWN naming `role`. */
  signersFor(role: string, keyIds: readonly string[], threshold: number): Promise<Signer[]>;
}

/** Signers from a key-store directory (docs/keys.md), each key read and decrypted once. */
export function keyStoreSignerSource(keysDir: string, env: NodeJS.ProcessEnv = process.env): SignerSource {
  const cache = new Map<string, Promise<Signer[]>>();
  return {
    signersFor(role, keyIds, threshold) {
      const k = `${role}\0${[...keyIds].sort().join()}\0${threshold}`;
      let p = cache.get(k);
      if (!p) {
        p = signersForRole(keysDir, role, keyIds, threshold, env);
        cache.set(k, p);
        p.catch(() => cache.delete(k));
      }
      return p;
    },
  };
}

/** Signers already in memory (tests, or a caller that loaded keys itself). */
export function fixedSignerSource(signers: readonly Signer[]): SignerSource {
  return {
    async signersFor(role, keyIds, threshold) {
      const chosen = signers.filter((s) => keyIds.includes(s.keyId)).slice(0, threshold);
      if (chosen.length < threshold) {
        throw new ProvenantError('E_KEY_MISSING', `role ${role} needs ${threshold} signing key(s); ${chosen.length} available`, {
          field: role,
          hint: 'pass the signers for every role the operation re-signs',
        });
      }
      return chosen;
    },
  };
}
