import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { cachingKeyOpener, signersForRole } from '../signers/key-store.ts';
import { KEPT_TIMESTAMP_FILE, SETTINGS_FILE, readKeyStoreFile, writeKeyStoreFile } from '../signers/trust-files.ts';
import { readTrustedRoot, writeTrustedRoot } from '../signers/trusted-root.ts';
import type { Signer } from '../signers/signer.ts';
import type { Reporter } from '../reporter.ts';
import type { Storage } from '../storage/storage.ts';
import type { TrustAnchor } from './trusted-state.ts';

/**
 * Where the repository writer gets signers: asked per role with the key ids the trusted
 * metadata names for it, so a key the repository does not trust is never used. The key store
 * is the source the CLI uses; its keys may be files, PKCS#11 tokens or KMS keys (docs/keys.md).
 * It also holds what the publisher trusts instead of the repository: the root, the settings and
 * the newest timestamp it saw.
 */
export interface SignerSource {
  /** At least `threshold` signers among `keyIds`, or E_KEY_MISSING / E_KEY_UNKNOWN naming `role`. */
  signersFor(role: string, keyIds: readonly string[], threshold: number): Promise<Signer[]>;
  /** The root metadata the operator trusts: where the repository's root chain is checked from. */
  trustedRoot(): Promise<Uint8Array>;
  /** Records a newer root this operator signed (after a root refresh or rotation). */
  trustRoot(root: Uint8Array): Promise<void>;
  /** The settings signing uses (expiry periods, …), or E_TRUSTED_SETTINGS_MISSING. */
  trustedSettings(): Promise<{ bytes: Uint8Array; file: string }>;
  /** Records the settings after a ceremony changed keys or thresholds (docs/ceremony.md). */
  trustSettings(settings: Uint8Array): Promise<void>;
  /** The newest timestamp metadata this source committed or verified, if any. */
  keptTimestamp(): Promise<{ bytes: Uint8Array; file: string } | undefined>;
  /** Records timestamp metadata it committed or verified (the caller checks it is newer). */
  keepTimestamp(timestamp: Uint8Array): Promise<void>;
  /** Ends device sessions and clients the source opened (PKCS#11, KMS). */
  close?(): Promise<void>;
}

/** Signers and the trusted root from a key-store directory (docs/keys.md), each key opened (read, decrypted, logged in) once. */
export function keyStoreSignerSource(keysDir: string, env: NodeJS.ProcessEnv = process.env): SignerSource {
  const keys = cachingKeyOpener(keysDir, env);
  const keptFile = path.join(keysDir, KEPT_TIMESTAMP_FILE);
  return {
    signersFor: (role, keyIds, threshold) => signersForRole(keysDir, role, keyIds, threshold, env, keys.open),
    trustedRoot: () => readTrustedRoot(keysDir),
    trustRoot: (root) => writeTrustedRoot(keysDir, root),
    async trustedSettings() {
      const file = path.join(keysDir, SETTINGS_FILE);
      const bytes = await readKeyStoreFile(keysDir, SETTINGS_FILE);
      if (bytes) return { bytes, file };
      throw new ProvenantError('E_TRUSTED_SETTINGS_MISSING', `the key store has no ${SETTINGS_FILE}: the settings signing uses come from there, not from the repository`, {
        exitClass: 'input',
        file,
        hint: `for a repository made before this check: read roles.*.expires in the repository's ${SETTINGS_FILE} (each within the limits of docs/repository.md), then copy that file to ${file}`,
      });
    },
    trustSettings: (settings) => writeKeyStoreFile(keysDir, SETTINGS_FILE, settings),
    async keptTimestamp() {
      const bytes = await readKeyStoreFile(keysDir, KEPT_TIMESTAMP_FILE);
      return bytes ? { bytes, file: keptFile } : undefined;
    },
    keepTimestamp: (ts) => writeKeyStoreFile(keysDir, KEPT_TIMESTAMP_FILE, ts),
    close: () => keys.close(),
  };
}

/** Signers, trusted root and settings already in memory (tests, or a caller that loaded keys itself). */
export function fixedSignerSource(signers: readonly Signer[], root: Uint8Array, initialSettings: Uint8Array): SignerSource {
  let trusted = root;
  let settings = initialSettings;
  let kept: Uint8Array | undefined;
  return {
    trustedRoot: async () => trusted,
    trustRoot: async (r) => void (trusted = r),
    trustedSettings: async () => ({ bytes: settings, file: `(in memory) ${SETTINGS_FILE}` }),
    trustSettings: async (s) => void (settings = s),
    keptTimestamp: async () => (kept ? { bytes: kept, file: `(in memory) ${KEPT_TIMESTAMP_FILE}` } : undefined),
    keepTimestamp: async (ts) => void (kept = ts),
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

/** Everything a writer checks the repository against, from the source rather than the repository. */
export async function trustAnchorOf(source: SignerSource): Promise<TrustAnchor> {
  return { root: await source.trustedRoot(), settings: await source.trustedSettings(), kept: await source.keptTimestamp() };
}

/**
 * Moves the source's kept timestamp forward to `timestamp` (verified in, or just committed to,
 * `storage`) when it is newer. Not on a dry run (RecordingStorage's): its commit never reached the
 * repository. A key store that cannot be written (read-only in CI) only weakens later rollback
 * checks, so that is a warning, not a failure after a commit.
 */
export async function keepNewerTimestamp(source: SignerSource, storage: Storage, timestamp: Uint8Array, reporter: Reporter): Promise<void> {
  if ((storage as { dryRun?: unknown }).dryRun === true) return;
  const version = (bytes: Uint8Array) => (JSON.parse(new TextDecoder().decode(bytes)) as { signed: { version: number } }).signed.version;
  try {
    const kept = await source.keptTimestamp();
    if (kept && version(kept.bytes) >= version(timestamp)) return;
    await source.keepTimestamp(timestamp);
  } catch (e) {
    reporter.warn(`could not record timestamp version ${version(timestamp)} in the key store (${(e as Error).message}): later rollback checks rely on the repository alone`);
  }
}
