import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so readers see the old content or the new, never a partial one: a temp file
 * in the same directory, fsync, rename over the target, then fsync the directory.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = privateTempName(file);
  try {
    await writeNewFileSynced(tmp, bytes, mode);
    await rename(tmp, file);
    // The rename lives in the directory: without syncing it, a power loss can bring back the old
    // file (for trusted TUF state, an older version: weaker rollback protection).
    await fsyncPath(dir);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A hidden, unique name beside `file` for writing it before it is moved into place. */
export function privateTempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Creates `file` (which must not exist) with `bytes`, on disk before this resolves. */
export async function writeNewFileSynced(file: string, bytes: Uint8Array | string, mode = 0o644): Promise<void> {
  const fh = await open(file, 'wx', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a file or directory already written by other means (a stream, a rename). */
export async function fsyncPath(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
