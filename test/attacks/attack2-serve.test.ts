/**
 * Attacks on `provenant serve` by a local user who can reach it (and, for the race, create
 * symlinks in the tree it serves): no private key, no keys.json, no file outside the tree.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer } from '../../src/app/serve.ts';
import { exportPrivateKeyPem, generatePrivateKey } from '../../src/signers/key-file.ts';
import { tempDir } from '../helpers/peers.ts';

const SECRET = 'KEYS-JSON-SECRET-7f3a';

/** A key store (keys.json, a PEM key, a PIN file kept beside them) and a repository beside it. */
async function layout(t: { after(fn: () => unknown): void }) {
  const dir = await tempDir(t, 'provenant-attack2-serve-');
  const keys = path.join(dir, 'keys');
  const repo = path.join(dir, 'repository');
  await mkdir(keys);
  await mkdir(path.join(repo, 'simple', 'demo'), { recursive: true });
  await mkdir(path.join(repo, 'metadata'));
  await writeFile(path.join(keys, 'keys.json'), `{"keystoreVersion":1,"keys":{},"note":"${SECRET}"}\n`);
  await writeFile(path.join(keys, 'root.pem'), exportPrivateKeyPem(generatePrivateKey('ed25519')));
  await writeFile(path.join(keys, 'ci.pin'), `${SECRET}-PIN\n`);
  await writeFile(path.join(repo, 'metadata', '1.root.json'), '{"signed":{}}\n');
  await writeFile(path.join(repo, 'simple', 'demo', 'index.html'), '<html></html>\n');
  await writeFile(path.join(dir, 'outside.txt'), `${SECRET}-OUTSIDE\n`);
  return { dir, keys, repo };
}

/** One request with the path sent exactly as written (no client-side normalisation). */
function get(url: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request line written byte for byte (absolute-form targets, raw backslashes). */
function rawRequest(url: string, requestLine: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.end(`${requestLine}\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (out += c));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

test('FOUND+fixed: a symlink flipped between a checked path and the open never serves keys.json, a PIN file or a file outside the tree', { timeout: 120_000 }, async (t) => {
  const { dir, repo } = await layout(t);
  await mkdir(path.join(repo, 'empty'));
  const server = await startServer({ root: repo, port: 0, log: () => {} });
  t.after(() => server.close());
  // `a` flips between a directory inside the tree and the key store (then the directory above it), as fast as it can.
  const flipper = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs'); const [a, tmp] = process.argv.slice(1); const targets = ['empty', '../keys', 'empty', '..'];
       for (let i = 0; ; i++) { fs.rmSync(tmp, { force: true }); fs.symlinkSync(targets[i % 4], tmp); fs.renameSync(tmp, a); }`,
      path.join(repo, 'a'),
      path.join(repo, 'a.tmp'),
    ],
    { stdio: 'ignore' },
  );
  const statuses = new Map<number, number>();
  try {
    const started = Date.now();
    for (let i = 0; i < 4000 && Date.now() - started < 20_000; i++) {
      for (const p of ['/a/keys.json', '/a/ci.pin', '/a/outside.txt']) {
        const r = await get(server.url, p);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.doesNotMatch(r.body, new RegExp(SECRET), `${p} leaked after ${i} rounds: ${[...statuses].join(' ')}`);
        assert.notEqual(r.status, 200, p);
      }
    }
  } finally {
    // Stopped before the temp directory goes, whatever the outcome.
    const exited = new Promise((r) => flipper.once('exit', r));
    flipper.kill();
    await exited;
    await rm(path.join(dir, 'repository', 'a'), { force: true });
  }
  assert.ok((statuses.get(404) ?? 0) > 0, [...statuses].join(' '));
});

test('URL tricks, methods, ranges and listings: nothing of the key store or outside the tree is served', async (t) => {
  const { keys, repo } = await layout(t);
  const server = await startServer({ root: repo, port: 0, log: () => {} });
  t.after(() => server.close());
  // Made after start: a link out to the store and to its PIN, a dangling link whose target appears later,
  // a key store nested deep in the tree, a key under a shouted name, and a FIFO.
  await symlink(keys, path.join(repo, 'simple', 'k'));
  await symlink(path.join(keys, 'ci.pin'), path.join(repo, 'simple', 'demo', 'pin.txt'));
  await symlink(path.join(path.dirname(repo), 'later'), path.join(repo, 'metadata', 'later'));
  await mkdir(path.join(path.dirname(repo), 'later'));
  await writeFile(path.join(path.dirname(repo), 'later', 'x.json'), `${SECRET}\n`);
  const nested = path.join(repo, 'policy', 'deep', 'store');
  await mkdir(nested, { recursive: true });
  await writeFile(path.join(nested, 'keys.json'), `{"note":"${SECRET}"}\n`);
  await writeFile(path.join(nested, 'ci.pin'), `${SECRET}\n`);
  await writeFile(path.join(repo, 'simple', 'demo', 'ROOT.PEM'), `${SECRET}\n`);
  await promisify(execFile)('mkfifo', [path.join(repo, 'simple', 'demo', 'pipe.whl')]);

  const cases: [string, number | number[], { method?: string; headers?: Record<string, string> }?][] = [
    ['/%2e%2e/keys/keys.json', 403],
    ['/%2E%2E/outside.txt', 403],
    ['/simple/..%2F..%2Fkeys%2Fkeys.json', 403],
    ['/%252e%252e/keys/keys.json', 404],
    ['/simple/%5c..%5c..%5ckeys%5ckeys.json', 403],
    ['/simple/demo%00/../../keys/keys.json', 403],
    ['/simple/demo/index.html%00.pem', 403],
    ['//keys/keys.json', 404],
    ['/simple/k/keys.json', 404],
    ['/simple/k/', 404],
    ['/simple/demo/pin.txt', 404],
    ['/metadata/later/x.json', 404],
    ['/policy/deep/store/keys.json', 403],
    ['/policy/deep/store/ci.pin', 403],
    ['/policy/deep/store/', 403],
    ['/policy/deep/', 404],
    ['/simple/demo/ROOT.PEM', 403],
    ['/simple/demo/pipe.whl', 404],
    ['/simple/demo/ROOT.PEM', 403, { method: 'HEAD' }],
    ['/policy/deep/store/keys.json', 403, { headers: { range: 'bytes=10-20' } }],
    ['/policy/deep/store/keys.json', 403, { method: 'HEAD', headers: { range: 'bytes=0-0' } }],
    ['/simple/;/../../keys/keys.json', 403],
    ['/metadata/', 404],
  ];
  for (const [p, want, opts] of cases) {
    const r = await get(server.url, p, opts);
    assert.ok((Array.isArray(want) ? want : [want]).includes(r.status), `${opts?.method ?? 'GET'} ${p}: ${r.status}`);
    assert.doesNotMatch(r.body, new RegExp(`${SECRET}|PRIVATE KEY`), p);
  }
  for (const line of ['GET http://x/../keys/keys.json HTTP/1.1', 'GET \\..\\keys\\keys.json HTTP/1.1', 'GET /simple/..\\..\\keys\\keys.json HTTP/1.1', 'GET * HTTP/1.1']) {
    const out = await rawRequest(server.url, line);
    assert.match(out, /^HTTP\/1\.1 (400|403|404) /, line);
    assert.doesNotMatch(out, new RegExp(SECRET), line);
  }
  // The repository itself is still served.
  assert.equal((await get(server.url, '/metadata/1.root.json')).status, 200);
});
