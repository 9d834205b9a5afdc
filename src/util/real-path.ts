import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/**
 * Where `p` really is, symlinks followed, also for paths that do not exist yet (a directory
 * that a command is about to create): the real path of the nearest existing ancestor plus the
 * rest, and a dangling link resolved to the target it names. Containment checks compare these,
 * so neither a symlink nor a not-yet-created directory can slip a key store into a repository.
 */
export function realPathOf(p: string): string {
  return resolveLoose(path.resolve(p), 0);
}

function resolveLoose(abs: string, depth: number): string {
  try {
    return realpathSync.native(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
  }
  const parent = path.dirname(abs);
  if (parent === abs) return abs;
  const realParent = resolveLoose(parent, depth);
  const here = path.join(realParent, path.basename(abs));
  // 40 is the kernel's own limit on links followed while resolving one path (ELOOP).
  if (depth < 40 && lstatSync(here, { throwIfNoEntry: false })?.isSymbolicLink()) {
    return resolveLoose(path.resolve(realParent, readlinkSync(here)), depth + 1);
  }
  return here;
}

/** True when `inner` is `outer` or below it (both absolute, already resolved). */
export function isWithin(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Where an open file really is: the kernel's name for the descriptor where there is one (Linux
 * /proc), else `requested` resolved again; either way the answer must lead to the very inode that
 * is open (`opened`), or it is undefined. Checks made on paths before the open cannot see a
 * directory swapped for a symlink in between; this looks at what the descriptor reads.
 */
export function openedPath(fd: number, requested: string, opened: Stats): string | undefined {
  let real: string;
  try {
    real = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    try {
      real = realpathSync.native(requested);
    } catch {
      return undefined;
    }
  }
  const there = statSync(real, { throwIfNoEntry: false });
  return there !== undefined && there.dev === opened.dev && there.ino === opened.ino ? real : undefined;
}
