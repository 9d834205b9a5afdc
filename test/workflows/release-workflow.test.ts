import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sha256Hex } from '../../src/util/hash.ts';
import { RUN } from '../keyless/helpers/keyless.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import { cli, setUp, workflowRun } from './helpers/actions-env.ts';
import { runJob } from './helpers/runner.ts';

/**
 * release.yml's own steps, parsed from the file and run in order against real peers: MinIO as
 * the S3 bucket, moto as AWS KMS holding the online key (awskms:///alias/...), the loopback
 * Sigstore instance (Fulcio, Rekor, TSA, an OIDC issuer) and a GitHub-Actions-like OIDC token
 * endpoint. Only `uses:` steps are simulated (runner.ts), and `npm ci` is not rerun: the
 * worktree under test is the checkout, already installed.
 */
const WORKFLOW = path.join(REPO_ROOT, '.github/workflows/release.yml');

test('release.yml, step by step: keyless attestation, KMS online key, S3 upload; the summary names locations, digests, the Rekor index; the wheel downloads verified', async (t) => {
  const x = await setUp(t, `https://github.com/${RUN.repository}/.github/workflows/release.yml@refs/*`);
  const wr = workflowRun(x, { integration: 'postgres', 'dry-run': false });
  const job = await runJob(WORKFLOW, 'release', wr);
  const failed = job.steps.filter((st) => st.outcome === 'failure');
  assert.deepEqual(failed, [], JSON.stringify(failed, null, 2));
  assert.deepEqual(
    job.steps.map((st) => st.outcome),
    ['success', 'success', 'skipped', 'success', 'success', 'success', 'success', 'success', 'success', 'success'],
  );

  const result = JSON.parse(await readFile(path.join(job.runnerTemp, 'release.json'), 'utf8')) as {
    ok: boolean;
    integrations: { project: string; version: string; artifacts: { wheel: { fileName: string; sha256: string }; attestation: { sha256: string; keyless: { subject: string; logIndexes: string[] } }; objects: { wheel: string; attestation: string; pointer: string } } }[];
  };
  assert.equal(result.ok, true);
  const r = result.integrations[0]!;
  assert.equal(r.artifacts.attestation.keyless.subject, `https://github.com/${RUN.workflowRef}`);
  assert.ok(x.s.requests.includes('GET /github/token'), 'the OIDC token came from the runner endpoint');

  // The job summary: per integration, S3 locations, digests, Rekor log index, verification.
  const md = job.summary;
  assert.match(md, new RegExp(`Released: \`s3://${x.bucket}\``));
  assert.ok(md.includes(`✅ ${r.project} ${r.version}`), md);
  assert.ok(md.includes(`\`s3://${x.bucket}/${r.artifacts.objects.wheel}\``), md);
  assert.ok(md.includes(`\`s3://${x.bucket}/${r.artifacts.objects.attestation}\``), md);
  assert.ok(md.includes(`\`s3://${x.bucket}/${r.artifacts.objects.pointer}\``), md);
  assert.ok(md.includes(r.artifacts.wheel.sha256) && md.includes(r.artifacts.attestation.sha256), md);
  assert.ok(md.includes(`Rekor log index: ${r.artifacts.attestation.keyless.logIndexes[0]}`), md);
  assert.ok(md.includes('Verification: **verified**'), md);
  // Then the repository's status, from the model the status pages are made of (issue 15).
  assert.match(md, new RegExp(`## Repository status: s3://${x.bucket}`));
  assert.ok(md.includes('### Signed metadata (TUF)') && md.includes(`${r.project}`), md);

  // Artifacts: wheel, pointer, attestation, retained for a set period.
  assert.equal(wr.uploads.length, 1);
  assert.match(wr.uploads[0]!['retention-days'] ?? '', /^[1-9][0-9]*$/);
  const uploaded = await readdir(path.join(wr.uploads[0]!.path!, 'postgres'));
  for (const suffix of ['.whl', '.pointer', '-attestation.sigstore.json', '-attestation.json']) assert.ok(uploaded.some((f) => f.endsWith(suffix)), `${suffix} in ${uploaded.join(', ')}`);

  // A host: only root.json from the key store, the bucket, and the checks.
  const dest = path.join(x.dir, 'host');
  const out = await cli(['download', r.project, '--repository', `s3://${x.bucket}`, '--endpoint-url', x.m.endpoint, '--root', path.join(x.ciKeys, 'root.json'), '--dest', dest, '--state-dir', path.join(x.dir, 'host-state')], x.env, x.dir);
  const wheel = out.trim();
  assert.equal(path.basename(wheel), r.artifacts.wheel.fileName);
  assert.equal(sha256Hex(await readFile(wheel)), r.artifacts.wheel.sha256);
});

test('release.yml refuses a keyless identity the repository policy does not accept, before publishing anything', async (t) => {
  const x = await setUp(t, `https://github.com/${RUN.repository}/.github/workflows/other.yml@refs/*`);
  const job = await runJob(WORKFLOW, 'release', workflowRun(x, { integration: 'postgres', 'dry-run': false }));
  const release = job.steps.find((st) => st.name.startsWith('Release'))!;
  assert.equal(release.outcome, 'failure');
  const result = JSON.parse(await readFile(path.join(job.runnerTemp, 'release.json'), 'utf8')) as { ok: boolean; integrations: { error: { code: string } }[] };
  assert.equal(result.ok, false);
  assert.equal(result.integrations[0]!.error.code, 'E_RELEASE_IDENTITY_REFUSED');
  assert.match(job.summary, /Release FAILED/);
  assert.match(job.summary, /Verification: \*\*not verified\*\*/);
  assert.equal(job.steps.find((st) => st.name.startsWith('Repository status'))!.outcome, 'success', 'the status still reaches the summary');
  const listed = await x.m.storage(`s3://${x.bucket}`).list('simple/');
  assert.deepEqual(listed.filter((k) => k.endsWith('.whl')), [], 'no wheel was published');
});
