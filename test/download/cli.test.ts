import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { attestationKey } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { publish, publishExamples, publishPolicy, repoFixture, signedRelease } from './helpers/fixture.ts';
import { downloadCli as run } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

test('every example, built, attested, signed and published by provenant, downloads verified over HTTP', async (t) => {
  const fx = await repoFixture(t);
  const published = await publishExamples(fx);
  assert.equal(published.length, 4);
  const server = await serveRepository(t, fx.repoDir);
  for (const { project, version } of published) {
    // nginx's only release is a pre-release (8.1.0rc1): name versions exactly.
    const r = await run(fx, [project, '--version', version, '--repository', server.url]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.out);
    const wheel = lines[0]!;
    assert.ok(path.isAbsolute(wheel));
    assert.equal(path.dirname(wheel), r.dest);
    assert.ok(path.basename(wheel).includes(`-${version}-`), wheel);
    const dist = path.join(fx.dir, 'integrations', project === 'datadog-checks-base' ? 'datadog_checks_base' : project.replace(/^datadog-/, ''), 'dist');
    assert.equal(sha256Hex(await readFile(wheel)), sha256Hex(await readFile(path.join(dist, path.basename(wheel)))));
  }
});

test('the examples with v0.2-format (reference guide) attestations download verified', async (t) => {
  const fx = await repoFixture(t);
  const published = await publishExamples(fx, 'slsa-v0.2');
  for (const { project, version } of published) {
    const r = await run(fx, [project, '--version', version, '--repository', fx.repoDir, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { attestation: { format: string } }).attestation.format, 'slsa-v0.2');
  }
});

test('-v names each check as it passes, in order, on stderr; stdout stays the path', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const r = await run(fx, ['datadog-demo', '--repository', fx.repoDir, '-v']);
  assert.equal(r.code, 0, r.err);
  const named = CHECKS.map((c) => r.err.indexOf(`✓ ${c}:`));
  assert.ok(named.every((i) => i >= 0), r.err);
  assert.deepEqual([...named].sort((a, b) => a - b), named);
  assert.equal(r.out.trim(), path.join(r.dest, 'datadog_demo-1.0.0-py3-none-any.whl'));
});

test('--json prints the result document; failures print {ok:false,error} and exit by class', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const ok = await run(fx, ['datadog-demo', '--repository', fx.repoDir, '--json']);
  assert.equal(ok.code, 0, ok.err);
  const doc = JSON.parse(ok.out) as { ok: boolean; path: string; version: string; checks: string[]; verified: boolean };
  assert.equal(doc.ok, true);
  assert.equal(doc.version, '1.0.0');
  assert.deepEqual(doc.checks, [...CHECKS]);
  const bad = await run(fx, ['datadog-demo', '--repository', fx.repoDir, '--json', '--version', '7']);
  assert.equal(bad.code, 4);
  assert.equal((JSON.parse(bad.out) as { error: { code: string } }).error.code, 'E_VERSION_UNKNOWN');
  assert.deepEqual(await readdir(bad.dest), []);
});

test('usage errors exit 2: bad --timeout, unsafe without --version', async (t) => {
  const fx = await repoFixture(t);
  assert.equal((await run(fx, ['datadog-demo', '--repository', fx.repoDir, '--timeout', 'soon'])).code, 2);
  const r = await run(fx, ['datadog-demo', '--repository', fx.repoDir, '--unsafe-disable-verification']);
  assert.equal(r.code, 2);
  assert.match(r.err, /E_UNSAFE_NEEDS_VERSION/);
});

test('--unsafe-disable-verification is refused when the TUF-distributed policy forbids it (the default)', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const r = await run(fx, ['datadog-demo', '--repository', fx.repoDir, '--version', '1.0.0', '--unsafe-disable-verification']);
  assert.equal(r.code, 5);
  assert.match(r.err, /E_UNSAFE_REFUSED/);
  assert.deepEqual(await readdir(r.dest), []);
});

test('--unsafe-disable-verification, allowed by policy: skips attestation checks with a loud warning, still checks TUF and the wheel digest', async (t) => {
  const fx = await repoFixture(t);
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [release]);
  await publishPolicy(fx, { allowUnsafeDisableVerification: true });
  // Break the attestation: only the unsafe mode may get past it.
  await writeFile(path.join(fx.repoDir, attestationKey('datadog-demo', release.attestation.fileName)), 'garbage');
  const safe = await run(fx, ['datadog-demo', '--repository', fx.repoDir]);
  assert.equal(safe.code, 5);
  const r = await run(fx, ['datadog-demo', '--repository', fx.repoDir, '--version', '1.0.0', '--unsafe-disable-verification', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: !!! --unsafe-disable-verification/);
  const doc = JSON.parse(r.out) as { verified: boolean; skipped: string[] };
  assert.equal(doc.verified, false);
  assert.deepEqual(doc.skipped, ['attestation length and digest', 'attestation signature', 'statement types', 'subject', 'provenance policy']);
});
