import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for one test; closed (connections too) when the test ends. Returns its base URL. */
export async function listen(t: { after(fn: () => unknown): void }, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

export interface RepoServer {
  /** Repository root URL, ending in `/`. */
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
}

/**
 * Serves a repository directory read-only on loopback. `fault` may take over any request
 * (return true when it answered) to play a hostile or broken server.
 */
export async function serveRepository(
  t: { after(fn: () => unknown): void },
  root: string,
  fault?: (urlPath: string, req: http.IncomingMessage, res: http.ServerResponse) => boolean,
): Promise<RepoServer> {
  const requests: string[] = [];
  const url = await listen(t, (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(urlPath);
    if (fault?.(urlPath, req, res)) return;
    const segments = urlPath.split('/').filter(Boolean);
    if (segments.some((s) => s === '..' || s.startsWith('.'))) return void res.writeHead(404).end();
    const file = path.join(root, ...segments);
    stat(file)
      .then((st) => {
        if (!st.isFile()) throw new Error('not a file');
        res.writeHead(200, { 'content-length': st.size });
        createReadStream(file).pipe(res);
      })
      .catch(() => void res.writeHead(404).end());
  });
  return { url, requests };
}

/** Answers with an endless body; `sent` counts what was written before the client hung up. */
export function streamForever(res: http.ServerResponse, counter: { sent: number; closed: boolean }): void {
  res.writeHead(200);
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  res.on('close', () => (counter.closed = true));
  const pump = () => {
    while (!res.destroyed && res.write(chunk)) counter.sent += chunk.length;
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}
