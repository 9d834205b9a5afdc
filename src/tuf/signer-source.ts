import { ProvenantError } from '../errors.ts';
import { cachingKeyOpener, signersForRole } from '../signers/key-store.ts';
import { readTrustedRoot, writeTrustedRoot } from '../signers/trusted-root.ts';
import type { Signer } from '../signers/signer.ts';

/**
 * Where the repository writer gets signers: asked per role with the key ids the trusted
 * metadata names for it, so a key the repository does not trust is never used. The key store
 * is the source the CLI uses; its keys may be files, PKCS#11 tokens or KMS keys (docs/keys.md).
 */
export interface SignerSource {
  /** At least `threshold` signers among `keyIds`, or E_KEY_MISSING / E_KEY_UNKNOWN naming `role`. */
  signersFor(role: string, keyIds: readonly string[], threshold: number): Promise<Signer[]>;
  /** The root metadata the operator trusts: where the repository's root chain is checked from. */
  trustedRoot(): Promise<Uint8Array>;
  /** Records a newer root this operator signed (after a root refresh or rotation). */
  trustRoot(root: Uint8Array): Promise<void>;
  /** Ends device sessions and clients the source opened (PKCS#11, KMS). */
  close?(): Promise<void>;
}

/** Signers and the trusted root from a key-store directory (docs/keys.md), each key opened (read, decrypted, logged in) once. */
export function keyStoreSignerSource(keysDir: string, env: NodeJS.ProcessEnv = process.env): SignerSource {
  const keys = cachingKeyOpener(keysDir, env);
  return {
    signersFor: (role, keyIds, threshold) => signersForRole(keysDir, role, keyIds, threshold, env, keys.open),
    trustedRoot: () => readTrustedRoot(keysDir),
    trustRoot: (root) => writeTrustedRoot(keysDir, root),
    close: () => keys.close(),
  };
}

/** Signers and a trusted root already in memory (tests, or a caller that loaded keys itself). */
export function fixedSignerSource(signers: readonly Signer[], root: Uint8Array): SignerSource {
  let trusted = root;
  return {
    trustedRoot: async () => trusted,
    trustRoot: async (r) => void (trusted = r),
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
