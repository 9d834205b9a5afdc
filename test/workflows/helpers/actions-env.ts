import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RUN } from '../../keyless/helpers/keyless.ts';
import { startSigstore, type SigstoreInstance } from '../../keyless/helpers/sigstore.ts';
import { MINIO_REGION, startMinio, type MinioServer } from '../../helpers/minio.ts';
import { REPO_ROOT, tempDir } from '../../helpers/peers.ts';
import { startMoto } from '../../signers/helpers/moto.ts';
import type { WorkflowRun } from './runner.ts';

/**
 * What the workflow tests run against: an S3 repository on MinIO whose online key is on moto's
 * KMS (awskms:///alias/provenant-online), the loopback Sigstore instance with its OIDC issuer,
 * a committed-style key store holding public files only, and the runner settings (variables,
 * secret, GitHub context, simulated actions) a GitHub-hosted job of org/repo would have.
 */
const run = promisify(execFile);
export const ONLINE_KEY = 'awskms:///alias/provenant-online';
export const ROLE = 'arn:aws:iam::123456789012:role/provenant-release';

/** The CLI as its own process: the AWS SDK reads credentials and region from the process environment. */
export async function cli(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const node = path.join(REPO_ROOT, 'node_modules/.bin/node');
  try {
    return (await run(node, [path.join(REPO_ROOT, 'bin/provenant.js'), ...args], { env, cwd, timeout: 120_000 })).stdout;
  } catch (e) {
    const { stderr } = e as { stderr?: string };
    assert.fail(`provenant ${args.join(' ')}: ${stderr ?? String(e)}`);
  }
}

export interface Setup {
  s: SigstoreInstance;
  m: MinioServer;
  bucket: string;
  dir: string;
  /** What the committed key store holds: public files only (keys.json names the KMS key). */
  ciKeys: string;
  integrations: string;
  env: NodeJS.ProcessEnv;
}

/** An S3 repository whose online key is on KMS and whose policy accepts `subject` (a SAN pattern); `initArgs` go to `repo init`. */
export async function setUp(t: { after(fn: () => unknown): void }, subject: string, initArgs: string[] = []): Promise<Setup> {
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
  await cli(['repo', 'init', ...repo, '--online-key', ONLINE_KEY, '--sigstore-trusted-root', path.join(dir, 'trusted_root.json'), ...initArgs], env, dir);
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

export function workflowRun(x: Setup, inputs: WorkflowRun['inputs'] = {}): WorkflowRun & { uploads: Record<string, string>[] } {
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
