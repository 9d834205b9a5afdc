import { createServer, request } from 'node:http';

/**
 * What the CloudFront Function in docs/s3.md does, in front of MinIO (which has no website
 * endpoint): `GET /…/` is forwarded as `GET /…/index.html`; everything else unchanged. pip then
 * installs from `http://127.0.0.1:<port>/<bucket>/<prefix>/simple/`. Loopback only, GET/HEAD only.
 */
export interface IndexProxy {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startIndexProxy(minioPort: number): Promise<IndexProxy> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const [pathPart, query] = url.split('?', 2) as [string, string | undefined];
    const upstreamPath = (pathPart.endsWith('/') ? `${pathPart}index.html` : pathPart) + (query ? `?${query}` : '');
    const up = request(
      { host: '127.0.0.1', port: minioPort, method: req.method, path: upstreamPath, headers: { accept: req.headers.accept ?? '*/*' } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    up.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (typeof addr !== 'object' || !addr) throw new Error('index proxy has no port');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
