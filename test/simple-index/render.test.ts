import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IndexEntry } from '../../src/simple-index/entry.ts';
import { escapeHtml, renderProjectHtml, renderRootHtml } from '../../src/simple-index/html.ts';
import { addFilesToProject, addProjectsToRoot, compareNatural } from '../../src/simple-index/merge.ts';
import { emptyProjectDoc, emptyRootDoc, parseProjectDoc, parseRootDoc, serializeDoc } from '../../src/simple-index/model.ts';
import { ProvenantError } from '../../src/errors.ts';
import { projectJsonKey } from '../../src/simple-index/layout.ts';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const M1 = 'c'.repeat(64);
const NOW = new Date('2024-05-06T07:08:09.123Z');

function entry(over: Partial<IndexEntry> = {}): IndexEntry {
  return {
    project: 'Datadog_Postgres',
    version: '23.2.0',
    fileName: 'datadog_postgres-23.2.0-py3-none-any.whl',
    sha256: H1,
    size: 1234,
    metadataSha256: M1,
    requiresPython: '>=3.9,<4',
    ...over,
  };
}

test('escapeHtml escapes the five HTML-significant characters', () => {
  assert.equal(escapeHtml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
});

test('project page: exact anchor attributes, escaped requires-python, repository-version meta', () => {
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry()], NOW);
  const html = renderProjectHtml(doc);
  assert.match(html, /^<!DOCTYPE html>\n/);
  assert.ok(html.includes('<meta name="pypi:repository-version" content="1.1">'));
  assert.ok(
    html.includes(
      `<a href="datadog_postgres-23.2.0-py3-none-any.whl#sha256=${H1}" data-requires-python="&gt;=3.9,&lt;4" ` +
        `data-core-metadata="sha256=${M1}" data-dist-info-metadata="sha256=${M1}">datadog_postgres-23.2.0-py3-none-any.whl</a><br>`,
    ),
    html,
  );
  assert.ok(!html.includes('>=3.9'), 'requires-python must not appear unescaped');
  assert.ok(!/href="(https?:|\/)/.test(html), 'links must be relative');
});

test('a file without requires-python has no data-requires-python attribute', () => {
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry({ requiresPython: undefined })], NOW);
  assert.ok(!renderProjectHtml(doc).includes('data-requires-python'));
  assert.equal(doc.files[0]?.['requires-python'], undefined);
});

test('a local version is percent-encoded in the URL but not in the link text', () => {
  const fileName = 'datadog_postgres-23.2.0+dd.1-py3-none-any.whl';
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry({ fileName, version: '23.2.0+dd.1' })], NOW);
  assert.equal(doc.files[0]?.url, 'datadog_postgres-23.2.0%2Bdd.1-py3-none-any.whl');
  assert.ok(renderProjectHtml(doc).includes(`>${fileName}</a>`));
});

test('project JSON has every PEP 691 / PEP 700 key with the right types', () => {
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry()], NOW);
  const json = JSON.parse(new TextDecoder().decode(serializeDoc(doc))) as Record<string, unknown>;
  assert.deepEqual(json.meta, { 'api-version': '1.1' });
  assert.equal(json.name, 'datadog-postgres');
  assert.deepEqual(json.versions, ['23.2.0']);
  assert.deepEqual((json.files as unknown[])[0], {
    filename: 'datadog_postgres-23.2.0-py3-none-any.whl',
    url: 'datadog_postgres-23.2.0-py3-none-any.whl',
    hashes: { sha256: H1 },
    'requires-python': '>=3.9,<4',
    'core-metadata': { sha256: M1 },
    'dist-info-metadata': { sha256: M1 },
    size: 1234,
    'upload-time': '2024-05-06T07:08:09.123Z',
    yanked: false,
  });
  // PEP 700: upload-time is UTC with a Z suffix and at most 6 fractional digits.
  assert.match(String((json.files as Record<string, unknown>[])[0]?.['upload-time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/);
  // Round trip through the state parser.
  assert.deepEqual(parseProjectDoc(serializeDoc(doc), projectJsonKey('datadog-postgres')), doc);
});

test('an entry keeps its own upload time when it has one', () => {
  const t = new Date('2020-01-02T03:04:05Z');
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry({ uploadTime: t })], NOW);
  assert.equal(doc.files[0]?.['upload-time'], '2020-01-02T03:04:05.000Z');
});

test('files and versions sort in PEP 440 order (1.9 before 1.10, rc before final)', () => {
  const names = ['1.10.0', '1.9.0', '1.2.0', '1.2.0rc1'].map((v) => entry({ version: v, fileName: `datadog_postgres-${v}-py3-none-any.whl`, sha256: H2 }));
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), names, NOW);
  assert.deepEqual(doc.versions, ['1.2.0rc1', '1.2.0', '1.9.0', '1.10.0']);
  assert.deepEqual(
    doc.files.map((f) => f.filename),
    ['1.2.0rc1', '1.2.0', '1.9.0', '1.10.0'].map((v) => `datadog_postgres-${v}-py3-none-any.whl`),
  );
  assert.ok(compareNatural('a2', 'a10') < 0 && compareNatural('a10', 'a2') > 0 && compareNatural('x', 'x') === 0);
});

test('adding the same file twice is a no-op; different bytes under the same name are refused', () => {
  const first = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry()], NOW);
  const again = addFilesToProject(first.doc, [entry()], new Date());
  assert.deepEqual(again.added, []);
  assert.deepEqual(again.unchanged, ['datadog_postgres-23.2.0-py3-none-any.whl']);
  assert.equal(again.doc, first.doc, 'no-op returns the same document');
  assert.throws(
    () => addFilesToProject(first.doc, [entry({ sha256: H2 })], NOW),
    (e: unknown) => e instanceof ProvenantError && e.code === 'E_INDEX_CONFLICT' && e.exitClass === 'conflict',
  );
});

test('root page: normalised, de-duplicated, sorted project links with trailing slash', () => {
  const { doc, added } = addProjectsToRoot(emptyRootDoc(), ['Datadog_Postgres', 'datadog-checks-base', 'datadog.postgres', 'Datadog-Checks_Base']);
  assert.deepEqual(added, ['datadog-checks-base', 'datadog-postgres']);
  assert.deepEqual(doc.projects, [{ name: 'datadog-checks-base' }, { name: 'datadog-postgres' }]);
  const html = renderRootHtml(doc);
  assert.ok(html.includes('<meta name="pypi:repository-version" content="1.1">'));
  assert.ok(html.includes('<a href="datadog-checks-base/">datadog-checks-base</a><br>\n    <a href="datadog-postgres/">datadog-postgres</a><br>'));
  assert.deepEqual(addProjectsToRoot(doc, ['DATADOG_POSTGRES']).added, []);
  const json = JSON.parse(new TextDecoder().decode(serializeDoc(doc))) as Record<string, unknown>;
  assert.deepEqual(json, { meta: { 'api-version': '1.1' }, projects: [{ name: 'datadog-checks-base' }, { name: 'datadog-postgres' }] });
  assert.deepEqual(parseRootDoc(serializeDoc(doc), 'k'), doc);
});

test('corrupt state is refused with a typed error naming the file and field', () => {
  const bad = new TextEncoder().encode(JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'x', files: [{ filename: 'f' }], versions: [] }));
  assert.throws(
    () => parseProjectDoc(bad, 'simple/x/index.json'),
    (e: unknown) => e instanceof ProvenantError && e.code === 'E_INDEX_CORRUPT' && e.file === 'simple/x/index.json' && e.field === 'files.0.url',
  );
  assert.throws(() => parseRootDoc(new TextEncoder().encode('{not json'), 'simple/index.json'), /not valid UTF-8 JSON/);
});

test('unknown keys written by a newer writer survive a read-modify-write', () => {
  const { doc } = addFilesToProject(emptyProjectDoc('datadog-postgres'), [entry()], NOW);
  const withExtra = { ...doc, 'project-status': { status: 'active' }, files: doc.files.map((f) => ({ ...f, provenance: 'x.json' })) };
  const parsed = parseProjectDoc(serializeDoc(withExtra), projectJsonKey('datadog-postgres'));
  const next = addFilesToProject(parsed, [entry({ version: '23.3.0', fileName: 'datadog_postgres-23.3.0-py3-none-any.whl', sha256: H2 })], NOW);
  const out = JSON.parse(new TextDecoder().decode(serializeDoc(next.doc))) as Record<string, unknown>;
  assert.deepEqual(out['project-status'], { status: 'active' });
  assert.equal((out.files as Record<string, unknown>[])[0]?.provenance, 'x.json');
});
