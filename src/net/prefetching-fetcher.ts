import { readAll, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';

type Outcome = { ok: true; bytes: Buffer } | { ok: false };

/**
 * A fetcher that can start reading small objects before anyone asks for them. A later `open`
 * of the same URL with the same length cap gets the bytes already read; anything else (another
 * URL, another cap, a prefetch that failed) is an ordinary request. It only moves requests
 * earlier: whoever opens the URL checks the bytes exactly as it would check a fresh response,
 * and a failed prefetch is forgotten, so errors and retries are those of the real request.
 */
export class PrefetchingFetcher implements Fetcher {
  private readonly inner: Fetcher;
  private readonly pending = new Map<string, Promise<Outcome>>();

  constructor(inner: Fetcher) {
    this.inner = inner;
  }

  get stats(): FetchStats {
    return this.inner.stats;
  }

  /** Starts reading `url` whole, at most `maxLength` bytes, for a later `open` with the same cap. */
  prefetch(url: string, maxLength: number): void {
    const key = `${maxLength} ${url}`;
    if (this.pending.has(key)) return;
    this.pending.set(
      key,
      readAll(this.inner, url, maxLength).then(
        (bytes): Outcome => ({ ok: true, bytes }),
        (): Outcome => ({ ok: false }),
      ),
    );
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    const key = `${opts.maxLength} ${url}`;
    const early = this.pending.get(key);
    if (early) {
      this.pending.delete(key);
      const r = await early;
      if (r.ok) {
        const bytes = r.bytes;
        return {
          url,
          declaredLength: bytes.length,
          chunks: (async function* () {
            yield bytes;
          })(),
          cancel: () => undefined,
        };
      }
    }
    return this.inner.open(url, opts);
  }

  /** Prefetches nobody asked for are dropped; the inner fetcher is its owner's to close. */
  close(): void {
    this.pending.clear();
  }
}
