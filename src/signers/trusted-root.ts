import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import type { TrustAnchor } from '../tuf/trusted-state.ts';
import { KEPT_TIMESTAMP_FILE, readKeyStoreFile, SETTINGS_FILE, writeKeyStoreFile } from './trust-files.ts';

/**
 * The root metadata this operator trusts, kept in the key store beside the keys (not secret).
 * A publisher starts the repository's root chain here, never from the repository it writes to:
 * otherwise anyone able to write to the bucket could swap `1.root.json` for one listing their
 * keys and have the next `repo refresh` sign it with the real root key.
 */
export const TRUSTED_ROOT_FILE = 'root.json';

export async function readTrustedRoot(keysDir: string): Promise<Uint8Array> {
  const root = await readKeyStoreFile(keysDir, TRUSTED_ROOT_FILE);
  if (root) return root;
  throw new ProvenantError('E_TRUSTED_ROOT_MISSING', `the key store has no trusted root metadata`, {
    exitClass: 'input',
    file: path.join(keysDir, TRUSTED_ROOT_FILE),
    hint: 'repo init writes it; for a publisher set up elsewhere, copy root.json from the key store repo init made (the file hosts get), never from the repository',
  });
}

export async function writeTrustedRoot(keysDir: string, root: Uint8Array): Promise<void> {
  await writeKeyStoreFile(keysDir, TRUSTED_ROOT_FILE, root);
}

/**
 * What a read of the repository checks it against, from a key store that may hold only some of
 * it: the trusted root, the authoritative settings and the kept timestamp (E_REPO_ROLLBACK), each
 * when present. Undefined without a root.json: the caller falls back to the repository's own
 * 1.root.json and says so. Every command reading the repository with a key store uses this, so
 * none checks less than another.
 */
export async function keyStoreAnchor(keysDir: string): Promise<TrustAnchor | undefined> {
  const root = await readKeyStoreFile(keysDir, TRUSTED_ROOT_FILE);
  if (!root) return undefined;
  const fileIn = async (name: string) => {
    const bytes = await readKeyStoreFile(keysDir, name);
    return bytes && { bytes, file: path.join(keysDir, name) };
  };
  return { root, settings: await fileIn(SETTINGS_FILE), kept: await fileIn(KEPT_TIMESTAMP_FILE) };
}
