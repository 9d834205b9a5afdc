// Real pip installs the wheels (offline, from a find-links directory); the packages import and
// report their versions; `python -m wheel unpack` accepts each RECORD.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { freshVenv, python, tempDir } from '../helpers/peers.ts';
import { copyExample, exampleNames } from './helpers.ts';

const run = promisify(execFile);

test('every example wheel installs with pip --no-index, imports, and reports its version', async (t) => {
  const links = await tempDir(t, 'provenant-links-');
  const built = [];
  for (const name of await exampleNames()) {
    const w = await buildWheel(await copyExample(t, name), { sourceDateEpoch: 1580601600 });
    await writeFile(path.join(links, w.fileName), w.bytes);
    built.push({ name, wheel: w });
  }

  const venvPy = await freshVenv(path.join(await tempDir(t, 'provenant-venv-'), 'venv'));
  const requirements = built.map(({ wheel }) => `${wheel.projectName}==${wheel.version}`);
  await run(venvPy, ['-m', 'pip', 'install', '--no-index', '--find-links', links, '--disable-pip-version-check', ...requirements], { maxBuffer: 16 << 20 });

  for (const { name, wheel } of built) {
    const module = name === 'datadog_checks_base' ? 'datadog_checks.base' : `datadog_checks.${name}`;
    const { stdout } = await run(venvPy, [
      '-c',
      `import importlib, importlib.metadata as m; mod = importlib.import_module(${JSON.stringify(module)}); print(m.version(${JSON.stringify(wheel.projectName)})); print(mod.__version__)`,
    ]);
    const [distVersion, moduleVersion] = stdout.trim().split('\n');
    assert.equal(distVersion, wheel.version === '8.1.0rc1' ? '8.1.0-RC.1' : wheel.version, `${name}: importlib.metadata.version()`);
    assert.ok(moduleVersion, `${name}: module imported`);
  }

  // The check classes run against the installed base package (namespace package works).
  const { stdout } = await run(venvPy, ['-c', 'from datadog_checks.postgres import PostgreSql; print(PostgreSql("postgres", {}, [{}]).run()[0][1])']);
  assert.equal(stdout.trim(), 'postgresql.connections');
  // entry_points.txt reached pip: the console script exists and runs.
  const script = await run(path.join(path.dirname(venvPy), 'postgres-explain'), ['hello']);
  assert.equal(script.stdout.trim(), 'postgres-explain 23.2.0 hello');
});

test('python -m wheel unpack accepts every wheel (RECORD hashes and sizes check out)', async (t) => {
  for (const name of await exampleNames()) {
    const dir = await tempDir(t, 'provenant-unpack-');
    const w = await buildWheel(await copyExample(t, name), { sourceDateEpoch: 1580601600 });
    const file = path.join(dir, w.fileName);
    await writeFile(file, w.bytes);
    await python(['-m', 'wheel', 'unpack', '--dest', path.join(dir, 'out'), file]);
    const [unpacked] = await readdir(path.join(dir, 'out'));
    assert.equal(unpacked, `${w.fileName.split('-').slice(0, 2).join('-')}`, name);
  }
});

test('the unpack check is real: a wheel whose file no longer matches RECORD is rejected', async (t) => {
  const dir = await tempDir(t, 'provenant-unpack-bad-');
  const w = await buildWheel(await copyExample(t, 'nginx'), { sourceDateEpoch: 1580601600 });
  const good = path.join(dir, 'good.whl');
  const bad = path.join(dir, w.fileName);
  await writeFile(good, w.bytes);
  // Rewrite one file's content while keeping the original RECORD.
  await python(['-c', [
    'import sys, zipfile',
    'src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w")',
    'for i in src.infolist():',
    '    d = src.read(i)',
    '    dst.writestr(i, d + b"#" if i.filename.endswith("nginx.py") else d)',
    'dst.close()',
  ].join('\n'), good, bad]);
  await assert.rejects(python(['-m', 'wheel', 'unpack', '--dest', path.join(dir, 'out'), bad]), /Hash mismatch/);
});
