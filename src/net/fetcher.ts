import type { Readable } from 'node:stream';
import { lengthExceeded } from './net-errors.ts';

/**
 * The one interface the downloader reads bytes through, whatever the scheme (http, https,
 * file, a plain path). Bodies are streamed and capped; nothing here buffers a whole wheel.
 */
export interface FetchOptions {
  /** Hard cap: reading stops with E_LENGTH_EXCEEDED as soon as more bytes than this arrive. */
  maxLength?: number;
  /** Abandons the request (connecting, waiting to retry, reading) when aborted. */
  signal?: AbortSignal;
}

export interface FetchBody {
  url: string;
  /** What the server declared (Content-Length or file size), if anything. Not trusted. */
  declaredLength: number | undefined;
  /** The body, chunk by chunk, never more than maxLength bytes in total. Read it or cancel it. */
  chunks: AsyncIterable<Uint8Array>;
  cancel(): void;
}

export interface FetchStats {
  requests: number;
  retries: number;
  bytes: number;
}

export interface Fetcher {
  /** Opens `url`; rejects with E_NET_NOT_FOUND (HttpStatusError 404) when it does not exist. */
  open(url: string, opts?: FetchOptions): Promise<FetchBody>;
  readonly stats: FetchStats;
  /** Releases pooled connections. */
  close(): void;
}

/**
 * Wraps a readable so it yields at most `maxLength` bytes and fails, closing the source, past it.
 * `translate` turns the source's own read errors (a body timeout, a reset) into ours; it must
 * pass ProvenantErrors through.
 */
export function cappedChunks(src: Readable, url: string, maxLength: number | undefined, stats: FetchStats, translate: (e: unknown) => unknown = (e) => e): AsyncIterable<Uint8Array> {
  return (async function* () {
    let total = 0;
    try {
      for await (const chunk of src as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (maxLength !== undefined && total > maxLength) throw lengthExceeded(url, maxLength);
        stats.bytes += chunk.length;
        yield chunk;
      }
    } catch (e) {
      throw translate(e);
    } finally {
      if (!src.destroyed) src.destroy();
    }
  })();
}

/** Reads a (small, capped) body whole: metadata, pointers, attestations, the policy. */
export async function readAll(fetcher: Fetcher, url: string, maxLength: number): Promise<Buffer> {
  const body = await fetcher.open(url, { maxLength });
  const parts: Uint8Array[] = [];
  for await (const chunk of body.chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

export function newStats(): FetchStats {
  return { requests: 0, retries: 0, bytes: 0 };
}
