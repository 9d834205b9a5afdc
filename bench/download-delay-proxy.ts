// Child process of bench/download.ts: a loopback HTTP proxy in front of `provenant serve` that
// holds every request for a fixed delay before forwarding it, i.e. a network round trip of
// that length (a repository across a WAN) while everything else stays local and repeatable.
//
// usage: download-delay-proxy.ts UPSTREAM_URL DELAY_MS   prints {"url": "http://127.0.0.1:PORT/"}
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const [upstream, delayMs] = process.argv.slice(2) as [string, string];
const target = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const server = http.createServer((req, res) => {
  setTimeout(() => {
    const out = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  }, Number(delayMs));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })}\n`);
});
