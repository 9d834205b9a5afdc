import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { sha256Hex } from '../../src/util/hash.ts';
import { RUN } from '../keyless/helpers/keyless.ts';
import { startSigstore, type SigstoreInstance } from '../keyless/helpers/sigstore.ts';
import { MINIO_REGION, startMinio, type MinioServer } from '../helpers/minio.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';
import { startMoto } from '../signers/helpers/moto.ts';
import { runJob, type WorkflowRun } from './helpers/runner.ts';

/**
 * release.yml's own steps, parsed from the file and run in order against real peers: MinIO as
 * the S3 bucket, moto as AWS KMS holding the online key (awskms:///alias/...), the loopback
 * Sigstore instance (Fulcio, Rekor, TSA, an OIDC issuer) and a GitHub-Actions-like OIDC token
 * endpoint. Only `uses:` steps are simulated (runner.ts), and `npm ci` is not rerun: the
 * worktree under test is the checkout, already installed.
 */
const run = promisify(execFile);
const WORKFLOW = path.join(REPO_ROOT, '.github/workflows/release.yml');
const ONLINE_KEY = 'awskms:///alias/provenant-online';
const ROLE = 'arn:aws:iam::123456789012:role/provenant-release';

/** The CLI as its own process: the AWS SDK reads credentials and region from the process environment. */
async function cli(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const node = path.join(REPO_ROOT, 'node_modules/.bin/node');
  try {
    return (await run(node, [path.join(REPO_ROOT, 'bin/provenant.js'), ...args], { env, cwd, timeout: 120_000 })).stdout;
  } catch (e) {
    const { stderr } = e as { stderr?: string };
    assert.fail(`provenant ${args.join(' ')}: ${stderr ?? String(e)}`);
  }
}

interface Setup {
  s: SigstoreInstance;
  m: MinioServer;
  bucket: string;
  dir: string;
  /** What the committed key store holds: public files only (keys.json names the KMS key). */
  ciKeys: string;
  integrations: string;
  env: NodeJS.ProcessEnv;
}

/** An S3 repository whose online key is on KMS and whose policy accepts `subject` (a SAN pattern). */
async function setUp(t: { after(fn: () => unknown): void }, subject: string): Promise<Setup> {
  const [s, m, kms, dir] = await Promise.all([startSigstore(t), startMinio(t), startMoto(t), tempDir(t)]);
  const online = await kms.createKey('ECC_NIST_P256');
  await kms.alias('alias/provenant-online', online.keyId);
  const bucket = await m.createBucket();
  // moto takes any credentials: the role's (MinIO's) serve both, as one AWS role would.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ACCESS_KEY_ID: m.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: m.credentials.secretAccessKey,
    AWS_REGION: MINIO_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
  };
  const keys = path.join(dir, 'offline-keys');
  const repo = ['--repository', `s3://${bucket}`, '--endpoint-url', m.endpoint, '--keys', keys];
  await writeFile(path.join(dir, 'trusted_root.json'), s.trustedRootBytes);
  await cli(['repo', 'init', ...repo, '--online-key', ONLINE_KEY, '--sigstore-trusted-root', path.join(dir, 'trusted_root.json')], env, dir);
  const policy = {
    policyVersion: 1,
    attestation: { keys: {}, threshold: 1, identities: [{ issuer: s.issuer, subject, extensions: { sourceRepositoryUri: `https://github.com/${RUN.repository}` } }] },
    provenance: { builders: [`https://github.com/${RUN.repository}/.github/workflows/release.yml@*`], sourceRepositories: [`https://github.com/${RUN.repository}`], refs: [] },
    allowUnsafeDisableVerification: false,
  };
  await writeFile(path.join(dir, 'policy.json'), JSON.stringify(policy));
  await cli(['repo', 'set-trust', ...repo, '--policy', path.join(dir, 'policy.json')], env, dir);

  const ciKeys = path.join(dir, 'ci-keys');
  await mkdir(ciKeys);
  for (const f of ['keys.json', 'root.json', 'provenant-repository.json']) await cp(path.join(keys, f), path.join(ciKeys, f));
  const integrations = path.join(dir, 'integrations');
  await cp(path.join(REPO_ROOT, 'examples/integrations/postgres'), path.join(integrations, 'postgres'), { recursive: true });
  return { s, m, bucket, dir, ciKeys, integrations, env };
}

function workflowRun(x: Setup, inputs: WorkflowRun['inputs']): WorkflowRun & { uploads: Record<string, string>[] } {
  const uploads: Record<string, string>[] = [];
  const claims = x.s.githubClaims(RUN);
  return {
    inputs,
    vars: {
      PROVENANT_REPOSITORY: `s3://${x.bucket}`,
      PROVENANT_S3_ENDPOINT_URL: x.m.endpoint,
      PROVENANT_KEYS_DIR: x.ciKeys,
      PROVENANT_INTEGRATIONS_DIR: x.integrations,
      PROVENANT_ONLINE_KEY: ONLINE_KEY,
      PROVENANT_FULCIO_URL: x.s.fulcioUrl,
      PROVENANT_REKOR_URL: x.s.rekorUrl,
      PROVENANT_TSA_URL: x.s.tsaUrl,
      AWS_REGION: MINIO_REGION,
    },
    secrets: { AWS_RELEASE_ROLE_ARN: ROLE },
    github: { repository: RUN.repository, ref: RUN.ref, refName: 'main', refType: 'branch', sha: RUN.sha, eventName: 'workflow_dispatch', runId: '4242', workflowRef: RUN.workflowRef },
    env: { PATH: process.env.PATH, HOME: x.dir, TMPDIR: x.dir, AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL_KMS: x.env.AWS_ENDPOINT_URL_KMS, ...x.s.githubActionsEnv(claims) },
    cwd: REPO_ROOT,
    actions: {
      'actions/checkout': () => {},
      // The project's Node 24 (the `node` devDependency) first on PATH, as setup-node puts its Node.
      'actions/setup-node': ({ with: w, env }) => {
        assert.equal(w['node-version'], '24');
        env.PATH = `${path.join(REPO_ROOT, 'node_modules/.bin')}:${env.PATH ?? ''}`;
      },
      // The action trades the job's OIDC token for the role's credentials; here, the role is MinIO's (and moto's).
      'aws-actions/configure-aws-credentials': ({ with: w, env }) => {
        assert.equal(w['role-to-assume'], ROLE);
        Object.assign(env, { AWS_ACCESS_KEY_ID: x.m.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: x.m.credentials.secretAccessKey, AWS_REGION: w['aws-region'] });
      },
      'actions/upload-artifact': ({ with: w }) => void uploads.push(w),
    },
    skip: (script) => (/^npm ci\b/.test(script.trim()) ? 'the checkout under test is already installed (npm ci)' : undefined),
    uploads,
  };
}

test('release.yml, step by step: keyless attestation, KMS online key, S3 upload; the summary names locations, digests, the Rekor index; the wheel downloads verified', async (t) => {
  const x = await setUp(t, `https://github.com/${RUN.repository}/.github/workflows/release.yml@refs/*`);
  const wr = workflowRun(x, { integration: 'postgres', 'dry-run': false });
  const job = await runJob(WORKFLOW, 'release', wr);
  const failed = job.steps.filter((st) => st.outcome === 'failure');
  assert.deepEqual(failed, [], JSON.stringify(failed, null, 2));
  assert.deepEqual(
    job.steps.map((st) => st.outcome),
    ['success', 'success', 'skipped', 'success', 'success', 'success', 'success', 'success', 'success'],
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
  const listed = await x.m.storage(`s3://${x.bucket}`).list('simple/');
  assert.deepEqual(listed.filter((k) => k.endsWith('.whl')), [], 'no wheel was published');
});
