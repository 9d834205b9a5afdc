import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Reporter } from '../../src/reporter.ts';
import { silentReporter } from '../../src/reporter.ts';
import { ProvenantError } from '../../src/errors.ts';
import type { IndexEntry } from '../../src/simple-index/entry.ts';
import { updateIndex } from '../../src/simple-index/update.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { tempDir } from '../helpers/peers.ts';

const hex = (n: number) => n.toString(16).padStart(64, '0');

function entry(project: string, version: string, n: number): IndexEntry {
  const stem = project.toLowerCase().replace(/[-_.]+/g, '_');
  return {
    project,
    version,
    fileName: `${stem}-${version}-py3-none-any.whl`,
    sha256: hex(n),
    size: 100 + n,
    metadataSha256: hex(1000 + n),
    requiresPython: '>=3.9',
  };
}

async function readJson(root: string, key: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(root, key), 'utf8')) as Record<string, unknown>;
}

function fileNames(doc: Record<string, unknown>): string[] {
  return (doc.files as { filename: string }[]).map((f) => f.filename);
}

test('updateIndex writes project and root pages, JSON and HTML, and a repeat writes nothing', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  const first = await updateIndex(storage, [entry('Datadog_Postgres', '23.2.0', 1), entry('datadog-checks-base', '37.0.0', 2)]);
  assert.deepEqual(first.rootAdded, ['datadog-checks-base', 'datadog-postgres']);
  assert.deepEqual(
    [...first.written].sort(),
    [
      'simple/datadog-checks-base/index.html',
      'simple/datadog-checks-base/index.json',
      'simple/datadog-postgres/index.html',
      'simple/datadog-postgres/index.json',
      'simple/index.html',
      'simple/index.json',
    ],
  );
  const page = await readJson(root, 'simple/datadog-postgres/index.json');
  assert.equal(page.name, 'datadog-postgres');
  assert.deepEqual(fileNames(page), ['datadog_postgres-23.2.0-py3-none-any.whl']);
  assert.match(await readFile(path.join(root, 'simple/index.html'), 'utf8'), /href="datadog-postgres\/"/);

  const again = await updateIndex(storage, [entry('datadog-postgres', '23.2.0', 1)]);
  assert.deepEqual(again.written, [], 'identical entry: no-op');
  assert.deepEqual(again.projects, [{ project: 'datadog-postgres', added: [], unchanged: ['datadog_postgres-23.2.0-py3-none-any.whl'] }]);
});

test('a missing or stale HTML page is healed from the JSON state on the next update', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  await updateIndex(storage, [entry('datadog-postgres', '23.2.0', 1)]);
  const html = await readFile(path.join(root, 'simple/datadog-postgres/index.html'), 'utf8');
  // A publisher that crashed between the JSON compare-and-swap and the HTML write leaves this.
  await rm(path.join(root, 'simple/datadog-postgres/index.html'));
  await writeFile(path.join(root, 'simple/index.html'), 'stale');
  const res = await updateIndex(storage, [entry('datadog-postgres', '23.2.0', 1)]);
  assert.deepEqual([...res.written].sort(), ['simple/datadog-postgres/index.html', 'simple/index.html']);
  assert.equal(await readFile(path.join(root, 'simple/datadog-postgres/index.html'), 'utf8'), html);
});

test('different bytes under a listed file name are refused and nothing changes', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  await updateIndex(storage, [entry('datadog-postgres', '23.2.0', 1)]);
  const before = await readFile(path.join(root, 'simple/datadog-postgres/index.json'));
  await assert.rejects(
    updateIndex(storage, [entry('datadog-postgres', '23.2.0', 9)]),
    (e: unknown) => e instanceof ProvenantError && e.code === 'E_INDEX_CONFLICT' && e.exitCode === 7,
  );
  assert.deepEqual(await readFile(path.join(root, 'simple/datadog-postgres/index.json')), before);
});

test('bad entries are refused before anything is written', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  for (const bad of [
    { ...entry('datadog-postgres', '1.0.0', 1), fileName: '../evil.whl' },
    { ...entry('datadog-postgres', '1.0.0', 1), sha256: 'XYZ' },
    { ...entry('datadog-postgres', '1.0.0', 1), project: '-bad-' },
  ]) {
    await assert.rejects(updateIndex(storage, [bad]), (e: unknown) => e instanceof ProvenantError && e.code === 'E_INDEX_ENTRY');
  }
  assert.deepEqual(await storage.list(''), []);
});

test('concurrent updateIndex calls on one project all land (compare-and-swap with retry)', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  const retries: string[] = [];
  const reporter: Reporter = { ...silentReporter, debug: (m) => void (/changed under us/.test(m) && retries.push(m)) };
  const versions = Array.from({ length: 8 }, (_, i) => `1.${i}.0`);
  // Two projects so the root page is contended too.
  await Promise.all(
    versions.flatMap((v, i) => [
      updateIndex(storage, [entry('datadog-postgres', v, i + 1)], reporter),
      updateIndex(storage, [entry(i % 2 ? 'datadog-nginx' : 'datadog-redisdb', v, 100 + i)], reporter),
    ]),
  );
  assert.ok(retries.length > 0, 'the writers really raced (at least one compare-and-swap lost and retried)');
  const page = await readJson(root, 'simple/datadog-postgres/index.json');
  assert.deepEqual(fileNames(page), versions.map((v) => `datadog_postgres-${v}-py3-none-any.whl`));
  assert.deepEqual(page.versions, versions);
  const rootDoc = await readJson(root, 'simple/index.json');
  assert.deepEqual(rootDoc.projects, [{ name: 'datadog-nginx' }, { name: 'datadog-postgres' }, { name: 'datadog-redisdb' }]);
  // The derived HTML matches the final state, whichever writer rendered last.
  const html = await readFile(path.join(root, 'simple/datadog-postgres/index.html'), 'utf8');
  for (const v of versions) assert.ok(html.includes(`datadog_postgres-${v}-py3-none-any.whl#sha256=`), v);
  const rootHtml = await readFile(path.join(root, 'simple/index.html'), 'utf8');
  for (const p of ['datadog-nginx', 'datadog-postgres', 'datadog-redisdb']) assert.ok(rootHtml.includes(`href="${p}/"`), p);
});

test('a corrupt state file stops the update with E_INDEX_CORRUPT and is left as it was', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  await updateIndex(storage, [entry('datadog-postgres', '1.0.0', 1)]);
  await writeFile(path.join(root, 'simple/datadog-postgres/index.json'), '{"meta": {}}');
  await assert.rejects(
    updateIndex(storage, [entry('datadog-postgres', '1.1.0', 2)]),
    (e: unknown) => e instanceof ProvenantError && e.code === 'E_INDEX_CORRUPT' && e.file === 'simple/datadog-postgres/index.json',
  );
  assert.equal(await readFile(path.join(root, 'simple/datadog-postgres/index.json'), 'utf8'), '{"meta": {}}');
});

test('publishers in separate processes on one directory all land in the index', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t);
  const updateUrl = new URL('../../src/simple-index/update.ts', import.meta.url).href;
  const fsUrl = new URL('../../src/storage/fs.ts', import.meta.url).href;
  const procs = 4;
  const perProc = 3;
  const script = (p: number) => `
    import { updateIndex } from ${JSON.stringify(updateUrl)};
    import { FsStorage } from ${JSON.stringify(fsUrl)};
    const storage = new FsStorage(${JSON.stringify(root)});
    const hex = (n) => n.toString(16).padStart(64, '0');
    for (let i = 0; i < ${perProc}; i++) {
      const n = ${p} * 100 + i + 1;
      const v = '${p}.' + i + '.0';
      await updateIndex(storage, [{ project: 'datadog-postgres', version: v, fileName: 'datadog_postgres-' + v + '-py3-none-any.whl', sha256: hex(n), size: n, metadataSha256: hex(n + 5000) }]);
    }`;
  const { spawn } = await import('node:child_process');
  await Promise.all(
    Array.from({ length: procs }, (_, p) =>
      new Promise<void>((resolve, reject) => {
        const c = spawn(process.execPath, ['--input-type=module', '-e', script(p)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        c.stderr.on('data', (d: Buffer) => void (err += d.toString()));
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher ${p} exited ${code}: ${err}`))));
      }),
    ),
  );
  const page = await readJson(root, 'simple/datadog-postgres/index.json');
  assert.equal(fileNames(page).length, procs * perProc);
  const html = await readFile(path.join(root, 'simple/datadog-postgres/index.html'), 'utf8');
  assert.equal(html.match(/<a href=/g)?.length, procs * perProc, 'the HTML lists every file too');
});
