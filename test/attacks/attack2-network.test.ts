/**
 * Attacks on the downloader by a network attacker or a malicious mirror (no keys), and by
 * whoever picks the paths it reads (--root, --ca-file). Each row is refused by the code; the
 * first two tests reproduce what was found and fixed (a hang past --deadline and an unbounded
 * read from a --root path; a TUF pin that named a URL outside the repository).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { TargetFile, Targets } from '@tufjs/models';
import { forgetRepositoryState } from '../../src/app/state.ts';
import { POLICY_TARGET, wheelKey } from '../../src/formats/layout.ts';
import { repositoryStateDir } from '../../src/verify/state-dir.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../../src/tuf/writer.ts';
import { defaultPolicyBytes, publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { listen, serveRepository } from '../download/helpers/servers.ts';
import { readRepoFile } from '../download/helpers/fixture.ts';

const P = 'datadog-demo';
const V = '1.0.0';
const WHEEL = `datadog_demo-${V}-py3-none-any.whl`;

async function published(t: { after(fn: () => unknown): void }): Promise<RepoFixture> {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, V)]);
  return fx;
}

test('FOUND+fixed: --root, PROVENANT_ROOT and --ca-file naming a FIFO, /dev/zero, a directory or a huge file are refused at once', { timeout: 60_000 }, async (t) => {
  const fx = await published(t);
  const server = await serveRepository(t, fx.repoDir);
  const fifo = path.join(fx.dir, 'root.fifo');
  await promisify(execFile)('mkfifo', [fifo]);
  t.after(() => releaseFifo(fifo));
  const huge = path.join(fx.dir, 'huge.json');
  await writeFile(huge, Buffer.alloc(8 << 20, 0x20));
  const dir = path.join(fx.dir, 'a-directory');
  await mkdir(dir);
  const cases: { name: string; over: Parameters<typeof expectRefused>[5]; code: string; why: RegExp }[] = [
    { name: '--root FIFO', over: { root: fifo }, code: 'E_TUF_ROOT_INVALID', why: /FIFO/ },
    { name: 'PROVENANT_ROOT FIFO', over: { root: undefined, env: { PROVENANT_ROOT: fifo } }, code: 'E_TUF_ROOT_INVALID', why: /FIFO/ },
    { name: '--root /dev/zero', over: { root: '/dev/zero' }, code: 'E_TUF_ROOT_INVALID', why: /character device/ },
    { name: '--root directory', over: { root: dir }, code: 'E_TUF_ROOT_INVALID', why: /directory/ },
    { name: '--root 8 MiB file', over: { root: huge }, code: 'E_TUF_ROOT_INVALID', why: /over the \d+-byte limit/ },
    { name: '--ca-file /dev/zero', over: { net: { caFile: '/dev/zero' } }, code: 'E_CA_FILE', why: /character device/ },
    { name: '--ca-file FIFO', over: { net: { caFile: fifo } }, code: 'E_CA_FILE', why: /FIFO/ },
  ];
  for (const c of cases) {
    const started = Date.now();
    const e = await expectRefused(fx, server.url, P, c.code, 'input', { deadlineMs: 5_000, ...c.over });
    assert.match(e.message, c.why, c.name);
    assert.ok(Date.now() - started < 2_000, `${c.name}: took ${Date.now() - started} ms`);
  }
});

test('FOUND+fixed: a TUF pin that is a path, not a digest, never becomes a request outside the repository', async (t) => {
  const fx = await published(t);
  const policy = defaultPolicyBytes(fx);
  // The policy target signed (by the targets role) with `../../evil` as its sha256: its consistent-snapshot
  // name would be policy/../../evil.attestation-policy.json, i.e. beside the repository, not in it.
  await signTargetWithHashes(fx, policy.bytes.byteLength, { sha256: '../../evil' });
  await writeFile(path.join(fx.dir, 'evil.attestation-policy.json'), policy.bytes);
  const server = await serveRepository(t, fx.dir);
  const e = await expectRefused(fx, `${server.url}repository/`, P, 'E_TARGET_DIGEST', 'verification');
  assert.match(e.message, /not 64 hex digits/);
  const outside = server.requests.filter((r) => !r.startsWith('/repository/'));
  assert.deepEqual(outside, [], 'requests left the repository');
});

/** The policy target re-signed by the targets role with `hashes`, whatever they hold (the file itself is not stored). */
async function signTargetWithHashes(fx: RepoFixture, length: number, hashes: Record<string, string>): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const json = state.targets.signed.toJSON() as { targets: Record<string, unknown> };
  json.targets[POLICY_TARGET] = new TargetFile({ path: POLICY_TARGET, length, hashes }).toJSON();
  const targets = Targets.fromJSON(json as never);
  await commitChanges(fx.storage, state, await signersForCommit(state, fx.signers, { targets }), { targets }, new Date());
}

/** Writes a raw HTTP/1.1 response (status line, headers, body) to the socket, bypassing Node's own framing. */
function raw(res: http.ServerResponse, head: string, body: Uint8Array = new Uint8Array(), end = true): void {
  const socket = res.socket!;
  socket.write(`HTTP/1.1 200 OK\r\n${head}\r\n\r\n`);
  socket.write(body);
  if (end) socket.end();
}

test('a hostile server answering for the wheel: compression, framing lies, huge headers and redirects are all refused, nothing kept', async (t) => {
  const fx = await published(t);
  const wheel = await readRepoFile(fx, wheelKey(P, WHEEL));
  const tampered = Buffer.from(wheel);
  tampered[100] = tampered[100]! ^ 1;
  const elsewhere = await listen(t, (req, res) => void res.writeHead(200, { 'content-length': tampered.length }).end(tampered));
  // 64 MiB of zeros in ~64 KiB: were it inflated, the length cap would come too late.
  const bomb = gzipSync(Buffer.alloc(64 << 20));
  const answers: Record<string, (res: http.ServerResponse) => void> = {
    'gzip bomb': (res) => void res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': bomb.length }).end(bomb),
    'gzip of the real wheel': (res) => {
      const gz = gzipSync(wheel);
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz);
    },
    'Content-Length shorter than the wheel': (res) => raw(res, `content-length: ${wheel.length - 10}`, wheel),
    'Content-Length as pinned, half the body, then close': (res) => raw(res, `content-length: ${wheel.length}`, wheel.subarray(0, wheel.length >> 1)),
    'Content-Length over the pin': (res) => raw(res, `content-length: ${wheel.length + 1}`, wheel, false),
    'chunked and Content-Length both': (res) => raw(res, `transfer-encoding: chunked\r\ncontent-length: ${wheel.length}`, Buffer.from(`ffffffff\r\n${'x'.repeat(100)}`)),
    'chunk sizes past the pin': (res) => raw(res, 'transfer-encoding: chunked', Buffer.from(`${(wheel.length + 100).toString(16)}\r\n${'x'.repeat(wheel.length + 100)}\r\n0\r\n\r\n`)),
    'a megabyte of headers': (res) => raw(res, Array.from({ length: 1024 }, (_, i) => `x-h${i}: ${'a'.repeat(1000)}`).join('\r\n'), wheel),
    'redirect to file://': (res) => void res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
    'redirect to a data: URL': (res) => void res.writeHead(302, { location: `data:application/octet-stream;base64,${wheel.toString('base64')}` }).end(),
    'redirect to another host serving a tampered copy': (res) => void res.writeHead(307, { location: `${elsewhere}${WHEEL}` }).end(),
    'redirect loop': (res) => void res.writeHead(302, { location: `/${wheelKey(P, WHEEL)}` }).end(),
  };
  const expected: Record<string, [string, string]> = {
    'gzip bomb': ['E_WHEEL_LENGTH', 'verification'],
    'gzip of the real wheel': ['E_WHEEL_LENGTH', 'verification'],
    'Content-Length shorter than the wheel': ['E_WHEEL_LENGTH', 'verification'],
    'Content-Length as pinned, half the body, then close': ['E_NET_CONNECT', 'network'],
    'Content-Length over the pin': ['E_WHEEL_LENGTH', 'verification'],
    'chunked and Content-Length both': ['E_NET_CONNECT', 'network'],
    'chunk sizes past the pin': ['E_WHEEL_LENGTH', 'verification'],
    'a megabyte of headers': ['E_NET_CONNECT', 'network'],
    'redirect to file://': ['E_NET_REDIRECT', 'network'],
    'redirect to a data: URL': ['E_NET_REDIRECT', 'network'],
    'redirect to another host serving a tampered copy': ['E_WHEEL_DIGEST', 'verification'],
    'redirect loop': ['E_NET_REDIRECT', 'network'],
  };
  for (const [name, answer] of Object.entries(answers)) {
    const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
      if (!p.endsWith('.whl')) return false;
      answer(res);
      return true;
    });
    const [code, exitClass] = expected[name]!;
    await assert.doesNotReject(expectRefused(fx, server.url, P, code, exitClass as 'network' | 'verification'), name);
  }
  // The same redirect to a host serving the genuine wheel is fine: every byte is pinned, not its origin.
  const genuine = await listen(t, (req, res) => void res.writeHead(200, { 'content-length': wheel.length }).end(wheel));
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => p.endsWith('.whl') && (res.writeHead(302, { location: `${genuine}${WHEEL}` }).end(), true));
  assert.equal((await download(fx, server.url, P)).verified, true);
});

test('a server dripping its response headers under the idle timeout is cut off by --deadline', async (t) => {
  const fx = await published(t);
  let closed = false;
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
    if (p !== '/metadata/timestamp.json') return false;
    const socket = res.socket!;
    socket.write('HTTP/1.1 200 OK\r\n');
    const timer = setInterval(() => socket.write('x'), 200);
    socket.on('close', () => ((closed = true), clearInterval(timer)));
    return true;
  });
  const started = Date.now();
  await expectRefused(fx, server.url, P, 'E_NET_DEADLINE', 'network', { deadlineMs: 1_500 });
  const took = Date.now() - started;
  assert.ok(took < 4_000, `took ${took} ms`);
  for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(closed, 'the connection was left open');
});

test('state directories: every repository spelling, `..` and encodings included, maps to one fresh name under the base; forget removes only it', async (t) => {
  const fx = await repoFixture(t);
  const base = path.join(fx.dir, 'state');
  const sibling = path.join(fx.dir, 'keep-me');
  await mkdir(sibling);
  const spellings = [
    'http://example.com/../../..',
    'http://example.com/%2e%2e/%2e%2e/',
    'http://example.com/a/..%2f..%2f',
    'file:///../../etc',
    '../..',
    '..',
    '.',
    'http://example.com/' + 'x'.repeat(400),
    'http://example.com/a/',
    'http://example.com/a_',
  ];
  const names = new Map<string, string>();
  for (const s of spellings) {
    const r = await forgetRepositoryState({ repository: s, stateDir: base, cwd: fx.dir, env: {} });
    assert.equal(path.dirname(r.stateDir), base, s);
    const name = path.basename(r.stateDir);
    assert.ok(!['.', '..', ''].includes(name) && !name.startsWith('.') && name.length < 120, `${s} -> ${name}`);
    assert.equal(r.stateDir, repositoryStateDir(base, r.repository));
    names.set(r.repository, name);
  }
  // Spellings of one URL (`%2e%2e` is `..` to every URL parser) share a state; different URLs never do.
  assert.equal(new Set(names.values()).size, names.size, 'two repositories would share trust');
  assert.ok(names.size >= spellings.length - 2, [...names.keys()].join(' '));
  assert.ok((await import('node:fs')).existsSync(sibling), 'forget removed something outside the state base');
});

test('FOUND+fixed: a FIFO or a huge file planted in the state directory (verified-objects/, root.json) is a miss or a clear error, never a hang', { timeout: 60_000 }, async (t) => {
  const fx = await published(t);
  const server = await serveRepository(t, fx.repoDir);
  const first = await download(fx, server.url, P);
  assert.equal(first.verified, true);
  const state = first.stateDir;
  const cached = path.join(state, 'verified-objects');
  const names = (await readdir(cached)).filter((n) => /^[0-9a-f]{64}$/.test(n));
  assert.ok(names.length >= 3, names.join());
  const fifos: string[] = [];
  t.after(() => fifos.forEach(releaseFifo));
  for (const [i, name] of names.entries()) {
    const file = path.join(cached, name);
    await rm(file);
    if (i % 2 === 0) {
      await promisify(execFile)('mkfifo', [file]);
      fifos.push(file);
    } else {
      await writeFile(file, Buffer.alloc(8 << 20));
    }
  }
  const started = Date.now();
  const again = await download(fx, server.url, P, { deadlineMs: 10_000 });
  assert.equal(again.verified, true);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);

  await rm(path.join(state, 'root.json'));
  await promisify(execFile)('mkfifo', [path.join(state, 'root.json')]);
  fifos.push(path.join(state, 'root.json'));
  const e = await expectRefused(fx, server.url, P, 'E_TUF_ROOT_INVALID', 'input', { deadlineMs: 5_000 });
  assert.match(e.message, /FIFO/);
});

/** Lets a reader stuck in open(2) on `fifo` go (before the fix one was), so the test file can end. */
function releaseFifo(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader waiting
  }
}
