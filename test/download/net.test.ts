import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DeadlineFetcher, startDeadline } from '../../src/net/deadline.ts';
import { readAll } from '../../src/net/fetcher.ts';
import { FileFetcher } from '../../src/net/file-fetcher.ts';
import { HttpFetcher } from '../../src/net/http-fetcher.ts';
import { openFetcher } from '../../src/net/open-fetcher.ts';
import { bypassesProxy, proxyFor } from '../../src/net/proxy.ts';
import { backoffDelay } from '../../src/net/retry.ts';
import { ProvenantError } from '../../src/errors.ts';
import { tempDir } from '../helpers/peers.ts';
import { listen } from './helpers/servers.ts';

const FAST = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };

function code(e: unknown): string {
  assert.ok(e instanceof ProvenantError, `expected a ProvenantError, got ${String(e)}`);
  return e.code;
}

test('503 twice then 200: retried, counted, body intact', async (t) => {
  let hits = 0;
  const url = await listen(t, (_req, res) => {
    hits++;
    if (hits <= 2) return void res.writeHead(503).end('busy');
    res.end('payload');
  });
  const retries: number[] = [];
  const f = new HttpFetcher({ retry: FAST, onRetry: (i) => retries.push(i.retry), env: {} });
  t.after(() => f.close());
  assert.equal((await readAll(f, `${url}x`, 100)).toString(), 'payload');
  assert.equal(hits, 3);
  assert.deepEqual(retries, [1, 2]);
  assert.equal(f.stats.retries, 2);
  assert.equal(f.stats.requests, 3);
});

test('429 is retried; 400 and 403 are not; 404 is E_NET_NOT_FOUND', async (t) => {
  const hits: Record<string, number> = {};
  const url = await listen(t, (req, res) => {
    hits[req.url!] = (hits[req.url!] ?? 0) + 1;
    const status = Number(req.url!.slice(1));
    if (status === 429 && hits[req.url!]! > 1) return void res.end('ok');
    res.writeHead(status).end();
  });
  const f = new HttpFetcher({ retry: FAST, env: {} });
  t.after(() => f.close());
  assert.equal((await readAll(f, `${url}429`, 10)).toString(), 'ok');
  await assert.rejects(readAll(f, `${url}400`, 10), (e) => code(e) === 'E_NET_HTTP_STATUS');
  await assert.rejects(readAll(f, `${url}403`, 10), (e) => code(e) === 'E_NET_HTTP_STATUS');
  await assert.rejects(readAll(f, `${url}404`, 10), (e) => code(e) === 'E_NET_NOT_FOUND' && (e as ProvenantError).exitClass === 'not-found');
  assert.deepEqual(hits, { '/429': 2, '/400': 1, '/403': 1, '/404': 1 });
});

test('5xx until retries run out fails with E_NET_HTTP_STATUS after retries+1 requests', async (t) => {
  let hits = 0;
  const url = await listen(t, (_req, res) => void (hits++, res.writeHead(502).end()));
  const f = new HttpFetcher({ retry: FAST, env: {} });
  t.after(() => f.close());
  await assert.rejects(readAll(f, url, 10), (e) => code(e) === 'E_NET_HTTP_STATUS' && (e as ProvenantError).exitClass === 'network');
  assert.equal(hits, 4);
});

test('keep-alive: requests in a row reuse one connection', async (t) => {
  const server = http.createServer((req, res) => void res.end(`body ${req.url}`));
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  const f = new HttpFetcher({ retry: FAST, env: {} });
  t.after(() => f.close());
  for (const name of ['a', 'b', 'c']) assert.equal((await readAll(f, `${url}${name}`, 100)).toString(), `body /${name}`);
  assert.equal(connections, 1);
});

test('a server that stalls before answering hits the idle timeout', async (t) => {
  const url = await listen(t, () => {});
  const f = new HttpFetcher({ retry: { ...FAST, retries: 1 }, idleTimeoutMs: 150, env: {} });
  t.after(() => f.close());
  const started = Date.now();
  await assert.rejects(readAll(f, url, 10), (e) => code(e) === 'E_NET_TIMEOUT');
  assert.ok(Date.now() - started < 5_000);
});

test('a server that stalls in the middle of the body hits the idle timeout', async (t) => {
  const url = await listen(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('x'.repeat(10));
  });
  const f = new HttpFetcher({ retry: FAST, idleTimeoutMs: 150, env: {} });
  t.after(() => f.close());
  await assert.rejects(readAll(f, url, 1000), (e) => code(e) === 'E_NET_TIMEOUT');
});

test('an endless body is cut off at maxLength and the connection closed', async (t) => {
  let sent = 0;
  let closed = false;
  const url = await listen(t, (_req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => (closed = true));
    pump();
  });
  const f = new HttpFetcher({ retry: FAST, env: {} });
  t.after(() => f.close());
  await assert.rejects(readAll(f, url, 100_000), (e) => code(e) === 'E_LENGTH_EXCEEDED');
  await waitFor(() => closed);
  assert.ok(f.stats.bytes <= 100_000, `consumer saw ${f.stats.bytes} bytes`);
  assert.ok(sent < 20 * 1024 * 1024, `server managed to send ${sent} bytes`);
});

test('a declared Content-Length over maxLength fails before reading', async (t) => {
  const url = await listen(t, (_req, res) => void res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000)));
  const f = new HttpFetcher({ retry: FAST, env: {} });
  t.after(() => f.close());
  await assert.rejects(readAll(f, url, 10), (e) => code(e) === 'E_LENGTH_EXCEEDED');
  assert.equal(f.stats.bytes, 0);
});

test('connection refused is retried then E_NET_CONNECT', async () => {
  const port = await freePort();
  const f = new HttpFetcher({ retry: FAST, env: {} });
  try {
    await assert.rejects(readAll(f, `http://127.0.0.1:${port}/x`, 10), (e) => code(e) === 'E_NET_CONNECT' && (e as ProvenantError).exitClass === 'network');
    assert.equal(f.stats.retries, 3);
  } finally {
    f.close();
  }
});

test('a TCP server that never completes the TLS handshake hits the connect timeout', async (t) => {
  const server = net.createServer((s) => void s.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const port = (server.address() as net.AddressInfo).port;
  const f = new HttpFetcher({ retry: { ...FAST, retries: 0 }, connectTimeoutMs: 150, idleTimeoutMs: 10_000, env: {} });
  t.after(() => f.close());
  await assert.rejects(readAll(f, `https://127.0.0.1:${port}/`, 10), (e) => code(e) === 'E_NET_TIMEOUT' && /connection/.test((e as Error).message));
});

test('https with an extra CA file, directly and through an HTTPS_PROXY CONNECT tunnel; NO_PROXY bypasses', async (t) => {
  const dir = await tempDir(t);
  const { key, cert } = await selfSigned(dir);
  const server = https.createServer({ key, cert }, (req, res) => void res.end(`secure ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets: net.Socket[] = [];
  t.after(() => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.closeAllConnections(), server.close(r))));
  const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/a`;

  const plain = await openFetcher({ retry: FAST, env: {} });
  t.after(() => plain.close());
  await assert.rejects(readAll(plain, url, 100), (e) => code(e) === 'E_NET_TLS');

  const caFile = path.join(dir, 'ca.pem');
  const direct = await openFetcher({ retry: FAST, env: {}, caFile });
  t.after(() => direct.close());
  assert.equal((await readAll(direct, url, 100)).toString(), 'secure /a');

  const tunnels: string[] = [];
  const proxy = http.createServer((_req, res) => void res.writeHead(405).end());
  proxy.on('connect', (req, client: net.Socket) => {
    tunnels.push(req.url!);
    const [host, port] = req.url!.split(':');
    sockets.push(client);
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => (sockets.forEach((s) => s.destroy()), proxy.closeAllConnections(), proxy.close(r))));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;

  const viaProxy = await openFetcher({ retry: FAST, env: { HTTPS_PROXY: proxyUrl }, caFile });
  t.after(() => viaProxy.close());
  assert.equal((await readAll(viaProxy, url, 100)).toString(), 'secure /a');
  assert.equal(tunnels.length, 1);
  assert.match(tunnels[0]!, /^127\.0\.0\.1:\d+$/);

  const bypass = await openFetcher({ retry: FAST, env: { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }, caFile });
  t.after(() => bypass.close());
  assert.equal((await readAll(bypass, url, 100)).toString(), 'secure /a');
  assert.equal(tunnels.length, 1, 'NO_PROXY host went through the proxy');

  // HTTP_PROXY is for http URLs only (curl, pip); some clients (undici's EnvHttpProxyAgent) use it for https.
  const httpOnly = await openFetcher({ retry: FAST, env: { HTTP_PROXY: proxyUrl }, caFile });
  t.after(() => httpOnly.close());
  assert.equal((await readAll(httpOnly, url, 100)).toString(), 'secure /a');
  assert.equal(tunnels.length, 1, 'an https URL went through HTTP_PROXY');
});

test('https trusts NODE_EXTRA_CA_CERTS, and still does when --ca-file adds another CA', async (t) => {
  const dir = await tempDir(t);
  const urls: string[] = [];
  const cas: string[] = [];
  for (const name of ['extra', 'file']) {
    await mkdir(path.join(dir, name));
    const { key, cert } = await selfSigned(path.join(dir, name));
    const server = https.createServer({ key, cert }, (req, res) => void res.end(`${name} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
    urls.push(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}/x`);
    cas.push(path.join(dir, name, 'ca.pem'));
  }
  // NODE_EXTRA_CA_CERTS is read when Node starts: a child process.
  const script = `import { openFetcher } from ${JSON.stringify(pathToFileURL(path.resolve('src/net/open-fetcher.ts')).href)};
import { readAll } from ${JSON.stringify(pathToFileURL(path.resolve('src/net/fetcher.ts')).href)};
const [a, b, caFile] = process.argv.slice(1);
for (const opts of [{}, { caFile }]) {
  const f = await openFetcher({ ...opts, env: {}, retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
  const got = [];
  for (const url of [a, b]) got.push(await readAll(f, url, 100).then((x) => x.toString(), (e) => e.code));
  console.log(got.join(', '));
  f.close();
}`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, urls[0]!, urls[1]!, cas[1]!], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: cas[0]! },
  });
  assert.equal(stdout, 'extra /x, E_NET_TLS\nextra /x, file /x\n');
});

test('plain http through HTTP_PROXY sends the absolute URL to the proxy, with the URL\'s credentials as Proxy-Authorization', async (t) => {
  const seen: string[] = [];
  const auth: (string | undefined)[] = [];
  const proxy = await listen(t, (req, res) => void (seen.push(req.url!), auth.push(req.headers['proxy-authorization']), res.end('proxied')));
  const f = new HttpFetcher({ retry: FAST, env: { HTTP_PROXY: proxy } });
  t.after(() => f.close());
  assert.equal((await readAll(f, 'http://example.invalid/simple/x', 100)).toString(), 'proxied');
  assert.deepEqual(seen, ['http://example.invalid/simple/x']);
  const withCreds = new HttpFetcher({ retry: FAST, env: { http_proxy: proxy.replace('http://', 'http://me:s%40cret@') } });
  t.after(() => withCreds.close());
  await readAll(withCreds, 'http://example.invalid/y', 100);
  assert.deepEqual(auth, [undefined, `Basic ${Buffer.from('me:s@cret').toString('base64')}`]);
});

test('an HTTPS proxy that refuses the tunnel is E_NET_PROXY; one that never answers CONNECT hits the connect timeout', async (t) => {
  const refusing = http.createServer((_req, res) => void res.writeHead(405).end());
  refusing.on('connect', (_req, client: net.Socket) => void client.end('HTTP/1.1 403 Forbidden\r\n\r\n'));
  const silent = net.createServer((s) => void s.resume());
  for (const server of [refusing, silent]) {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => server.close(r)));
  }
  const proxyUrl = (server: net.Server) => `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const refused = new HttpFetcher({ retry: FAST, env: { HTTPS_PROXY: proxyUrl(refusing) } });
  t.after(() => refused.close());
  await assert.rejects(readAll(refused, 'https://repo.example.invalid/x', 10), (e) => code(e) === 'E_NET_PROXY' && /403/.test((e as Error).message));
  const hanging = new HttpFetcher({ retry: { ...FAST, retries: 0 }, connectTimeoutMs: 300, idleTimeoutMs: 30_000, env: { HTTPS_PROXY: proxyUrl(silent) } });
  t.after(() => hanging.close());
  const started = Date.now();
  await assert.rejects(readAll(hanging, 'https://repo.example.invalid/x', 10), (e) => code(e) === 'E_NET_TIMEOUT');
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
});

test('redirects: relative and absolute ones are followed up to 5; never from https down to http, nor to a Location that is no URL', async (t) => {
  const url = await listen(t, (req, res) => {
    const m = /^\/hop(\d+)$/.exec(req.url!);
    if (m) return void res.writeHead(302, { location: Number(m[1]) > 1 ? `/hop${Number(m[1]) - 1}` : '/final' }).end();
    if (req.url === '/final') return void res.end('arrived');
    if (req.url === '/unparseable') return void res.writeHead(302, { location: 'http://[::1' }).end();
    res.writeHead(404).end();
  });
  const f = new HttpFetcher({ retry: FAST, env: {} });
  t.after(() => f.close());
  assert.equal((await readAll(f, `${url}hop5`, 100)).toString(), 'arrived');
  await assert.rejects(readAll(f, `${url}hop6`, 100), (e) => code(e) === 'E_NET_REDIRECT' && (e as ProvenantError).exitClass === 'network');
  await assert.rejects(readAll(f, `${url}unparseable`, 100), (e) => code(e) === 'E_NET_REDIRECT' && /"http:\/\/\[::1"/.test((e as Error).message));

  const dir = await tempDir(t);
  const { key, cert } = await selfSigned(dir);
  const secure = https.createServer({ key, cert }, (_req, res) => void res.writeHead(301, { location: `${url}final` }).end());
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => (secure.closeAllConnections(), secure.close(r))));
  const down = await openFetcher({ retry: FAST, env: {}, caFile: path.join(dir, 'ca.pem') });
  t.after(() => down.close());
  await assert.rejects(readAll(down, `https://127.0.0.1:${(secure.address() as net.AddressInfo).port}/x`, 100), (e) => code(e) === 'E_NET_REDIRECT');
});

test('a deadline ends a body that drips under the idle timeout, and a wait for a retry, with E_NET_DEADLINE', async (t) => {
  let closed = false;
  const url = await listen(t, (req, res) => {
    if (req.url === '/busy') return void res.writeHead(503, { 'retry-after': '60' }).end();
    res.writeHead(200, { 'content-length': '1000' });
    const timer = setInterval(() => res.write('x'), 100);
    res.on('close', () => ((closed = true), clearInterval(timer)));
  });
  const inner = new HttpFetcher({ retry: { retries: 3, baseDelayMs: 5, maxDelayMs: 60_000 }, idleTimeoutMs: 1000, env: {} });
  t.after(() => inner.close());
  for (const target of ['drip', 'busy']) {
    const deadline = startDeadline(600, `the ${target} test`);
    const f = new DeadlineFetcher(inner, deadline.signal);
    const started = Date.now();
    await assert.rejects(readAll(f, `${url}${target}`, 1000), (e) => code(e) === 'E_NET_DEADLINE' && (e as ProvenantError).exitClass === 'network');
    const took = Date.now() - started;
    assert.ok(took >= 550 && took < 2_000, `${target}: took ${took} ms`);
  }
  await waitFor(() => closed);
});

test('proxy selection follows HTTPS_PROXY/HTTP_PROXY/NO_PROXY conventions', () => {
  const u = new URL('https://repo.example.com/x');
  assert.equal(proxyFor(u, {})?.href, undefined);
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'proxy:3128' })?.href, 'http://proxy:3128/');
  assert.equal(proxyFor(u, { HTTP_PROXY: 'http://p:1' }), undefined);
  assert.equal(proxyFor(new URL('http://a/'), { HTTP_PROXY: 'http://p:1' })?.host, 'p:1');
  assert.ok(bypassesProxy(u, 'other, .example.com'));
  assert.ok(bypassesProxy(u, 'repo.example.com:443'));
  assert.ok(!bypassesProxy(u, 'repo.example.com:8443'));
  assert.ok(bypassesProxy(u, '*'));
  assert.ok(!bypassesProxy(u, 'ample.com'));
  // A fully qualified name (trailing dot) is the same host, on either side.
  assert.ok(bypassesProxy(new URL('https://repo.example.com./x'), 'repo.example.com'));
  assert.ok(bypassesProxy(u, 'example.com.'));
});

test('backoff grows exponentially with jitter and is capped', () => {
  const p = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(p, 1, () => 0), 50);
  assert.equal(backoffDelay(p, 1, () => 1), 100);
  assert.equal(backoffDelay(p, 3, () => 1), 400);
  assert.equal(backoffDelay(p, 10, () => 1), 1000);
  assert.equal(backoffDelay(p, 1, () => 0, 700), 700);
  assert.equal(backoffDelay(p, 1, () => 0, 60_000), 1000);
});

test('file:// URLs and plain paths read through the same interface; missing is not-found', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'a b.txt');
  await writeFile(file, 'hello');
  const f = new FileFetcher();
  assert.equal((await readAll(f, pathToFileURL(file).href, 10)).toString(), 'hello');
  assert.equal((await readAll(f, file, 10)).toString(), 'hello');
  await assert.rejects(readAll(f, file, 3), (e) => code(e) === 'E_LENGTH_EXCEEDED');
  await assert.rejects(readAll(f, `${file}.missing`, 3), (e) => code(e) === 'E_NET_NOT_FOUND' && (e as Error).message === `file not found: ${file}.missing`);
  await assert.rejects(readAll(f, dir, 3), (e) => code(e) === 'E_NET_NOT_FOUND');
});

async function selfSigned(dir: string): Promise<{ key: string; cert: string }> {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'ca.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ]);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
