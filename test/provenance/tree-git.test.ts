// treeGit: a whole-tree build asks git about the checkout once and runs one `git status` per
// integration, and must say exactly what gitCli says for every directory, including one with its
// own nested repository and one outside any checkout.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gitCli, treeGit } from '../../src/provenance/git.ts';
import { tempDir } from '../helpers/peers.ts';

const run = promisify(execFile);
const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

async function git(cwd: string, ...args: string[]): Promise<void> {
  await run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
}

/** A `git` that logs each invocation to `log` before running the real one. */
async function countingGit(dir: string): Promise<{ bin: string; calls(): Promise<number> }> {
  const bin = path.join(dir, 'git-counting');
  const log = path.join(dir, 'git-calls.log');
  const real = (await run('sh', ['-c', 'command -v git'])).stdout.trim();
  await writeFile(bin, `#!/bin/sh\necho "$@" >> '${log}'\nexec '${real}' "$@"\n`);
  await chmod(bin, 0o755);
  return { bin, calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length };
}

async function integration(root: string, name: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'pyproject.toml'), `[project]\nname = "datadog-${name}"\n`);
  return dir;
}

test('treeGit gives every directory of a checkout the facts gitCli gives, with one git status per directory', async (t) => {
  const work = await tempDir(t);
  const root = path.join(work, 'integrations-core');
  await mkdir(root);
  await git(root, 'init', '-q', '-b', 'main');
  await git(root, 'remote', 'add', 'origin', 'https://github.com/DataDog/integrations-core.git');
  const dirs = [];
  for (const n of ['a', 'b', 'c', 'd']) dirs.push(await integration(root, n));
  await git(root, 'add', '.');
  await git(root, 'commit', '-q', '-m', 'init');
  await writeFile(path.join(root, 'b', 'changed.py'), 'x = 1\n'); // b has uncommitted changes
  // e is its own repository inside the checkout (no commit yet): git must be asked in full.
  const nested = await integration(root, 'e');
  await git(nested, 'init', '-q', '-b', 'main');
  dirs.push(nested);

  const counting = await countingGit(work);
  const tree = treeGit(root, counting.bin);
  for (const dir of dirs) assert.deepEqual(await tree.inspect(dir), await gitCli().inspect(dir), dir);
  // 4 for the checkout, 1 status per shared directory (a–d), and gitCli's 2 for e (no commit yet).
  assert.equal(await counting.calls(), 4 + 4 + 2);
  assert.equal((await tree.inspect(path.join(root, 'b'))).modified, true);
});

test('treeGit outside any checkout: gitCli\'s facts, one git process for the whole tree', async (t) => {
  const root = await tempDir(t);
  const dirs = [];
  for (const n of ['a', 'b', 'c']) dirs.push(await integration(root, n));
  const counting = await countingGit(root);
  const tree = treeGit(root, counting.bin);
  for (const dir of dirs) assert.deepEqual(await tree.inspect(dir), await gitCli().inspect(dir), dir);
  assert.equal(await counting.calls(), 1);
});
