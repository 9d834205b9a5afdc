import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Storage, type S3StorageOptions } from '../../src/storage/s3.ts';
import { startPeerProcess } from './peer-process.ts';
import { REPO_ROOT } from './peers.ts';

/**
 * A real MinIO server for one test file: own port on 127.0.0.1, own temporary data directory,
 * own generated root credentials; stopped and removed when the test ends. The binary is built by
 * scripts/peers.d/minio.sh (run by scripts/peers.sh, which npm test runs first).
 */
export const MINIO_REGION = 'us-east-1';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface MinioServer {
  endpoint: string;
  port: number;
  credentials: Credentials;
  /** A client with root credentials, for set-up and inspection. */
  admin: S3Client;
  /** Creates a bucket (a fresh unique name unless given) and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** Lets anonymous clients GET objects (what a CDN or a public bucket offers pip and tuf-js). */
  makePublicRead(bucket: string): Promise<void>;
  /** An S3Storage for `s3://bucket[/prefix]` on this server (root credentials unless given). */
  storage(url: string, options?: S3StorageOptions): S3Storage;
  /** The plain-HTTP URL of a key, as an anonymous client reaches it (path-style). */
  httpUrl(bucket: string, key?: string): string;
  /** Temporary credentials limited by an IAM session policy (STS AssumeRole on MinIO). */
  restrictedCredentials(policy: object): Promise<Credentials>;
  stop(): Promise<void>;
}

export function minioBinary(): string {
  const bin = path.join(REPO_ROOT, '.peers/bin/minio');
  if (!existsSync(bin)) {
    throw new Error(`MinIO binary missing at ${bin}: run \`bash scripts/peers.sh\` (or \`bash scripts/peers.d/minio.sh\`), which builds it with go install`);
  }
  return bin;
}

export async function startMinio(t: { after(fn: () => unknown): void }): Promise<MinioServer> {
  const bin = minioBinary();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'provenant-minio-'));
  const credentials = { accessKeyId: `test${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(20).toString('hex') };
  const peer = await startPeerProcess(
    'minio',
    (port) =>
      spawn(bin, ['server', dataDir, '--address', `127.0.0.1:${port}`, '--quiet'], {
        env: {
          PATH: process.env.PATH,
          HOME: dataDir,
          MINIO_ROOT_USER: credentials.accessKeyId,
          MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          MINIO_CI_CD: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    async (port) => (await fetch(`http://127.0.0.1:${port}/minio/health/ready`, { signal: AbortSignal.timeout(1000) })).ok,
  ).catch(async (e: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  });
  const { port } = peer;
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({
    region: MINIO_REGION,
    endpoint,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const storages: S3Storage[] = [];
  let stopped = false;
  const server: MinioServer = {
    endpoint,
    port,
    credentials,
    admin,
    async createBucket(name) {
      const bucket = name ?? `b-${randomBytes(5).toString('hex')}`;
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async makePublicRead(bucket) {
      const policy = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
      };
      await admin.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    },
    storage(url, options = {}) {
      const s = new S3Storage(url, { region: MINIO_REGION, endpointUrl: endpoint, credentials, ...options });
      storages.push(s);
      return s;
    },
    httpUrl(bucket, key = '') {
      return `${endpoint}/${bucket}/${key}`;
    },
    restrictedCredentials: (policy) => assumeRole(endpoint, credentials, policy),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const s of storages) s.close();
      admin.destroy();
      await peer.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  t.after(() => server.stop());
  return server;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * STS AssumeRole against MinIO with an inline session policy: the temporary credentials can do at
 * most what the policy allows. Signed here with SigV4 (a dozen lines) rather than pulling in the
 * STS client package for one test call.
 */
async function assumeRole(endpoint: string, creds: Credentials, policy: object): Promise<Credentials> {
  const body = new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', DurationSeconds: '3600', Policy: JSON.stringify(policy) }).toString();
  const url = new URL(endpoint);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256(body);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  const signed = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...signed.map((h) => `${h}:${headers[h]}`), '', signed.join(';'), payloadHash].join('\n');
  const scope = `${day}/${MINIO_REGION}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${creds.secretAccessKey}`, day);
  for (const part of [MINIO_REGION, 'sts', 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, toSign).toString('hex');
  const authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const { host: _host, ...sendHeaders } = headers;
  const res = await fetch(endpoint, { method: 'POST', headers: { ...sendHeaders, authorization }, body });
  const xml = await res.text();
  if (!res.ok) throw new Error(`AssumeRole failed (HTTP ${res.status}): ${xml}`);
  const field = (name: string) => {
    const m = new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml);
    if (!m?.[1]) throw new Error(`AssumeRole response without ${name}: ${xml}`);
    return m[1];
  };
  return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey'), sessionToken: field('SessionToken') };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** The environment a CLI process needs to reach `m` with its root credentials (the AWS SDK's default chain). */
export function minioCliEnv(m: MinioServer, home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: m.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: m.credentials.secretAccessKey,
    AWS_REGION: MINIO_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * Puts `m`'s root credentials in process.env, where the AWS SDK's default chain reads them (as in
 * CI), until the test ends. Returns them as an environment for the CLI.
 */
export function credentialsInProcessEnv(m: MinioServer, t: { after(fn: () => unknown): void }): NodeJS.ProcessEnv {
  const env = { AWS_ACCESS_KEY_ID: m.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: m.credentials.secretAccessKey, AWS_REGION: MINIO_REGION };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  t.after(() => {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  return env;
}
