import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { defaultPolicy, renderPolicy, type Policy, type PolicyKey } from '../../src/policy/policy.ts';
import { openSigner } from '../../src/signers/open-signer.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { publishPolicyBytes, type RepoFixture } from '../download/helpers/fixture.ts';

/** A new P-256 attestation key as a PEM file (the kind `repo init` makes), and its signer. */
export async function newAttestationKey(dir: string, name: string): Promise<{ file: string; signer: Signer }> {
  const file = path.join(dir, name);
  await writeFile(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { file, signer: await openSigner(file, { env: {}, cwd: dir }) };
}

const policyKey = (s: Signer) => ({ keytype: s.publicKey.keytype, scheme: s.publicKey.scheme, keyval: { public: s.publicKey.keyval.public } }) as PolicyKey;

/** The default policy trusting `keys`, with some of them retired and other keys revoked. */
export function lifecyclePolicy(o: { keys: Signer[]; retired?: Signer[]; revoked?: Signer[] }): Policy {
  const p = defaultPolicy({ attestationKeys: o.keys });
  if (o.retired) p.attestation.retiredKeys = o.retired.map((s) => s.keyId);
  if (o.revoked) p.attestation.revokedKeys = Object.fromEntries(o.revoked.map((s) => [s.keyId, policyKey(s)]));
  return p;
}

export async function publishLifecyclePolicy(fx: RepoFixture, o: Parameters<typeof lifecyclePolicy>[0]): Promise<void> {
  await publishPolicyBytes(fx, renderPolicy(lifecyclePolicy(o)));
}

/** `provenant <args>` in-process. */
export async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const o: Output & { out: string; err: string } = { out: '', err: '', interactive: false, stdout: (t) => void (o.out += t), stderr: (t) => void (o.err += t) };
  const code = await main(args, o, { PATH: process.env.PATH, SOURCE_DATE_EPOCH: '1700000000', ...env }, cwd);
  return { code, out: o.out, err: o.err };
}
