import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishStatements } from '../../src/app/publish-statements.ts';
import { signAttestation } from '../../src/attest/sign.ts';
import { rebuildTargetPath } from '../../src/formats/layout.ts';
import { rebuildVsa, renderVsa } from '../../src/formats/vsa.ts';
import { exportPrivateKeyPem, generatePrivateKey, keyIdOf, tufPublicKey } from '../../src/signers/key-file.ts';
import { loadSigner } from '../../src/signers/key-store.ts';
import { SETTINGS_FILE } from '../../src/signers/trust-files.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { fixedSignerSource } from '../../src/tuf/signer-source.ts';
import { git, setup } from '../rebuild/checkout.ts';

/**
 * Attack (capacity: the online key, which signs the bins where rebuild VSAs are published, and
 * write access to the bucket): make a host whose policy needs 2 rebuilders count VSAs no
 * rebuilder signed for this release. The online key can publish any file at any rebuilder's path;
 * none of it counts: a VSA it signs itself, a genuine VSA of another version at this version's
 * path, one genuine VSA copied to a second rebuilder's path.
 */
test('attack: with only the online key, no forged, replayed or duplicated VSA counts toward the rebuilders threshold', { timeout: 300_000 }, async (t) => {
  const s = await setup(t);
  const repo = path.join(s.work, 'repository');
  const keysDir = path.join(s.work, 'keys');
  assert.equal((await s.cli(s.integrations, 'release', 'postgres', ...s.repoFlags)).code, 0);

  const rebuilders = await Promise.all(
    (['ed25519', 'ecdsa'] as const).map(async (type, i) => {
      const key = generatePrivateKey(type);
      const file = path.join(s.work, `rebuilder-${i}.pem`);
      await writeFile(file, exportPrivateKeyPem(key));
      return { file, keyId: keyIdOf(tufPublicKey(key)), pub: tufPublicKey(key) };
    }),
  );
  const [r1, r2] = rebuilders as [(typeof rebuilders)[0], (typeof rebuilders)[0]];
  const policyFile = (await readdir(path.join(repo, 'policy'))).find((f) => f.endsWith('.attestation-policy.json'))!;
  const policy = JSON.parse(await readFile(path.join(repo, 'policy', policyFile), 'utf8')) as Record<string, unknown>;
  policy.rebuilders = { keys: Object.fromEntries(rebuilders.map((r) => [r.keyId, r.pub])), threshold: 2 };
  await writeFile(path.join(s.work, 'policy.json'), JSON.stringify(policy));
  assert.equal((await s.cli(s.work, 'repo', 'set-trust', '--policy', 'policy.json', ...s.repoFlags)).code, 0);

  // Rebuilder 1 genuinely rebuilds and signs 23.2.0; then 23.2.1 is released from a new commit.
  const sign = async (spec: string, r: { file: string }, out: string) => {
    const res = await s.rebuild(spec, s.checkout, '--sign-vsa', '--key', r.file, '--out', path.join(s.work, out));
    assert.equal(res.code, 0, res.err);
    return { ...(res.result as typeof res.result & { vsa: { file: string } }), bytes: await readFile((res.result as unknown as { vsa: { file: string } }).vsa.file) };
  };
  const genuine = await sign('datadog-postgres==23.2.0', r1, 'vsas-1');
  const about = path.join(s.integrations, 'postgres/datadog_checks/postgres/__about__.py');
  await writeFile(about, (await readFile(about, 'utf8')).replace("'23.2.0'", "'23.2.1'"));
  await git(s.checkout, 'commit', '-q', '-am', '23.2.1');
  const rel2 = await s.cli(s.integrations, 'release', 'postgres', ...s.repoFlags);
  assert.equal(rel2.code, 0, rel2.err);

  // What the attacker can read from the repository: 23.2.1's wheel and attestation digests (a rebuild without signing shows them).
  const v2 = await s.rebuild('datadog-postgres==23.2.1', s.checkout, '--state-dir', path.join(s.work, 'attacker-state'));
  assert.equal(v2.code, 0, `${v2.err}${v2.out}`);
  const r = v2.result!;
  const online = await loadSigner(keysDir, 'online', {});
  t.after(() => online.close?.());
  const forged = await signAttestation(
    renderVsa(rebuildVsa({ wheelFileName: r.published.fileName, sha256: r.published.sha256, resourceUri: r.published.uri, attestation: r.attestation, timeVerified: new Date(), verifierVersion: 'x' })),
    [online],
  );
  const onlineOnly = fixedSignerSource([online], await readTrustedRoot(keysDir), await readFile(path.join(keysDir, SETTINGS_FILE)));
  const planted = new Map<string, Uint8Array>([
    // 23.2.1: a VSA the online key signed, at rebuilder 2's path; rebuilder 1's genuine 23.2.0 VSA at its 23.2.1 path.
    [rebuildTargetPath('datadog-postgres', '23.2.1', r2.keyId), forged.bytes],
    [rebuildTargetPath('datadog-postgres', '23.2.0', r1.keyId).replace('23.2.0', '23.2.1'), genuine.bytes],
    // 23.2.0: rebuilder 1's genuine VSA at its own path, and a copy at rebuilder 2's.
    [rebuildTargetPath('datadog-postgres', '23.2.0', r1.keyId), genuine.bytes],
    [rebuildTargetPath('datadog-postgres', '23.2.0', r2.keyId), genuine.bytes],
  ]);
  const res = await publishStatements(new FsStorage(repo), onlineOnly, [...planted].map(([file, bytes]) => ({ file, bytes })), (_b, file) => file, 'attack');
  assert.equal(res.published.length, 4, 'the online key can publish anything at any path');

  const download = async (version: string, n: number) => {
    const dest = path.join(s.work, `dest-${version}-${n}`);
    const d = await s.cli(s.work, 'download', 'datadog-postgres', '--version', version, '--repository', repo, '--root', path.join(keysDir, 'root.json'), '--state-dir', path.join(s.work, 'host'), '--dest', dest);
    return { ...d, dest };
  };
  const v2d = await download('23.2.1', 0);
  assert.equal(v2d.code, 5, v2d.err);
  assert.match(v2d.err, /E_REBUILDS_MISSING: datadog-postgres 23\.2\.1 has 0 valid rebuild VSA\(s\)/);
  assert.match(v2d.err, /E_ATTESTATION_\w+/, 'the online key is no rebuilder key');
  assert.match(v2d.err, /it is about datadog_postgres-23\.2\.0-py3-none-any\.whl/, 'the replayed VSA is about 23.2.0');
  assert.deepEqual(await readdir(v2d.dest).catch(() => []), []);

  const v1d = await download('23.2.0', 0);
  assert.equal(v1d.code, 5, v1d.err);
  assert.match(v1d.err, /E_REBUILDS_MISSING: datadog-postgres 23\.2\.0 has 1 valid rebuild VSA\(s\)/, 'one rebuilder counts once, at whatever path');
  assert.deepEqual(await readdir(v1d.dest).catch(() => []), []);

  // Control: rebuilder 2's own VSA of 23.2.0 cannot be published (its path is taken: immutable), so
  // the attacker did block 23.2.0 — availability, which the online key always has — but never made it count.
  const own = await sign('datadog-postgres==23.2.0', r2, 'vsas-2');
  const blocked = await s.cli(s.work, 'rebuild', '--publish', own.vsa.file, ...s.repoFlags);
  assert.notEqual(blocked.code, 0);
  assert.match(blocked.err, /E_RELEASE_IMMUTABLE/);
});
