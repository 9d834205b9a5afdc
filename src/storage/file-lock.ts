import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';

/**
 * A lock file shared by processes on one machine (or one shared filesystem): created with
 * O_EXCL, holding the owner's host, pid and start time. A lock whose owner process is gone
 * (same host) or that is older than `staleMs` (other hosts) is broken, so a crash never
 * wedges a repository. So is one that still holds no owner record `GARBLED_MS` after it was
 * written (its writer needs an instant): that is no lock of ours but something planted by whoever
 * can write to the directory, which must not keep every publisher out.
 */
export interface LockOptions {
  timeoutMs?: number;
  staleMs?: number;
}

interface LockOwner {
  host: string;
  pid: number;
  time: number;
  nonce: string;
}

/** How long a lock file may hold no owner record before it is taken for planted, not being written. */
const GARBLED_MS = 5_000;

export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 60_000, staleMs = 10 * 60_000): Promise<T> {
  const nonce = await acquire(lockFile, { timeoutMs, staleMs });
  try {
    return await fn();
  } finally {
    await release(lockFile, nonce);
  }
}

async function acquire(lockFile: string, { timeoutMs = 60_000, staleMs = 600_000 }: LockOptions): Promise<string> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const owner: LockOwner = { host: hostname(), pid: process.pid, time: Date.now(), nonce: randomBytes(8).toString('hex') };
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(owner));
      } finally {
        await fh.close();
      }
      return owner.nonce;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = await readOwner(lockFile);
    if (held === 'garbled' || (held && isStale(held, staleMs))) {
      await breakLock(lockFile, held);
      continue;
    }
    if (Date.now() > deadline) {
      throw new ProvenantError('E_LOCK_TIMEOUT', `could not take the lock ${lockFile} within ${timeoutMs} ms`, {
        exitClass: 'conflict',
        file: lockFile,
        hint: `${held ? `another process (pid ${held.pid} on ${held.host})` : 'another process'} holds it; wait for it to finish, or if no provenant command is using this repository (a lock left on a shared file system, or planted), remove ${lockFile}`,
      });
    }
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 50);
  }
}

async function release(lockFile: string, nonce: string): Promise<void> {
  const held = await readOwner(lockFile);
  // Only remove our own lock: if it was broken as stale meanwhile, the file belongs to another.
  if (held !== 'garbled' && held?.nonce === nonce) await rm(lockFile, { force: true });
}

/** The owner record; undefined when the file is gone or may still be being written; 'garbled' when it never will be. */
async function readOwner(lockFile: string): Promise<LockOwner | 'garbled' | undefined> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch {
    return undefined; // released meanwhile
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner> | null;
    if (typeof owner?.nonce === 'string' && typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.time === 'number') return owner as LockOwner;
  } catch {
    // not JSON (yet)
  }
  const written = await stat(lockFile).then((s) => s.mtimeMs, () => undefined);
  return written !== undefined && Date.now() - written > GARBLED_MS ? 'garbled' : undefined;
}

function isStale(owner: LockOwner, staleMs: number): boolean {
  if (owner.host === hostname()) {
    try {
      process.kill(owner.pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return Date.now() - owner.time > staleMs;
}

async function breakLock(lockFile: string, stale: LockOwner | 'garbled'): Promise<void> {
  // Move it aside atomically (only one breaker wins), then check we moved the stale one and not a
  // lock someone created in between; if we did, put it back.
  const aside = `${lockFile}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockFile, aside);
  } catch {
    return;
  }
  const moved = await readOwner(aside);
  const another = stale === 'garbled' ? moved !== 'garbled' : moved !== undefined && (moved === 'garbled' || moved.nonce !== stale.nonce);
  if (another) await link(aside, lockFile).catch(() => undefined);
  await rm(aside, { force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
