import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../util/hash.ts';
import { readRegularFile } from '../util/read-regular-file.ts';

/**
 * Small verified objects (pointers, the policy, attestations) kept by their sha256 in the
 * state directory, as python-tuf's `find_cached_target` keeps targets: a later download whose
 * verified metadata pins the same length and sha256 reads them from here instead of the
 * network. The cache is not trusted: `get` returns bytes only when their length and sha256
 * are exactly the pinned ones, which is the same check a fetched copy gets. Entries are
 * immutable (named by content), written without fsync (a lost or torn entry is a miss).
 */
export class TargetCache {
  readonly dir: string;
  private readonly pending: Promise<void>[] = [];
  private made: Promise<unknown> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The object with exactly this length and sha256, or undefined. */
  async get(length: number, sha256: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    try {
      // A FIFO or a huge file left under this name is a miss, not a hang or a memory sink.
      const bytes = await readRegularFile(path.join(this.dir, sha256), length);
      return bytes.length === length && sha256Hex(bytes) === sha256 ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keeps `bytes`, already checked against `sha256` by the caller; written in the background. */
  put(sha256: string, bytes: Uint8Array): void {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return;
    this.pending.push(this.write(sha256, Uint8Array.from(bytes)));
  }

  /** Waits for the background writes (their failures only cost a future fetch). */
  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }

  private async write(sha256: string, bytes: Uint8Array): Promise<void> {
    const file = path.join(this.dir, sha256);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await (this.made ??= mkdir(this.dir, { recursive: true }));
      await writeFile(tmp, bytes, { flag: 'wx' });
      await rename(tmp, file);
    } catch {
      await rm(tmp, { force: true });
    }
  }
}

/** Reads `pin` from the cache, else fetches it with `fetch` (which checks it) and caches it. */
export async function cachedOr(cache: TargetCache | undefined, pin: { length: number; sha256: string }, fetch: () => Promise<Uint8Array>): Promise<Uint8Array> {
  const hit = await cache?.get(pin.length, pin.sha256);
  if (hit) return hit;
  const bytes = await fetch();
  cache?.put(pin.sha256, bytes);
  return bytes;
}
