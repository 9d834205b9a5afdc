import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { BUNDLED_ROOT } from '../../src/app/workspace.ts';
import { main } from '../../src/cli/main.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { PROVENANT_VERSION } from '../../src/provenance/version.ts';
import { parseStatement, provenanceFacts } from '../../src/provenance/parse.ts';
import { StatementV01Schema, StatementV1Schema } from '../../src/provenance/schema.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import type { Output } from '../../src/cli/output.ts';
import { tempDir } from '../helpers/peers.ts';

/** Captures what main() writes (stdout, stderr) for one in-process run. */
function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

/** No CI variables leak in from the machine running the tests. */
const ENV = { PATH: process.env.PATH };

/** A temp copy of the bundled examples (never build into examples/ itself). */
async function examplesCopy(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const root = path.join(await tempDir(t), 'integrations');
  await cp(BUNDLED_ROOT, root, { recursive: true, filter: (src) => path.basename(src) !== 'dist' });
  return root;
}

interface JsonResult {
  integration: string;
  project: string;
  version: string;
  wheel: { path: string; fileName: string; sha256: string; size: number };
  pointer: { path: string; uri: string };
  statement: { path: string; sha256: string; size: number; format: string };
  provenance: Record<string, unknown>;
}

test('build --all --json on a copy of the examples: wheel, pointer and statement agree', async (t) => {
  const root = await examplesCopy(t);
  const o = capture();
  assert.equal(await main(['build', '--all', '--integrations-dir', root, '--json'], o, ENV, '/'), 0, o.err);
  const doc = JSON.parse(o.out) as { ok: boolean; root: string; rootOrigin: string; format: string; results: JsonResult[] };
  assert.equal(doc.ok, true);
  assert.deepEqual([doc.root, doc.rootOrigin, doc.format], [root, 'option', 'slsa-v1']);
  const dirs = (await readdir(root)).sort();
  assert.deepEqual(doc.results.map((r) => r.integration), dirs);
  for (const r of doc.results) {
    const wheel = await readFile(r.wheel.path);
    assert.equal(sha256Hex(wheel), r.wheel.sha256);
    assert.equal(wheel.length, r.wheel.size);
    assert.equal(wheel.subarray(0, 2).toString(), 'PK');
    const pointer = parsePointer(await readFile(r.pointer.path, 'utf8'), r.pointer.path);
    assert.equal(pointer.digest, r.wheel.sha256);
    assert.equal(pointer.length, wheel.length);
    assert.equal(pointer.uri, `simple/${r.project}/${r.wheel.fileName}`);
    const statementBytes = await readFile(r.statement.path);
    assert.equal(pointer.attestation.digest, sha256Hex(statementBytes));
    assert.equal(pointer.attestation.length, statementBytes.length);
    assert.ok(StatementV1Schema.safeParse(JSON.parse(statementBytes.toString())).success);
    const facts = provenanceFacts(parseStatement(statementBytes));
    assert.deepEqual(facts.subjects, [{ name: r.wheel.fileName, sha256: r.wheel.sha256 }]);
    assert.equal(facts.builderId, LOCAL_BUILDER_ID);
    assert.deepEqual(r.provenance, { builderId: LOCAL_BUILDER_ID, sourceRepository: null, ref: null, commit: null, sourceTree: 'unknown' });
  }
  // Human logs go to stderr only when not --json; the document is all of stdout.
  assert.doesNotMatch(o.err, /✅/);
});

test('human output: the root used and one line per integration on stderr, wheel paths on stdout', async (t) => {
  const root = await examplesCopy(t);
  const o = capture();
  assert.equal(await main(['build', 'postgres', 'datadog-redisdb'], o, ENV, root), 0, o.err);
  assert.match(o.err, /Building 2 integrations from/);
  assert.match(o.err, /✅ postgres: build — datadog_postgres-[^ ]+\.whl/);
  assert.match(o.err, /✅ redisdb: build/);
  assert.equal(o.err.match(/not built from a git checkout/g)?.length, 1, 'a note shared by all integrations is said once');
  const lines = o.out.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^postgres\/dist\/datadog_postgres-.*\.whl$/);
});

test('--provenance slsa-v0.2 and GitHub Actions variables reach the statement', async (t) => {
  const root = await examplesCopy(t);
  const commit = '1'.repeat(40);
  const env = {
    ...ENV,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/integrations',
    GITHUB_SHA: commit,
    GITHUB_REF: 'refs/tags/postgres-1',
    GITHUB_WORKFLOW_REF: 'acme/integrations/.github/workflows/release.yml@refs/tags/postgres-1',
    GITHUB_RUN_ID: '55',
    GITHUB_RUN_ATTEMPT: '1',
    PROVENANT_BASE_URL: 'https://pkgs.example.com/',
  };
  const o = capture();
  assert.equal(await main(['build', 'postgres', '--integrations-dir', root, '--provenance', 'slsa-v0.2', '--json'], o, env, '/'), 0, o.err);
  const r = (JSON.parse(o.out) as { results: JsonResult[] }).results[0]!;
  const statement: unknown = JSON.parse(await readFile(r.statement.path, 'utf8'));
  assert.ok(StatementV01Schema.safeParse(statement).success);
  const { startedOn, finishedOn, ...facts } = provenanceFacts(parseStatement(JSON.stringify(statement)));
  assert.match(String(startedOn), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(String(finishedOn), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(facts, {
    format: 'slsa-v0.2',
    subjects: [{ name: r.wheel.fileName, sha256: r.wheel.sha256 }],
    builderId: 'https://github.com/acme/integrations/.github/workflows/release.yml@refs/tags/postgres-1',
    buildType: 'https://provenant.dev/buildtypes/wheel/v1',
    sourceRepository: 'https://github.com/acme/integrations',
    ref: 'refs/tags/postgres-1',
    commit,
    invocationId: 'https://github.com/acme/integrations/actions/runs/55/attempts/1',
    parameters: { integration: 'postgres', repository: 'https://github.com/acme/integrations', ref: 'refs/tags/postgres-1' },
    internalParameters: { SOURCE_DATE_EPOCH: 1580601600, provenantVersion: PROVENANT_VERSION, environment: 'github-actions', sourceTree: 'unknown' },
  });
  assert.equal(r.pointer.uri, `https://pkgs.example.com/simple/datadog-postgres/${r.wheel.fileName}`);
});

test('an unknown integration exits 4 with E_INTEGRATION_UNKNOWN and the known names', async (t) => {
  const root = await examplesCopy(t);
  const o = capture();
  assert.equal(await main(['build', 'mysql', '--integrations-dir', root], o, ENV, '/'), 4);
  assert.match(o.err, /E_INTEGRATION_UNKNOWN: unknown integration "mysql"/);
  assert.match(o.err, /postgres/);
  const j = capture();
  assert.equal(await main(['build', 'mysql', '--integrations-dir', root, '--json'], j, ENV, '/'), 4);
  assert.equal((JSON.parse(j.out) as { error: { code: string } }).error.code, 'E_INTEGRATION_UNKNOWN');
});

test('usage errors exit 2: no names, an unknown --provenance format', async (t) => {
  const root = await examplesCopy(t);
  const none = capture();
  assert.equal(await main(['build', '--integrations-dir', root], none, ENV, '/'), 2);
  assert.match(none.err, /E_USAGE: name at least one integration, or pass --all/);
  const bad = capture();
  assert.equal(await main(['build', 'postgres', '--integrations-dir', root, '--provenance', 'slsa-v9'], bad, ENV, '/'), 2);
  assert.match(bad.err, /slsa-v1, slsa-v0.2/);
});

test('a bad SOURCE_DATE_EPOCH exits 3 and writes nothing', async (t) => {
  const root = await examplesCopy(t);
  const o = capture();
  assert.equal(await main(['build', '--all', '--integrations-dir', root], o, { ...ENV, SOURCE_DATE_EPOCH: 'yesterday' }, '/'), 3);
  assert.match(o.err, /E_SOURCE_DATE_EPOCH_INVALID/);
  for (const d of await readdir(root)) assert.deepEqual((await readdir(path.join(root, d))).includes('dist'), false, d);
});

test('a failing build (version not PEP 440) leaves dist/ untouched', async (t) => {
  const root = await examplesCopy(t);
  const about = path.join(root, 'postgres/datadog_checks/postgres/__about__.py');
  await writeFile(about, "__version__ = 'not.a.version!'\n");
  const dist = path.join(root, 'postgres/dist');
  await mkdir(dist);
  await writeFile(path.join(dist, 'datadog_postgres-23.1.0-py3-none-any.whl'), 'the previous build');
  const o = capture();
  const code = await main(['build', 'postgres', '--integrations-dir', root], o, ENV, '/');
  assert.equal(code, 3, o.err);
  assert.match(o.err, /❌ postgres: build — wheel: E_/);
  assert.match(o.err, /__about__\.py/);
  assert.deepEqual(await readdir(dist), ['datadog_postgres-23.1.0-py3-none-any.whl']);
  assert.equal(await readFile(path.join(dist, 'datadog_postgres-23.1.0-py3-none-any.whl'), 'utf8'), 'the previous build');
});

test('build --help teaches with examples', async () => {
  const o = capture();
  assert.equal(await main(['build', '--help'], o, ENV, '/'), 0);
  assert.match(o.out, /Examples:/);
  assert.match(o.out, /provenant build --all/);
  assert.match(o.out, /SOURCE_DATE_EPOCH/);
});
