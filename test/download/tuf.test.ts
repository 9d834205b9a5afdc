import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Metadata, MetadataKind, Root, type Timestamp } from '@tufjs/models';
import { metadataKey, serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { nextTimestamp } from '../../src/tuf/changes.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../../src/tuf/writer.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import { defaultPolicyBytes, publish, publishPolicy, publishPolicyBytes, repoFixture, rogueSigner, signedRelease, type RepoFixture } from './helpers/fixture.ts';
import { download, expectRefused, freshDest } from './helpers/run.ts';
import { serveRepository, streamForever } from './helpers/servers.ts';

const P = 'datadog-demo';
const DAY = 24 * 3600 * 1000;

async function twoPublishes(t: { after(fn: () => unknown): void }): Promise<RepoFixture> {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  await publish(fx, [await signedRelease(fx, P, '1.1.0')]);
  return fx;
}

/** `provenant download` as its own process (state shared through --state-dir only). */
async function cli(fx: RepoFixture, repository: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string; dest: string }> {
  const dest = await freshDest(fx);
  const args = [path.join(REPO_ROOT, 'bin/provenant.js'), 'download', P, '--repository', repository, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state'), '--dest', dest, '--retries', '0', ...extra];
  try {
    const r = await promisify(execFile)(process.execPath, args, { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr, dest };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, dest };
  }
}

test('expired timestamp (freeze attack): E_TUF_EXPIRED', async (t) => {
  const then = new Date(Date.now() - 3 * DAY);
  const fx = await repoFixture(t, { now: then });
  await publish(fx, [await signedRelease(fx, P, '1.0.0')], then);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_TUF_EXPIRED', 'verification');
});

test('timestamp rollback after a successful run, across processes: exit 5, E_TUF_ROLLBACK, nothing written', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const oldTimestamp = await readFile(path.join(fx.repoDir, metadataKey('timestamp')));
  await publish(fx, [await signedRelease(fx, P, '1.1.0')]);
  const server = await serveRepository(t, fx.repoDir);

  const first = await cli(fx, server.url);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim().split('\n').length, 1);
  assert.match(first.stdout.trim(), /datadog_demo-1\.1\.0-py3-none-any\.whl$/);
  assert.ok(path.isAbsolute(first.stdout.trim()));

  await writeFile(path.join(fx.repoDir, metadataKey('timestamp')), oldTimestamp);
  const second = await cli(fx, server.url);
  assert.equal(second.code, 5, second.stderr);
  assert.match(second.stderr, /E_TUF_ROLLBACK/);
  assert.equal(second.stdout, '');
  assert.deepEqual(await readdir(second.dest), []);
});

test('snapshot rollback (a newer timestamp naming an older snapshot) after a successful run, across processes: E_TUF_ROLLBACK', async (t) => {
  const fx = await twoPublishes(t);
  const server = await serveRepository(t, fx.repoDir);
  assert.equal((await cli(fx, server.url)).code, 0);

  // An attacker holding the online key signs timestamp v+1 pointing at the previous snapshot.
  const tsFile = path.join(fx.repoDir, metadataKey('timestamp'));
  const current = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(await readFile(tsFile, 'utf8'))) as Metadata<Timestamp>;
  const oldSnapVersion = current.signed.snapshotMeta.version - 1;
  const oldSnap = await readFile(path.join(fx.repoDir, metadataKey('snapshot', oldSnapVersion)));
  const forged = nextTimestamp(oldSnapVersion, oldSnap, current.signed.version + 1, current.signed.specVersion, new Date(Date.now() + DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  await writeFile(tsFile, serializeMetadata(await signMetadata(forged, [fx.online], 'timestamp')));

  const r = await cli(fx, server.url, ['--json']);
  assert.equal(r.code, 5, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'E_TUF_ROLLBACK');
  assert.deepEqual(await readdir(r.dest), []);
});

test('mix-and-match (targets.json of an earlier publish served as the current version): E_TUF_MIX_AND_MATCH', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  await publishPolicy(fx, { refs: ['refs/heads/*'] });
  await copyFile(path.join(fx.repoDir, metadataKey('targets', 1)), path.join(fx.repoDir, metadataKey('targets', 2)));
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_TUF_MIX_AND_MATCH', 'verification');
});

test('snapshot from another publish under the pinned name: E_TUF_METADATA (timestamp pins its hash)', async (t) => {
  const fx = await twoPublishes(t);
  await copyFile(path.join(fx.repoDir, metadataKey('snapshot', 2)), path.join(fx.repoDir, metadataKey('snapshot', 3)));
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_TUF_METADATA', 'verification');
});

test('endless timestamp.json: cut off at its length limit, E_LENGTH_EXCEEDED', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const counter = { sent: 0, closed: false };
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
    if (p !== '/metadata/timestamp.json') return false;
    streamForever(res, counter);
    return true;
  });
  await expectRefused(fx, server.url, P, 'E_LENGTH_EXCEEDED', 'verification');
  for (let i = 0; i < 200 && !counter.closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(counter.closed);
});

test('endless bin metadata: cut off, E_LENGTH_EXCEEDED recovered through tuf-js wrapping', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
    if (!/^\/metadata\/\d+\.bins-/.test(p)) return false;
    streamForever(res, { sent: 0, closed: false });
    return true;
  });
  await expectRefused(fx, server.url, P, 'E_LENGTH_EXCEEDED', 'verification');
});

test('a server that stalls: E_NET_TIMEOUT (network)', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir, (p) => p === '/metadata/timestamp.json');
  const started = Date.now();
  await expectRefused(fx, server.url, P, 'E_NET_TIMEOUT', 'network', { net: { retry: { retries: 1, baseDelayMs: 5, maxDelayMs: 5 }, idleTimeoutMs: 200 } });
  assert.ok(Date.now() - started < 10_000);
});

test('503 twice then success: retried, counted, verified', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  let failures = 0;
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
    if (p !== '/metadata/timestamp.json' || failures >= 2) return false;
    failures++;
    res.writeHead(503).end();
    return true;
  });
  const r = await download(fx, server.url, P);
  assert.equal(r.verified, true);
  assert.equal(r.network.retries, 2);
  assert.equal(server.requests.filter((p) => p === '/metadata/timestamp.json').length, 3);
});

test('unknown project: E_PROJECT_UNKNOWN (not-found)', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, 'datadog-nope', 'E_PROJECT_UNKNOWN', 'not-found');
});

test('unknown version: E_VERSION_UNKNOWN (not-found), naming the published ones', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  const e = await expectRefused(fx, server.url, P, 'E_VERSION_UNKNOWN', 'not-found', { version: '9.9.9' });
  assert.match(e.hint ?? '', /1\.0\.0/);
});

test('only pre-releases without --pre: E_VERSION_UNKNOWN hinting at --pre', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '2.0.0b1')]);
  const e = await expectRefused(fx, fx.repoDir, P, 'E_VERSION_UNKNOWN', 'not-found');
  assert.match(e.hint ?? '', /--pre/);
});

test('no network at all (connection refused): E_NET_CONNECT (network), via the CLI exit 6', async (t) => {
  const fx = await repoFixture(t);
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  const url = `http://127.0.0.1:${port}/`;
  await expectRefused(fx, url, P, 'E_NET_CONNECT', 'network');
  const r = await cli(fx, url);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /E_NET_CONNECT/);
});

test('no trusted root and no --root: E_TUF_ROOT_MISSING (usage), nothing fetched', async (t) => {
  const fx = await repoFixture(t);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_TUF_ROOT_MISSING', 'usage', { root: undefined });
  assert.deepEqual(server.requests, []);
});

test('a new root version is followed (N+1.root.json until 404) and kept in the state', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  assert.equal((await download(fx, server.url, P)).tuf.root, 1);
  await rotateRoot(fx);
  const r = await download(fx, server.url, P);
  assert.equal(r.tuf.root, 2);
  assert.ok(server.requests.includes('/metadata/3.root.json'), 'the root probe must continue to the first missing version');
  const kept = JSON.parse(await readFile(path.join(r.stateDir, 'root.json'), 'utf8')) as { signed: { version: number } };
  assert.equal(kept.signed.version, 2);
});

/** A new root version signed by the current root keys (a rotation that keeps them). */
async function rotateRoot(fx: RepoFixture): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const root = Root.fromJSON(state.root.signed.toJSON() as never);
  await commitChanges(fx.storage, state, await signersForCommit(state, fx.signers, { root }), { root }, new Date());
}

test('request order follows the client workflow: every root probe (N+1.root.json…) before timestamp.json', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  await download(fx, server.url, P);
  await rotateRoot(fx);
  await rotateRoot(fx);
  server.requests.length = 0;
  assert.equal((await download(fx, server.url, P)).tuf.root, 3);
  assert.deepEqual(server.requests.slice(0, 4), ['/metadata/2.root.json', '/metadata/3.root.json', '/metadata/4.root.json', '/metadata/timestamp.json']);
  assert.equal(server.requests.filter((p) => p === '/metadata/timestamp.json').length, 1);
});

test('a failing root update requests no timestamp.json at all', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  await download(fx, server.url, P);
  // Root v2 signed only by a key root v1 does not list: the root update must stop there.
  const current = (await loadTrustedState(fx.storage)).root.signed.toJSON() as Record<string, unknown>;
  const forged = await signMetadata(Root.fromJSON({ ...current, version: 2 } as never), [rogueSigner()], 'root');
  await writeFile(path.join(fx.repoDir, metadataKey('root', 2)), serializeMetadata(forged));
  server.requests.length = 0;
  await expectRefused(fx, server.url, P, 'E_TUF_METADATA', 'verification');
  assert.deepEqual(server.requests, ['/metadata/2.root.json']);
});

/** A repository whose policy target TUF pins by `pins` (the policy's real digests at hand). */
async function policyPinnedBy(t: { after(fn: () => unknown): void }, pins: (real: { sha256: string; sha512: string }) => Record<string, string>): Promise<RepoFixture> {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const policy = defaultPolicyBytes(fx);
  await publishPolicyBytes(fx, policy.bytes, new Date(), pins(policy));
  return fx;
}

const flipLast = (hex: string) => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;

test('TUF targets: every listed hash is checked, a wrong sha512 beside a right sha256 is refused (E_TARGET_DIGEST)', async (t) => {
  const fx = await policyPinnedBy(t, (real) => ({ sha256: real.sha256, sha512: flipLast(real.sha512) }));
  const e = await expectRefused(fx, fx.repoDir, P, 'E_TARGET_DIGEST', 'verification');
  assert.match(e.message, /sha512/);
});

test('TUF targets: a target pinned only by sha512 is checked by it and downloads; a wrong one is refused', async (t) => {
  let sha512 = '';
  const fx = await policyPinnedBy(t, (real) => ({ sha512: (sha512 = real.sha512) }));
  const server = await serveRepository(t, fx.repoDir);
  assert.equal((await download(fx, server.url, P)).verified, true);
  assert.ok(server.requests.includes(`/policy/${sha512}.attestation-policy.json`), server.requests.join('\n'));
  const wrong = await policyPinnedBy(t, (real) => ({ sha512: flipLast(real.sha512) }));
  await expectRefused(wrong, wrong.repoDir, P, 'E_TARGET_DIGEST', 'verification');
});

test('TUF targets: a hash algorithm provenant does not check is refused, not skipped', async (t) => {
  const fx = await policyPinnedBy(t, (real) => ({ sha256: real.sha256, md5: '0'.repeat(32) }));
  const e = await expectRefused(fx, fx.repoDir, P, 'E_TARGET_DIGEST', 'verification');
  assert.match(e.message, /md5/);
});
