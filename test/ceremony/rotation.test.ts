import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { hosts, ok, release, repoFlags } from './helpers.ts';

interface RootJson {
  signed: { version: number; roles: Record<string, { keyids: string[]; threshold: number }> };
  signatures: { keyid: string }[];
}

const rootAt = async (repoDir: string, v: number) => JSON.parse(await readFile(path.join(repoDir, `metadata/${v}.root.json`), 'utf8')) as RootJson;

test('three root rotations through propose/sign/publish (threshold 1 -> 2, a root key replaced, the online key rotated): provenant download, tuf-js and python-tuf, started from 1.root.json, follow each and verify a release after it', async (t) => {
  const fx = await repoFixture(t, { binCount: 4 });
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  const flags = repoFlags(fx);
  const key = (name: string) => path.join(fx.keysDir, `${name}.pem`);
  await release(fx, 'datadog-postgres', '1.0.0');
  await h.verify('datadog-postgres', '1.0.0');

  // 1. threshold 1 -> 2 with a second root key made in the key store.
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const p2 = path.join(fx.dir, 'proposals/root-v2.json');
  const summary = (JSON.parse(await readFile(p2, 'utf8')) as { summary: string[] }).summary;
  assert.ok(summary.includes('root role: threshold 1 -> 2'), summary.join('\n'));
  assert.ok(summary.some((s) => /^root role: key added [0-9a-f]{12}… \(root-2\)$/.test(s)), summary.join('\n'));
  await ok(fx, 'repo', 'root', 'sign', p2, '--key', key('root'), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'sign', p2, '--key', key('root-2'), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', p2, ...flags);
  assert.equal((await rootAt(fx.repoDir, 2)).signed.roles.root!.threshold, 2);
  await release(fx, 'datadog-postgres', '1.1.0');
  await h.verify('datadog-postgres', '1.1.0');

  // 2. the first root key replaced by a third: old threshold 2 of (root, root-2), new 2 of (root-2, root-3).
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--remove-key', 'root', '--add-key', 'new');
  const p3 = path.join(fx.dir, 'proposals/root-v3.json');
  for (const k of ['root', 'root-2', 'root-3']) await ok(fx, 'repo', 'root', 'sign', p3, '--key', key(k), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', p3, ...flags);
  const r3 = await rootAt(fx.repoDir, 3);
  assert.equal(r3.signed.roles.root!.keyids.length, 2);
  assert.equal(r3.signatures.length, 3);
  await release(fx, 'datadog-postgres', '1.2.0');
  await h.verify('datadog-postgres', '1.2.0');

  // 3. the online key rotated: root (snapshot, timestamp) and targets (the bins) in one proposal.
  const before = await rootAt(fx.repoDir, 3);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--online-key', 'new');
  const p4 = path.join(fx.dir, 'proposals/root-v4.json');
  for (const k of ['root-2', 'root-3']) await ok(fx, 'repo', 'root', 'sign', p4, '--key', key(k), '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'sign', p4, '--key', key('targets'), '--yes', ...flags);
  const published = JSON.parse(await ok(fx, 'repo', 'root', 'publish', p4, ...flags, '--json')) as { metadataWritten: string[] };
  const r4 = await rootAt(fx.repoDir, 4);
  assert.notDeepEqual(r4.signed.roles.timestamp!.keyids, before.signed.roles.timestamp!.keyids);
  // Every bin is signed again by the new online key (4 bins), then snapshot and timestamp.
  assert.equal(published.metadataWritten.filter((k) => /\.bins-/.test(k)).length, 4, published.metadataWritten.join());
  await release(fx, 'datadog-postgres', '1.3.0');
  await h.verify('datadog-postgres', '1.3.0');
  await h.verify('datadog-postgres', '1.0.0');
  assert.deepEqual(await h.rootVersions(), [4, 4]);
  // The key store trusts the newest root and the settings follow it.
  assert.deepEqual(await readFile(path.join(fx.keysDir, 'root.json')), await readFile(path.join(fx.repoDir, 'metadata/4.root.json')));
  const settings = JSON.parse(await readFile(path.join(fx.keysDir, 'provenant-repository.json'), 'utf8')) as { roles: { timestamp: { keyids: string[] } } };
  assert.deepEqual(settings.roles.timestamp.keyids, r4.signed.roles.timestamp!.keyids);
  const status = await ok(fx, 'repo', 'status', ...flags);
  assert.match(status, /root\s+v4/);
});
