import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BUNDLED_ROOT, openWorkspace, selectIntegrations } from '../../src/app/workspace.ts';
import { isProvenantError } from '../../src/errors.ts';
import { callInChild } from '../helpers/child.ts';
import { tempDir } from '../helpers/peers.ts';
import { fakeIntegration } from './fixtures.ts';

test('integrations are the subdirectories with a pyproject.toml; --integrations-dir wins', async (t) => {
  const root = await tempDir(t);
  await fakeIntegration(root, 'postgres');
  await fakeIntegration(root, 'datadog_checks_base', 'datadog-checks-base');
  await mkdir(path.join(root, 'docs'));
  await mkdir(path.join(root, 'broken'));
  await writeFile(path.join(root, 'broken', 'pyproject.toml'), '[project\nname=');
  const ws = await openWorkspace({ root, cwd: '/' });
  assert.equal(ws.origin, 'option');
  assert.deepEqual(
    ws.integrations.map((i) => [i.name, i.project]),
    [
      ['broken', undefined],
      ['datadog_checks_base', 'datadog-checks-base'],
      ['postgres', 'datadog-postgres'],
    ],
  );
});

test('default root: the current directory when it holds integrations, else the bundled examples', async (t) => {
  const here = await tempDir(t);
  await fakeIntegration(here, 'nginx');
  const fromCwd = await openWorkspace({ cwd: here });
  assert.deepEqual([fromCwd.origin, fromCwd.root], ['cwd', here]);

  const empty = await tempDir(t);
  const bundled = await openWorkspace({ cwd: empty });
  assert.deepEqual([bundled.origin, bundled.root], ['bundled', BUNDLED_ROOT]);
  assert.ok(bundled.integrations.length >= 3, 'the bundled examples are found');
});

test('--integrations-dir that is missing or holds no integrations is an input error', async (t) => {
  const empty = await tempDir(t);
  for (const root of [path.join(empty, 'nope'), empty]) {
    await assert.rejects(openWorkspace({ root, cwd: '/' }), (e: unknown) => isProvenantError(e) && e.code === 'E_INTEGRATIONS_DIR_INVALID' && e.field === '--integrations-dir');
  }
});

test('names resolve by directory, project name or the short name; unknown ones list the known', async (t) => {
  const root = await tempDir(t);
  await fakeIntegration(root, 'postgres');
  await fakeIntegration(root, 'datadog_checks_base', 'datadog-checks-base');
  const ws = await openWorkspace({ root, cwd: '/' });
  const names = (args: string[], all = false) => selectIntegrations(ws, args, all).map((i) => i.name);
  assert.deepEqual(names(['postgres']), ['postgres']);
  assert.deepEqual(names(['datadog-postgres', 'Datadog_Postgres', 'postgres']), ['postgres']);
  assert.deepEqual(names(['datadog-checks-base']), ['datadog_checks_base']);
  assert.deepEqual(names(['datadog_checks_base', 'postgres']), ['datadog_checks_base', 'postgres']);
  assert.deepEqual(names([], true), ['datadog_checks_base', 'postgres']);
  assert.throws(
    () => names(['mysql']),
    (e: unknown) =>
      isProvenantError(e) && e.code === 'E_INTEGRATION_UNKNOWN' && e.exitCode === 4 && /mysql/.test(e.message) && /datadog_checks_base, postgres/.test(e.hint ?? ''),
  );
  assert.throws(() => names([]), (e: unknown) => isProvenantError(e) && e.code === 'E_USAGE' && e.exitCode === 2);
  assert.throws(() => names(['postgres'], true), (e: unknown) => isProvenantError(e) && e.code === 'E_USAGE');
});

test('listing reads pyproject.toml through the build\'s input gate: a FIFO does not hang it, a link out of the tree is not read', async (t) => {
  const root = await tempDir(t);
  await fakeIntegration(root, 'postgres');
  await mkdir(path.join(root, 'fifo'));
  await promisify(execFile)('mkfifo', [path.join(root, 'fifo', 'pyproject.toml')]);
  const outside = await tempDir(t, 'provenant-outside-');
  await writeFile(path.join(outside, 'pyproject.toml'), '[project]\nname = "from-outside"\n');
  await mkdir(path.join(root, 'linked'));
  await symlink(path.join(outside, 'pyproject.toml'), path.join(root, 'linked', 'pyproject.toml'));
  // In a child with a deadline: before the fix, reading the FIFO never returned.
  const { value } = await callInChild('src/app/workspace.ts', `m.openWorkspace({ root: ${JSON.stringify(root)}, cwd: '/' }).then((ws) => ws.integrations.map((i) => [i.name, i.project ?? null]))`, 10_000);
  assert.deepEqual(value, [['fifo', null], ['linked', null], ['postgres', 'datadog-postgres']]);
});
