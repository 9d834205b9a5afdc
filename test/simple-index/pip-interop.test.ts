import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startServer } from '../../src/app/serve.ts';
import { wheelKey } from '../../src/formats/layout.ts';
import { normalizeVersion } from '../../src/formats/pep440.ts';
import { parseWheelFileName } from '../../src/formats/pep503.ts';
import type { IndexEntry } from '../../src/simple-index/entry.ts';
import { wheelMetadataKey } from '../../src/simple-index/layout.ts';
import { updateIndex } from '../../src/simple-index/update.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { freshVenv, python, REPO_ROOT, tempDir } from '../helpers/peers.ts';
import { startStaticServer } from '../helpers/static-server.ts';

const run = promisify(execFile);
const EXAMPLES = ['datadog_checks_base', 'postgres', 'nginx', 'redisdb'];
const JSON_V1 = 'application/vnd.pypi.simple.v1+json';
// pip must never reach past our index or read the developer's configuration.
const PIP_ENV = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_NO_CACHE_DIR: '1' };

/** Builds an example with hatchling from the peer venv (an independent builder) and reads its METADATA. */
async function buildExample(name: string, outDir: string): Promise<{ fileName: string; bytes: Buffer; metadata: Buffer }> {
  const out = path.join(outDir, name);
  await python(['-m', 'build', '--wheel', '--no-isolation', '--outdir', out, path.join(REPO_ROOT, 'examples/integrations', name)]);
  const [fileName] = (await readdir(out)).filter((f) => f.endsWith('.whl'));
  assert.ok(fileName, `hatchling built no wheel for ${name}`);
  const wheel = path.join(out, fileName);
  const { stdout } = await python([
    '-c',
    'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nn = [i for i in z.namelist() if i.endswith(".dist-info/METADATA")][0]\nsys.stdout.buffer.write(z.read(n))',
    wheel,
  ], { env: { ...process.env } });
  return { fileName, bytes: await readFile(wheel), metadata: Buffer.from(stdout, 'utf8') };
}

function metadataField(metadata: Buffer, field: string): string | undefined {
  const head = metadata.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '';
  return head.split(/\r?\n/).find((l) => l.startsWith(`${field}: `))?.slice(field.length + 2);
}

/** A repository holding every example, written the way publish does, indexed by updateIndex. */
async function publishExamples(dir: string): Promise<{ root: string; entries: IndexEntry[] }> {
  const root = path.join(dir, 'repository');
  const storage = new FsStorage(root);
  const built = await Promise.all(EXAMPLES.map((e) => buildExample(e, path.join(dir, 'dist'))));
  const entries: IndexEntry[] = [];
  for (const w of built) {
    const name = metadataField(w.metadata, 'Name');
    const version = metadataField(w.metadata, 'Version');
    assert.ok(name && version, `METADATA of ${w.fileName} has Name and Version`);
    assert.equal(parseWheelFileName(w.fileName)?.version, normalizeVersion(version));
    const project = name.toLowerCase().replace(/[-_.]+/g, '-');
    // What publish does before the index: immutable wheel and exact METADATA bytes.
    await storage.putImmutable(wheelKey(project, w.fileName), w.bytes, objectPropsFor(wheelKey(project, w.fileName)));
    await storage.putImmutable(wheelMetadataKey(project, w.fileName), w.metadata, objectPropsFor(wheelMetadataKey(project, w.fileName)));
    entries.push({
      project,
      version,
      fileName: w.fileName,
      sha256: sha256Hex(w.bytes),
      size: w.bytes.byteLength,
      metadataSha256: sha256Hex(w.metadata),
      requiresPython: metadataField(w.metadata, 'Requires-Python'),
    });
  }
  // Two publishes, as two releases would do it.
  await updateIndex(storage, entries.slice(0, 2));
  await updateIndex(storage, entries.slice(2));
  return { root, entries };
}

test('pip installs the examples from the index over provenant serve, via the JSON API and PEP 658 metadata', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t);
  const { root, entries } = await publishExamples(dir);

  const log: string[] = [];
  const server = await startServer({ root, port: 0, log: (l) => log.push(l) });
  t.after(() => server.close());

  const venvPy = await freshVenv(path.join(dir, 'venv'));
  const pipInstall = (...projects: string[]) =>
    run(venvPy, ['-m', 'pip', 'install', '--no-cache-dir', '--index-url', server.indexUrl, ...projects], {
      env: PIP_ENV,
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
  const listInstalled = async () => {
    const { stdout } = await run(venvPy, ['-m', 'pip', 'list', '--format=json', '--exclude', 'pip'], { env: PIP_ENV });
    return new Map((JSON.parse(stdout) as { name: string; version: string }[]).map((p) => [p.name.toLowerCase(), p.version]));
  };

  // The integration alone pulls its dependency, the base package, from the same index.
  const baseline = await listInstalled(); // what the venv ships (setuptools on Python 3.11)
  await pipInstall('datadog-postgres');
  const version = (p: string) => normalizeVersion(entries.find((e) => e.project === p)?.version ?? '?');
  assert.deepEqual(
    new Map([...(await listInstalled())].filter(([p]) => !baseline.has(p))),
    new Map([
      ['datadog-checks-base', version('datadog-checks-base')],
      ['datadog-postgres', version('datadog-postgres')],
    ]),
  );
  // Every other example installs too (nginx's only release is a pre-release: pip takes it when nothing else exists).
  await pipInstall('datadog-nginx', 'datadog-redisdb');
  const installed = await listInstalled();
  for (const e of entries) assert.equal(installed.get(e.project), normalizeVersion(e.version), `${e.project} ${e.version} installed`);
  await run(venvPy, ['-c', 'import datadog_checks.postgres, datadog_checks.base'], { env: PIP_ENV });

  const text = log.join('\n');
  for (const e of entries) {
    // pip asked for JSON (its Accept header prefers it) and got it.
    assert.ok(
      log.some((l) => l.startsWith(`GET /simple/${e.project}/ 200 ${JSON_V1} `) && l.includes(`accept="${JSON_V1}`)),
      `JSON page served for ${e.project}:\n${text}`,
    );
    // PEP 658: the metadata file was fetched before (and besides) the wheel.
    const metaLine = log.findIndex((l) => l.startsWith(`GET /simple/${e.project}/${e.fileName}.metadata 200 `));
    const wheelLine = log.findIndex((l) => l.startsWith(`GET /simple/${e.project}/${e.fileName} 200 `));
    assert.ok(metaLine >= 0, `.metadata fetched for ${e.project}:\n${text}`);
    assert.ok(wheelLine > metaLine, `wheel of ${e.project} fetched after its metadata:\n${text}`);
  }
  assert.ok(!log.some((l) => / (4\d\d|5\d\d) /.test(l.split(' accept=')[0] ?? '')), `no failed requests:\n${text}`);
});

test('pip installs from the HTML pages alone, as from a static host that ignores Accept', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t);
  const { root, entries } = await publishExamples(dir);
  // A plain file server: a directory URL gets its index.html, whatever the client asks for.
  const server = await startStaticServer(root, t);
  const venvPy = await freshVenv(path.join(dir, 'venv'));
  await run(venvPy, ['-m', 'pip', 'install', '--no-cache-dir', '--index-url', `${server.url}/simple/`, 'datadog-postgres'], {
    env: PIP_ENV,
    timeout: 120_000,
    maxBuffer: 16 << 20,
  });
  await run(venvPy, ['-c', 'import datadog_checks.postgres, datadog_checks.base'], { env: PIP_ENV });
  for (const p of ['datadog-postgres', 'datadog-checks-base']) {
    const e = entries.find((x) => x.project === p);
    assert.ok(e);
    // The HTML's data-core-metadata led pip to the PEP 658 file.
    assert.equal(server.count(`/simple/${p}/${e.fileName}.metadata`), 1, `${p} metadata fetched from the HTML page`);
    assert.ok(server.requests.some((r) => r.path === `/simple/${p}/` && r.status === 200));
  }
});
