import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { main } from '../../src/cli/main.ts';
import { gitWorkTreeOf } from '../../src/provenance/git.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

/** What a new user meets on a first run: the Quick start in a git checkout, and paths that are not what they seem. */
const run = promisify(execFile);

function capture() {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd: dir, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } })).stdout;
}

test('the Quick start in a git checkout: git status shows no private key, and init warns that the store is in a work tree', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t);
  await git(dir, 'init', '-q');
  // The checkout holds the integrations, as integrations-core does: `release --all` finds them here.
  await cp(path.join(REPO_ROOT, 'examples/integrations'), dir, { recursive: true, filter: (src) => !src.split(path.sep).includes('dist') });
  const env = { PATH: process.env.PATH, HOME: dir, SOURCE_DATE_EPOCH: '1700000000' };
  const o = capture();
  const code = await main(['release', 'postgres', 'datadog_checks_base'], o, env, dir);
  assert.equal(code, 0, o.err);
  const keys = path.join(dir, 'keys');
  assert.ok((await readdir(keys)).includes('root.pem'), 'the release created its key store in ./keys');
  assert.match(o.err, new RegExp(`warning: the key store ${keys} is inside the git work tree .*: git ignores it .*move it and pass --keys DIR`));

  const status = await git(dir, 'status', '--porcelain', '--untracked-files=all');
  assert.ok(status.includes('postgres/pyproject.toml'), 'git status does list untracked files');
  assert.deepEqual(status.split('\n').filter((l) => l.includes('keys/') || l.endsWith('.pem')), [], status);
  assert.equal((await readFile(path.join(keys, '.gitignore'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).join(), '*');

  // Outside a work tree, or without git, there is nothing to warn about.
  assert.equal(await gitWorkTreeOf(path.dirname(dir)), undefined);
  assert.equal(await gitWorkTreeOf(keys, path.join(dir, 'no-such-git')), undefined);
  const outside = await tempDir(t);
  const q = capture();
  assert.equal(await main(['repo', 'init', '--bins', '2'], q, env, outside), 0, q.err);
  assert.doesNotMatch(q.err, /work tree/);
  assert.ok(existsSync(path.join(outside, 'keys', '.gitignore')));
});

test('an existing .gitignore in the key store is kept', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'keys'));
  await writeFile(path.join(dir, 'keys', '.gitignore'), '*.pem\n');
  const o = capture();
  assert.equal(await main(['repo', 'init', '--bins', '2'], o, { PATH: process.env.PATH }, dir), 0, o.err);
  assert.equal(await readFile(path.join(dir, 'keys', '.gitignore'), 'utf8'), '*.pem\n');
});

test('repo init --keys as a dangling symlink: E_KEYSTORE_DANGLING with the fix, nothing created', async (t) => {
  const dir = await tempDir(t);
  await symlink(path.join(dir, 'gone', 'keys'), path.join(dir, 'keys'));
  const o = capture();
  assert.equal(await main(['repo', 'init', '--bins', '2'], o, { PATH: process.env.PATH }, dir), 3, o.err);
  assert.match(o.err, /E_KEYSTORE_DANGLING: the key store \S+\/keys is a symbolic link to \S+\/gone\/keys, which does not exist .*fix: create the directory it points to \(mkdir -p \S+\/gone\/keys\)/);
  assert.deepEqual((await readdir(dir)).sort(), ['keys'], 'no repository, no keys');

  // Signing with it says the same, not "no key named attestation".
  const s = capture();
  assert.equal(await main(['sign', '--all', '--json'], s, { PATH: process.env.PATH }, dir), 3);
  assert.equal((JSON.parse(s.out) as { error: { code: string } }).error.code, 'E_KEYSTORE_DANGLING');
});

test('download --dest as a dangling symlink: E_DEST with the fix, and no wheel anywhere', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t);
  await cp(path.join(REPO_ROOT, 'examples/integrations'), path.join(dir, 'integrations'), { recursive: true, filter: (src) => !src.split(path.sep).includes('dist') });
  const env = { PATH: process.env.PATH, HOME: dir, SOURCE_DATE_EPOCH: '1700000000' };
  const r = capture();
  assert.equal(await main(['release', 'postgres', '--integrations-dir', 'integrations'], r, env, dir), 0, r.err);
  await symlink(path.join(dir, 'missing', 'wheels'), path.join(dir, 'wheels'));
  const o = capture();
  const code = await main(['download', 'datadog-postgres', '--root', path.join(dir, 'keys/root.json'), '--state-dir', path.join(dir, 'state'), '--dest', 'wheels'], o, env, dir);
  assert.equal(code, 3, o.err);
  assert.match(o.err, /E_DEST: \S+\/wheels is a symbolic link to \S+\/missing\/wheels, which does not exist \(file: \S+, field: --dest\) — fix: create the directory it points to \(mkdir -p \S+\/missing\/wheels\), or pass another --dest/);
  assert.equal(o.out, '');
  assert.equal(existsSync(path.join(dir, 'missing')), false);
});
