import type { ImmutablePutResult, ObjectProps, Storage, StoredObject } from '../../src/storage/storage.ts';

/**
 * Wraps a real Storage and fails the k-th write (1-based), to stand in for a publisher that dies
 * there. 'before': the write never reaches the server (a crash just before it). 'after': it lands
 * but the caller sees an error (a lost response, then a crash). Reads pass through untouched, and
 * every write attempted is logged so a test can enumerate every crash position of a publish.
 */
export type FaultMode = 'before' | 'after';

export class InjectedFault extends Error {
  constructor(k: number, key: string, mode: FaultMode) {
    super(`injected failure ${mode} write #${k} (${key})`);
    this.name = 'InjectedFault';
  }
}

export class FaultyStorage implements Storage {
  readonly writes: string[] = [];
  private readonly inner: Storage;
  private readonly failAt: number | undefined;
  private readonly mode: FaultMode;
  private readonly beforeWrite: ((k: number, key: string) => void) | undefined;

  /** `beforeWrite` runs before every write (e.g. to cut the network at the k-th one). */
  constructor(inner: Storage, failAt?: number, mode: FaultMode = 'before', beforeWrite?: (k: number, key: string) => void) {
    this.inner = inner;
    this.failAt = failAt;
    this.mode = mode;
    this.beforeWrite = beforeWrite;
  }

  get location(): string {
    return this.inner.location;
  }

  get(key: string): Promise<StoredObject | undefined> {
    return this.inner.get(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  putImmutable(key: string, bytes: Uint8Array, props: ObjectProps): Promise<ImmutablePutResult> {
    return this.write(key, () => this.inner.putImmutable(key, bytes, props));
  }

  putIfMatch(key: string, bytes: Uint8Array, props: ObjectProps, expectedEtag: string | undefined): Promise<string> {
    return this.write(key, () => this.inner.putIfMatch(key, bytes, props, expectedEtag));
  }

  put(key: string, bytes: Uint8Array, props: ObjectProps): Promise<void> {
    return this.write(key, () => this.inner.put(key, bytes, props));
  }

  private async write<T>(key: string, op: () => Promise<T>): Promise<T> {
    this.writes.push(key);
    const k = this.writes.length;
    this.beforeWrite?.(k, key);
    if (k !== this.failAt) return op();
    if (this.mode === 'after') await op();
    throw new InjectedFault(k, key, this.mode);
  }
}
