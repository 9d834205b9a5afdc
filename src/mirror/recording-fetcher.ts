import type { FetchBody, FetchOptions, Fetcher, FetchStats } from '../net/fetcher.ts';

/**
 * Passes every request to `inner` and keeps each body read to its end, by repository key (the
 * URL less the repository root). Wrapped around a verifying reader (the download pipeline, the
 * TUF client), it yields exactly the bytes that were checked: what a mirror copies. A body the
 * reader abandoned, or a request that failed, is not kept.
 */
export class RecordingFetcher implements Fetcher {
  readonly recorded = new Map<string, Uint8Array>();
  private readonly inner: Fetcher;
  private readonly base: string;
  private readonly skip: (key: string) => boolean;

  /** `skip`: keys not to keep in memory (e.g. wheels, which the caller takes from disk). */
  constructor(inner: Fetcher, repositoryUrl: string, skip: (key: string) => boolean = () => false) {
    this.inner = inner;
    this.base = repositoryUrl;
    this.skip = skip;
  }

  get stats(): FetchStats {
    return this.inner.stats;
  }

  /** The repository key of `url`, or undefined for a URL outside the repository. */
  keyOf(url: string): string | undefined {
    return url.startsWith(this.base) ? url.slice(this.base.length).split('/').map(decodeURIComponent).join('/') : undefined;
  }

  async open(url: string, opts?: FetchOptions): Promise<FetchBody> {
    const body = await this.inner.open(url, opts);
    const key = this.keyOf(url);
    if (key === undefined || this.skip(key)) return body;
    const recorded = this.recorded;
    return {
      ...body,
      chunks: (async function* () {
        const parts: Uint8Array[] = [];
        for await (const chunk of body.chunks) {
          parts.push(chunk);
          yield chunk;
        }
        recorded.set(key, Buffer.concat(parts));
      })(),
    };
  }

  close(): void {
    this.inner.close();
  }
}
