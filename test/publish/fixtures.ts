import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { initRepository, type InitOptions } from '../../src/app/repo.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import type { ImmutablePutResult, ObjectProps, Storage, StoredObject } from '../../src/storage/storage.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { tempDir } from '../helpers/peers.ts';

/** A fresh local repository and key store in a temp directory (small bin count keeps tests quick). */
export async function freshRepository(t: { after(fn: () => unknown): void }, opts: Partial<InitOptions> & { memoryBacked?: boolean } = {}) {
  const dir = opts.memoryBacked ? await memoryTempDir(t) : await tempDir(t);
  const repoDir = path.join(dir, 'repository');
  const keysDir = path.join(dir, 'keys');
  const storage = new FsStorage(repoDir);
  const env = opts.env ?? {};
  const init = await initRepository(storage, undefined, { keysDir, binCount: 16, env, ...opts });
  return { dir, repoDir, keysDir, storage, env, init, signers: keyStoreSignerSource(keysDir, env) };
}

/**
 * A temp directory on tmpfs when the machine has one: the same FsStorage code path, without
 * the disk fsync cost of tens of thousands of small objects.
 */
async function memoryTempDir(t: { after(fn: () => unknown): void }): Promise<string> {
  if (!existsSync('/dev/shm')) return tempDir(t);
  const dir = await mkdtemp('/dev/shm/provenant-test-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** sha256 over every file's path and bytes (hidden lock/temp files excluded): "did anything change?" */
export async function treeHash(root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else h.update(`${p}\0`).update(await readFile(path.join(root, p))).update('\0');
    }
  };
  await walk('');
  return h.digest('hex');
}

/** Storage that records every write (key and kind), passing everything through to `inner`. */
export class RecordingStorage implements Storage {
  readonly inner: Storage;
  readonly writes: { op: 'putImmutable' | 'putIfMatch' | 'put'; key: string; bytes: number }[] = [];
  constructor(inner: Storage) {
    this.inner = inner;
  }
  get location() {
    return this.inner.location;
  }
  get(key: string): Promise<StoredObject | undefined> {
    return this.inner.get(key);
  }
  async putImmutable(key: string, bytes: Uint8Array, props: ObjectProps): Promise<ImmutablePutResult> {
    const r = await this.inner.putImmutable(key, bytes, props);
    if (r === 'created') this.writes.push({ op: 'putImmutable', key, bytes: bytes.byteLength });
    return r;
  }
  async putIfMatch(key: string, bytes: Uint8Array, props: ObjectProps, etag: string | undefined): Promise<string> {
    const r = await this.inner.putIfMatch(key, bytes, props, etag);
    this.writes.push({ op: 'putIfMatch', key, bytes: bytes.byteLength });
    return r;
  }
  async put(key: string, bytes: Uint8Array, props: ObjectProps): Promise<void> {
    await this.inner.put(key, bytes, props);
    this.writes.push({ op: 'put', key, bytes: bytes.byteLength });
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  metadataWrites(): string[] {
    return this.writes.filter((w) => w.key.startsWith('metadata/')).map((w) => w.key);
  }
}
