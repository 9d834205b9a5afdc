// Every bad project gets its stable code, names the file and field, and nothing is written.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { tempDir } from '../helpers/peers.ts';
import { copyExample, expectBuildError } from './helpers.ts';

async function editPyproject(dir: string, edit: (s: string) => string): Promise<void> {
  const f = path.join(dir, 'pyproject.toml');
  await writeFile(f, edit(await readFile(f, 'utf8')));
}

test('E_PYPROJECT_MISSING: a directory without pyproject.toml', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'datadog_checks'));
  await expectBuildError(dir, 'E_PYPROJECT_MISSING', { file: /pyproject\.toml$/ });
});

test('E_PYPROJECT_INVALID: broken TOML names the line', async (t) => {
  const dir = await copyExample(t, 'postgres');
  await editPyproject(dir, (s) => s.replace('requires-python = ">=3.9"', 'requires-python = ">=3.9'));
  const e = await expectBuildError(dir, 'E_PYPROJECT_INVALID', { file: /pyproject\.toml$/, field: /^line \d+$/ });
  assert.match(e.message, /line 10/);
});

test('E_PYPROJECT_FIELD: a field of the wrong type names the field', async (t) => {
  const dir = await copyExample(t, 'postgres');
  await editPyproject(dir, (s) => s.replace('requires-python = ">=3.9"', 'requires-python = 39'));
  await expectBuildError(dir, 'E_PYPROJECT_FIELD', { field: /^project\.requires-python$/ });
});

test('E_PYPROJECT_FIELD: an invalid dependency, an unknown license syntax, an unsupported hatch option', async (t) => {
  const dep = await copyExample(t, 'postgres');
  await editPyproject(dep, (s) => s.replace('"datadog-checks-base>=37.0.0"', '"datadog-checks-base >=>= 37"'));
  await expectBuildError(dep, 'E_PYPROJECT_FIELD', { field: /^project\.dependencies\[0\]$/ });

  const lic = await copyExample(t, 'redisdb');
  await editPyproject(lic, (s) => s.replace('license = "bsd-3-clause"', 'license = "MIT OR"'));
  await expectBuildError(lic, 'E_PYPROJECT_FIELD', { field: /^project\.license$/ });

  const opt = await copyExample(t, 'nginx');
  await editPyproject(opt, (s) => s.replace('[tool.hatch.build.targets.wheel]', '[tool.hatch.build.targets.wheel]\npackages = ["datadog_checks"]'));
  await expectBuildError(opt, 'E_PYPROJECT_FIELD', { field: /^tool\.hatch\.build\.targets\.wheel\.packages$/ });

  const hatchToml = await copyExample(t, 'nginx');
  await writeFile(path.join(hatchToml, 'hatch.toml'), '[build.targets.wheel]\npackages = ["datadog_checks"]\n');
  await expectBuildError(hatchToml, 'E_PYPROJECT_FIELD', { file: /hatch\.toml$/, field: /^build\.targets\.wheel\.packages$/ });

  const noProject = await copyExample(t, 'nginx');
  await writeFile(path.join(noProject, 'pyproject.toml'), '[build-system]\nrequires = ["hatchling"]\n');
  await expectBuildError(noProject, 'E_PYPROJECT_FIELD', { field: /^project$/ });
});

test('E_VERSION_NOT_FOUND: no version source, a missing version file, a file without __version__', async (t) => {
  const none = await copyExample(t, 'nginx');
  await editPyproject(none, (s) => s.replace('dynamic = ["version"]\n', ''));
  await expectBuildError(none, 'E_VERSION_NOT_FOUND', { field: /^project\.version$/ });

  const noPath = await copyExample(t, 'nginx');
  await editPyproject(noPath, (s) => s.replace('path = "datadog_checks/nginx/__about__.py"', ''));
  await expectBuildError(noPath, 'E_VERSION_NOT_FOUND', { field: /^tool\.hatch\.version\.path$/ });

  const missing = await copyExample(t, 'nginx');
  await rm(path.join(missing, 'datadog_checks/nginx/__about__.py'));
  await expectBuildError(missing, 'E_VERSION_NOT_FOUND', { field: /^tool\.hatch\.version\.path$/ });

  const noMatch = await copyExample(t, 'nginx');
  await writeFile(path.join(noMatch, 'datadog_checks/nginx/__about__.py'), 'VERSION_INFO = (1, 0)\n');
  await expectBuildError(noMatch, 'E_VERSION_NOT_FOUND', { file: /__about__\.py$/ });
});

test('E_VERSION_INVALID: a version that is not PEP 440', async (t) => {
  const dir = await copyExample(t, 'redisdb');
  await writeFile(path.join(dir, 'datadog_checks/redisdb/__about__.py'), '__version__ = "7.1.0-final-2"\n');
  const e = await expectBuildError(dir, 'E_VERSION_INVALID', { file: /__about__\.py$/, field: /__version__/ });
  assert.match(e.message, /7\.1\.0-final-2/);
});

test('E_PATH_ESCAPES: an include pattern, a version path, a readme and a symlink that leave the project', async (t) => {
  const pattern = await copyExample(t, 'postgres');
  await editPyproject(pattern, (s) => s.replace('"/datadog_checks/postgres",\n]', '"/datadog_checks/postgres",\n    "../secrets",\n]'));
  await expectBuildError(pattern, 'E_PATH_ESCAPES', { field: /^tool\.hatch\.build\.targets\.wheel\.include\[1\]$/ });

  const versionPath = await copyExample(t, 'postgres');
  await editPyproject(versionPath, (s) => s.replace('path = "datadog_checks/postgres/__about__.py"', 'path = "../elsewhere/__about__.py"'));
  await expectBuildError(versionPath, 'E_PATH_ESCAPES', { field: /^tool\.hatch\.version\.path$/ });

  const readme = await copyExample(t, 'postgres');
  await editPyproject(readme, (s) => s.replace('readme = "README.md"', 'readme = "../README.md"'));
  await expectBuildError(readme, 'E_PATH_ESCAPES', { field: /^project\.readme$/ });

  const outside = await tempDir(t, 'provenant-outside-');
  await writeFile(path.join(outside, 'secret.py'), 'TOKEN = "x"\n');
  const link = await copyExample(t, 'postgres');
  await symlink(path.join(outside, 'secret.py'), path.join(link, 'datadog_checks/postgres/secret.py'));
  await expectBuildError(link, 'E_PATH_ESCAPES', { field: /include/ });

  const dirLink = await copyExample(t, 'postgres');
  await symlink(outside, path.join(dirLink, 'datadog_checks/postgres/vendor'));
  await expectBuildError(dirLink, 'E_PATH_ESCAPES');
});

test('a symlink that stays inside the project is followed, as hatchling does', async (t) => {
  const dir = await copyExample(t, 'postgres');
  await symlink('postgres.py', path.join(dir, 'datadog_checks/postgres/alias.py'));
  const w = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  assert.ok(w.entries.includes('datadog_checks/postgres/alias.py'));
});

test('E_WHEEL_EMPTY: include patterns that match nothing', async (t) => {
  const dir = await copyExample(t, 'postgres');
  await editPyproject(dir, (s) => s.replace('"/datadog_checks/postgres",\n]', '"/datadog_checks/postgres_typo",\n]'));
  const e = await expectBuildError(dir, 'E_WHEEL_EMPTY', { field: /include/ });
  assert.match(e.hint ?? '', /postgres_typo/);
});
