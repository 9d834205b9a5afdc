/**
 * Fuzz target: what an HTTP server sends back, byte for byte (status line, headers, chunked or
 * sized body, lengths that lie). A loopback TCP server answers every request with the fuzzed
 * bytes and closes; the project's HttpFetcher reads it through readAll with a length cap, as
 * it reads metadata, pointers and attestations. Proxies point at the same server (only its own
 * address is reached directly), so a redirect anywhere still lands on loopback.
 * Contract extra: no more bytes than the cap are ever returned.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { readAll } from '../../src/net/fetcher.ts';
import { HttpFetcher } from '../../src/net/http-fetcher.ts';

const MAX_LENGTH = 4096;
let response: Buffer = Buffer.alloc(0);
const sockets = new Set<Socket>();

const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  let seen = '';
  socket.on('data', (d) => {
    seen += d.toString('latin1');
    // Answer once the request head is in (a CONNECT or a GET alike).
    if (seen.includes('\r\n\r\n')) socket.end(response);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
server.unref();
const port = (server.address() as AddressInfo).port;
const self = `http://127.0.0.1:${port}`;

export async function fuzz(data: Buffer): Promise<void> {
  response = data;
  const fetcher = new HttpFetcher({
    connectTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 10 },
    env: { HTTP_PROXY: self, HTTPS_PROXY: self, NO_PROXY: `127.0.0.1:${port}` },
  });
  try {
    const body = await readAll(fetcher, `${self}/metadata/timestamp.json`, MAX_LENGTH);
    if (body.length > MAX_LENGTH) throw new Error(`LENGTH CAP BROKEN: ${body.length} bytes returned, cap ${MAX_LENGTH}`);
  } finally {
    fetcher.close();
    for (const s of sockets) s.destroy();
  }
}
