import { existsSync } from 'node:fs';
import { link, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { privateTempName, writeFileAtomic, writeNewFileSynced } from '../util/atomic-write.ts';
import { sha256Hex } from '../util/hash.ts';
import { withFileLock } from './file-lock.ts';
import type { ImmutablePutResult, ObjectProps, Storage, StoredObject } from './storage.ts';

/**
 * The local-directory backend (the embedded default). Objects are plain files under `root`;
 * the etag is the sha256 of the content, so compare-and-swap needs no side table.
 *
 * Hidden names (a path segment starting with `.`) are reserved for this backend's temp and
 * lock files: they are refused as keys and never listed.
 */
export class FsStorage implements Storage {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = this.root;
  }

  /** Absolute path of a key, after checking it cannot escape the root. */
  pathOf(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async get(key: string): Promise<StoredObject | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(key));
    } catch (e) {
      if (isNoEnt(e)) return undefined;
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw e;
    }
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), etag: sha256Hex(bytes) };
  }

  async putImmutable(key: string, bytes: Uint8Array, _props: ObjectProps): Promise<ImmutablePutResult> {
    const file = this.pathOf(key);
    const existing = await this.get(key);
    if (existing) return compareImmutable(key, existing.bytes, bytes);
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    // Write the whole object under a private name, then hard-link it into place: link() fails
    // if the name exists, so two writers cannot both create it and no reader sees a partial file.
    const tmp = privateTempName(file);
    try {
      await writeNewFileSynced(tmp, bytes);
      try {
        await link(tmp, file);
        return 'created';
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const raced = await this.get(key);
        if (!raced) throw e;
        return compareImmutable(key, raced.bytes, bytes);
      }
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async putIfMatch(key: string, bytes: Uint8Array, _props: ObjectProps, expectedEtag: string | undefined): Promise<string> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // The compare and the rename happen under one lock so two processes cannot both win.
    return withFileLock(this.lockPath(`cas-${sha256Hex(key)}`), async () => {
      const current = await this.get(key);
      if (current?.etag !== expectedEtag) {
        throw new ProvenantError(
          'E_CAS_CONFLICT',
          `${key} changed since it was read (expected ${expectedEtag ?? 'no object'}, found ${current?.etag ?? 'no object'})`,
          { exitClass: 'conflict', file: path.join(this.root, key), hint: 're-read the object and retry' },
        );
      }
      await writeFileAtomic(file, bytes);
      return sha256Hex(bytes);
    });
  }

  async put(key: string, bytes: Uint8Array, _props: ObjectProps): Promise<void> {
    await writeFileAtomic(this.pathOf(key), bytes);
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    // Only the prefix's directory is walked: listing status/ must not read every wheel's directory.
    const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/+$/, '');
    if (dir.split('/').some((s) => s === '..' || s.startsWith('.'))) return [];
    await walk(this.root, dir, out);
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  /** A lock file in the backend's private area (`<root>/.provenant/locks/`). */
  lockPath(name: string): string {
    return path.join(this.root, '.provenant', 'locks', `${name}.lock`);
  }

  /**
   * Runs `fn` holding a named repository-wide lock (e.g. one publisher at a time). Without a
   * repository directory there is nothing to protect, and creating one for the lock would leave
   * a stray directory behind when `fn` fails (e.g. publishing to a mistyped path).
   */
  withLock<T>(name: string, fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
    if (!existsSync(this.root)) return fn();
    return withFileLock(this.lockPath(name), fn, timeoutMs);
  }
}

function checkKey(key: string): string {
  const segments = key.split('/');
  const bad =
    key.length === 0 ||
    key.includes('\\') ||
    key.includes('\0') ||
    segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'));
  if (bad) {
    throw new ProvenantError('E_STORAGE_KEY', `invalid storage key ${JSON.stringify(key)}`, {
      exitClass: 'internal',
      hint: 'keys are relative slash-separated paths without empty, `.`/`..` or hidden segments',
    });
  }
  return key;
}

function compareImmutable(key: string, existing: Uint8Array, wanted: Uint8Array): ImmutablePutResult {
  if (Buffer.from(existing).equals(Buffer.from(wanted))) return 'identical';
  throw new ProvenantError('E_IMMUTABLE_CONFLICT', `${key} already exists with different content`, {
    exitClass: 'conflict',
    file: key,
    hint: 'published objects are immutable; publish under a new version instead',
  });
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch (e) {
    if (isNoEnt(e)) return;
    throw e;
  }
  for (const ent of entries) {
    if (ent.name.startsWith('.')) continue;
    const key = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) await walk(root, key, out);
    else if (ent.isFile()) out.push(key);
    else if (ent.isSymbolicLink() && (await stat(path.join(root, key)).catch(() => undefined))?.isFile()) out.push(key);
  }
}

function isNoEnt(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
