import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ProvenantError } from '../errors.ts';
import { cappedChunks, newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from '../net/fetcher.ts';
import { fileNotFound, lengthExceeded } from '../net/net-errors.ts';
import { manifestError, MANIFEST_KEY, MANIFEST_MAX_BYTES, parseManifest } from './manifest.ts';
import { indexTar, type TarEntry } from './tar-index.ts';

/**
 * A mirror bundle (`provenant mirror export`'s tar) read in place as a repository: the same
 * Fetcher interface as HTTP and directories, so `provenant download --repository OUT.tar`
 * runs the same checks and opens no socket. The archive is indexed and every entry checked
 * against the manifest before the first object is served; nothing is ever extracted.
 */
export class BundleFetcher implements Fetcher {
  readonly stats: FetchStats = newStats();
  private readonly archive: string;
  private readonly base: string;
  private readonly entries: Map<string, TarEntry>;

  private constructor(archive: string, base: string, entries: Map<string, TarEntry>) {
    this.archive = archive;
    this.base = base;
    this.entries = entries;
  }

  /** `repositoryUrl` is the bundle's file URL with a trailing `/` (repositoryBaseUrl). */
  static async open(repositoryUrl: string): Promise<BundleFetcher> {
    const archive = fileURLToPath(repositoryUrl).replace(/\/+$/, '');
    const entries = await checkedIndex(archive);
    return new BundleFetcher(archive, repositoryUrl, entries);
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    this.stats.requests++;
    const key = url.startsWith(this.base) ? url.slice(this.base.length).split('/').map(decodeURIComponent).join('/') : undefined;
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry) throw fileNotFound(`${this.archive}:${key ?? url}`);
    if (opts.maxLength !== undefined && entry.size > opts.maxLength) throw lengthExceeded(url, opts.maxLength);
    // createReadStream's `end` is inclusive and cannot express zero bytes.
    const stream = entry.size === 0 ? Readable.from([]) : createReadStream(this.archive, { start: entry.offset, end: entry.offset + entry.size - 1, highWaterMark: 1 << 20 });
    return { url, declaredLength: entry.size, chunks: cappedChunks(stream, url, opts.maxLength, this.stats), cancel: () => stream.destroy() };
  }

  close(): void {}
}

/** The file: repository URL names a regular file: a bundle, not a directory. */
export async function isBundleUrl(repositoryUrl: string): Promise<boolean> {
  const st = await stat(fileURLToPath(repositoryUrl).replace(/\/+$/, '')).catch(() => undefined);
  return st?.isFile() ?? false;
}

/** The archive's index, once every entry is known to the manifest with exactly its length and sha256. */
async function checkedIndex(archive: string): Promise<Map<string, TarEntry>> {
  const fh = await open(archive, 'r').catch((e: unknown) => {
    throw new ProvenantError('E_FILE_READ', `${archive}: ${(e as Error).message}`, { exitClass: 'input', file: archive, hint: 'check the bundle path and its permissions' });
  });
  try {
    const size = (await fh.stat()).size;
    const readAt = async (position: number, length: number) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    };
    const entries = await indexTar(readAt, size, archive);
    const m = entries.get(MANIFEST_KEY);
    if (!m) throw manifestError(archive, 'is missing: this archive is not a provenant mirror bundle');
    if (m.size > MANIFEST_MAX_BYTES) throw manifestError(archive, `is ${m.size} bytes, over the ${MANIFEST_MAX_BYTES} a manifest may have`);
    const manifest = parseManifest(await readAt(m.offset, m.size), archive);
    for (const [key, e] of entries) {
      if (key === MANIFEST_KEY) continue;
      const want = manifest.files[key];
      if (!want) throw entryProblem('E_MIRROR_ENTRY_UNLISTED', archive, key, 'is not listed in the manifest');
      if (want.length !== e.size) throw entryProblem('E_MIRROR_ENTRY_DIGEST', archive, key, `is ${e.size} bytes, the manifest lists ${want.length}`);
      const hash = createHash('sha256');
      for (let off = 0; off < e.size; off += 1 << 20) hash.update(await readAt(e.offset + off, Math.min(1 << 20, e.size - off)));
      const actual = hash.digest('hex');
      if (actual !== want.sha256) throw entryProblem('E_MIRROR_ENTRY_DIGEST', archive, key, `has sha256 ${actual}, the manifest lists ${want.sha256}`);
    }
    for (const key of Object.keys(manifest.files)) {
      if (!entries.has(key)) throw entryProblem('E_MIRROR_ENTRY_MISSING', archive, key, 'is listed in the manifest but not in the archive');
    }
    return entries;
  } finally {
    await fh.close();
  }
}

function entryProblem(code: string, archive: string, key: string, why: string): ProvenantError {
  return new ProvenantError(code, `${archive}: entry ${key} ${why}; the bundle is refused`, {
    exitClass: 'verification',
    file: key,
    hint: 'the bundle was altered or damaged after export: copy it again from the exporter, do not install from it',
  });
}
