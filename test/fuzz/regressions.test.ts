// What the fuzzers found (issue 16), each as a unit test of the parser that broke the contract;
// the inputs are also in fuzz/corpus/<target>/crash-*, replayed by replay.test.ts.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { TargetFile } from '@tufjs/models';
import fc from 'fast-check';
import { isProvenantError } from '../../src/errors.ts';
import { compareVersions, parseVersion } from '../../src/formats/pep440.ts';
import { sameVersion } from '../../src/formats/wheel-binding.ts';
import { readAll } from '../../src/net/fetcher.ts';
import { HttpFetcher } from '../../src/net/http-fetcher.ts';
import { projectJsonKey } from '../../src/simple-index/layout.ts';
import { updateIndex } from '../../src/simple-index/update.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { checkPointer } from '../../src/verify/pointer-check.ts';
import { compileGitignoreSpec } from '../../src/wheel/gitignore.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { python, REPO_ROOT, tempDir } from '../helpers/peers.ts';

const corpus = (target: string, name: string) => path.join(REPO_ROOT, 'fuzz/corpus', target, name);

function assertCode(e: unknown, code: string): true {
  assert.ok(isProvenantError(e), `expected a ProvenantError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  return true;
}

test('pointer: a URI with a malformed percent-escape is E_POINTER_URI, not a URIError', async () => {
  const bytes = await readFile(corpus('pointer', 'crash-bad-percent-escape.pointer'));
  const target = new TargetFile({ path: 'pointers/datadog-postgres/datadog-postgres-23.2.0.pointer', length: bytes.length, hashes: { sha256: '0'.repeat(64) } });
  assert.throws(() => checkPointer(bytes, target, { project: 'datadog-postgres', version: '23.2.0' }, 'https://packages.example/provenant/'), (e) => assertCode(e, 'E_POINTER_URI'));
});

/** A loopback server that answers every request with `response` and closes. */
async function rawServer(t: { after(fn: () => unknown): void }, response: Buffer): Promise<string> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata/timestamp.json`;
}

for (const [name, why] of [
  ['crash-chunked-cut-short.http', 'a chunked body cut short'],
  ['crash-chunk-size-nul.http', 'a chunk size that is not hex'],
] as const) {
  test(`HTTP: ${why} fails as E_NET_CONNECT, not as a raw stream error`, async (t) => {
      const url = await rawServer(t, await readFile(corpus('http-response', name)));
    const fetcher = new HttpFetcher({ retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
    t.after(() => fetcher.close());
    await assert.rejects(readAll(fetcher, url, 4096), (e) => assertCode(e, 'E_NET_CONNECT'));
  });
}

test('index state: a project page holding another project\'s state is E_INDEX_CORRUPT, not an internal error', async (t) => {
  const dir = await tempDir(t);
  const key = projectJsonKey('datadog-postgres');
  await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
  await writeFile(path.join(dir, key), await readFile(corpus('index-state', 'crash-other-projects-page.json')));
  const entry = { project: 'datadog-postgres', version: '99.0', fileName: 'datadog_postgres-99.0-py3-none-any.whl', sha256: 'a'.repeat(64), size: 1, metadataSha256: 'b'.repeat(64) };
  await assert.rejects(updateIndex(new FsStorage(dir), [entry]), (e) => assertCode(e, 'E_INDEX_CORRUPT') && (e as { field?: string }).field === 'name');
});

test('PEP 440: numbers past 2^53 stay exact, never compared as rounded floats', () => {
  for (const v of ['123456789012345678901234567890', '1.99999999999999999999', '1.0rc99999999999999999999', '1.0+99999999999999999999', '99999999999999999999!1.0']) {
    assert.ok(parseVersion(v), v);
  }
  assert.equal(sameVersion('1.99999999999999999999', '1.99999999999999999998'), false);
  assert.equal(compareVersions('1.99999999999999999999', '1.99999999999999999998'), 1);
  assert.equal(compareVersions('9007199254740993', '9007199254740992'), 1);
  assert.ok(parseVersion('1.0+abc99999999999999999999'), 'an alphanumeric local segment is a string, not a number');
});

test('gitignore: patterns that made the regex backtrack for minutes answer at once', () => {
  const cases: [string, string][] = [
    ['**/fixtures/****/fixtures/****/fixtures/****/fixtures/****/fixtures/**', `${'fixtures/'.repeat(60)}x`],
    [`${'*.log'.repeat(40)}`, `x${'.log'.repeat(60)}`],
    ['a/**/a/**/a/**/z', `${'a/'.repeat(2000)}y`],
    [`${'*a'.repeat(12)}b`, 'a'.repeat(255)],
  ];
  for (const [pattern, file] of cases) {
    const start = performance.now();
    compileGitignoreSpec([pattern]).matches(file);
    const ms = performance.now() - start;
    assert.ok(ms < 1000, `${pattern.slice(0, 40)}… took ${ms.toFixed(0)} ms`);
  }
});

test('gitignore: the backtracking-free matcher agrees with pathspec.GitIgnoreSpec on generated patterns and paths', async () => {
  const segment = fc.constantFrom('a', 'b', 'ab', '*', '**', '?', 'a*', '*b', '*a*', '[ab]', '[!a]', '\\*', 'a?b', '.x', '');
  const pattern = fc.tuple(fc.constantFrom('', '/', '!', '!/'), fc.array(segment, { minLength: 1, maxLength: 5 }), fc.constantFrom('', '/')).map(([pre, segs, post]) => `${pre}${segs.join('/')}${post}`);
  const file = fc.array(fc.constantFrom('a', 'b', 'ab', 'ba', 'aab', '.x', 'x', '*'), { minLength: 1, maxLength: 6 }).chain((segs) => fc.constantFrom(segs.join('/'), `${segs.join('/')}/`));
  const cases = fc.sample(fc.record({ patterns: fc.array(pattern, { minLength: 1, maxLength: 3 }), paths: fc.array(file, { minLength: 1, maxLength: 6 }) }), { numRuns: 300, seed: 16 });
  const { stdout } = await python([
    '-c',
    'import json, sys, pathspec\ndata = json.loads(sys.argv[1])\nout = []\nfor c in data:\n    try:\n        spec = pathspec.GitIgnoreSpec.from_lines(c["patterns"])\n        out.append([bool(spec.match_file(p)) for p in c["paths"]])\n    except Exception:\n        out.append(None)\nprint(json.dumps(out))',
    JSON.stringify(cases),
  ]);
  const want = JSON.parse(stdout) as (boolean[] | null)[];
  let compared = 0;
  cases.forEach((c, i) => {
    let spec;
    try {
      spec = compileGitignoreSpec(c.patterns);
    } catch {
      return; // both refuse (checked below) or provenant refuses a pattern pathspec takes
    }
    if (want[i] === null) return;
    compared++;
    assert.deepEqual(c.paths.map((p) => spec.matches(p)), want[i], JSON.stringify(c));
  });
  assert.ok(compared > 250, `only ${compared} cases compared`);
});

test('index state: a root page listing a name that is not a project name is E_INDEX_CORRUPT, not a URIError', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'simple'), { recursive: true });
  await writeFile(path.join(dir, 'simple/index.json'), await readFile(corpus('index-state', 'crash-lone-surrogate-name.json')));
  const entry = { project: 'datadog-postgres', version: '99.0', fileName: 'datadog_postgres-99.0-py3-none-any.whl', sha256: 'a'.repeat(64), size: 1, metadataSha256: 'b'.repeat(64) };
  await assert.rejects(updateIndex(new FsStorage(dir), [entry]), (e) => assertCode(e, 'E_INDEX_CORRUPT'));
});

test('pointer: one far larger than any real pointer is refused before YAML parses it (quadratic in its keys)', () => {
  const keys = Array.from({ length: 8000 }, (_, i) => `    k${i}: null\n`).join('');
  const bytes = Buffer.from(`pointer:\n  name: datadog-postgres\n  attestation:\n${keys}`);
  const target = new TargetFile({ path: 'pointers/datadog-postgres/datadog-postgres-23.2.0.pointer', length: bytes.length, hashes: { sha256: '0'.repeat(64) } });
  const start = performance.now();
  assert.throws(() => checkPointer(bytes, target, { project: 'datadog-postgres', version: '23.2.0' }, 'https://packages.example/provenant/'), (e) => assertCode(e, 'E_POINTER_SCHEMA') && /over the 16384/.test((e as Error).message));
  assert.ok(performance.now() - start < 200, `took ${(performance.now() - start).toFixed(0)} ms`);
});

for (const [field, value, code] of [
  ['[tool.hatch.version] path', `"${'d'.repeat(300)}/__about__.py"`, 'E_VERSION_NOT_FOUND'],
  ['[project] readme', '"README.md/inside-a-file.md"', 'E_PYPROJECT_FIELD'],
] as const) {
  test(`pyproject: a ${field} no file system can open is ${code}, not a raw errno`, async (t) => {
    const dir = await tempDir(t);
    const version = field.includes('version') ? `dynamic = ["version"]\n\n[tool.hatch.version]\npath = ${value}\n` : `version = "1.0"\nreadme = ${value}\n`;
    const [table, rest] = version.startsWith('dynamic') ? [version, ''] : ['', version];
    await writeFile(path.join(dir, 'pyproject.toml'), `[project]\nname = "pkg"\n${rest}${table}`);
    await writeFile(path.join(dir, 'README.md'), 'readme\n');
    await mkdir(path.join(dir, 'pkg'));
    await writeFile(path.join(dir, 'pkg/__init__.py'), '');
    await assert.rejects(buildWheel(dir, { sourceDateEpoch: 1700000000 }), (e) => assertCode(e, code));
  });
}
