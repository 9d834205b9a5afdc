import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { wheelKey } from '../../src/formats/layout.ts';
import { indexEntryFromWheel } from '../../src/simple-index/entry.ts';
import { wheelMetadataKey } from '../../src/simple-index/layout.ts';
import { rebuildIndex } from '../../src/simple-index/rebuild.ts';
import { updateIndex } from '../../src/simple-index/update.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import type { BuiltWheel } from '../../src/wheel/types.ts';
import { tempDir } from '../helpers/peers.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function wheel(name: string, version: string, requiresPython?: string): BuiltWheel {
  const stem = name.replace(/-/g, '_');
  const metadata = enc(`Metadata-Version: 2.4\nName: ${name}\nVersion: ${version}\n${requiresPython ? `Requires-Python: ${requiresPython}\n` : ''}\nlong description\nRequires-Python: not-a-header\n`);
  return {
    projectName: name,
    normalizedName: name,
    version,
    tag: 'py3-none-any',
    fileName: `${stem}-${version}-py3-none-any.whl`,
    bytes: enc(`PK fake wheel ${name} ${version}`),
    metadata,
    requiresPython,
  };
}

async function publish(storage: FsStorage, wheels: BuiltWheel[], uploadTime: Date) {
  for (const w of wheels) {
    const k = wheelKey(w.normalizedName, w.fileName);
    await storage.putImmutable(k, w.bytes, objectPropsFor(k));
    await storage.putImmutable(wheelMetadataKey(w.normalizedName, w.fileName), w.metadata, objectPropsFor(wheelMetadataKey(w.normalizedName, w.fileName)));
  }
  await updateIndex(storage, wheels.map((w) => indexEntryFromWheel(w, uploadTime)));
}

const FILES = ['simple/index.json', 'simple/index.html', 'simple/datadog-postgres/index.json', 'simple/datadog-postgres/index.html', 'simple/datadog-nginx/index.json', 'simple/datadog-nginx/index.html'];

async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of FILES) out[f] = await readFile(path.join(root, f), 'utf8');
  return out;
}

test('rebuildIndex on an intact index changes nothing; after losing the state it regenerates the same pages', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  const t0 = new Date('2025-01-01T00:00:00Z');
  await publish(storage, [wheel('datadog-postgres', '23.2.0', '>=3.9'), wheel('datadog-postgres', '23.10.0', '>=3.9'), wheel('datadog-nginx', '8.0.0')], t0);
  const before = await snapshot(root);

  const noop = await rebuildIndex(storage);
  assert.deepEqual(noop.written, []);
  assert.deepEqual(noop.projects, ['datadog-nginx', 'datadog-postgres']);
  assert.equal(noop.files, 3);

  // Lose one project's state, corrupt the root's, delete a page.
  await rm(path.join(root, 'simple/datadog-postgres/index.json'));
  await writeFile(path.join(root, 'simple/index.json'), '{"garbage": true}');
  await rm(path.join(root, 'simple/datadog-nginx/index.html'));
  const res = await rebuildIndex(storage, undefined, { now: () => t0 });
  assert.ok(res.written.includes('simple/datadog-postgres/index.json') && res.written.includes('simple/index.json'));
  assert.deepEqual(await snapshot(root), before, 'the same bytes as the incremental index (requires-python read from METADATA headers only)');
});

test('rebuildIndex keeps upload times and yanked marks, drops files whose wheel is gone, skips wheels without .metadata', async (t) => {
  const root = await tempDir(t);
  const storage = new FsStorage(root);
  const t0 = new Date('2025-01-01T00:00:00Z');
  const a = wheel('datadog-postgres', '1.0.0');
  const b = wheel('datadog-postgres', '2.0.0');
  await publish(storage, [a, b], t0);
  const jsonPath = path.join(root, 'simple/datadog-postgres/index.json');
  const state = JSON.parse(await readFile(jsonPath, 'utf8')) as { files: Record<string, unknown>[] };
  state.files[1] = { ...state.files[1], yanked: 'broken build' };
  await writeFile(jsonPath, JSON.stringify(state));
  await rm(path.join(root, 'simple/datadog-postgres', a.fileName));
  await storage.put('simple/datadog-postgres/datadog_postgres-3.0.0-py3-none-any.whl', enc('PK orphan'), objectPropsFor('x.whl'));

  const res = await rebuildIndex(storage, undefined, { now: () => new Date('2030-01-01T00:00:00Z') });
  assert.deepEqual(res.skipped.map((s) => s.key), ['simple/datadog-postgres/datadog_postgres-3.0.0-py3-none-any.whl']);
  const doc = JSON.parse(await readFile(jsonPath, 'utf8')) as { files: Record<string, unknown>[]; versions: string[] };
  assert.deepEqual(doc.files.map((f) => f.filename), [b.fileName]);
  assert.deepEqual(doc.versions, ['2.0.0']);
  assert.equal(doc.files[0]?.['upload-time'], t0.toISOString());
  assert.equal(doc.files[0]?.yanked, 'broken build');
  assert.match(await readFile(path.join(root, 'simple/datadog-postgres/index.html'), 'utf8'), /data-yanked="broken build"/);
});
