import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { exportPrivateKeyPem, generatePrivateKey, keyIdOf, tufPublicKey } from '../../src/signers/key-file.ts';
import { workspace } from '../release/workspace.ts';

/**
 * The whole flow through the CLI on a real repository: release, a policy requiring 2 of 2
 * approvals published with the targets key, approvers' PEM keys made here, `approve` writes
 * files, `approve --publish` puts them into the bins with the online key, and `download`
 * refuses the release (nothing at the destination) until both approvals are there.
 */
test('download refuses a release with 0 and 1 of 2 approvals, accepts it with 2 of 2', { timeout: 300_000 }, async (t) => {
  const w = await workspace(t);
  const rel = await w.release('postgres');
  assert.equal(rel.code, 0, rel.err);
  const { project, version } = rel.summary!.integrations[0]! as { project: string; version: string };
  const run = async (...args: string[]) => {
    const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
    return { code: await main(args, o, w.env, w.dir), ...o };
  };

  const approvers = await Promise.all(
    (['ed25519', 'ecdsa'] as const).map(async (type, i) => {
      const key = generatePrivateKey(type);
      const file = path.join(w.dir, `approver-${i}.pem`);
      await writeFile(file, exportPrivateKeyPem(key));
      const pub = tufPublicKey(key);
      return { file, keyId: keyIdOf(pub), pub };
    }),
  );
  const policyDir = path.join(w.repo, 'policy');
  const published = (await readdir(policyDir)).find((f) => f.endsWith('.attestation-policy.json'))!;
  const policy = JSON.parse(await readFile(path.join(policyDir, published), 'utf8')) as Record<string, unknown>;
  policy.approvals = { keys: Object.fromEntries(approvers.map((a) => [a.keyId, a.pub])), threshold: 2 };
  await writeFile(path.join(w.dir, 'policy.json'), JSON.stringify(policy));
  const trust = await run('repo', 'set-trust', '--policy', 'policy.json', '--repository', 'repository', '--keys', 'keys');
  assert.equal(trust.code, 0, trust.err);

  let downloads = 0;
  const download = async () => {
    const dest = path.join(w.dir, `dest-${downloads++}`);
    const r = await run('download', project, '--version', version, '--repository', 'repository', '--root', path.join(w.dir, 'keys/root.json'), '--state-dir', path.join(w.dir, 'state'), '--dest', dest);
    return { ...r, dest };
  };
  const refusedWith = async (count: number) => {
    const r = await download();
    assert.equal(r.code, 5, r.err);
    assert.match(r.err, new RegExp(`E_APPROVALS_MISSING: ${project} ${version} has ${count} valid approval\\(s\\) of .*; the policy requires 2`));
    assert.deepEqual(await readdir(r.dest).catch(() => []), []);
  };
  await refusedWith(0);

  const wheelDir = path.join(w.dir, 'integrations/postgres/dist');
  const wheel = path.join(wheelDir, (await readdir(wheelDir)).find((f) => f.endsWith('.whl'))!);
  const files: string[] = [];
  for (const a of approvers) {
    const r = await run('approve', `${project}==${version}`, '--wheel', wheel, '--key', a.file, '--note', 'reviewed', '--json');
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as { file: string; keyId: string; target: string };
    assert.equal(out.keyId, a.keyId);
    assert.equal(out.target, `approvals/${project}/${version}/${a.keyId}.sigstore.json`);
    files.push(out.file);
  }

  const pub1 = await run('approve', '--publish', files[0]!, '--repository', 'repository', '--keys', 'keys', '--json');
  assert.equal(pub1.code, 0, pub1.err);
  assert.deepEqual((JSON.parse(pub1.out) as { published: string[] }).published, [`approvals/${project}/${version}/${approvers[0]!.keyId}.sigstore.json`]);
  await refusedWith(1);

  // Both again: the first is already published (unchanged), the second is added.
  const pub2 = await run('approve', '--publish', ...files, '--repository', 'repository', '--keys', 'keys', '--json');
  assert.equal(pub2.code, 0, pub2.err);
  assert.equal((JSON.parse(pub2.out) as { unchanged: string[] }).unchanged.length, 1);
  const ok = await download();
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(await readdir(ok.dest), [path.basename(wheel)]);

  // The repository still reads as before: approvals are targets of the bins, not releases.
  const status = await run('repo', 'status', '--repository', 'repository', '--keys', 'keys', '--json');
  assert.equal(status.code, 0, status.err);
  assert.equal((JSON.parse(status.out) as { releases: number }).releases, 1);

  // A release published after the policy has no approvals yet: release's own test download must
  // not fail it for that (approvers sign after), while hosts still refuse it until they do.
  const later = await w.release('nginx');
  assert.equal(later.code, 0, later.err);
  const nginx = later.summary!.integrations[0]!;
  assert.equal(nginx.ok, true);
  assert.equal(nginx.steps.find((x) => x.step === 'test download')?.status, 'ok');
  const host = await run('download', nginx.project!, '--version', nginx.version!, '--repository', 'repository', '--root', path.join(w.dir, 'keys/root.json'), '--state-dir', path.join(w.dir, 'state'), '--dest', path.join(w.dir, 'dest-nginx'));
  assert.equal(host.code, 5, host.err);
  assert.match(host.err, /E_APPROVALS_MISSING/);
});
