// The pure pieces checked against the Python libraries hatchling itself uses (packaging,
// pathspec, trove-classifiers, hatchling), one Python process per battery.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortClassifiers } from '../../src/wheel/classifiers.ts';
import { compileGitignoreSpec, directoryMayContainMatches } from '../../src/wheel/gitignore.ts';
import { canonicalizeLicenseExpression } from '../../src/wheel/license.ts';
import { formatDependency, normalizeRequirement, parseRequirement } from '../../src/wheel/requirement.ts';
import { formatSpecifierSet, parseSpecifierSet } from '../../src/wheel/specifier.ts';
import { defaultWheelTag } from '../../src/wheel/tag.ts';
import { compareVersions, normalizeVersion } from '../../src/formats/pep440.ts';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { python, tempDir } from '../helpers/peers.ts';

async function py<T>(code: string, input: unknown): Promise<T> {
  const { stdout } = await python(['-c', `import json, sys\ndata = json.loads(sys.argv[1])\n${code}`, JSON.stringify(input)]);
  return JSON.parse(stdout) as T;
}

test('dependencies print exactly as hatchling normalises them', async () => {
  const deps = [
    'Requests [Security, socks] >= 2.8.1, == 2.8.*',
    'PyYAML', 'pyyaml==6.0.2', 'A.B_c ~= 1.0', 'x>=1.0.0-RC1', 'Binary[Extra_One]~=1.0.RC1',
    "pyodbc==5.2.0; sys_platform != 'darwin' or platform_machine != 'arm64'",
    "typing_extensions>=4.0 ; (python_version < '3.11') and (os.name == 'posix' or os_name == 'nt')",
    'foo; python_version>="3" and (os_name=="nt" or sys_platform == "linux")',
    'a; ((python_version < "3"))', 'a;python_version not  in "2.7 3.4"', 'a; "linux" in sys_platform',
    'a; python_version<"3" and (os_name=="a" and (sys_platform=="b"))', 'a (>=1, <2)', 'a===Foo.Bar',
    'a; python_implementation=="CPython"', 'a;extra=="Foo_Bar"', "a; os_name == 'it\"s'",
    'psycopg[binary,pool]==3.2.3', 'name @ https://example.com/x.whl', 'name[x] @ https://example.com/x.whl ; os_name == "nt"',
    'b>=1,<2,!=1.5,==1.*',
  ];
  const want = await py<string[]>(
    'from packaging.requirements import Requirement\nfrom hatchling.metadata.utils import get_normalized_dependency\nprint(json.dumps([get_normalized_dependency(Requirement(d)) for d in data]))',
    deps,
  );
  assert.deepEqual(deps.map((d) => formatDependency(normalizeRequirement(parseRequirement(d)))), want);
});

test('requires-python prints like SpecifierSet and picks hatchling\'s tag', async () => {
  const specs = ['', '>=3.9', '>=3.9,<4', ' >= 3.8, !=3.9.* ', '>=2.7,!=3.0.*,!=3.1.*', '<3', '<=3.11.4', '==3.*', '~=3.10', '>=3.11.4', '>=3.10,<3.11', '==2.7.*', '>3', '!=3.*', '<=2.7.18'];
  const want = await py<[string, string][]>(
    [
      'import tempfile, os',
      'from packaging.specifiers import SpecifierSet',
      'from hatchling.builders.wheel import WheelBuilder',
      'out = []',
      'for s in data:',
      '    d = tempfile.mkdtemp()',
      "    b = WheelBuilder(d, config={'project': {'name': 'x', 'version': '1', 'requires-python': s}})",
      '    out.append([str(SpecifierSet(s)), b.get_default_tag()])',
      'print(json.dumps(out))',
    ].join('\n'),
    specs,
  );
  specs.forEach((s, i) => {
    const parsed = parseSpecifierSet(s);
    assert.ok(typeof parsed !== 'string', s);
    assert.deepEqual([formatSpecifierSet(parsed), defaultWheelTag(parsed)], want[i], s);
  });
});

test('license expressions canonicalise like packaging', async () => {
  const exprs = ['bsd-3-clause', 'MIT or  apache-2.0', '(MIT OR Apache-2.0) and bsd-3-clause', 'gpl-2.0+ WITH classpath-exception-2.0', '((MIT))', 'licenseref-foo', 'MIT AND (Apache-2.0 OR BSD-2-Clause)', 'GPL-2.0-only', 'LicenseRef-Proprietary OR licenseref-PROPRIETARY'];
  const want = await py<string[]>('from packaging.licenses import canonicalize_license_expression as c\nprint(json.dumps([str(c(e)) for e in data]))', exprs);
  assert.deepEqual(exprs.map((e) => {
    const r = canonicalizeLicenseExpression(e);
    return r.ok ? r.value : r.error;
  }), want);
  for (const bad of ['', 'MIT OR', '(MIT', 'MIT)', 'AND MIT', 'MIT WITH', 'MIT MIT']) assert.equal(canonicalizeLicenseExpression(bad).ok, false, bad);
});

test('classifiers sort into trove-classifiers\' own order (private first)', async () => {
  const all = await py<string[]>('import trove_classifiers\nprint(json.dumps(list(trove_classifiers.sorted_classifiers)))', null);
  assert.ok(all.length > 500);
  // A deterministic shuffle, then our natural sort must restore the list's order exactly.
  const shuffled = [...all].map((c, i) => ({ c, k: (i * 7919) % all.length })).sort((a, b) => a.k - b.k).map((x) => x.c);
  assert.deepEqual(sortClassifiers(['Private :: Do Not Upload', ...shuffled]), ['Private :: Do Not Upload', ...all]);
});

test('versions normalise and order like packaging.version', async () => {
  const versions = ['1.0', '1.0.0', 'v1.01', '1.0.0-RC1', '1.0alpha2', '1.0.beta', '1.0c3', '1.0-preview.1', '1.0-1', '1.0.rev2', '1.0post', '1.0-dev', '1!2.0', '0!2.0', '1.0+Ubuntu-1_02', '1.0+abc.5', '1.0+5', '1.0.post1.dev0', '1.0a1.dev0', '2.0', '1.10', '1.9.9', '23.2.0', '37.1.0rc1', '8.1.0-RC.1'];
  const want = await py<{ norm: string[]; order: string[] }>(
    'from packaging.version import Version\nprint(json.dumps({"norm": [str(Version(v)) for v in data], "order": sorted(data, key=Version)}))',
    versions,
  );
  assert.deepEqual(versions.map(normalizeVersion), want.norm);
  const ours = [...versions].sort(compareVersions);
  // Equal versions (1.0 / 1.0.0) may sit in either order; compare through normalisation of ties.
  assert.deepEqual(ours.map(normalizeVersion).map((v) => v.replace(/^1\.0\.0$/, '1.0')), want.order.map(normalizeVersion).map((v) => v.replace(/^1\.0\.0$/, '1.0')));
});

test('gitignore-style matching agrees with pathspec.GitIgnoreSpec, negations included', async () => {
  const cases: { patterns: string[]; paths: string[] }[] = [
    { patterns: ['/tricky', '!/tricky/negated.py'], paths: ['tricky/a.py', 'tricky/negated.py', 'tricky', 'other/tricky/a.py'] },
    { patterns: ['*.py[cdo]', '/dist'], paths: ['a.pyc', 'x/y/z.pyo', 'a.py', 'dist/x.whl', 'sub/dist/x', 'dist'] },
    { patterns: ['dist/', 'build'], paths: ['dist/a', 'dist', 'x/dist/a', 'build', 'x/build/y', 'builds/x'] },
    { patterns: ['**/fixtures/**', '!**/fixtures/keep.txt'], paths: ['a/fixtures/x.sql', 'a/fixtures/keep.txt', 'fixtures/b/c', 'a/fixturesx/y'] },
    { patterns: ['/datadog_checks/__init__.py', '/datadog_checks/base'], paths: ['datadog_checks/__init__.py', 'datadog_checks/base/x.py', 'datadog_checks/basex/y', 'datadog_checks/other.py'] },
    { patterns: ['a/**/b', '*.log', '!important.log', '\\#literal', '[!x]y', 'ab[c', 'foo\\ '], paths: ['a/b', 'a/x/y/b', 'a/x/b/c', 'x.log', 'd/important.log', '#literal', 'zy', 'xy', 'abc', 'foo '] },
    { patterns: ['*', '!*/', '!*.py'], paths: ['a.py', 'd/a.py', 'd/e/f.txt', 'x.txt'] },
    { patterns: ['/pkg/', '!/pkg/keep/', '/pkg/keep/drop.py'], paths: ['pkg/a', 'pkg/keep/b', 'pkg/keep/drop.py'] },
  ];
  const want = await py<boolean[][]>(
    'import pathspec\nprint(json.dumps([[bool(pathspec.GitIgnoreSpec.from_lines(c["patterns"]).match_file(p)) for p in c["paths"]] for c in data]))',
    cases,
  );
  cases.forEach((c, i) => {
    const spec = compileGitignoreSpec(c.patterns);
    assert.deepEqual(c.paths.map((p) => spec.matches(p)), want[i], JSON.stringify(c.patterns));
    // The walk's pruning may only skip directories holding no matching path.
    c.paths.forEach((p, j) => {
      if (!want[i]![j]) return;
      const parts = p.split('/');
      for (let k = 1; k < parts.length; k++) {
        const dir = parts.slice(0, k).join('/');
        assert.ok(directoryMayContainMatches(c.patterns, dir), `${JSON.stringify(c.patterns)} would prune ${dir} above ${p}`);
      }
    });
  });
  assert.equal(directoryMayContainMatches(['/datadog_checks/postgres'], 'tests'), false);
  assert.equal(directoryMayContainMatches(['/datadog_checks/postgres'], 'datadog_checks'), true);
  assert.equal(directoryMayContainMatches(['/datadog_checks/postgres'], 'datadog_checks/postgres/data'), true);
  assert.equal(directoryMayContainMatches(['/datadog_checks/postgres'], 'datadog_checks/redisdb'), false);
});

test('raw deflate equals CPython zlib (level 6, wbits -15) on small, large and incompressible inputs', async (t) => {
  const { deflateLikeZlib } = await import('../../src/wheel/zip.ts');
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const text = new TextEncoder().encode('def check(self, instance):\n    self.gauge("x", 1)\n'.repeat(5000));
  const noise = Uint8Array.from({ length: 300_000 }, rand);
  const inputs = [new Uint8Array(0), new TextEncoder().encode('a'), text, noise, new Uint8Array(70_000)];
  // Too big for argv: the inputs travel through a file.
  const file = path.join(await tempDir(t), 'inputs.json');
  await writeFile(file, JSON.stringify(inputs.map((b) => Buffer.from(b).toString('base64'))));
  const want = await py<string[]>(
    'import base64, zlib\ndata = json.load(open(data))\nout = []\nfor b in data:\n    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)\n    raw = base64.b64decode(b)\n    out.append(base64.b64encode(b"".join(c.compress(raw[i:i + 16384]) for i in range(0, len(raw), 16384)) + c.flush()).decode())\nprint(json.dumps(out))',
    file,
  );
  inputs.forEach((b, i) => assert.equal(Buffer.from(deflateLikeZlib(b)).toString('base64'), want[i], `input #${i} (${b.length} bytes)`));
});

test('raw deflate equals CPython zlib on every file of the peer venv\'s hatchling, packaging, pathspec and pip, and on edge-size inputs', async (t) => {
  const { deflateLikeZlib } = await import('../../src/wheel/zip.ts');
  const { readdir, readFile } = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  const { stdout } = await python(['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']);
  const site = stdout.trim();
  const files: string[] = [];
  for (const pkg of ['hatchling', 'packaging', 'pathspec', 'pip']) {
    for (const e of await readdir(path.join(site, pkg), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && !e.name.endsWith('.pyc')) files.push(path.join(e.parentPath, e.name));
    }
  }
  assert.ok(files.length > 500, `only ${files.length} files found under ${site}`);
  // Sizes around deflate's internal boundaries (window, lookahead, 16 Ki-symbol blocks), text
  // with sparse edits, and runs: the shapes where two deflate engines would first disagree.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const base = await readFile(files[0]!);
  const synthetic: Uint8Array[] = [];
  for (const n of [1, 2, 3, 257, 258, 259, 262, 16383, 16384, 16385, 32767, 32768, 32769, 65536, 65537, 200_000]) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = i % 97 === 0 ? rand() : (base[i % Math.max(base.length, 1)] ?? 0x20);
    synthetic.push(b);
  }
  synthetic.push(new Uint8Array(100_000).fill(0x61), Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff));
  const dir = await tempDir(t);
  await Promise.all(synthetic.map((b, i) => writeFile(path.join(dir, `s${i}`), b)));
  const all = [...files, ...synthetic.map((_, i) => path.join(dir, `s${i}`))];
  const listFile = path.join(dir, 'list.json');
  await writeFile(listFile, JSON.stringify(all));
  const want = await py<string[]>(
    'import hashlib, zlib\nout = []\nfor f in json.load(open(data)):\n    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)\n    out.append(hashlib.sha256(c.compress(open(f, "rb").read()) + c.flush()).hexdigest())\nprint(json.dumps(out))',
    listFile,
  );
  const mismatched: string[] = [];
  for (const [i, f] of all.entries()) {
    const got = createHash('sha256').update(deflateLikeZlib(await readFile(f))).digest('hex');
    if (got !== want[i]) mismatched.push(f);
  }
  assert.deepEqual(mismatched, [], `${mismatched.length} of ${all.length} inputs deflate differently from CPython's zlib`);
});

test('codePointCompare sorts like Python\'s str ordering, astral characters and lone surrogates included', async () => {
  const { codePointCompare } = await import('../../src/util/code-point-order.ts');
  const alphabet = ['a', 'b', 'Z', '/', '_', '\u00e9', '\uffff', '\ue000', '\ud83d\ude00', '\ud83d\ude01', '\ud800\udc00', '\ud800', '\udfff'];
  let seed = 99;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
  const words = Array.from({ length: 400 }, () => Array.from({ length: rand() % 5 }, () => alphabet[rand() % alphabet.length]).join(''));
  for (let i = 0; i < 100; i++) words.push(words[i]! + words[i + 100]!);
  // Lone surrogates do not survive JSON as UTF-8, so each word travels as its UTF-16 code units.
  const units = words.map((w) => Array.from({ length: w.length }, (_, i) => w.charCodeAt(i)));
  const order = await py<number[]>(
    "import struct\nws = [struct.pack('<%dH' % len(u), *u).decode('utf-16-le', 'surrogatepass') for u in data]\nprint(json.dumps(sorted(range(len(ws)), key=lambda i: ws[i])))",
    units,
  );
  const ours = words.map((_, i) => i).sort((a, b) => codePointCompare(words[a]!, words[b]!) || a - b);
  assert.deepEqual(ours, order);
});

test('hatch.toml merges into [tool.hatch] exactly as hatchling\'s ProjectMetadata.hatch merges it', async (t) => {
  const { mergeHatchTables } = await import('../../src/wheel/hatch-config.ts');
  const { parseConfigToml } = await import('../../src/wheel/pyproject.ts');
  const { mkdir } = await import('node:fs/promises');
  const cases: { pyproject: string; hatch?: string }[] = [
    { pyproject: '[tool.hatch.version]\npath = "a.py"\n[tool.hatch.build.targets.wheel]\ninclude = ["/a"]\n', hatch: '[build]\nexclude = ["x"]\n' },
    { pyproject: '[tool.hatch.build]\nignore-vcs = true\n[tool.hatch.metadata]\nallow-direct-references = true\n', hatch: '[version]\npath = "v.py"\n[envs.default]\npython = "3.12"\n' },
    { pyproject: '[tool.hatch.build.targets.wheel]\ninclude = ["/a"]\n', hatch: '[env.collectors.datadog-checks]\n[[envs.default.matrix]]\npython = ["3.12"]\n' },
    { pyproject: '[tool.hatch.metadata]\nallow-ambiguous-features = true\n', hatch: '[metadata]\nallow-direct-references = true\n[build.targets.wheel]\ninclude = ["/b"]\n' },
    { pyproject: '[tool.hatch.version]\npath = "a.py"\n' },
  ];
  const root = await tempDir(t);
  const dirs: string[] = [];
  for (const [i, c] of cases.entries()) {
    const dir = path.join(root, String(i));
    await mkdir(dir);
    await writeFile(path.join(dir, 'pyproject.toml'), `[project]\nname = "x"\nversion = "1"\n${c.pyproject}`);
    if (c.hatch !== undefined) await writeFile(path.join(dir, 'hatch.toml'), c.hatch);
    dirs.push(dir);
  }
  const want = await py<Record<string, unknown>[]>(
    'from hatchling.metadata.core import ProjectMetadata\nprint(json.dumps([{k: ProjectMetadata(d, None).hatch.config.get(k, {}) for k in ("version", "metadata", "build")} for d in data]))',
    dirs,
  );
  cases.forEach((c, i) => {
    const pyproject = parseConfigToml(`[project]\nname = "x"\nversion = "1"\n${c.pyproject}`, 'pyproject.toml');
    const hatch = c.hatch === undefined ? undefined : { doc: parseConfigToml(c.hatch, 'hatch.toml'), file: 'hatch.toml' };
    const merged = mergeHatchTables((pyproject.tool as { hatch?: Record<string, unknown> } | undefined)?.hatch, 'pyproject.toml', hatch);
    assert.deepEqual({ version: merged.version, metadata: merged.metadata, build: merged.build }, want[i], JSON.stringify(c));
    for (const name of ['version', 'metadata', 'build'] as const) {
      const fromHatch = hatch !== undefined && name in hatch.doc;
      assert.deepEqual(merged.origins[name], fromHatch ? { file: 'hatch.toml', prefix: '' } : { file: 'pyproject.toml', prefix: 'tool.hatch.' }, `${name} of case ${i}`);
    }
  });
});
