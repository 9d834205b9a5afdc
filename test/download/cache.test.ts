import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { attestationKey } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { repositoryBaseUrl } from '../../src/verify/repository-url.ts';
import { repositoryStateDir } from '../../src/verify/state-dir.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
import { download, expectRefused } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

const P = 'datadog-cache';

async function setup(t: { after(fn: () => unknown): void }) {
  const fx = await repoFixture(t);
  const r1 = await signedRelease(fx, P, '1.0.0');
  await publish(fx, [r1]);
  const server = await serveRepository(t, fx.repoDir);
  const cacheDir = path.join(repositoryStateDir(path.join(fx.dir, 'state'), repositoryBaseUrl(server.url, '/')), 'verified-objects');
  return { fx, r1, server, cacheDir };
}

test('a warm download reads the verified pointer, policy and attestation from the cache: only the timestamp, the root probe and the wheel go out', async (t) => {
  const { fx, r1, server, cacheDir } = await setup(t);
  await download(fx, server.url, P, { version: '1.0.0' });
  const cached = await readdir(cacheDir);
  // The pointer, the attestation and the policy, each named by its sha256.
  assert.equal(cached.length, 3, cached.join(', '));
  assert.ok(cached.includes(sha256Hex(r1.pointer)) && cached.includes(sha256Hex(r1.attestation.bytes)));

  server.requests.length = 0;
  const r = await download(fx, server.url, P, { version: '1.0.0' });
  assert.equal(r.wheel.sha256, sha256Hex(r1.wheel.bytes));
  assert.deepEqual([...server.requests].sort(), ['/metadata/2.root.json', '/metadata/timestamp.json', server.requests.find((u) => u.endsWith(`/${r.wheel.fileName}`))!].sort());
  assert.equal(r.checks.length, 10);
});

test('the cache is not trusted: an altered entry is refetched; a pin that changed misses', async (t) => {
  const { fx, r1, server, cacheDir } = await setup(t);
  await download(fx, server.url, P, { version: '1.0.0' });
  const entry = path.join(cacheDir, sha256Hex(r1.attestation.bytes));
  const bytes = await readFile(entry);
  bytes[30] = bytes[30]! ^ 0x01;
  await writeFile(entry, bytes);
  server.requests.length = 0;
  await download(fx, server.url, P, { version: '1.0.0' });
  assert.ok(server.requests.includes(`/${attestationKey(P, r1.attestation.fileName)}`), 'the altered attestation was fetched again');
  assert.deepEqual(await readFile(entry), Buffer.from(r1.attestation.bytes), 'and the entry repaired');

  // A new release: its pointer and attestation are other objects, fetched and checked.
  const r2 = await signedRelease(fx, P, '2.0.0');
  await publish(fx, [r2]);
  const got = await download(fx, server.url, P);
  assert.equal(got.version, '2.0.0');
  assert.ok((await readdir(cacheDir)).includes(sha256Hex(r2.pointer)));

  // What the server sends for an object whose pinned copy is cached no longer matters...
  const att2 = path.join(fx.repoDir, attestationKey(P, r2.attestation.fileName));
  const served = await readFile(att2);
  served[40] = served[40]! ^ 0x01;
  await writeFile(att2, served);
  assert.equal((await download(fx, server.url, P, { version: '2.0.0' })).version, '2.0.0');
  // ...but without the cached copy the tampered one is fetched and refused, as always.
  await writeFile(path.join(cacheDir, sha256Hex(r2.attestation.bytes)), 'not it');
  await expectRefused(fx, server.url, P, 'E_ATTESTATION_DIGEST', 'verification', { version: '2.0.0' });
});
