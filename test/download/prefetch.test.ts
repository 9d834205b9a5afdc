import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { attestationKey } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { repositoryBaseUrl } from '../../src/verify/repository-url.ts';
import { repositoryStateDir } from '../../src/verify/state-dir.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
import { download, expectRefused } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

const P = 'datadog-prefetch';
const HINTS = 'download-hints.cache';

async function twoReleases(t: { after(fn: () => unknown): void }, fault?: Parameters<typeof serveRepository>[2]) {
  const fx = await repoFixture(t);
  const r1 = await signedRelease(fx, P, '1.0.0');
  const r2 = await signedRelease(fx, P, '2.0.0');
  await publish(fx, [r1, r2]);
  const server = await serveRepository(t, fx.repoDir, fault);
  const hintsFile = path.join(repositoryStateDir(path.join(fx.dir, 'state'), repositoryBaseUrl(server.url, '/')), HINTS);
  return { fx, r1, r2, server, hintsFile };
}

type Hints = { version: 1; hints: Record<string, Record<string, { url: string; length: number; sha256: string }>> };

test('a repeated download requests its pointer, policy and attestation while TUF refreshes (hints from the last run)', async (t) => {
  // The timestamp is answered late; what was requested by then cannot have come from it.
  let slow = false;
  let beforeTimestamp: string[] = [];
  const { fx, server, hintsFile } = await twoReleases(t, (urlPath, _req, res) => {
    if (!slow || urlPath !== '/metadata/timestamp.json') return false;
    setTimeout(() => {
      beforeTimestamp = [...server.requests];
      readFile(path.join(fx.repoDir, 'metadata/timestamp.json')).then((b) => res.writeHead(200).end(b));
    }, 150);
    return true;
  });
  await download(fx, server.url, P, { version: '1.0.0' });
  const hints = JSON.parse(await readFile(hintsFile, 'utf8')) as Hints;
  const hint = hints.hints[`${P} 1.0.0`]!;
  assert.ok(hint.pointer!.url.startsWith(server.url) && hint.policy!.url.startsWith(server.url) && hint.attestation!.url.startsWith(server.url));

  server.requests.length = 0;
  slow = true;
  const r = await download(fx, server.url, P, { version: '1.0.0' });
  assert.equal(r.version, '1.0.0');
  // The hinted objects were asked for before the timestamp was even answered, each once.
  for (const url of [hint.pointer!.url, hint.policy!.url, hint.attestation!.url]) {
    const p = decodeURIComponent(new URL(url).pathname);
    assert.ok(beforeTimestamp.includes(p), `${p} not requested before the timestamp was answered: ${beforeTimestamp.join(', ')}`);
    assert.equal(server.requests.filter((x) => x === p).length, 1);
  }
  assert.ok(!beforeTimestamp.some((x) => x.endsWith('.whl')), 'the wheel waits for the verified pointer');
});

test('hints are never trusted: wrong, foreign or garbled hints cost a request, never the verdict', async (t) => {
  const { fx, r1, r2, server, hintsFile } = await twoReleases(t);
  await download(fx, server.url, P, { version: '1.0.0' });
  await download(fx, server.url, P, { version: '2.0.0' });
  const hints = JSON.parse(await readFile(hintsFile, 'utf8')) as Hints;
  // 1.0.0's hint now names 2.0.0's pointer and attestation: the verified metadata asks for
  // other URLs, so those early reads are not used.
  hints.hints[`${P} 1.0.0`] = hints.hints[`${P} 2.0.0`]!;
  await writeFile(hintsFile, JSON.stringify(hints));
  const a = await download(fx, server.url, P, { version: '1.0.0' });
  assert.equal(a.version, '1.0.0');
  assert.equal(a.wheel.sha256, sha256Hex(r1.wheel.bytes));

  // A hint pointing outside the repository is ignored (no request leaves it).
  const elsewhere = await serveRepository(t, fx.repoDir);
  const foreign = structuredClone(hints.hints[`${P} 2.0.0`]!);
  foreign.attestation!.url = foreign.attestation!.url.replace(server.url, elsewhere.url);
  hints.hints[`${P} 2.0.0`] = foreign;
  await writeFile(hintsFile, JSON.stringify(hints));
  const b = await download(fx, server.url, P, { version: '2.0.0' });
  assert.equal(b.wheel.sha256, sha256Hex(r2.wheel.bytes));
  assert.deepEqual(elsewhere.requests, []);

  await writeFile(hintsFile, '{"version": 1, "hints": {"x');
  assert.equal((await download(fx, server.url, P, { version: '2.0.0' })).version, '2.0.0');
});

test('a prefetched attestation that was tampered with fails the same check as a fresh one', async (t) => {
  const { fx, r1, server } = await twoReleases(t);
  await download(fx, server.url, P, { version: '1.0.0' });
  const file = path.join(fx.repoDir, attestationKey(P, r1.attestation.fileName));
  const bytes = await readFile(file);
  bytes[40] = bytes[40]! ^ 0x01;
  await writeFile(file, bytes);
  await expectRefused(fx, server.url, P, 'E_ATTESTATION_DIGEST', 'verification', { version: '1.0.0' });
});
