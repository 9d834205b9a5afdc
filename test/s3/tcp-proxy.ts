import { createServer, type Socket, connect } from 'node:net';

/**
 * A loopback TCP relay in front of a real server, whose link can fail the two ways a network does:
 * `cut()` resets every open connection and refuses new ones (a request never arrives);
 * `dropResponses()` still delivers requests but resets the connection as soon as the server
 * answers (the request took effect, the client never learns it). `restore()` heals the link.
 * Stands in for a network failure between a publisher and S3 without touching the server.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  dropResponses(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let down = false;
  let dropping = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (dropping) {
        client.resetAndDestroy();
        upstream.destroy();
      } else client.write(chunk);
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (typeof addr !== 'object' || !addr) throw new Error('proxy has no port');
  return {
    port: addr.port,
    cut() {
      down = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    dropResponses() {
      dropping = true;
    },
    restore() {
      down = false;
      dropping = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
