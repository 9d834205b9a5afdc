import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { FsStorage } from '../../src/storage/fs.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { tempDir } from '../helpers/peers.ts';
import { startStaticServer } from '../helpers/static-server.ts';

const run = promisify(execFile);
const enc = (s: string) => new TextEncoder().encode(s);
const props = { contentType: 'application/octet-stream' };

test('fs storage: get, put, putImmutable, list', async (t) => {
  const s = new FsStorage(await tempDir(t));
  assert.equal(await s.get('a/b.txt'), undefined);
  assert.equal(await s.putImmutable('a/b.txt', enc('one'), props), 'created');
  assert.equal(await s.putImmutable('a/b.txt', enc('one'), props), 'identical');
  await assert.rejects(s.putImmutable('a/b.txt', enc('two'), props), { code: 'E_IMMUTABLE_CONFLICT', exitClass: 'conflict' });
  const got = await s.get('a/b.txt');
  assert.equal(new TextDecoder().decode(got!.bytes), 'one');
  assert.equal(got!.etag, sha256Hex('one'));
  await s.put('z.txt', enc('x'), props);
  await s.put('z.txt', enc('y'), props);
  await s.put('a/c/d.txt', enc('d'), props);
  assert.deepEqual(await s.list(''), ['a/b.txt', 'a/c/d.txt', 'z.txt']);
  assert.deepEqual(await s.list('a/'), ['a/b.txt', 'a/c/d.txt']);
  // No temp files left behind next to the objects.
  assert.deepEqual(await readdir(path.join(s.root, 'a')), ['b.txt', 'c']);
  for (const bad of ['../x', '/abs', 'a//b', '.hidden', 'a/./b', '']) {
    await assert.rejects(s.get(bad), { code: 'E_STORAGE_KEY' }, bad);
  }
});

test('fs storage: putIfMatch is a compare-and-swap', async (t) => {
  const s = new FsStorage(await tempDir(t));
  const e1 = await s.putIfMatch('m/ts.json', enc('v1'), props, undefined);
  assert.equal(e1, sha256Hex('v1'));
  await assert.rejects(s.putIfMatch('m/ts.json', enc('v1b'), props, undefined), { code: 'E_CAS_CONFLICT', exitClass: 'conflict' });
  const e2 = await s.putIfMatch('m/ts.json', enc('v2'), props, e1);
  await assert.rejects(s.putIfMatch('m/ts.json', enc('v3'), props, e1), { code: 'E_CAS_CONFLICT' });
  assert.equal((await s.get('m/ts.json'))!.etag, e2);
});

test('fs storage: of many processes racing on one etag exactly one wins', async (t) => {
  const root = await tempDir(t);
  const s = new FsStorage(root);
  const start = await s.putIfMatch('metadata/timestamp.json', enc('start'), props, undefined);
  const script = `
    import { FsStorage } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/storage/fs.ts'))};
    const s = new FsStorage(process.argv[1]);
    try {
      await s.putIfMatch('metadata/timestamp.json', new TextEncoder().encode('writer ' + process.argv[2]), { contentType: 'x' }, process.argv[3]);
      process.stdout.write('won');
    } catch (e) { process.stdout.write(e.code); }
  `;
  const n = 8;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => run(process.execPath, ['--input-type=module', '-e', script, root, String(i), start]).then((r) => r.stdout)),
  );
  assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
  assert.equal(results.filter((r) => r === 'E_CAS_CONFLICT').length, n - 1, results.join(','));
  assert.match(new TextDecoder().decode((await s.get('metadata/timestamp.json'))!.bytes), /^writer \d$/);
});

test('fs storage: racing putImmutable of different bytes leaves one whole object', async (t) => {
  const s = new FsStorage(await tempDir(t));
  const big = (c: string) => enc(c.repeat(1 << 20));
  const results = await Promise.allSettled([s.putImmutable('w.bin', big('a'), props), s.putImmutable('w.bin', big('b'), props)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const got = (await s.get('w.bin'))!.bytes;
  assert.equal(got.length, 1 << 20);
  assert.ok(got.every((b) => b === got[0]));
});

test('static server: serves files, 404s missing and hidden, counts requests', async (t) => {
  const root = await tempDir(t);
  const s = new FsStorage(root);
  await s.put('metadata/1.root.json', enc('{}'), props);
  const srv = await startStaticServer(root, t);
  const ok = await fetch(`${srv.url}/metadata/1.root.json`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'application/json');
  assert.equal(await ok.text(), '{}');
  assert.equal((await fetch(`${srv.url}/metadata/2.root.json`)).status, 404);
  assert.equal((await fetch(`${srv.url}/.provenant/locks/x`)).status, 404);
  assert.equal(srv.count(), 3);
  assert.equal(srv.count(/root\.json$/), 2);
});

test('fs storage: a lock left by a dead process is broken; a live holder makes others wait', async (t) => {
  const s = new FsStorage(await tempDir(t));
  await s.put('x', enc('x'), props);
  // A crashed publisher's lock: same host, a pid that no longer exists.
  const dead = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  await mkdir(path.dirname(s.lockPath('publish')), { recursive: true });
  await writeFile(s.lockPath('publish'), JSON.stringify({ host: hostname(), pid: Number(dead.stdout), time: Date.now(), nonce: 'dead' }));
  assert.equal(await s.withLock('publish', async () => 'ran', 2000), 'ran');
  assert.equal(existsSync(s.lockPath('publish')), false, 'released afterwards');

  // While one holder runs, a second waits for it (and times out with a clear error if too slow).
  const order: string[] = [];
  let release!: () => void;
  const held = s.withLock('publish', () => new Promise<void>((r) => (release = () => (order.push('first done'), r()))));
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(s.withLock('publish', async () => order.push('never'), 100), { code: 'E_LOCK_TIMEOUT', exitClass: 'conflict' });
  const second = s.withLock('publish', async () => order.push('second'), 5000);
  setTimeout(() => release(), 50);
  await Promise.all([held, second]);
  assert.deepEqual(order, ['first done', 'second']);
});
