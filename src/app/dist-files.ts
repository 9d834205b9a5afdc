import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { writeNewFileSynced } from '../util/atomic-write.ts';

export interface DistFile {
  name: string;
  bytes: Uint8Array;
}

function sideName(dir: string, name: string, kind: 'tmp' | 'old'): string {
  return path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.${kind}`);
}

/** NAME_MAX of Linux and macOS file systems, less what sideName adds (`.` + `.` + 12 hex + `.tmp`). */
const MAX_DIST_NAME = 255 - 18;

/** A name the file system cannot hold (a 300-digit version) is the user's input, not a crash. */
function assertNameFits(dir: string, name: string): void {
  const bytes = Buffer.byteLength(name);
  if (bytes <= MAX_DIST_NAME) return;
  throw new ProvenantError('E_DIST_NAME_TOO_LONG', `${name.slice(0, 60)}… is ${bytes} bytes long; a file in dist/ may have at most ${MAX_DIST_NAME} (the file system's 255, less the temporary name's suffix)`, {
    file: dir,
    hint: 'use a shorter version (or project name)',
  });
}

/** Moves an existing regular file out of the way; undefined when there was none. */
async function setAside(dir: string, target: string): Promise<string | undefined> {
  const st = await lstat(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return undefined;
  if (!st.isFile()) {
    throw new ProvenantError('E_DIST_CONFLICT', `${target} exists and is not a regular file`, {
      file: target,
      hint: 'remove or rename it, then build again',
    });
  }
  const old = sideName(dir, path.basename(target), 'old');
  await rename(target, old);
  return old;
}

/**
 * Puts a set of files into `dir` as one unit: all are written to synced temp files first, then
 * renamed into place, each previous version kept aside until every rename succeeded. On any
 * failure the directory is as it was (old files back, nothing new left, a directory we created
 * removed), so a build never leaves a wheel without its pointer and statement.
 */
export async function replaceFilesTogether(dir: string, files: readonly DistFile[]): Promise<void> {
  for (const f of files) assertNameFits(dir, f.name);
  const created = await mkdir(dir, { recursive: true });
  const staged: { tmp: string; target: string }[] = [];
  const placed: { target: string; old: string | undefined }[] = [];
  try {
    for (const f of files) {
      const s = { tmp: sideName(dir, f.name, 'tmp'), target: path.join(dir, f.name) };
      staged.push(s);
      await writeNewFileSynced(s.tmp, f.bytes);
    }
    for (const s of staged) {
      const entry = { target: s.target, old: await setAside(dir, s.target) };
      placed.push(entry);
      await rename(s.tmp, s.target);
    }
  } catch (e) {
    for (const p of placed.reverse()) {
      await rm(p.target, { force: true }).catch(() => undefined);
      if (p.old) await rename(p.old, p.target).catch(() => undefined);
    }
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true }).catch(() => undefined)));
    if (created !== undefined) await rmdir(created).catch(() => undefined);
    throw e;
  }
  await Promise.all(placed.map((p) => (p.old ? rm(p.old, { force: true }) : undefined)));
}
