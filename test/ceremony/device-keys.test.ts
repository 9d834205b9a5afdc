import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { startMoto } from '../signers/helpers/moto.ts';
import { softHsm, useSoftHsm } from '../signers/helpers/softhsm.ts';
import { hosts, release, repoFlags } from './helpers.ts';

/** `provenant <args>` in-process with this environment (AWS credentials and endpoint, the PIN). */
async function provenant(fx: RepoFixture, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const o: Output & { out: string; err: string } = { out: '', err: '', interactive: false, stdout: (t) => void (o.out += t), stderr: (t) => void (o.err += t) };
  const code = await main(args, o, env, fx.dir);
  assert.equal(code, 0, `provenant ${args.join(' ')}: ${o.err}`);
  return o.out;
}

/**
 * Key custody on devices end to end: a root ceremony that adds a root holder whose key is in KMS
 * (moto, ECC_NIST_P384) and replaces the targets key with a KMS key (ECC_NIST_P256); a policy
 * change signed by that KMS targets key; release approvals signed by a KMS key and a SoftHSM key.
 * No private key is ever in a file; hosts (provenant, tuf-js, python-tuf) verify after each step.
 */
test('ceremonies and approvals with KMS and SoftHSM keys: root holder and targets key in KMS, approvers on KMS and a token', { timeout: 300_000 }, async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  const kms = await startMoto(t);
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('approver', '4321');
  await hsm.generate('approver', '4321', 'EC:prime256v1', '01', 'approval');
  const env = { ...kms.env, PATH: process.env.PATH, PROVENANT_PKCS11_PIN: '4321' };
  for (const [alias, spec] of [['alias/root-kms', 'ECC_NIST_P384'], ['alias/targets-kms', 'ECC_NIST_P256'], ['alias/approver-kms', 'ECC_NIST_P256']] as const) {
    await kms.alias(alias, (await kms.createKey(spec)).keyId);
  }
  await release(fx, 'datadog-postgres', '1.0.0');

  // Root ceremony: a KMS root holder joins (threshold 2 of 2), the targets key moves to KMS.
  await provenant(fx, env, 'repo', 'root', 'propose', ...flags, '--add-key', 'awskms:///alias/root-kms', '--threshold', '2', '--targets-key', 'awskms:///alias/targets-kms');
  const p2 = path.join(fx.dir, 'proposals/root-v2.json');
  await provenant(fx, env, 'repo', 'root', 'sign', p2, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  await provenant(fx, env, 'repo', 'root', 'sign', p2, '--key', 'awskms:///alias/root-kms', '--yes', ...flags);
  await provenant(fx, env, 'repo', 'targets', 'sign', p2, '--key', 'awskms:///alias/targets-kms', '--yes', ...flags);
  await provenant(fx, env, 'repo', 'root', 'publish', p2, ...flags);
  await release(fx, 'datadog-postgres', '1.1.0');
  await h.verify('datadog-postgres', '1.1.0');

  // Approvals of 1.1.0's verified wheel, one on KMS, one on the token, published with the online key.
  const got = await download(fx, fx.repoDir, 'datadog-postgres', { version: '1.1.0' });
  const wheel = path.join(got.dest, got.wheel.fileName);
  const approvers = ['awskms:///alias/approver-kms', hsm.uri('approver', 'approval')];
  const files: string[] = [];
  const keys: Record<string, unknown> = {};
  for (const ref of approvers) {
    files.push((JSON.parse(await provenant(fx, env, 'approve', 'datadog-postgres==1.1.0', '--wheel', wheel, '--key', ref, '--json')) as { file: string }).file);
    const { keyid, ...pub } = JSON.parse(await provenant(fx, env, 'repo', 'key', 'show', '--key', ref, '--json')) as { keyid: string };
    keys[keyid] = pub;
  }
  await provenant(fx, env, 'approve', '--publish', ...files, ...flags);

  // The policy now needs both approvals: a targets ceremony signed by the KMS targets key alone.
  const policy = JSON.parse(await provenant(fx, env, 'repo', 'policy', 'show', ...flags, '--json')) as Record<string, unknown>;
  policy.approvals = { keys, threshold: 2 };
  await writeFile(path.join(fx.dir, 'policy.json'), JSON.stringify(policy, null, 2));
  await provenant(fx, env, 'repo', 'policy', 'set', 'policy.json', ...flags, '--out', 'proposals/policy.json');
  await provenant(fx, env, 'repo', 'targets', 'sign', 'proposals/policy.json', '--key', 'awskms:///alias/targets-kms', '--yes', ...flags);
  await provenant(fx, env, 'repo', 'targets', 'publish', 'proposals/policy.json', ...flags);

  const approved = await download(fx, fx.repoDir, 'datadog-postgres', { version: '1.1.0', stateDir: path.join(fx.dir, 'state-2') });
  assert.equal(approved.wheel.sha256, got.wheel.sha256);
  await release(fx, 'datadog-postgres', '1.2.0');
  await expectRefused(fx, fx.repoDir, 'datadog-postgres', 'E_APPROVALS_MISSING', 'verification', { version: '1.2.0', stateDir: path.join(fx.dir, 'state-3') });
  // The hosts that followed every step (the targets key now in KMS) take the approved release.
  await h.verify('datadog-postgres', '1.1.0');
});
