import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildIntegrations, DEFAULT_SOURCE_DATE_EPOCH, sourceDateEpochFrom } from '../../src/app/build.ts';
import type { Reporter } from '../../src/reporter.ts';
import type { BuildOptions } from '../../src/wheel/types.ts';
import { isProvenantError, ProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { parseStatement, provenanceFacts } from '../../src/provenance/parse.ts';
import { StatementV01Schema, StatementV1Schema } from '../../src/provenance/schema.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { tempDir } from '../helpers/peers.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { copyExample } from '../wheel/helpers.ts';
import { fakeIntegration, syntheticBuilder } from './fixtures.ts';

/** Every file under dir (name → content), to compare a directory before and after. */
async function snapshot(dir: string): Promise<Record<string, string> | 'absent'> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch {
    return 'absent';
  }
  const out: Record<string, string> = {};
  for (const n of names.sort()) out[n] = await readFile(path.join(dir, n), 'utf8').catch(() => '<dir>');
  return out;
}

test('build writes wheel, statement and pointer that pin each other', async (t) => {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  const [r] = await buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder() });
  assert.ok(r);
  const dist = path.join(pg.dir, 'dist');
  assert.deepEqual((await readdir(dist)).sort(), [
    'datadog-postgres-23.2.0-attestation.json',
    'datadog-postgres-23.2.0.pointer',
    'datadog_postgres-23.2.0-py3-none-any.whl',
  ]);
  const wheel = await readFile(r.wheel.path);
  const statementBytes = await readFile(r.statement.path);
  const pointer = parsePointer(await readFile(r.pointer.path, 'utf8'), r.pointer.path);

  assert.equal(r.wheel.sha256, sha256Hex(wheel));
  assert.equal(r.wheel.size, wheel.length);
  assert.deepEqual(pointer, {
    name: 'datadog-postgres',
    version: '23.2.0',
    uri: 'simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl',
    digest: sha256Hex(wheel),
    length: wheel.length,
    attestation: {
      uri: 'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.json',
      digest: sha256Hex(statementBytes),
      length: statementBytes.length,
    },
  });

  const raw: unknown = JSON.parse(statementBytes.toString('utf8'));
  assert.ok(StatementV1Schema.safeParse(raw).success);
  const facts = provenanceFacts(parseStatement(statementBytes));
  assert.deepEqual(facts.subjects, [{ name: 'datadog_postgres-23.2.0-py3-none-any.whl', sha256: sha256Hex(wheel) }]);
  assert.equal(facts.builderId, LOCAL_BUILDER_ID);
  assert.equal(facts.commit, undefined, 'a temp dir is no git checkout');
  assert.deepEqual(
    { integration: r.integration, project: r.project, version: r.version, tag: r.tag, format: r.statement.format },
    { integration: 'postgres', project: 'datadog-postgres', version: '23.2.0', tag: 'py3-none-any', format: 'slsa-v1' },
  );
});

test('--base-url makes absolute URIs; slsa-v0.2 writes the reference format', async (t) => {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  const [r] = await buildIntegrations([pg], {
    env: {},
    buildWheel: syntheticBuilder(),
    baseUrl: 'https://packages.example.com/integrations/',
    format: 'slsa-v0.2',
  });
  const pointer = parsePointer(await readFile(r!.pointer.path, 'utf8'), 'p');
  assert.equal(pointer.uri, 'https://packages.example.com/integrations/simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl');
  assert.equal(pointer.attestation.uri, 'https://packages.example.com/integrations/attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.json');
  const statement: unknown = JSON.parse(await readFile(r!.statement.path, 'utf8'));
  assert.ok(StatementV01Schema.safeParse(statement).success);
  assert.equal(parseStatement(JSON.stringify(statement)).format, 'slsa-v0.2');
});

test('a bad --base-url is refused before anything is built', async (t) => {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  await assert.rejects(
    buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder(), baseUrl: 'packages.example.com?x=1' }),
    (e: unknown) => isProvenantError(e) && e.code === 'E_BASE_URL_INVALID',
  );
  assert.equal(await snapshot(path.join(pg.dir, 'dist')), 'absent');
});

test('SOURCE_DATE_EPOCH: default, read as hatchling reads it (before 1980 too), passed to the builder, and refused when malformed', async (t) => {
  assert.equal(sourceDateEpochFrom({}), DEFAULT_SOURCE_DATE_EPOCH);
  assert.equal(sourceDateEpochFrom({ SOURCE_DATE_EPOCH: '' }), DEFAULT_SOURCE_DATE_EPOCH);
  assert.equal(sourceDateEpochFrom({ SOURCE_DATE_EPOCH: '1700000000' }), 1700000000);
  // Python's int(): what hatchling accepts; the wheel clamps anything before 1980 to 1980-01-01.
  const accepted: [string, number][] = [['0', 0], ['100', 100], ['-5', -5], [' 7 ', 7], ['+315532800', 315532800], ['1_000_000_000', 1e9], ['007', 7], ['4354819199', 4354819199]];
  for (const [raw, value] of accepted) assert.equal(sourceDateEpochFrom({ SOURCE_DATE_EPOCH: raw }), value, raw);
  for (const bad of ['abc', '1.5', '1e9', '0x10', '1__0', '_1', '1_', '- 5', '4354819200', '99999999999', '99999999999999999999']) {
    assert.throws(
      () => sourceDateEpochFrom({ SOURCE_DATE_EPOCH: bad }),
      (e: unknown) => isProvenantError(e) && e.code === 'E_SOURCE_DATE_EPOCH_INVALID' && e.field === 'SOURCE_DATE_EPOCH' && e.exitCode === 3,
      bad,
    );
  }
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  const calls: BuildOptions[] = [];
  const [r] = await buildIntegrations([pg], { env: { SOURCE_DATE_EPOCH: '1700000000' }, buildWheel: syntheticBuilder('1.0.0', calls) });
  assert.deepEqual(calls, [{ sourceDateEpoch: 1700000000 }]);
  const statement = JSON.parse(await readFile(r!.statement.path, 'utf8')) as { predicate: { buildDefinition: { internalParameters: { SOURCE_DATE_EPOCH: number } } } };
  assert.equal(statement.predicate.buildDefinition.internalParameters.SOURCE_DATE_EPOCH, 1700000000);
});

test('a failing wheel build leaves dist/ exactly as it was, and reports the failure', async (t) => {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  const fresh = await fakeIntegration(root, 'nginx');
  const dist = path.join(pg.dir, 'dist');
  await mkdir(dist);
  await writeFile(path.join(dist, 'datadog_postgres-23.1.0-py3-none-any.whl'), 'previous release');
  await writeFile(path.join(dist, 'datadog-postgres-23.1.0.pointer'), 'previous pointer');
  const before = await snapshot(dist);
  const failing = () => Promise.reject(new ProvenantError('E_VERSION_INVALID', 'version "banana" is not PEP 440', { file: 'x/__about__.py', hint: 'use a PEP 440 version' }));
  const steps: string[] = [];
  const reporter: Reporter = {
    step: (subject, step, status, detail) => steps.push(`${subject} ${step} ${status} ${detail ?? ''}`.trim()),
    progress() {},
    info() {},
    debug() {},
    warn() {},
  };
  for (const i of [pg, fresh]) {
    await assert.rejects(buildIntegrations([i], { env: {}, buildWheel: failing, reporter }), (e: unknown) => isProvenantError(e) && e.code === 'E_VERSION_INVALID');
  }
  assert.deepEqual(await snapshot(dist), before);
  assert.equal(await snapshot(path.join(fresh.dir, 'dist')), 'absent');
  assert.deepEqual(steps, ['postgres build start', 'postgres build fail wheel: E_VERSION_INVALID', 'nginx build start', 'nginx build fail wheel: E_VERSION_INVALID']);
});

test('a failure while putting files in place rolls back: old files restored, nothing new left', async (t) => {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  const dist = path.join(pg.dir, 'dist');
  await mkdir(dist);
  // A rebuild of the same version: the old wheel and statement must survive a failed replace.
  await writeFile(path.join(dist, 'datadog_postgres-23.2.0-py3-none-any.whl'), 'old wheel');
  await writeFile(path.join(dist, 'datadog-postgres-23.2.0-attestation.json'), 'old statement');
  // The pointer goes in last; a directory in its place makes that last step fail.
  await mkdir(path.join(dist, 'datadog-postgres-23.2.0.pointer'));
  await writeFile(path.join(dist, 'datadog-postgres-23.2.0.pointer', 'keep'), 'k');
  const before = await snapshot(dist);
  await assert.rejects(
    buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder() }),
    (e: unknown) => isProvenantError(e) && e.code === 'E_DIST_CONFLICT' && e.file === path.join(dist, 'datadog-postgres-23.2.0.pointer'),
  );
  assert.deepEqual(await snapshot(dist), before);
});

test('several integrations: one result each, progress reported, a rebuild replaces the files', async (t) => {
  const root = await tempDir(t);
  const all = [await fakeIntegration(root, 'nginx'), await fakeIntegration(root, 'postgres'), await fakeIntegration(root, 'redisdb')];
  const progress: string[] = [];
  const reporter: Reporter = { step() {}, progress: (l, d, n) => progress.push(`${d}/${n} ${l}`), info() {}, debug() {}, warn() {} };
  const first = await buildIntegrations(all, { env: {}, buildWheel: syntheticBuilder(), reporter });
  assert.deepEqual(first.map((r) => r.project), ['datadog-nginx', 'datadog-postgres', 'datadog-redisdb']);
  assert.deepEqual(progress, ['1/3 integrations built', '2/3 integrations built', '3/3 integrations built']);
  const second = await buildIntegrations(all, { env: { SOURCE_DATE_EPOCH: '1700000000' }, buildWheel: syntheticBuilder() });
  for (const [a, b] of first.map((r, k) => [r, second[k]!] as const)) {
    assert.notEqual(a.wheel.sha256, b.wheel.sha256);
    assert.equal(sha256Hex(await readFile(b.wheel.path)), b.wheel.sha256);
    const names = await readdir(b.dist);
    assert.equal(names.length, 3, `no temp or old files left: ${names.join(', ')}`);
  }
});

test('one local run is one invocation: every statement carries the same id, or the one given', async (t) => {
  const root = await tempDir(t);
  const all = [await fakeIntegration(root, 'nginx'), await fakeIntegration(root, 'postgres')];
  const ids = async (results: { statement: { path: string } }[]) =>
    Promise.all(results.map(async (r) => provenanceFacts(parseStatement(await readFile(r.statement.path))).invocationId));
  const [a, b] = await ids(await buildIntegrations(all, { env: {}, buildWheel: syntheticBuilder() }));
  assert.match(a!, /^urn:uuid:[0-9a-f-]{36}$/);
  assert.equal(a, b);
  const given = await ids(await buildIntegrations(all, { env: {}, buildWheel: syntheticBuilder(), invocationId: 'urn:uuid:release-1' }));
  assert.deepEqual(given, ['urn:uuid:release-1', 'urn:uuid:release-1']);
});

test('built inside a git checkout: the statement names the remote, ref and commit', async (t) => {
  const root = await tempDir(t);
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  const git = async (...args: string[]) => (await promisify(execFile)('git', args, { cwd: root, env })).stdout.trim();
  await git('init', '-q', '-b', 'release');
  const pg = await fakeIntegration(root, 'postgres');
  await git('add', '.');
  await git('commit', '-q', '-m', 'postgres');
  await git('remote', 'add', 'origin', 'git@github.com:acme/integrations.git');
  const commit = await git('rev-parse', 'HEAD');
  const [r] = await buildIntegrations([pg], { env: {}, buildWheel: syntheticBuilder() });
  const facts = provenanceFacts(parseStatement(await readFile(r!.statement.path)));
  assert.deepEqual(
    { repo: facts.sourceRepository, ref: facts.ref, commit: facts.commit },
    { repo: 'https://github.com/acme/integrations', ref: 'refs/heads/release', commit },
  );
  assert.deepEqual(r!.provenance, { builderId: LOCAL_BUILDER_ID, sourceRepository: 'https://github.com/acme/integrations', ref: 'refs/heads/release', commit, sourceTree: 'clean' });
  const statement = JSON.parse(await readFile(r!.statement.path, 'utf8')) as { predicate: { buildDefinition: { resolvedDependencies: unknown } } };
  assert.deepEqual(statement.predicate.buildDefinition.resolvedDependencies, [
    { uri: 'git+https://github.com/acme/integrations@refs/heads/release', digest: { gitCommit: commit } },
  ]);
});

test('a version past 2^53 keeps every digit in dist/: wheel, statement subject, pointer and its TUF target path', async (t) => {
  const pkgDir = await copyExample(t, 'nginx');
  await writeFile(path.join(pkgDir, 'datadog_checks/nginx/__about__.py'), '__version__ = "1.9007199254740993"\n');
  const [r] = await buildIntegrations([{ name: 'nginx', dir: pkgDir, project: 'datadog-nginx' }], { env: {}, buildWheel });
  const v = '1.9007199254740993';
  assert.equal(r!.version, v);
  assert.deepEqual((await readdir(r!.dist)).sort(), [`datadog-nginx-${v}-attestation.json`, `datadog-nginx-${v}.pointer`, `datadog_nginx-${v}-py3-none-any.whl`]);
  const wheel = await readFile(r!.wheel.path);
  const pointer = parsePointer(await readFile(r!.pointer.path, 'utf8'), r!.pointer.path);
  assert.equal(pointer.version, v, 'a YAML string, not a float');
  assert.equal(pointer.uri, `simple/datadog-nginx/datadog_nginx-${v}-py3-none-any.whl`);
  assert.equal(pointerTargetPath(pointer.name, pointer.version), `pointers/datadog-nginx/datadog-nginx-${v}.pointer`);
  const facts = provenanceFacts(parseStatement(await readFile(r!.statement.path)));
  assert.deepEqual(facts.subjects, [{ name: `datadog_nginx-${v}-py3-none-any.whl`, sha256: sha256Hex(wheel) }]);
  const metadata = (await promisify(execFile)('unzip', ['-p', r!.wheel.path, `datadog_nginx-${v}.dist-info/METADATA`])).stdout;
  assert.match(metadata, /^Version: 1\.9007199254740993$/m);
});

test('a 300-digit version is exact up to dist/, whose file names it cannot fit: E_DIST_NAME_TOO_LONG, nothing written', async (t) => {
  const pkgDir = await copyExample(t, 'nginx');
  const huge = `1.${'9'.repeat(300)}`;
  await writeFile(path.join(pkgDir, 'datadog_checks/nginx/__about__.py'), `__version__ = "${huge}"\n`);
  await assert.rejects(
    buildIntegrations([{ name: 'nginx', dir: pkgDir, project: 'datadog-nginx' }], { env: {}, buildWheel }),
    (e: unknown) => isProvenantError(e) && e.code === 'E_DIST_NAME_TOO_LONG' && e.exitClass === 'input' && e.message.startsWith(`datadog_nginx-${huge.slice(0, 46)}`) && /\b33\d bytes\b/.test(e.message),
  );
  assert.equal(await snapshot(path.join(pkgDir, 'dist')), 'absent');
});

test('a readme linked to /proc/self/environ stops the build before dist/: no wheel, the previous build untouched', async (t) => {
  const pkgDir = await copyExample(t, 'nginx');
  const nginx = { name: 'nginx', dir: pkgDir, project: 'datadog-nginx' };
  await buildIntegrations([nginx], { env: {}, buildWheel });
  const before = await snapshot(path.join(pkgDir, 'dist'));
  await rm(path.join(pkgDir, 'README.md'));
  await symlink('/proc/self/environ', path.join(pkgDir, 'README.md'));
  await assert.rejects(
    buildIntegrations([nginx], { env: { SOURCE_DATE_EPOCH: '1700000000' }, buildWheel }),
    (e: unknown) => isProvenantError(e) && e.code === 'E_PATH_ESCAPES' && e.field === 'project.readme',
  );
  assert.deepEqual(await snapshot(path.join(pkgDir, 'dist')), before);
});
