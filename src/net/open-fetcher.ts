import { ProvenantError } from '../errors.ts';
import { readRegularFile } from '../util/read-regular-file.ts';
import { FileFetcher } from './file-fetcher.ts';
import { newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';
import type { HttpFetcher, HttpFetcherOptions } from './http-fetcher.ts';

export interface NetOptions extends Omit<HttpFetcherOptions, 'extraCaPem'> {
  /** A PEM file of extra CA certificates (--ca-file / PROVENANT_CA_BUNDLE). */
  caFile?: string;
}

/**
 * One fetcher for every scheme a repository can be reached by: http(s), file:// and paths.
 * The HTTP client (node:http/node:https) is loaded on the first http(s) URL only: a local
 * repository's download does not pay its start-up (docs/download.md, "Start-up").
 */
export class AnyFetcher implements Fetcher {
  readonly stats: FetchStats;
  private readonly httpOptions: HttpFetcherOptions;
  private http: Promise<HttpFetcher> | undefined;
  private readonly file: FileFetcher;

  constructor(httpOptions: HttpFetcherOptions, stats: FetchStats) {
    this.httpOptions = httpOptions;
    this.file = new FileFetcher(stats);
    this.stats = stats;
  }

  async open(url: string, opts?: FetchOptions): Promise<FetchBody> {
    if (!/^https?:/i.test(url)) return this.file.open(url, opts);
    this.http ??= import('./http-fetcher.ts').then(({ HttpFetcher }) => new HttpFetcher(this.httpOptions, this.stats));
    return (await this.http).open(url, opts);
  }

  close(): void {
    void this.http?.then((h) => h.close());
  }
}

/** Far above any real CA bundle (the system's is ~200 KiB); a path to /dev/zero must not fill memory. */
const MAX_CA_BUNDLE_BYTES = 16 << 20;

export async function openFetcher(opts: NetOptions = {}): Promise<AnyFetcher> {
  let extraCaPem: string | undefined;
  if (opts.caFile) {
    try {
      extraCaPem = (await readRegularFile(opts.caFile, MAX_CA_BUNDLE_BYTES)).toString('utf8');
    } catch (e) {
      throw new ProvenantError('E_CA_FILE', `cannot read the CA bundle: ${(e as Error).message}`, {
        exitClass: 'input',
        file: opts.caFile,
        hint: 'pass a PEM file with --ca-file or PROVENANT_CA_BUNDLE',
      });
    }
    if (!extraCaPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ProvenantError('E_CA_FILE', 'the CA bundle holds no PEM certificate', {
        exitClass: 'input',
        file: opts.caFile,
        hint: 'pass a file of -----BEGIN CERTIFICATE----- blocks with --ca-file or PROVENANT_CA_BUNDLE',
      });
    }
  }
  const stats = newStats();
  return new AnyFetcher({ ...opts, ...(extraCaPem ? { extraCaPem } : {}) }, stats);
}
