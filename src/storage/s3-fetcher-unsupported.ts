import { ProvenantError } from '../errors.ts';
import type { FetchBody, Fetcher, FetchStats } from '../net/fetcher.ts';
import { newStats } from '../net/fetcher.ts';
import type { S3StorageOptions } from './s3.ts';

/**
 * Stands in for s3-fetcher.ts inside the single-executable downloader (scripts/build-downloader.ts),
 * which leaves the AWS SDK out to stay small and fast to start: an s3:// repository is refused
 * with a clear code instead of failing on a missing module.
 */
export class S3Fetcher implements Fetcher {
  readonly stats: FetchStats = newStats();

  constructor(_options: S3StorageOptions = {}) {
    throw new ProvenantError('E_S3_UNSUPPORTED_BINARY', 'provenant-download (the single executable) cannot read s3:// repositories: it is built without the AWS SDK', {
      exitClass: 'usage',
      field: '--repository',
      hint: 'serve the bucket over https (e.g. a CloudFront or S3 website URL) and pass that URL, or run `provenant download` from the npm package',
    });
  }

  open(): Promise<FetchBody> {
    return Promise.reject(new Error('unreachable'));
  }

  close(): void {}
}
