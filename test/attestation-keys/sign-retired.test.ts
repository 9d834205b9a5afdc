// The routine retirement as an operator runs it: `sign --repository`, `publish` and `release` refuse the
// retired key for a new release (E_ATTESTATION_KEY_RETIRED), the new key signs it, and the release
// the retired key attested still installs.
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { BUNDLED_ROOT } from '../../src/app/workspace.ts';
import { loadSigner } from '../../src/signers/key-store.ts';
import { renderPolicy } from '../../src/policy/policy.ts';
import { tempDir } from '../helpers/peers.ts';
import { treeHash } from '../publish/fixtures.ts';
import { cli, lifecyclePolicy, newAttestationKey } from './helpers.ts';

test('routine retirement: sign --repository, publish and release refuse the retired key for a new release; the old release still installs', async (t) => {
  const dir = await tempDir(t);
  const ints = path.join(dir, 'integrations');
  await cp(BUNDLED_ROOT, ints, { recursive: true, filter: (src) => path.basename(src) !== 'dist' });
  const run = (args: string[]) => cli(args, dir);
  assert.equal((await run(['repo', 'init', '--bins', '16'])).code, 0);
  for (const step of [['build'], ['sign'], ['publish']]) {
    const r = await run([...step, 'redisdb', '--integrations-dir', ints]);
    assert.equal(r.code, 0, r.err);
  }
  const old = await loadSigner(path.join(dir, 'keys'), 'attestation', {});
  const b = await newAttestationKey(dir, 'attestation-2.pem');
  await writeFile(path.join(dir, 'policy.json'), renderPolicy(lifecyclePolicy({ keys: [old, b.signer], retired: [old] })));
  const set = await run(['repo', 'set-trust', '--policy', 'policy.json']);
  assert.equal(set.code, 0, set.err);

  const repo = path.join(dir, 'repository');
  const before = await treeHash(repo);
  // `release` (build, sign with the key store's key, check, publish) stops at the check.
  const released = await run(['release', 'postgres', '--integrations-dir', ints]);
  assert.equal(released.code, 5, released.err);
  assert.match(released.err, /E_ATTESTATION_KEY_RETIRED/);
  assert.equal(await treeHash(repo), before, 'release wrote nothing');
  assert.equal((await run(['build', 'postgres', '--integrations-dir', ints])).code, 0);
  const refusedSign = await run(['sign', 'postgres', '--integrations-dir', ints, '--repository', 'repository']);
  assert.equal(refusedSign.code, 5, refusedSign.err);
  assert.match(refusedSign.err, /E_ATTESTATION_KEY_RETIRED/);
  // Signed without asking the repository, publish refuses it before writing anything.
  assert.equal((await run(['sign', 'postgres', '--integrations-dir', ints])).code, 0);
  const refusedPublish = await run(['publish', 'postgres', '--integrations-dir', ints]);
  assert.equal(refusedPublish.code, 5, refusedPublish.err);
  assert.match(refusedPublish.err, /E_ATTESTATION_KEY_RETIRED/);
  assert.equal(await treeHash(repo), before, 'nothing was written');

  const signed = await run(['sign', 'postgres', '--integrations-dir', ints, '--repository', 'repository', '--key', b.file]);
  assert.equal(signed.code, 0, signed.err);
  const published = await run(['publish', 'postgres', '--integrations-dir', ints]);
  assert.equal(published.code, 0, published.err);

  const root = ['--repository', repo, '--root', path.join(dir, 'keys/root.json'), '--state-dir', path.join(dir, 'state'), '--json'];
  for (const project of ['datadog-redisdb', 'datadog-postgres']) {
    const d = await run(['download', project, ...root, '--dest', path.join(dir, `dl-${project}`)]);
    assert.equal(d.code, 0, d.err);
    assert.ok((await readFile(JSON.parse(d.out).path)).length > 0);
  }
});
