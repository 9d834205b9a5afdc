import { ProvenantError } from '../errors.ts';
import { sha256Hex } from '../util/hash.ts';
import type { ImmutablePutResult, ObjectProps, Storage, StoredObject } from './storage.ts';

/** One write a publish made, or on a dry run would have made. */
export interface PlannedWrite {
  key: string;
  size: number;
  contentType: string;
  cacheControl: string | undefined;
  kind: 'create' | 'replace';
}

interface LockingStorage extends Storage {
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Wraps a Storage and lists every write made through it (`plan`), so a release can say exactly
 * what it wrote. With `dryRun`, writes are kept in memory instead: reads see them, so the real
 * publish protocol runs unchanged (it reads back the index state it "wrote") and the backend gets
 * no write request at all.
 */
export class RecordingStorage implements Storage {
  readonly location: string;
  readonly plan: PlannedWrite[] = [];
  readonly dryRun: boolean;
  readonly #inner: Storage;
  readonly #overlay = new Map<string, StoredObject>();

  constructor(inner: Storage, opts: { dryRun: boolean }) {
    this.#inner = inner;
    this.location = inner.location;
    this.dryRun = opts.dryRun;
    const locking = inner as Partial<LockingStorage>;
    // Keep the backend's publish lock for real writes; a dry run writes nothing and needs none.
    if (!opts.dryRun && typeof locking.withLock === 'function') {
      (this as unknown as LockingStorage).withLock = locking.withLock.bind(inner);
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.#overlay.get(key) ?? (await this.#inner.get(key));
  }

  async list(prefix: string): Promise<string[]> {
    const keys = new Set(await this.#inner.list(prefix));
    for (const k of this.#overlay.keys()) if (k.startsWith(prefix)) keys.add(k);
    return [...keys].sort();
  }

  async putImmutable(key: string, bytes: Uint8Array, props: ObjectProps): Promise<ImmutablePutResult> {
    if (!this.dryRun) {
      const r = await this.#inner.putImmutable(key, bytes, props);
      if (r === 'created') this.#note(key, bytes, props, 'create');
      return r;
    }
    const existing = await this.get(key);
    if (!existing) {
      this.#keep(key, bytes, props, 'create');
      return 'created';
    }
    if (sha256Hex(existing.bytes) === sha256Hex(bytes)) return 'identical';
    throw new ProvenantError('E_IMMUTABLE_CONFLICT', `${key} already exists in ${this.location} with different content`, {
      exitClass: 'conflict',
      file: key,
      hint: 'published objects never change; publish under a new version',
    });
  }

  async putIfMatch(key: string, bytes: Uint8Array, props: ObjectProps, expectedEtag: string | undefined): Promise<string> {
    if (!this.dryRun) {
      const etag = await this.#inner.putIfMatch(key, bytes, props, expectedEtag);
      this.#note(key, bytes, props, expectedEtag === undefined ? 'create' : 'replace');
      return etag;
    }
    const current = await this.get(key);
    if (current?.etag !== expectedEtag) {
      throw new ProvenantError('E_CAS_CONFLICT', `${key} changed in ${this.location} since it was read`, { exitClass: 'conflict', file: key, hint: 'another publisher committed meanwhile: run the command again' });
    }
    return this.#keep(key, bytes, props, current ? 'replace' : 'create');
  }

  async put(key: string, bytes: Uint8Array, props: ObjectProps): Promise<void> {
    const kind = (await this.get(key)) ? 'replace' : 'create';
    if (this.dryRun) this.#keep(key, bytes, props, kind);
    else {
      await this.#inner.put(key, bytes, props);
      this.#note(key, bytes, props, kind);
    }
  }

  #keep(key: string, bytes: Uint8Array, props: ObjectProps, kind: PlannedWrite['kind']): string {
    const etag = `dry-run:${sha256Hex(bytes)}`;
    this.#overlay.set(key, { bytes, etag });
    this.#note(key, bytes, props, kind);
    return etag;
  }

  #note(key: string, bytes: Uint8Array, props: ObjectProps, kind: PlannedWrite['kind']): void {
    this.plan.push({ key, size: bytes.byteLength, contentType: props.contentType, cacheControl: props.cacheControl, kind });
  }
}
