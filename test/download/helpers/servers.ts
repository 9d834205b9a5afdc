import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for one test; closed (connections too) when the test ends. Returns its base URL. */
export async function listen(t: { after(fn: () => unknown): void }, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}
