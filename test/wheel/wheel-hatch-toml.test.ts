// hatch.toml beside pyproject.toml, merged as hatchling merges it: each of its top-level tables
// replaces pyproject.toml's [tool.hatch] table of that name whole. Compared byte for byte with
// hatchling; what provenant does not implement is refused, naming hatch.toml and the option.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sha256Hex } from '../../src/util/hash.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { tempDir } from '../helpers/peers.ts';
import { expectBuildError, hatchlingWheel } from './helpers.ts';

const PYPROJECT = `[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "datadog-sample"
readme = "README.md"
requires-python = ">=3.9"
dynamic = ["version"]
`;

/** hatch environments and other tables a real integrations-core hatch.toml holds: no effect on the wheel. */
const ENV_TABLES = `
[env.collectors.datadog-checks]
base-package-features = ["deps", "db"]

[[envs.default.matrix]]
python = ["3.12"]
version = ["9.6", "10.0"]

[envs.default.overrides]
matrix.version.env-vars = [{ key = "VERSION", if = ["9.6"] }]

[envs.latest.env-vars]
VERSION = "latest"

[publish.index]
disable = true
`;

async function project(t: Parameters<typeof tempDir>[0], files: Record<string, string>): Promise<string> {
  const dir = path.join(await tempDir(t, 'provenant-hatch-toml-'), 'sample');
  const all: Record<string, string> = {
    'README.md': '# sample\n',
    'pkg/__init__.py': '',
    'pkg/__about__.py': '__version__ = "1.2.3"\n',
    'pkg/a.py': 'A = 1\n',
    'pkg/b.py': 'B = 2\n',
    'pkg/skip.py': 'SKIP = 3\n',
    'pkg/VERSION.py': 'v = "4.5.6"\n',
    ...files,
  };
  for (const [rel, content] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

async function sameAsHatchling(t: Parameters<typeof tempDir>[0], dir: string): Promise<string[]> {
  const ours = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  const theirs = await hatchlingWheel(t, dir, 1580601600);
  assert.equal(ours.fileName, theirs.fileName);
  assert.equal(ours.sha256, sha256Hex(theirs.bytes));
  return ours.entries;
}

test('hatch.toml [build] replaces pyproject.toml\'s whole [tool.hatch.build] (its wheel include too), as hatchling does', async (t) => {
  const dir = await project(t, {
    'pyproject.toml': `${PYPROJECT}
[tool.hatch.version]
path = "pkg/__about__.py"

[tool.hatch.build.targets.wheel]
include = ["/pkg/a.py"]
`,
    'hatch.toml': `[build]\ninclude = ["/pkg"]\nexclude = ["/pkg/skip.py"]\n${ENV_TABLES}`,
  });
  const entries = await sameAsHatchling(t, dir);
  // A deep merge would have kept the wheel target's include (only a.py).
  assert.deepEqual(entries.filter((e) => e.startsWith('pkg/')), ['pkg/VERSION.py', 'pkg/__about__.py', 'pkg/__init__.py', 'pkg/a.py', 'pkg/b.py']);
  assert.ok(entries.includes('datadog_sample-1.2.3.dist-info/METADATA'));
});

test('hatch.toml [version] and [metadata] apply; pyproject.toml\'s [tool.hatch.build] stays when hatch.toml has no [build]', async (t) => {
  const dir = await project(t, {
    'pyproject.toml': `${PYPROJECT}dependencies = ["dep @ https://example.com/dep-1.0-py3-none-any.whl"]

[tool.hatch.version]
path = "pkg/__about__.py"

[tool.hatch.metadata]
allow-direct-references = false

[tool.hatch.build.targets.wheel]
include = ["/pkg"]
exclude = ["/pkg/skip.py"]
`,
    'hatch.toml': `[version]\npath = "pkg/VERSION.py"\npattern = 'v = "(?P<version>[^"]+)"'\n\n[metadata]\nallow-direct-references = true\n${ENV_TABLES}`,
  });
  const entries = await sameAsHatchling(t, dir);
  assert.ok(entries.includes('datadog_sample-4.5.6.dist-info/METADATA'), 'the version comes from hatch.toml\'s [version]');
  assert.ok(!entries.includes('pkg/skip.py'), 'pyproject.toml\'s exclude still applies');
});

test('unimplemented options set to values that change nothing are accepted; the wheel target\'s setting wins over [build]\'s', async (t) => {
  const dir = await project(t, {
    'pyproject.toml': `${PYPROJECT}\n[tool.hatch.version]\npath = "pkg/__about__.py"\n`,
    'hatch.toml': `[build]
reproducible = false
strict-naming = true
shared-data = { "pkg/a.py" = "share/a.py" }
extra-metadata = { "pkg/a.py" = "a.py" }
dev-mode-dirs = ["."]
directory = "out"
require-runtime-dependencies = true

[build.targets.wheel]
include = ["/pkg"]
reproducible = true
force-include = {}
shared-data = {}
shared-scripts = {}
extra-metadata = {}
sbom-files = []
artifacts = []
sources = []
only-packages = false
bypass-selection = false
hooks = {}
macos-max-compat = true
versions = ["standard"]

[build.targets.sdist]
include = ["/pkg", "/tests"]
hooks.custom = {}

[metadata]
hooks = {}
${ENV_TABLES}`,
  });
  const entries = await sameAsHatchling(t, dir);
  assert.ok(entries.includes('pkg/skip.py'));
});

test('hatch.toml options provenant does not implement are refused, naming hatch.toml and the option; nothing is written', async (t) => {
  const cases: [string, RegExp][] = [
    ['[build.hooks.custom]\npath = "hatch_build.py"\n', /^build\.hooks\.custom$/],
    ['[build.targets.wheel.hooks.mypyc]\ndependencies = ["hatch-mypyc"]\n', /^build\.targets\.wheel\.hooks\.mypyc$/],
    ['[build.targets.wheel]\ninclude = ["/pkg"]\nforce-include = { "../secret" = "pkg/secret" }\n', /^build\.targets\.wheel\.force-include$/],
    ['[build]\npackages = []\n', /^build\.packages$/],
    ['[build.targets.wheel]\nonly-include = ["pkg"]\n', /^build\.targets\.wheel\.only-include$/],
    ['[build.targets.wheel]\nshared-data = { "pkg/a.py" = "share/a.py" }\n', /^build\.targets\.wheel\.shared-data$/],
    ['[build.targets.wheel]\nbypass-selection = true\n', /^build\.targets\.wheel\.bypass-selection$/],
    ['[build]\nreproducible = false\n', /^build\.reproducible$/],
    ['[metadata.hooks.fancy-pypi-readme]\ncontent-type = "text/markdown"\n', /^metadata\.hooks\.fancy-pypi-readme$/],
    ['[version]\nsource = "vcs"\n', /^version\.source$/],
    ['[build]\ninclude = 5\n', /^build\.include$/],
    ['[build.targets.wheel]\ninclude = [""]\n', /^build\.targets\.wheel\.include\[0\]$/],
  ];
  for (const [hatchToml, field] of cases) {
    const dir = await project(t, { 'pyproject.toml': `${PYPROJECT}\n[tool.hatch.version]\npath = "pkg/__about__.py"\n`, 'hatch.toml': `${ENV_TABLES}\n${hatchToml}` });
    await expectBuildError(dir, 'E_PYPROJECT_FIELD', { file: /\/hatch\.toml$/, field });
  }
});

test('paths set in hatch.toml that leave the project are refused naming hatch.toml; a broken or escaping hatch.toml too', async (t) => {
  const pyproject = `${PYPROJECT}\n[tool.hatch.version]\npath = "pkg/__about__.py"\n`;
  const version = await project(t, { 'pyproject.toml': `${PYPROJECT}`, 'hatch.toml': '[version]\npath = "../elsewhere/__about__.py"\n' });
  await expectBuildError(version, 'E_PATH_ESCAPES', { file: /\/hatch\.toml$/, field: /^version\.path$/ });

  const include = await project(t, { 'pyproject.toml': pyproject, 'hatch.toml': '[build.targets.wheel]\ninclude = ["/pkg", "../secrets"]\n' });
  await expectBuildError(include, 'E_PATH_ESCAPES', { file: /\/hatch\.toml$/, field: /^build\.targets\.wheel\.include\[1\]$/ });

  const missing = await project(t, { 'pyproject.toml': `${PYPROJECT}`, 'hatch.toml': '[version]\npath = "pkg/nope.py"\n' });
  await expectBuildError(missing, 'E_VERSION_NOT_FOUND', { file: /\/hatch\.toml$/, field: /^version\.path$/ });

  const broken = await project(t, { 'pyproject.toml': pyproject, 'hatch.toml': '[envs.default\npython = "3.12"\n' });
  await expectBuildError(broken, 'E_PYPROJECT_INVALID', { file: /\/hatch\.toml$/, field: /^line 1$/ });

  const outside = await tempDir(t, 'provenant-outside-');
  await writeFile(path.join(outside, 'hatch.toml'), '[build]\ninclude = ["/pkg"]\n');
  const link = await project(t, { 'pyproject.toml': pyproject });
  await symlink(path.join(outside, 'hatch.toml'), path.join(link, 'hatch.toml'));
  await expectBuildError(link, 'E_PATH_ESCAPES', { file: /\/hatch\.toml$/ });
});

test('a hatch.toml directory is not a hatch.toml (hatchling checks isfile): the build goes on', async (t) => {
  const dir = await project(t, { 'pyproject.toml': `${PYPROJECT}\n[tool.hatch.version]\npath = "pkg/__about__.py"\n\n[tool.hatch.build.targets.wheel]\ninclude = ["/pkg"]\n`, 'hatch.toml/x': '' });
  await sameAsHatchling(t, dir);
});
