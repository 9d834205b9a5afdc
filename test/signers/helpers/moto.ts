import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { connect } from 'node:net';
import path from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  KMSClient,
  PutKeyPolicyCommand,
  UpdateAliasCommand,
  type KeySpec,
  type KeyUsageType,
} from '@aws-sdk/client-kms';
import { startPeerProcess } from '../../helpers/peer-process.ts';
import { REPO_ROOT } from '../../helpers/peers.ts';

/**
 * A real moto KMS server for one test: own port on 127.0.0.1, stopped when the test ends. The
 * default is moto with KMS Sign honouring MessageType=DIGEST as AWS does (moto_digest_server.py
 * says why); `faithful: false` runs moto_server as released. `tls` serves https with the given
 * certificate (for the `awskms://host:port/` form, which is always https).
 */
export interface MotoKms {
  port: number;
  /** http(s)://127.0.0.1:port */
  endpoint: string;
  /** Credentials, region and (for http) AWS_ENDPOINT_URL_KMS, as a CLI process or openSigner reads them. */
  env: NodeJS.ProcessEnv;
  admin: KMSClient;
  createKey(spec: KeySpec, usage?: KeyUsageType): Promise<{ keyId: string; arn: string }>;
  alias(name: string, keyId: string): Promise<void>;
  /** Points an existing alias at another key. */
  retarget(name: string, keyId: string): Promise<void>;
  disable(keyId: string): Promise<void>;
  /** A key policy that denies every KMS action on the key (moto enforces it on DescribeKey). */
  denyAll(keyId: string): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const REGION = 'us-east-1';

export async function startMoto(
  t: { after(fn: () => unknown): void },
  opts: { faithful?: boolean; tls?: { cert: string; key: string } } = {},
): Promise<MotoKms> {
  const venv = path.join(REPO_ROOT, '.peers/venv/bin');
  const server = path.join(venv, 'moto_server');
  if (!existsSync(server)) throw new Error(`moto_server missing at ${server}: run \`bash scripts/peers.sh\` (moto[server] is in scripts/peers-requirements.txt)`);
  const spawnAt = (port: number) => {
    const args = ['-H', '127.0.0.1', '-p', String(port), ...(opts.tls ? ['-c', opts.tls.cert, '-k', opts.tls.key] : [])];
    return opts.faithful === false
      ? spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(path.join(venv, 'python'), [path.join(import.meta.dirname, 'moto_digest_server.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const peer = await startPeerProcess('moto', spawnAt, listening);
  t.after(() => peer.stop());
  const { port } = peer;
  const endpoint = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const admin = new KMSClient({
    region: REGION,
    endpoint,
    credentials: CREDENTIALS,
    ...(opts.tls ? { requestHandler: { httpsAgent: new Agent({ ca: readFileSync(opts.tls.cert) }) } } : {}),
  });
  t.after(() => admin.destroy());
  return {
    port,
    endpoint,
    env: {
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...(opts.tls ? {} : { AWS_ENDPOINT_URL_KMS: endpoint }),
    },
    admin,
    async createKey(spec, usage = spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY') {
      const k = await admin.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }));
      return { keyId: k.KeyMetadata!.KeyId!, arn: k.KeyMetadata!.Arn! };
    },
    async alias(name, keyId) {
      await admin.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
    },
    async retarget(name, keyId) {
      await admin.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
    },
    async disable(keyId) {
      await admin.send(new DisableKeyCommand({ KeyId: keyId }));
    },
    async denyAll(keyId) {
      const policy = { Version: '2012-10-17', Statement: [{ Sid: 'deny', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }] };
      await admin.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(policy) }));
    },
  };
}

/** Something accepts connections on the port (moto has no health endpoint). */
function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.end();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
