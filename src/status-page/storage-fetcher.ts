import { notFound } from '../net/net-errors.ts';
import { cappedChunks, newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from '../net/fetcher.ts';
import type { Storage } from '../storage/storage.ts';
import { Readable } from 'node:stream';

/**
 * Reads a repository's objects through the Fetcher interface, so the status pages check pointers
 * and attestations with the downloader's own functions (URI containment, pinned length and digest)
 * straight from the publisher's Storage. `baseUrl` is the repository root as a URL ending in `/`.
 */
export class StorageFetcher implements Fetcher {
  readonly stats: FetchStats = newStats();
  readonly #storage: Storage;
  readonly #baseUrl: string;

  constructor(storage: Storage, baseUrl: string) {
    this.#storage = storage;
    this.#baseUrl = baseUrl;
  }

  /** The repository key a URL under the base names. */
  keyOf(url: string): string | undefined {
    if (!url.startsWith(this.#baseUrl)) return undefined;
    return url.slice(this.#baseUrl.length).split('/').map(decodeURIComponent).join('/');
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    this.stats.requests++;
    const key = this.keyOf(url);
    const obj = key === undefined ? undefined : await this.#storage.get(key);
    if (!obj) throw notFound(url);
    const src = Readable.from([obj.bytes]);
    return { url, declaredLength: obj.bytes.byteLength, chunks: cappedChunks(src, url, opts.maxLength, this.stats), cancel: () => src.destroy() };
  }

  close(): void {}
}
