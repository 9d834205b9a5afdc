import { ProvenantError } from '../errors.ts';
import { newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from '../net/fetcher.ts';
import { lengthExceeded, notFound } from '../net/net-errors.ts';
import { parseS3Url, S3Storage, type S3StorageOptions } from './s3.ts';

/**
 * The downloader's Fetcher for `s3://bucket/key` URLs: reads a private bucket with credentials
 * from the SDK's chain, streamed and capped exactly like the HTTP and file fetchers. A missing key
 * is E_NET_NOT_FOUND (what TUF's root-update loop waits for); S3 errors keep their E_S3_* codes.
 * `new URL(key, 's3://bucket/prefix/')` joins repository keys as for http URLs.
 */
export class S3Fetcher implements Fetcher {
  readonly stats: FetchStats;
  private readonly options: S3StorageOptions;
  private readonly buckets = new Map<string, S3Storage>();

  constructor(options: S3StorageOptions = {}, stats: FetchStats = newStats()) {
    this.options = options;
    this.stats = stats;
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    const { bucket, prefix: key } = parseS3Url(url);
    if (key === '') {
      throw new ProvenantError('E_S3_LOCATION', `${url} names a bucket, not an object`, { exitClass: 'usage', file: url, hint: 'give the repository root as s3://bucket[/prefix]' });
    }
    let storage = this.buckets.get(bucket);
    if (!storage) {
      storage = new S3Storage(`s3://${bucket}`, this.options);
      this.buckets.set(bucket, storage);
    }
    this.stats.requests++;
    const obj = await storage.stream(decodeURIComponent(key));
    if (!obj) throw notFound(url);
    const { maxLength } = opts;
    if (maxLength !== undefined && obj.declaredLength !== undefined && obj.declaredLength > maxLength) {
      obj.cancel();
      throw lengthExceeded(url, maxLength);
    }
    const stats = this.stats;
    const chunks = (async function* () {
      let total = 0;
      try {
        for await (const chunk of obj.chunks) {
          total += chunk.byteLength;
          // The declared length is not trusted: stop as soon as more arrives than allowed.
          if (maxLength !== undefined && total > maxLength) throw lengthExceeded(url, maxLength);
          stats.bytes += chunk.byteLength;
          yield chunk;
        }
      } finally {
        obj.cancel();
      }
    })();
    return { url, declaredLength: obj.declaredLength, chunks, cancel: () => obj.cancel() };
  }

  close(): void {
    for (const s of this.buckets.values()) s.close();
    this.buckets.clear();
  }
}
