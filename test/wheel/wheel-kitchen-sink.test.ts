// Projects that exercise every corner the builder implements, compared byte for byte with hatchling.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { tempDir } from '../helpers/peers.ts';
import { hatchlingWheel } from './helpers.ts';

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

const KITCHEN_SINK_PYPROJECT = `
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "Tricky.Project_Name"
version = "  2.0.0-Beta.3 "
description = """A summary
spread over lines"""
readme = {file = "README.rst", content-type = "text/x-rst"}
license = {text = "Custom terms\\nsecond line\\n"}
license-files = ["LICENSES/*.txt", "NOTICE"]
requires-python = ">= 3.8, !=3.9.*"
keywords = ["zeta", "alpha", "zeta", "Beta"]
authors = [
  { name = "Doe, Jane", email = "jane@example.com" },
  { email = "ops@example.com" },
  { name = "Solo Name" },
]
maintainers = [{ name = "Maint Ainer", email = "m@example.com" }]
classifiers = [
  "Programming Language :: Python :: 3.10",
  "Private :: Do Not Upload",
  "Programming Language :: Python :: 3.9",
  "Development Status :: 4 - Beta",
  "Programming Language :: Python :: 3",
  "License :: OSI Approved :: BSD License",
  "Programming Language :: Python :: 3.10",
]
dependencies = [
  "Requests [Security, socks] >= 2.8.1, == 2.8.*",
  "PyYAML",
  "pyodbc==5.2.0; sys_platform != 'darwin' or platform_machine != 'arm64'",
  "typing_extensions>=4.0 ; (python_version < '3.11') and (os.name == 'posix' or os_name == 'nt')",
  "pyyaml",
  "Binary[Extra_One]~=1.0.RC1",
]

[project.optional-dependencies]
Dev_Extra = ["pytest>=8", "coverage[toml]==7.6.*; python_implementation == 'CPython'"]
cli = ["click>=8", "rich"]
all = ["tricky-project-name[cli,Dev_Extra]", "orjson"]
empty = []

[project.urls]
Homepage = "https://example.com"
"Bug Tracker" = "https://example.com/issues"

[project.scripts]
zz-tool = "tricky.cli:main"
aa-tool = "tricky.cli:other"

[project.gui-scripts]
tricky-gui = "tricky.gui:run"

[project.entry-points."b.group"]
second = "tricky.plugins:B"
first = "tricky.plugins:A"

[project.entry-points."a.group"]
only = "tricky.plugins:Only"

[tool.hatch.build.targets.wheel]
include = ["/tricky", "/extra_module.py", "!/tricky/negated.py"]
exclude = ["/tricky/private", "*.tmp"]
`;

test('a project using every supported field and selection rule: same bytes as hatchling', async (t) => {
  const dir = path.join(await tempDir(t, 'provenant-sink-'), 'sink');
  await writeTree(dir, {
    'pyproject.toml': KITCHEN_SINK_PYPROJECT,
    'README.rst': 'Tricky\r\n======\r\n\r\nWindows line endings\r\nand a trailing line\r\n',
    'LICENSES/MIT.txt': 'MIT terms\n',
    'LICENSES/Apache.txt': 'Apache terms\n',
    NOTICE: 'notice\n',
    'LICENSE.md': 'not picked: license-files is set\n',
    '.gitignore': '# comment\n/tricky/ignored_by_git.py\n*.log\n',
    'extra_module.py': 'X = 1\n',
    'tricky/__init__.py': '',
    'tricky/Upper.py': '',
    'tricky/_under.py': '',
    'tricky/a.py': '',
    'tricky/a.pyc': 'bytecode',
    'tricky/negated.py': '',
    'tricky/notes.tmp': 'tmp',
    'tricky/debug.log': 'log',
    'tricky/ignored_by_git.py': '',
    'tricky/.DS_Store': 'junk',
    'tricky/.hidden': 'shipped: dotfiles are not excluded by default',
    'tricky/__pycache__/a.cpython-311.pyc': 'bytecode',
    'tricky/private/secret.py': '',
    'tricky/data/ünïcode-名前.txt': 'utf-8 name\n',
    'tricky/data/nested/deeper/file.json': '{}\n',
    'tricky/sub/__init__.py': '',
    'tricky/bin/run.sh': '#!/bin/sh\necho hi\n',
    'dist/old.whl': 'stale',
    'tests/test_x.py': '',
  });
  await chmod(path.join(dir, 'tricky/bin/run.sh'), 0o775);
  await chmod(path.join(dir, 'tricky/a.py'), 0o600);

  for (const epoch of [1580601600, 0]) {
    const ours = await buildWheel(dir, { sourceDateEpoch: epoch });
    const theirs = await hatchlingWheel(t, dir, epoch);
    assert.equal(ours.fileName, theirs.fileName);
    assert.equal(sha256Hex(ours.bytes), sha256Hex(theirs.bytes), `epoch ${epoch}`);
  }
  const w = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  assert.equal(w.fileName, 'tricky_project_name-2.0.0b3-py3-none-any.whl');
  assert.ok(!w.entries.some((e) => /negated|notes\.tmp|debug\.log|ignored_by_git|\.DS_Store|__pycache__|\.pyc$|private|^dist\/|^tests\//.test(e)), w.entries.join('\n'));
  assert.ok(w.entries.includes('tricky/data/ünïcode-名前.txt'));
});

test('no include configured: hatchling\'s package heuristic picks the directory named like the project', async (t) => {
  const dir = path.join(await tempDir(t, 'provenant-default-'), 'proj');
  await writeTree(dir, {
    'pyproject.toml': '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n[project]\nname = "My-Pkg"\nversion = "0.1"\nrequires-python = "<=3.11.4"\n',
    'my_pkg/__init__.py': '__version__ = "0.1"\n',
    'my_pkg/mod.py': '',
    'tests/test_mod.py': '',
    'setup_helpers.py': '',
  });
  const ours = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  const theirs = await hatchlingWheel(t, dir, 1580601600);
  assert.equal(ours.fileName, theirs.fileName);
  assert.equal(sha256Hex(ours.bytes), sha256Hex(theirs.bytes));
  assert.deepEqual(ours.entries.slice(0, 2), ['my_pkg/__init__.py', 'my_pkg/mod.py']);
});
