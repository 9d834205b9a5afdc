import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ProvenantError } from '../errors.ts';
import { cappedChunks, newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';
import { fileNotFound, lengthExceeded } from './net-errors.ts';

/** A repository on the local file system, read through the same interface as HTTP. */
export class FileFetcher implements Fetcher {
  readonly stats: FetchStats;

  constructor(stats: FetchStats = newStats()) {
    this.stats = stats;
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    this.stats.requests++;
    let size: number;
    try {
      const st = await stat(file);
      size = st.isFile() ? st.size : -1;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw fileNotFound(file);
      throw new ProvenantError('E_FILE_READ', `${file}: ${(e as Error).message}`, { exitClass: 'input', file, cause: e, hint: 'check the path and its permissions' });
    }
    // A directory is not an object: report it as missing, as a static HTTP server would.
    if (size < 0) throw fileNotFound(file);
    if (opts.maxLength !== undefined && size > opts.maxLength) throw lengthExceeded(url, opts.maxLength);
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    return { url, declaredLength: size, chunks: cappedChunks(stream, url, opts.maxLength, this.stats), cancel: () => stream.destroy() };
  }

  close(): void {}
}
