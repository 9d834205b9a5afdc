// Child process of bench/metadata-bytes.ts: a loopback HTTP proxy in front of `provenant serve`
// that appends one JSON line per response to a log file: the path, the status and the body
// bytes sent, so the benchmark can say which bytes a download fetched (metadata, wheel, ...).
//
// usage: byte-counting-proxy.ts UPSTREAM_URL LOG_FILE   prints {"url": "http://127.0.0.1:PORT/"}
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const [upstream, log] = process.argv.slice(2) as [string, string];
const target = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const server = http.createServer((req, res) => {
  const out = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    let bytes = 0;
    up.on('data', (c: Buffer) => (bytes += c.length));
    up.on('end', () => appendFileSync(log, `${JSON.stringify({ path: req.url, status: up.statusCode, bytes })}\n`));
    up.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })}\n`);
});
