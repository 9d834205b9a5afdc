import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';

/**
 * The public files a key store keeps beside its keys, which make it the publisher's trust anchor
 * (docs/keys.md): `root.json` (trusted-root.ts), the repository's settings and the newest
 * timestamp it committed or verified. Not secret, but only the operator may change them.
 */
/** The authoritative settings; the repository holds a public copy under the same name. */
export const SETTINGS_FILE = 'provenant-repository.json';
/** The newest timestamp metadata this key store committed or verified: its rollback check. */
export const KEPT_TIMESTAMP_FILE = 'timestamp.json';

/** A key store file's bytes, or undefined when it does not exist. */
export async function readKeyStoreFile(keysDir: string, name: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path.join(keysDir, name)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function writeKeyStoreFile(keysDir: string, name: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path.join(keysDir, name), bytes, 0o644);
}
