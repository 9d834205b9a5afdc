import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sha256Hex } from '../../src/util/hash.ts';
import { trustRepositoryRoot } from '../../src/app/download.ts';
import { refreshRepository } from '../../src/app/repo.ts';
import { silentReporter } from '../../src/reporter.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
import { download } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

test('happy path over loopback HTTP: newest version, every check passes in order', async (t) => {
  const fx = await repoFixture(t);
  const releases = [await signedRelease(fx, 'datadog-demo', '1.0.0'), await signedRelease(fx, 'datadog-demo', '1.2.0'), await signedRelease(fx, 'datadog-demo', '2.0.0rc1')];
  await publish(fx, releases);
  const server = await serveRepository(t, fx.repoDir);
  const r = await download(fx, server.url, 'datadog-demo');
  assert.equal(r.version, '1.2.0');
  assert.ok(path.isAbsolute(r.path));
  assert.equal(path.dirname(r.path), r.dest);
  assert.equal(sha256Hex(await readFile(r.path)), sha256Hex(releases[1]!.wheel.bytes));
  assert.deepEqual(r.checks, [...CHECKS]);
  assert.equal(r.verified, true);
  assert.equal(r.attestation?.format, 'slsa-v1');
  assert.deepEqual(r.attestation?.keyIds, [fx.attestation.keyId]);

  const pre = await download(fx, server.url, 'Datadog_Demo', { pre: true });
  assert.equal(pre.version, '2.0.0rc1');
  const exact = await download(fx, server.url, 'datadog-demo', { version: '1.0' });
  assert.equal(exact.version, '1.0.0');
});

test('happy path for a v0.2-format attestation (the reference guide format), from a local directory', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-old', '0.9.0', { format: 'slsa-v0.2' })]);
  const r = await download(fx, fx.repoDir, 'datadog-old');
  assert.equal(r.attestation?.format, 'slsa-v0.2');
  assert.deepEqual(r.checks, [...CHECKS]);
});

test('trustRepositoryRoot records the root so later downloads need no --root', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const stateDir = path.join(fx.dir, 'state');
  const recorded = await trustRepositoryRoot({ repository: fx.repoDir, rootFile: fx.rootFile, stateDir, env: {} });
  const r = await download(fx, fx.repoDir, 'datadog-demo', { root: undefined });
  assert.equal(r.version, '1.0.0');

  // A newer root cannot be checked offline: it is not recorded, and the caller is told so.
  await refreshRepository(fx.storage, fx.signers, undefined, { force: ['root'] });
  const newer = path.join(fx.dir, 'root-v2.json');
  await copyFile(path.join(fx.repoDir, 'metadata/2.root.json'), newer);
  const warnings: string[] = [];
  await trustRepositoryRoot({ repository: fx.repoDir, rootFile: newer, stateDir, env: {}, reporter: { ...silentReporter, warn: (m) => void warnings.push(m) } });
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /root v2\) is newer than the root v1 trusted .*: not recorded/);
  assert.equal((JSON.parse(await readFile(path.join(recorded, 'root.json'), 'utf8')) as { signed: { version: number } }).signed.version, 1);
});
