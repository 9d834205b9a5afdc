import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { readKeyStoreFile, writeKeyStoreFile } from './trust-files.ts';

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
