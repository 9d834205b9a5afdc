import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startServer } from '../../src/app/serve.ts';
import { freshVenv } from '../helpers/peers.ts';
import { treeHash, workspace } from './workspace.ts';

const run = promisify(execFile);
const EXAMPLES = ['datadog_checks_base', 'nginx', 'postgres', 'redisdb'];
const PIP_ENV = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_NO_CACHE_DIR: '1' };

test('release --all: every step of every integration passes, then pip installs them from the published index', async (t) => {
  const w = await workspace(t);
  const r = await w.release('--all');
  assert.equal(r.code, 0, r.err);
  const s = r.summary!;
  assert.equal(s.ok, true);
  assert.deepEqual(s.integrations.map((i) => i.integration), EXAMPLES);
  for (const i of s.integrations) {
    assert.deepEqual(
      i.steps.map((x) => `${x.step}:${x.status}`),
      ['build', 'generate attestation', 'sign attestation', 'sign pointer (TUF)', 'upload', 'update TUF metadata', 'update index', 'test download'].map((x) => `${x}:ok`),
      i.integration,
    );
  }
  // One commit for all four: a new snapshot and timestamp version each, beside init's version 1.
  assert.equal(s.timestampVersion, 2);
  const keys = s.writes.map((x) => x.key);
  assert.ok(keys.includes('simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl'));
  assert.ok(keys.includes('metadata/2.snapshot.json'));
  assert.equal(keys.filter((k) => k === 'metadata/timestamp.json').length, 1, 'timestamp.json is written once, as the commit point');
  assert.ok(keys.indexOf('metadata/timestamp.json') > keys.indexOf('metadata/2.snapshot.json'));
  assert.ok(keys.indexOf('metadata/timestamp.json') < keys.indexOf('simple/datadog-postgres/index.html'), 'index after the commit');
  assert.ok((await readdir(path.join(w.repo, 'metadata'))).includes('1.root.json'), 'the repository was created on first use');

  const log: string[] = [];
  const server = await startServer({ root: w.repo, port: 0, log: (l) => log.push(l) });
  t.after(() => server.close());
  const py = await freshVenv(path.join(w.dir, 'venv'));
  await run(py, ['-m', 'pip', 'install', '--index-url', server.indexUrl, 'datadog-postgres', 'datadog-redisdb', '--pre', 'datadog-nginx'], { env: PIP_ENV });
  const { stdout } = await run(py, [
    '-c',
    'import importlib.metadata as m, datadog_checks.postgres, datadog_checks.base\nprint(" ".join(m.version(p) for p in ["datadog-postgres", "datadog-checks-base", "datadog-redisdb", "datadog-nginx"]))',
  ]);
  // nginx's METADATA keeps its version as written (8.1.0-RC.1), as hatchling does.
  assert.equal(stdout.trim(), '23.2.0 37.1.0 7.1.0 8.1.0-RC.1');
  assert.ok(log.some((l) => l.includes('/simple/datadog-postgres/') && l.includes('application/vnd.pypi.simple.v1+json')), 'pip used the JSON API');
  assert.ok(log.some((l) => l.includes('datadog_postgres-23.2.0-py3-none-any.whl.metadata')), 'pip fetched the PEP 658 metadata');
});

test('releasing the same sources again writes nothing and still verifies each download', async (t) => {
  const w = await workspace(t);
  assert.equal((await w.release('postgres', 'datadog_checks_base')).code, 0);
  const before = await treeHash(w.repo);
  const again = await w.release('postgres', 'datadog_checks_base');
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(again.summary!.writes, []);
  assert.ok(again.summary!.integrations.every((i) => i.steps.at(-1)!.step === 'test download' && i.steps.at(-1)!.status === 'ok'));
  assert.equal(await treeHash(w.repo), before);
});

test('--dry-run plans the writes of a new version (with content types) and writes nothing', async (t) => {
  const w = await workspace(t);
  assert.equal((await w.release('postgres', 'datadog_checks_base')).code, 0);
  const about = path.join(w.dir, 'integrations/postgres/datadog_checks/postgres/__about__.py');
  await writeFile(about, "__version__ = '23.3.0'\n");
  const before = await treeHash(w.repo);
  const r = await w.release('postgres', '--dry-run');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.summary!.dryRun, true);
  const plan = new Map(r.summary!.writes.map((x) => [x.key, x]));
  assert.equal(plan.get('simple/datadog-postgres/datadog_postgres-23.3.0-py3-none-any.whl')?.contentType, 'application/octet-stream');
  assert.equal(plan.get('simple/datadog-postgres/index.html')?.contentType, 'text/html; charset=utf-8');
  assert.equal(plan.get('metadata/timestamp.json')?.kind, 'replace');
  assert.deepEqual(r.summary!.integrations[0]!.steps.at(-1), { step: 'test download', status: 'skip', detail: 'dry run: nothing was published to download' });
  assert.equal(await treeHash(w.repo), before, 'a dry run leaves the repository byte-identical');
});

test('one integration that fails to build is reported and skipped; the others are released; exit is non-zero', async (t) => {
  const w = await workspace(t);
  await writeFile(path.join(w.dir, 'integrations/redisdb/datadog_checks/redisdb/__about__.py'), "__version__ = 'not a version'\n");
  const r = await w.release('--all');
  assert.equal(r.code, 3, 'exit class of the build failure (bad input)');
  const byName = new Map(r.summary!.integrations.map((i) => [i.integration, i]));
  const bad = byName.get('redisdb')!;
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.code, 'E_VERSION_INVALID');
  assert.deepEqual(bad.steps.map((s) => s.status), ['fail', 'skip', 'skip', 'skip', 'skip', 'skip', 'skip', 'skip']);
  for (const name of ['datadog_checks_base', 'nginx', 'postgres']) assert.equal(byName.get(name)!.ok, true, name);
  assert.match(r.err, /E_RELEASE_FAILED: 1 of 4 integration\(s\) not released: redisdb/);
});

test('a different wheel under a published version is refused (immutable) and the repository is unchanged', async (t) => {
  const w = await workspace(t);
  assert.equal((await w.release('postgres', 'datadog_checks_base')).code, 0);
  const before = await treeHash(w.repo);
  await writeFile(path.join(w.dir, 'integrations/postgres/datadog_checks/postgres/extra.py'), 'CHANGED = True\n');
  const r = await w.release('postgres');
  assert.equal(r.code, 7);
  const steps = r.summary!.integrations[0]!.steps;
  assert.equal(steps.find((s) => s.status === 'fail')?.step, 'sign pointer (TUF)');
  assert.equal(r.summary!.integrations[0]!.error?.code, 'E_RELEASE_IMMUTABLE');
  assert.equal(await treeHash(w.repo), before);
});

test('release --all --jobs 4 builds at once but reports, fails and publishes exactly as --jobs 1', async (t) => {
  const runs = [];
  for (const jobs of ['1', '4']) {
    const w = await workspace(t);
    await writeFile(path.join(w.dir, 'integrations/nginx/datadog_checks/nginx/__about__.py'), "__version__ = 'not a version'\n");
    const r = await w.release('--all', '--jobs', jobs);
    assert.equal(r.code, 3, r.err);
    // Details hold key ids and paths that differ between workspaces; steps, statuses and their order may not.
    const lines = r.err.split('\n').map((l) => l.split(' — ')[0]!.replace(/\d+(\.\d+)? ?m?s\b/g, ''));
    runs.push({ steps: r.summary!.integrations.map((i) => [i.integration, i.ok, i.error?.code, i.steps.map((s) => `${s.step}:${s.status}`)]), lines, writes: r.summary!.writes.map((x) => x.key.replace(/[0-9a-f]{64}/g, "<sha256>")) });
  }
  assert.deepEqual(runs[1]!.steps, runs[0]!.steps);
  assert.deepEqual(runs[1]!.lines, runs[0]!.lines);
  assert.deepEqual(runs[1]!.writes, runs[0]!.writes);
  assert.equal(runs[0]!.steps.filter(([, ok]) => ok).length, 3);
});
