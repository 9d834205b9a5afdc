import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../src/app/serve.ts';
import { updateIndex } from '../../src/simple-index/update.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { tempDir } from '../helpers/peers.ts';

const JSON_V1 = 'application/vnd.pypi.simple.v1+json';
const PIP_ACCEPT = `${JSON_V1}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01`;
const WHEEL = 'datadog_postgres-23.2.0-py3-none-any.whl';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw request: node's http client sends the path as given (no `..` normalisation, unlike fetch). */
function get(base: string, rawPath: string, opts: { method?: string; accept?: string } = {}): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: opts.accept ? { accept: opts.accept } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function fixture(t: { after(fn: () => unknown): void }) {
  const parent = await tempDir(t);
  const root = path.join(parent, 'repository');
  const storage = new FsStorage(root);
  await updateIndex(storage, [
    {
      project: 'datadog-postgres',
      version: '23.2.0',
      fileName: WHEEL,
      sha256: 'a'.repeat(64),
      size: 4,
      metadataSha256: 'b'.repeat(64),
      requiresPython: '>=3.9',
    },
  ]);
  await storage.put(`simple/datadog-postgres/${WHEEL}`, new TextEncoder().encode('PK\x03\x04'), { contentType: 'x' });
  await storage.put(`simple/datadog-postgres/${WHEEL}.metadata`, new TextEncoder().encode('Metadata-Version: 2.4\n'), { contentType: 'x' });
  await storage.put('metadata/1.root.json', new TextEncoder().encode('{}'), { contentType: 'x' });
  await storage.put('pointers/datadog-postgres/datadog-postgres-23.2.0.pointer', new TextEncoder().encode('pointer: {}\n'), { contentType: 'x' });
  await writeFile(path.join(parent, 'secret.txt'), 'outside the repository');
  await symlink(path.join(parent, 'secret.txt'), path.join(root, 'escape.txt'));
  await mkdir(path.join(root, '.provenant'), { recursive: true });
  await writeFile(path.join(root, '.provenant', 'state'), 'private');
  const log: string[] = [];
  const server = await startServer({ root, port: 0, log: (l) => log.push(l) });
  t.after(() => server.close());
  return { server, log, root };
}

test('simple pages: PEP 691 negotiation, Vary, 406, ?format=, redirects', async (t) => {
  const { server, log } = await fixture(t);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(server.indexUrl, `${server.url}simple/`);

  const json = await get(server.url, '/simple/datadog-postgres/', { accept: PIP_ACCEPT });
  assert.equal(json.status, 200);
  assert.equal(json.headers['content-type'], JSON_V1);
  assert.equal(json.headers.vary, 'Accept');
  const doc = JSON.parse(json.body) as { name: string; files: { filename: string }[]; meta: Record<string, string> };
  assert.equal(doc.name, 'datadog-postgres');
  assert.equal(doc.meta['api-version'], '1.1');
  assert.deepEqual(doc.files.map((f) => f.filename), [WHEEL]);

  const html = await get(server.url, '/simple/datadog-postgres/');
  assert.equal(html.status, 200);
  assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(html.headers.vary, 'Accept');
  assert.match(html.body, /data-requires-python="&gt;=3.9"/);

  const rootJson = await get(server.url, '/simple/', { accept: JSON_V1 });
  assert.equal(rootJson.headers['content-type'], JSON_V1);
  assert.deepEqual((JSON.parse(rootJson.body) as { projects: unknown }).projects, [{ name: 'datadog-postgres' }]);
  const rootHtml = await get(server.url, '/simple/', { accept: 'text/html' });
  assert.match(rootHtml.body, /<a href="datadog-postgres\/">/);

  const v1html = await get(server.url, '/simple/', { accept: 'application/vnd.pypi.simple.v1+html' });
  assert.equal(v1html.headers['content-type'], 'application/vnd.pypi.simple.v1+html');

  const refused = await get(server.url, '/simple/datadog-postgres/', { accept: 'application/json' });
  assert.equal(refused.status, 406);
  assert.match(refused.body, /application\/vnd\.pypi\.simple\.v1\+json/);

  const byQuery = await get(server.url, `/simple/datadog-postgres/?format=${encodeURIComponent(JSON_V1)}`, { accept: 'text/html' });
  assert.equal(byQuery.headers['content-type'], JSON_V1);

  const noSlash = await get(server.url, '/simple/datadog-postgres');
  assert.equal(noSlash.status, 301);
  assert.equal(noSlash.headers.location, '/simple/datadog-postgres/');
  const simpleNoSlash = await get(server.url, '/simple');
  assert.equal(simpleNoSlash.headers.location, '/simple/');
  const unnormalised = await get(server.url, '/simple/Datadog_Postgres/');
  assert.equal(unnormalised.status, 301);
  assert.equal(unnormalised.headers.location, '/simple/datadog-postgres/');
  assert.equal((await get(server.url, '/simple/no-such-project/')).status, 404);

  assert.ok(log.includes(`GET /simple/datadog-postgres/ 200 ${JSON_V1} accept="${PIP_ACCEPT}"`), log.join('\n'));
  assert.ok(log.includes('GET /simple/datadog-postgres 301 text/plain; charset=utf-8'), log.join('\n'));
});

test('objects: content types per kind, HEAD, 405, traversal and hidden files refused', async (t) => {
  const { server, log } = await fixture(t);
  const cases: [string, string][] = [
    [`/simple/datadog-postgres/${WHEEL}`, 'application/octet-stream'],
    [`/simple/datadog-postgres/${WHEEL}.metadata`, 'text/plain; charset=utf-8'],
    ['/metadata/1.root.json', 'application/json'],
    ['/pointers/datadog-postgres/datadog-postgres-23.2.0.pointer', 'application/yaml'],
    ['/simple/datadog-postgres/index.json', JSON_V1],
    ['/simple/index.html', 'text/html; charset=utf-8'],
  ];
  for (const [p, type] of cases) {
    const r = await get(server.url, p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['content-type'], type, p);
  }
  const meta = await get(server.url, `/simple/datadog-postgres/${WHEEL}.metadata`);
  assert.equal(meta.body, 'Metadata-Version: 2.4\n');

  const head = await get(server.url, `/simple/datadog-postgres/${WHEEL}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '4');
  assert.equal(head.body, '');

  const post = await get(server.url, '/simple/', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');

  for (const p of ['/../secret.txt', '/simple/../../secret.txt', '/simple/%2e%2e/%2e%2e/secret.txt', '/simple/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt']) {
    const r = await get(server.url, p);
    assert.equal(r.status, 403, p);
    assert.doesNotMatch(r.body, /outside the repository/);
  }
  const viaSymlink = await get(server.url, '/escape.txt');
  assert.equal(viaSymlink.status, 404, 'a symlink out of the repository is not followed');
  assert.equal((await get(server.url, '/.provenant/state')).status, 404);
  assert.equal((await get(server.url, '/simple/%zz')).status, 400);
  assert.equal((await get(server.url, '/nope.json')).status, 404);

  assert.ok(log.includes(`HEAD /simple/datadog-postgres/${WHEEL} 200 application/octet-stream`), log.join('\n'));
  assert.ok(log.some((l) => l.startsWith('GET /../secret.txt 403 ')), log.join('\n'));
});

test('a project page that exists only as HTML (an index written by another tool) is still served', async (t) => {
  const { server, root } = await fixture(t);
  await rm(path.join(root, 'simple/datadog-postgres/index.json'));
  const r = await get(server.url, '/simple/datadog-postgres/', { accept: PIP_ACCEPT });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/vnd.pypi.simple.v1+html');
  const jsonOnly = await get(server.url, '/simple/datadog-postgres/', { accept: JSON_V1 });
  assert.equal(jsonOnly.status, 406);
  assert.doesNotMatch(jsonOnly.body, /json/);
});

test('startServer refuses a missing repository with E_REPOSITORY_NOT_FOUND', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(startServer({ root: path.join(dir, 'missing') }), { code: 'E_REPOSITORY_NOT_FOUND' });
});
