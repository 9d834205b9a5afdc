import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A plain static-file server on 127.0.0.1 (port 0) for tests: serves `root` read-only,
 * 404 for anything missing or hidden, and records every request so tests can assert what a
 * client fetched.
 */
export interface ServedRequest {
  method: string;
  /** URL path without the query string, e.g. `/metadata/2.root.json`. */
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
}

export interface StaticServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  requests: ServedRequest[];
  /** Requests so far, optionally only those whose path satisfies `match`. */
  count(match?: string | RegExp | ((p: string) => boolean)): number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.whl': 'application/zip',
  '.metadata': 'text/plain; charset=utf-8',
  '.pointer': 'application/yaml',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startStaticServer(root: string, t?: { after(fn: () => unknown): void }): Promise<StaticServer> {
  const absRoot = path.resolve(root);
  const requests: ServedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const record = (status: number) => requests.push({ method: req.method ?? 'GET', path: urlPath, status, headers: req.headers });
      const segments = urlPath.split('/').filter((s) => s !== '');
      if ((req.method !== 'GET' && req.method !== 'HEAD') || segments.some((s) => s === '..' || s.startsWith('.'))) {
        record(404);
        res.writeHead(404).end();
        return;
      }
      let file = path.join(absRoot, ...segments);
      try {
        if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
        const body = await readFile(file);
        record(200);
        res.writeHead(200, {
          'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'content-length': body.length,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        record(404);
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t?.after(close);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    count(match) {
      if (match === undefined) return requests.length;
      const test =
        typeof match === 'string' ? (p: string) => p === match : match instanceof RegExp ? (p: string) => match.test(p) : match;
      return requests.filter((r) => test(r.path)).length;
    },
    close,
  };
}
