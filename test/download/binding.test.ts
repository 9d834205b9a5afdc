import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { sha256Hex } from '../../src/util/hash.ts';
import { forgeWithOnlineKey, pointerTo, publish, publishPolicy, repoFixture, signedRelease, type RepoFixture } from './helpers/fixture.ts';
import { download, downloadCli, expectRefused } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

/*
 * A wheel belongs to exactly one pointer (ARCHITECTURE.md, Trust). These attacks are made holding
 * only the online key, the one a CI job uses to sign bins, snapshot and timestamp: every file the
 * downloader is given is genuine (wheel, attestation signed by the attestation key, policy), only
 * the pointer that ties them to a project and version is the attacker's.
 */

const PG = 'datadog-postgres';
const REDIS = 'datadog-redisdb';

/** Requests for wheels: the binding checks must refuse before any wheel byte is asked for. */
const wheelRequests = (requests: string[]) => requests.filter((r) => r.endsWith('.whl'));

test('(a) substitution: the datadog-postgres 23.4.0 pointer delivering redisdb 7.2.0 (genuine wheel and attestation) is E_WHEEL_PROJECT_MISMATCH', async (t) => {
  const fx = await repoFixture(t);
  const redis = await signedRelease(fx, REDIS, '7.2.0');
  await publish(fx, [redis, await signedRelease(fx, PG, '23.2.0')]);
  await forgeWithOnlineKey(fx, [{ project: PG, version: '23.4.0', pointer: pointerTo(redis, PG, '23.4.0') }]);
  const server = await serveRepository(t, fx.repoDir);
  const err = await expectRefused(fx, server.url, PG, 'E_WHEEL_PROJECT_MISMATCH', 'verification', { version: '23.4.0' });
  assert.match(err.message, /^pointer schema: /);
  assert.match(err.message, /datadog_redisdb-7\.2\.0-py3-none-any\.whl/);
  assert.match(err.message, /datadog-postgres/);
  assert.deepEqual(wheelRequests(server.requests), [], 'the wheel was fetched before the refusal');
  // The genuine releases still download.
  assert.equal((await download(fx, server.url, REDIS)).version, '7.2.0');
  assert.equal((await download(fx, server.url, PG, { version: '23.2.0' })).version, '23.2.0');
});

test('(b) downgrade: a new 99.0.0 pointer delivering 23.2.0 (genuine wheel and attestation) is E_WHEEL_VERSION_MISMATCH', async (t) => {
  const fx = await repoFixture(t);
  const old = await signedRelease(fx, PG, '23.2.0');
  await publish(fx, [old]);
  await publishPolicy(fx, { allowUnsafeDisableVerification: true });
  await forgeWithOnlineKey(fx, [{ project: PG, version: '99.0.0', pointer: pointerTo(old, PG, '99.0.0') }]);
  const server = await serveRepository(t, fx.repoDir);
  // The newest version is the forged one: a plain `download datadog-postgres` picks it.
  const err = await expectRefused(fx, server.url, PG, 'E_WHEEL_VERSION_MISMATCH', 'verification');
  assert.match(err.message, /23\.2\.0/);
  assert.match(err.message, /99\.0\.0/);
  assert.deepEqual(wheelRequests(server.requests), []);
  // Even where the owners allow break glass, it does not move a release: the binding is not skipped.
  await expectRefused(fx, server.url, PG, 'E_WHEEL_VERSION_MISMATCH', 'verification', { version: '99.0.0', unsafeDisableVerification: true });
});

async function cli(fx: RepoFixture, args: string[]) {
  const r = await downloadCli(fx, [...args, '--json']);
  return { ...r, doc: JSON.parse(r.out) as { ok: boolean; path?: string; verified?: boolean; error?: { code: string; exitClass: string } } };
}

test('(c) replacement: a published 23.4.0 pointer switched to 23.2.0 is refused, by the library and the CLI, on a host that installed the original', async (t) => {
  const fx = await repoFixture(t);
  const old = await signedRelease(fx, PG, '23.2.0');
  const current = await signedRelease(fx, PG, '23.4.0');
  await publish(fx, [old, current]);
  const server = await serveRepository(t, fx.repoDir);
  // The host installs the original 23.4.0: its state directory now trusts that repository state.
  const first = await cli(fx, [PG, '--repository', server.url]);
  assert.equal(first.code, 0, first.err);
  assert.equal(first.doc.verified, true);
  assert.equal(sha256Hex(await readFile(first.doc.path!)), sha256Hex(current.wheel.bytes));

  await forgeWithOnlineKey(fx, [{ project: PG, version: '23.4.0', pointer: pointerTo(old, PG, '23.4.0') }]);
  const before = server.requests.length;
  const again = await cli(fx, [PG, '--repository', server.url]);
  assert.equal(again.code, 5, again.err);
  assert.equal(again.doc.ok, false);
  assert.equal(again.doc.error?.code, 'E_WHEEL_VERSION_MISMATCH');
  assert.equal(again.doc.error?.exitClass, 'verification');
  assert.deepEqual(await readdir(again.dest), []);
  assert.deepEqual(wheelRequests(server.requests.slice(before)), []);
  // The same host through the library, naming the version.
  await expectRefused(fx, server.url, PG, 'E_WHEEL_VERSION_MISMATCH', 'verification', { version: '23.4.0' });
});

test('a pointer whose wheel URI is not a PEP 427 file name is E_WHEEL_NAME_INVALID, before the wheel is fetched', async (t) => {
  const fx = await repoFixture(t);
  const rel = await signedRelease(fx, PG, '23.2.0');
  await publish(fx, [rel]);
  // A genuine wheel's bytes under a name with no python/abi/platform tags.
  const text = new TextDecoder().decode(pointerTo(rel, PG, '23.3.0')).replace('datadog_postgres-23.2.0-py3-none-any.whl', 'datadog_postgres-23.3.0.whl');
  await forgeWithOnlineKey(fx, [{ project: PG, version: '23.3.0', pointer: new TextEncoder().encode(text) }]);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, PG, 'E_WHEEL_NAME_INVALID', 'verification', { version: '23.3.0' });
  assert.deepEqual(wheelRequests(server.requests), []);
});

test('PEP 440 equality: a 1.0 pointer delivers its 1.0.0 wheel (same version, other spelling)', async (t) => {
  const fx = await repoFixture(t);
  const rel = await signedRelease(fx, 'datadog-demo', '1.0.0');
  // Published under the version 1.0 by the honest publisher: the pointer says 1.0, the wheel 1.0.0.
  const pointer = pointerTo(rel, 'datadog-demo', '1.0');
  await publish(fx, [{ ...rel, version: '1.0', pointer }]);
  const r = await download(fx, fx.repoDir, 'datadog-demo', { version: '1.0' });
  assert.equal(r.version, '1.0');
  assert.equal(r.wheel.fileName, 'datadog_demo-1.0.0-py3-none-any.whl');
  assert.equal(r.verified, true);
});

test('a signed build parameter naming another version is E_PROVENANCE_PARAMETERS_MISMATCH', async (t) => {
  const fx = await repoFixture(t);
  const rel = await signedRelease(fx, PG, '23.4.0', {
    editStatement: (s) => {
      const def = (s.predicate as { buildDefinition: { externalParameters: Record<string, unknown> } }).buildDefinition;
      def.externalParameters.version = '23.2.0';
    },
  });
  await publish(fx, [rel]);
  const err = await expectRefused(fx, fx.repoDir, PG, 'E_PROVENANCE_PARAMETERS_MISMATCH', 'verification');
  assert.match(err.message, /^subject: /);
  assert.equal(err.field, 'predicate.buildDefinition.externalParameters.version');
});

test('v0.2 invocation parameters naming another project are E_PROVENANCE_PARAMETERS_MISMATCH; agreeing ones pass', async (t) => {
  const fx = await repoFixture(t);
  const params = (extra: Record<string, unknown>) => (s: Record<string, unknown>) =>
    void Object.assign((s.predicate as { invocation: { parameters: Record<string, unknown> } }).invocation.parameters, extra);
  await publish(fx, [
    await signedRelease(fx, PG, '23.4.0', { format: 'slsa-v0.2', editStatement: params({ project: REDIS, version: '23.4.0' }) }),
    // Other spellings of the same release: PEP 503 name, PEP 440 version.
    await signedRelease(fx, PG, '23.5.0', {
      format: 'slsa-v0.2',
      editStatement: params({ project: 'Datadog_Postgres', version: '23.5', wheel: 'datadog_postgres-23.5.0-py3-none-any.whl' }),
    }),
  ]);
  const err = await expectRefused(fx, fx.repoDir, PG, 'E_PROVENANCE_PARAMETERS_MISMATCH', 'verification', { version: '23.4.0' });
  assert.equal(err.field, 'predicate.invocation.parameters.project');
  const ok = await download(fx, fx.repoDir, PG, { version: '23.5.0' });
  assert.equal(ok.verified, true);
});
