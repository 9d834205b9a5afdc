// Security 4: every file the build reads must be a regular file inside the integration. A symlink
// to /proc/self/environ, to ../outside, to nothing, or a FIFO in place of an input is refused
// before a byte is read, with the field that named it; a symlink that stays inside is followed,
// as hatchling follows it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { callInChild } from '../helpers/child.ts';
import { tempDir } from '../helpers/peers.ts';
import { copyExample, expectBuildError, hatchlingWheel } from './helpers.ts';

const run = promisify(execFile);
const ENVIRON = '/proc/self/environ';

async function editPyproject(dir: string, edit: (s: string) => string): Promise<void> {
  const f = path.join(dir, 'pyproject.toml');
  await writeFile(f, edit(await readFile(f, 'utf8')));
}

/** Replaces `rel` in the project with a symlink to `target`. */
async function linkAs(dir: string, rel: string, target: string): Promise<void> {
  await rm(path.join(dir, rel), { force: true });
  await symlink(target, path.join(dir, rel));
}

test('/proc/self/environ as readme, license file (glob and table), version file, package file, pyproject.toml: refused by field', async (t) => {
  const cases: { rel: string; field?: RegExp; file?: RegExp; setup?: (dir: string) => Promise<void> }[] = [
    { rel: 'README.md', field: /^project\.readme$/ },
    { rel: 'LICENSE', field: /^project\.license-files$/ },
    {
      rel: 'LICENSE.txt', field: /^project\.license\.file$/,
      setup: (dir) => editPyproject(dir, (s) => s.replace('license = "BSD-3-Clause"', 'license = { file = "LICENSE.txt" }')),
    },
    { rel: 'datadog_checks/nginx/__about__.py', field: /^tool\.hatch\.version\.path$/ },
    { rel: 'datadog_checks/nginx/secrets.py', field: /^tool\.hatch\.build\.targets\.wheel\.include$/ },
    { rel: 'pyproject.toml', file: /\/nginx\/pyproject\.toml$/ },
  ];
  for (const c of cases) {
    const dir = await copyExample(t, 'nginx');
    await c.setup?.(dir);
    await linkAs(dir, c.rel, ENVIRON);
    const e = await expectBuildError(dir, 'E_PATH_ESCAPES', { field: c.field, file: c.file ?? /pyproject\.toml$/ });
    assert.match(e.message, new RegExp(`^\\S.* "${c.rel.replaceAll('.', '\\.')}" resolves to /proc/\\d+/environ, outside `), c.rel);
    assert.doesNotMatch(JSON.stringify(e.toJSON()), /PATH=/, 'nothing of the environment is in the error');
  }
});

test('.gitignore as a symlink to /proc/self/environ, in the project or in a directory above it: refused', async (t) => {
  const inProject = await copyExample(t, 'nginx');
  await linkAs(inProject, '.gitignore', ENVIRON);
  await expectBuildError(inProject, 'E_PATH_ESCAPES', { file: /\/nginx\/\.gitignore$/ });

  // hatchling reads the nearest .gitignore up to the repository root; it is held to the same rule there.
  const above = await copyExample(t, 'nginx');
  await rm(path.join(above, '.gitignore'));
  await symlink(ENVIRON, path.join(above, '..', '.gitignore'));
  await expectBuildError(above, 'E_PATH_ESCAPES', { file: new RegExp(`^${path.dirname(above)}/\\.gitignore$`) });
});

test('symlinks to ../outside: readme, license file, version file', async (t) => {
  const outside = await tempDir(t, 'provenant-outside-');
  await writeFile(path.join(outside, 'secret.md'), '__version__ = "6.6.6"\nsecret\n');
  for (const [rel, field] of [['README.md', /^project\.readme$/], ['LICENSE', /^project\.license-files$/], ['datadog_checks/nginx/__about__.py', /^tool\.hatch\.version\.path$/]] as const) {
    const dir = await copyExample(t, 'nginx');
    // A relative link through `..`, as a checkout would carry it.
    await linkAs(dir, rel, path.relative(path.dirname(path.join(dir, rel)), path.join(outside, 'secret.md')));
    const e = await expectBuildError(dir, 'E_PATH_ESCAPES', { field });
    assert.ok(e.message.includes(path.join(outside, 'secret.md')), e.message);
  }
  // A readme under a symlinked directory that leaves the project.
  const viaDir = await copyExample(t, 'nginx');
  await symlink(outside, path.join(viaDir, 'docs'));
  await editPyproject(viaDir, (s) => s.replace('readme = "README.md"', 'readme = "docs/secret.md"'));
  await expectBuildError(viaDir, 'E_PATH_ESCAPES', { field: /^project\.readme$/ });
});

test('a FIFO as readme, version file or package file is refused without waiting on it; nothing is written', async (t) => {
  for (const [rel, field] of [['README.md', 'project.readme'], ['datadog_checks/nginx/__about__.py', 'tool.hatch.version.path'], ['datadog_checks/nginx/pipe.py', 'tool.hatch.build.targets.wheel.include']] as const) {
    const dir = await copyExample(t, 'nginx');
    await rm(path.join(dir, rel), { force: true });
    await run('mkfifo', [path.join(dir, rel)]);
    // In a child with a deadline: before the fix, a FIFO package file blocked the synchronous build for ever.
    const { error: e = {} } = await callInChild('src/wheel/wheel.ts', `m.buildWheel(${JSON.stringify(dir)}, { sourceDateEpoch: 1580601600 }).then(() => 'built')`);
    assert.deepEqual({ code: e.code, field: e.field, exitClass: e.exitClass }, { code: 'E_BUILD_INPUT_NOT_FILE', field, exitClass: 'input' }, JSON.stringify(e));
    assert.match(String(e.message), new RegExp(`"${rel.replaceAll('.', '\\.')}" is a FIFO \\(named pipe\\), not a regular file`));
    assert.ok(!(await import('node:fs')).existsSync(path.join(dir, 'dist')), 'no dist/');
  }
});

test('a dangling symlink or a directory in place of an input: E_BUILD_INPUT_NOT_FILE naming it', async (t) => {
  const dangling = await copyExample(t, 'nginx');
  await linkAs(dangling, 'README.md', 'docs/gone.md');
  const e1 = await expectBuildError(dangling, 'E_BUILD_INPUT_NOT_FILE', { field: /^project\.readme$/ });
  assert.match(e1.message, /"README\.md" is a symlink to nothing/);

  const danglingPkg = await copyExample(t, 'nginx');
  await symlink('gone.py', path.join(danglingPkg, 'datadog_checks/nginx/alias.py'));
  await expectBuildError(danglingPkg, 'E_BUILD_INPUT_NOT_FILE', { field: /include$/ });

  const directory = await copyExample(t, 'nginx');
  await rm(path.join(directory, 'README.md'));
  await mkdir(path.join(directory, 'README.md'));
  const e2 = await expectBuildError(directory, 'E_BUILD_INPUT_NOT_FILE', { field: /^project\.readme$/ });
  assert.match(e2.message, /is a directory/);
});

test('a readme symlink that stays inside the project is followed, and the wheel is the one hatchling builds', async (t) => {
  const dir = await copyExample(t, 'nginx');
  await mkdir(path.join(dir, 'docs'));
  await rename(path.join(dir, 'README.md'), path.join(dir, 'docs/README.md'));
  await symlink('docs/README.md', path.join(dir, 'README.md'));
  await symlink('../../README.md', path.join(dir, 'datadog_checks/nginx/README.md'));
  await writeFile(path.join(dir, 'LICENSE.real'), 'BSD\n');
  await symlink('LICENSE.real', path.join(dir, 'LICENSE'));
  const ours = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  assert.match(new TextDecoder().decode(ours.metadata), /# Agent Check: NGINX/);
  assert.ok(ours.entries?.includes('datadog_checks/nginx/README.md'));
  const theirs = await hatchlingWheel(t, dir, 1580601600);
  assert.equal(ours.sha256, sha256Hex(theirs.bytes));
});

test('a non-UTF-8 file name: E_FILE_NAME_NOT_UTF8 naming the directory and the escaped bytes; unselected ones are ignored', async (t) => {
  const dir = await copyExample(t, 'nginx');
  const pkg = path.join(dir, 'datadog_checks/nginx');
  // `café.py` in Latin-1: 0xE9 alone is not UTF-8.
  await writeFile(Buffer.concat([Buffer.from(`${pkg}/caf`), Buffer.from([0xe9]), Buffer.from('.py')]), 'x = 1\n');
  const e = await expectBuildError(dir, 'E_FILE_NAME_NOT_UTF8', { file: new RegExp(`${pkg}$`), field: /include$/ });
  assert.equal(e.message, "datadog_checks/nginx/ holds a name that is not UTF-8: b'caf\\xe9.py'");
  assert.match(e.hint ?? '', /rename it to UTF-8/);

  // The same name outside what the wheel ships (tests/) does not stop the build, as with hatchling.
  const elsewhere = await copyExample(t, 'nginx');
  await writeFile(Buffer.concat([Buffer.from(`${elsewhere}/tests/caf`), Buffer.from([0xe9]), Buffer.from('.py')]), 'x = 1\n');
  const w = await buildWheel(elsewhere, { sourceDateEpoch: 1580601600 });
  assert.ok(w.entries?.every((n) => !n.includes('\ufffd')));

  // A directory with such a name, below the shipped package.
  const subdir = await copyExample(t, 'nginx');
  await mkdir(Buffer.concat([Buffer.from(`${subdir}/datadog_checks/nginx/d`), Buffer.from([0xff])]));
  const e2 = await expectBuildError(subdir, 'E_FILE_NAME_NOT_UTF8', { field: /include$/ });
  assert.match(e2.message, /b'd\\xff'$/);
});
