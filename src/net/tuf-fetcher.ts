import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Fetcher as TufFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import type { Fetcher } from './fetcher.ts';
import { readAll } from './fetcher.ts';
import { HttpStatusError } from './net-errors.ts';

/**
 * tuf-js's fetcher interface on top of ours. A missing object (404, and 403 as S3 answers
 * without list permission) becomes tuf-js's DownloadHTTPError so its root-update loop stops
 * where the spec says; every other failure keeps our error, and is remembered, because tuf-js
 * flattens errors in snapshot/targets loading into a RuntimeError message.
 */
export class TufFetcherAdapter implements TufFetcher {
  readonly thrown: Error[] = [];
  private readonly inner: Fetcher;

  constructor(inner: Fetcher) {
    this.inner = inner;
  }

  async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    try {
      return await readAll(this.inner, url, maxLength);
    } catch (e) {
      throw this.translate(e);
    }
  }

  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(path.join(tmpdir(), 'provenant-tuf-'));
    try {
      const file = path.join(dir, randomBytes(6).toString('hex'));
      try {
        const body = await this.inner.open(url, { maxLength });
        await pipeline(Readable.from(body.chunks), createWriteStream(file));
      } catch (e) {
        throw this.translate(e);
      }
      return await handler(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private translate(e: unknown): Error {
    if (e instanceof HttpStatusError && (e.status === 404 || e.status === 403 || e.status === 410)) {
      return new DownloadHTTPError(e.message, e.status === 410 ? 404 : e.status);
    }
    const err = e instanceof Error ? e : new Error(String(e));
    this.thrown.push(err);
    return err;
  }
}
