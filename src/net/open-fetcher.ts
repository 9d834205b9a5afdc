import { readFile } from 'node:fs/promises';
import { ProvenantError } from '../errors.ts';
import { FileFetcher } from './file-fetcher.ts';
import { newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';
import { HttpFetcher, type HttpFetcherOptions } from './http-fetcher.ts';

export interface NetOptions extends Omit<HttpFetcherOptions, 'extraCaPem'> {
  /** A PEM file of extra CA certificates (--ca-file / PROVENANT_CA_BUNDLE). */
  caFile?: string;
}

/** One fetcher for every scheme a repository can be reached by: http(s), file:// and paths. */
export class AnyFetcher implements Fetcher {
  readonly stats: FetchStats;
  private readonly http: HttpFetcher;
  private readonly file: FileFetcher;

  constructor(http: HttpFetcher, file: FileFetcher, stats: FetchStats) {
    this.http = http;
    this.file = file;
    this.stats = stats;
  }

  open(url: string, opts?: FetchOptions): Promise<FetchBody> {
    return /^https?:/i.test(url) ? this.http.open(url, opts) : this.file.open(url, opts);
  }

  close(): void {
    this.http.close();
  }
}

export async function openFetcher(opts: NetOptions = {}): Promise<AnyFetcher> {
  let extraCaPem: string | undefined;
  if (opts.caFile) {
    try {
      extraCaPem = await readFile(opts.caFile, 'utf8');
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
  return new AnyFetcher(new HttpFetcher({ ...opts, ...(extraCaPem ? { extraCaPem } : {}) }, stats), new FileFetcher(stats), stats);
}
