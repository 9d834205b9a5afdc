import { lstat, mkdir, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { isWithin, realPathOf } from '../util/real-path.ts';

/**
 * Where a key store may be and how to recognise one. Keys must never be published or served,
 * so every check here compares real paths (symlinks followed), not the names on the command line.
 */

/** The key store's index; its presence is what marks a directory as a key store. */
export const KEY_INDEX_FILE = 'keys.json';

/** Written into every key store `repo init` creates: git ignores the whole directory. */
export const KEY_STORE_GITIGNORE = '.gitignore';
const GITIGNORE_TEXT = '# provenant key store: private keys never belong in git (written by provenant)\n*\n';

const FIX_KEYS = 'run `provenant repo init` to create the key store, or pass --keys DIR pointing at yours';

export async function isKeyStoreDir(dir: string): Promise<boolean> {
  return (await stat(path.join(dir, KEY_INDEX_FILE)).catch(() => undefined)) !== undefined;
}

/**
 * Key material by name: a repository publishes wheels, metadata, JSON, pointers and HTML, never
 * a `.pem` or `.key` file, so any such file is taken for a private key.
 */
export const KEY_FILE_NAME = /\.(pem|key)$/i;

/** How many leading bytes of a file `looksLikePrivateKey` needs. */
export const KEY_SNIFF_BYTES = 4096;

/** Key material by content: a PEM private key block (PKCS#8, encrypted, RSA, EC, OpenSSH) near the start. */
export function looksLikePrivateKey(head: Uint8Array): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, KEY_SNIFF_BYTES)).toString('latin1'));
}

/** Keys must never be published: a key store inside the repository directory (or around it) is refused. */
export function checkKeysOutsideRepository(keysDir: string, repositoryDir: string): void {
  const keys = realPathOf(keysDir);
  const repository = realPathOf(repositoryDir);
  const resolved = (p: string, real: string) => (path.resolve(p) === real ? p : `${p} (really ${real})`);
  if (isWithin(repository, keys)) {
    throw new ProvenantError('E_KEYS_IN_REPOSITORY', `the key store ${resolved(keysDir, keys)} is inside the repository ${resolved(repositoryDir, repository)}`, {
      exitClass: 'usage',
      field: '--keys',
      hint: 'keep keys outside the published directory, e.g. --keys ./keys beside ./repository',
    });
  }
  if (isWithin(keys, repository)) {
    throw new ProvenantError('E_REPOSITORY_IN_KEYS', `the repository ${resolved(repositoryDir, repository)} is inside the key store ${resolved(keysDir, keys)}`, {
      exitClass: 'usage',
      field: '--repository',
      hint: 'keep the repository outside the key store, e.g. --repository ./repository beside ./keys',
    });
  }
}

/** What is at `keysDir`, without following a dangling link into an error nobody can read. */
async function keyStoreEntry(keysDir: string): Promise<'directory' | 'missing' | 'not-directory' | { dangling: string }> {
  const st = await stat(keysDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (st) return st.isDirectory() ? 'directory' : 'not-directory';
  const link = await lstat(keysDir).catch(() => undefined);
  return link?.isSymbolicLink() ? { dangling: await readlink(keysDir) } : 'missing';
}

function danglingLink(keysDir: string, target: string): ProvenantError {
  const real = realPathOf(keysDir);
  return new ProvenantError('E_KEYSTORE_DANGLING', `the key store ${keysDir} is a symbolic link to ${target}, which does not exist`, {
    exitClass: 'input',
    file: keysDir,
    field: '--keys',
    hint: `create the directory it points to (mkdir -p ${real}), or pass --keys DIR with the real key store`,
  });
}

function notDirectory(keysDir: string): ProvenantError {
  return new ProvenantError('E_KEYSTORE_NOT_DIRECTORY', `the key store ${keysDir} is not a directory`, { exitClass: 'input', file: keysDir, field: '--keys', hint: FIX_KEYS });
}

/** A key store that must already exist (to sign with); a missing one says so, not "no key named …". */
export async function requireKeyStore(keysDir: string): Promise<void> {
  const entry = await keyStoreEntry(keysDir);
  if (entry === 'directory') return;
  if (entry === 'not-directory') throw notDirectory(keysDir);
  if (entry !== 'missing') throw danglingLink(keysDir, entry.dangling);
  throw new ProvenantError('E_KEYSTORE_MISSING', `there is no key store at ${keysDir}`, { exitClass: 'input', file: keysDir, field: '--keys', hint: FIX_KEYS });
}

/** The key store directory, created private (0700) if missing, with a `.gitignore` that keeps it out of git. */
export async function ensureKeyStoreDir(keysDir: string): Promise<void> {
  const entry = await keyStoreEntry(keysDir);
  if (entry === 'not-directory') throw notDirectory(keysDir);
  if (typeof entry === 'object') throw danglingLink(keysDir, entry.dangling);
  if (entry === 'missing') await mkdir(keysDir, { recursive: true, mode: 0o700 });
  // Never replaces a .gitignore the owner wrote.
  await writeFile(path.join(keysDir, KEY_STORE_GITIGNORE), GITIGNORE_TEXT, { flag: 'wx', mode: 0o600 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}
