import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expiryState, warnMarginSeconds } from '../../src/status-page/expiry.ts';
import { forgeLinks } from '../../src/status-page/forge.ts';
import { contentDigestOf, renderStatusPages } from '../../src/status-page/html.ts';
import { projectPageKey, relativeHref } from '../../src/status-page/layout.ts';
import { md, renderStatusMarkdown } from '../../src/status-page/markdown.ts';
import { buildStatusModel, type ReleaseFacts, type StatusFacts } from '../../src/status-page/model.ts';
import { signatureFacts } from '../../src/status-page/signature.ts';
import type { ProvenanceFacts } from '../../src/provenance/parse.ts';

const H = 3600;
const D = 86400;
const NOW = new Date('2026-06-01T00:00:00Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

test('expiry: fixed margins per role, a quarter of a shorter configured period, expired at or past the date', () => {
  assert.equal(expiryState('timestamp', at(7 * H), NOW, D), 'ok');
  assert.equal(expiryState('timestamp', at(5 * H), NOW, D), 'expiring');
  assert.equal(expiryState('timestamp', at(0), NOW, D), 'expired');
  assert.equal(expiryState('timestamp', at(-60), NOW), 'expired');
  // A 2 h timestamp is refreshed often: it warns only in its last 30 min, not always.
  assert.equal(warnMarginSeconds('timestamp', 2 * H), H / 2);
  assert.equal(expiryState('timestamp', at(H), NOW, 2 * H), 'ok');
  assert.equal(expiryState('timestamp', at(20 * 60), NOW, 2 * H), 'expiring');
  // A long period never raises the fixed margin.
  assert.equal(warnMarginSeconds('root', 3650 * D), 30 * D);
  assert.equal(expiryState('root', at(29 * D), NOW, 365 * D), 'expiring');
  assert.equal(expiryState('bins', at(8 * D), NOW, 30 * D), 'ok');
  assert.equal(expiryState('snapshot', at(D), NOW, 7 * D), 'expiring');
  assert.equal(expiryState('snapshot', 'not a date', NOW), 'expired', 'an unreadable date is never OK');
});

test('forge links: GitHub and GitLab over https only, commit and ref shapes checked', () => {
  assert.deepEqual(forgeLinks('https://github.com/DataDog/integrations-core', 'refs/heads/master', '0123456789abcdef0123456789abcdef01234567'), {
    repository: 'https://github.com/DataDog/integrations-core',
    ref: 'https://github.com/DataDog/integrations-core/tree/master',
    commit: 'https://github.com/DataDog/integrations-core/commit/0123456789abcdef0123456789abcdef01234567',
  });
  assert.equal(forgeLinks('https://github.com/o/r', 'refs/tags/v1.2.0', undefined).ref, 'https://github.com/o/r/tree/v1.2.0');
  assert.equal(forgeLinks('https://github.com/o/r', 'refs/heads/release/7.x', undefined).ref, 'https://github.com/o/r/tree/release/7.x');
  assert.equal(forgeLinks('https://github.com/o/r', 'refs/pull/12/merge', undefined).ref, 'https://github.com/o/r/pull/12');
  assert.equal(forgeLinks('https://gitlab.com/g/sub/r', 'main', 'abcdef1').commit, 'https://gitlab.com/g/sub/r/-/commit/abcdef1');
  for (const repo of ['http://github.com/o/r', 'https://github.com/o', 'https://github.com/o/r/x', 'https://github.com.evil.example/o/r', 'https://evil.example/o/r', 'https://user:pw@github.com/o/r', 'https://github.com:8443/o/r', 'https://github.com/o/r?x=1', '/srv/git/repo', 'javascript:alert(1)']) {
    assert.deepEqual(forgeLinks(repo, 'refs/heads/main', 'abcdef1'), {}, repo);
  }
  const odd = forgeLinks('https://github.com/o/r', 'refs/heads/../../x', 'NOT-HEX');
  assert.equal(odd.ref, undefined);
  assert.equal(odd.commit, undefined);
  assert.equal(forgeLinks('https://github.com/o/r', 'refs/heads/a b#c', undefined).ref, 'https://github.com/o/r/tree/a%20b%23c');
});

test('relative links from a page to repository objects, and project page keys', () => {
  assert.equal(relativeHref('index.html', 'status/datadog-demo.html'), 'status/datadog-demo.html');
  assert.equal(relativeHref(projectPageKey('datadog-demo'), 'simple/datadog-demo/datadog_demo-1.0.0+local-py3-none-any.whl'), '../simple/datadog-demo/datadog_demo-1.0.0%2Blocal-py3-none-any.whl');
  assert.equal(relativeHref(projectPageKey('p'), 'index.html'), '../index.html');
});

test('signature facts come from the verification result; keyless fields are read defensively', () => {
  assert.deepEqual(signatureFacts({ keyIds: ['ab'] }), { kind: 'key', keyIds: ['ab'] });
  assert.deepEqual(
    signatureFacts({ keyIds: [], keyless: { certificate: { subject: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com', extensions: {} }, logIndexes: ['12345', 7, null] } }),
    { kind: 'keyless', subject: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com', logIndexes: ['12345', '7'] },
  );
  assert.deepEqual(signatureFacts({ keyIds: [], keyless: { certificate: 'garbage', logIndexes: 'x' } }), { kind: 'keyless', subject: undefined, issuer: undefined, logIndexes: [] });
});

function provenance(over: Partial<ProvenanceFacts> = {}): ProvenanceFacts {
  return {
    format: 'slsa-v1',
    subjects: [],
    builderId: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main',
    buildType: 'https://provenant.dev/buildtypes/wheel/v1',
    sourceRepository: 'https://github.com/o/r',
    ref: 'refs/heads/main',
    commit: '0123456789abcdef0123456789abcdef01234567',
    invocationId: undefined,
    parameters: {},
    internalParameters: {},
    startedOn: '2026-05-01T10:00:00Z',
    finishedOn: '2026-05-01T10:05:00Z',
    ...over,
  };
}

function release(version: string, over: Partial<ReleaseFacts> = {}): ReleaseFacts {
  return {
    version,
    target: `pointers/p/p-${version}.pointer`,
    wheel: { fileName: `p-${version}-py3-none-any.whl`, sha256: 'a'.repeat(64), length: 5000, key: `simple/p/p-${version}-py3-none-any.whl` },
    attestation: { key: `attestations/p/p-${version}-attestation.sigstore.json`, sha256: 'b'.repeat(64), length: 900 },
    provenance: provenance(),
    signature: { kind: 'key', keyIds: ['c'.repeat(64)] },
    ...over,
  };
}

function facts(over: Partial<StatusFacts> = {}): StatusFacts {
  return {
    repository: 's3://bucket/repo',
    anchored: true,
    settings: 'key store',
    roles: [
      { role: 'root', version: 1, expires: at(300 * D), threshold: 1, keyCount: 1 },
      { role: 'targets', version: 2, expires: at(300 * D), threshold: 1, keyCount: 1 },
      { role: 'snapshot', version: 9, expires: at(6 * D), threshold: 1, keyCount: 1 },
      { role: 'timestamp', version: 9, expires: at(2 * H), threshold: 1, keyCount: 1 },
    ],
    bins: { count: 16, minVersion: 1, maxVersion: 4, expires: at(-H), threshold: 1, keyCount: 1 },
    periods: { root: 365 * D, targets: 365 * D, bins: 30 * D, snapshot: 7 * D, timestamp: D },
    projects: [
      { name: 'p', versions: ['1.0.0', '1.10.0', '1.2.0rc1'] },
      { name: 'a', versions: ['0.1'] },
    ],
    details: [{ name: 'p', releases: [release('1.0.0'), release('1.10.0'), release('1.2.0rc1', { provenance: provenance({ finishedOn: undefined, format: 'slsa-v0.2' }) })] }],
    ...over,
  };
}

test('model: roles with warnings, projects by name, releases newest first (PEP 440), build time named by its field', () => {
  const m = buildStatusModel(facts(), NOW);
  assert.equal(m.generatedAt, NOW.toISOString());
  assert.deepEqual(
    m.roles.map((r) => [r.role, r.version, r.state]),
    [
      ['root', '1', 'ok'],
      ['targets', '2', 'ok'],
      ['snapshot', '9', 'ok'],
      ['timestamp', '9', 'expiring'],
      ['bins (16)', '1–4', 'expired'],
    ],
  );
  assert.deepEqual(m.warnings.map((r) => r.role), ['timestamp', 'bins (16)']);
  assert.deepEqual(m.projects.map((p) => [p.name, p.releases, p.newest]), [['a', 1, '0.1'], ['p', 3, '1.10.0']]);
  assert.deepEqual(m.projects[1]!.verified, { ok: 3, failed: 0 });
  const rows = m.details[0]!.releases;
  assert.deepEqual(rows.map((r) => r.version), ['1.10.0', '1.2.0rc1', '1.0.0']);
  assert.deepEqual(rows[0]!.built, { at: '2026-05-01T10:05:00Z', field: 'runDetails.metadata.finishedOn' });
  assert.deepEqual(rows[1]!.built, { at: '2026-05-01T10:00:00Z', field: 'metadata.buildStartedOn' });
  assert.equal(rows[0]!.source?.links.commit, 'https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567');
});

test('a release that failed a check shows the failure and nothing its failed data claims', () => {
  const failed = release('2.0.0', { problem: { check: 'attestation signature', code: 'E_ATTESTATION_SIGNATURE', message: 'does not verify' } });
  const m = buildStatusModel(facts({ details: [{ name: 'p', releases: [failed] }] }), NOW);
  const row = m.details[0]!.releases[0]!;
  assert.equal(row.problem?.code, 'E_ATTESTATION_SIGNATURE');
  for (const k of ['built', 'builder', 'source', 'signature', 'format'] as const) assert.equal(row[k], undefined, k);
  const project = renderStatusPages(m).find((p) => p.key === 'status/p.html')!.html;
  assert.match(project, /Failed<\/span> attestation signature/);
  assert.ok(!/workflows\/release\.yml|Signed by|<th scope="row">Built</.test(project), 'no builder, signer or build time of a failed release');
  const markdown = renderStatusMarkdown(m);
  assert.match(markdown, /FAILED attestation signature: `E_ATTESTATION_SIGNATURE`/);
  assert.doesNotMatch(markdown, /release\.yml/);
});

test('HTML: escaped values, no script allowed, accessible structure, a content digest that ignores the generation time', () => {
  const evil = provenance({ builderId: '<script>alert(1)</script>', ref: 'refs/heads/"><img src=x onerror=alert(1)>', sourceRepository: 'javascript:alert(1)' });
  const f = facts({ details: [{ name: 'p', releases: [release('1.0.0', { provenance: evil })] }] });
  const pages = renderStatusPages(buildStatusModel(f, NOW));
  assert.deepEqual(pages.map((p) => p.key), ['index.html', 'status/p.html']);
  for (const p of pages) {
    assert.ok(!/<script|<img|href="javascript:/i.test(p.html), `${p.key}: no markup or link from the repository's values`);
    assert.match(p.html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
    assert.match(p.html, /<html lang="en">/);
    assert.match(p.html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.equal(p.html.match(/<h1>/g)?.length, 1, `${p.key}: one h1`);
    const tables = p.html.match(/<table[ >]/g)?.length ?? 0;
    assert.equal(p.html.match(/<caption>/g)?.length, tables, `${p.key}: every table has a caption`);
    assert.doesNotMatch(p.html, /<th>/, `${p.key}: every header cell has a scope`);
    assert.equal(contentDigestOf(p.html), p.contentDigest);
  }
  assert.match(pages[1]!.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  const later = renderStatusPages(buildStatusModel(f, new Date(NOW.getTime() + 60_000)));
  assert.notEqual(later[1]!.html, pages[1]!.html, 'the generation time differs');
  assert.equal(later[1]!.contentDigest, pages[1]!.contentDigest, 'the content does not');
  const moreReleases = renderStatusPages(buildStatusModel(facts(), NOW));
  assert.notEqual(moreReleases[1]!.contentDigest, pages[1]!.contentDigest);
  // Object links: relative by default, under a base for a local copy, or none.
  assert.match(pages[1]!.html, /href="\.\.\/simple\/p\/p-1\.0\.0-py3-none-any\.whl"/);
  const based = renderStatusPages(buildStatusModel(f, NOW), { objectLinks: { base: 'file:///srv/repo/' } })[1]!.html;
  assert.match(based, /href="file:\/\/\/srv\/repo\/simple\/p\/p-1\.0\.0-py3-none-any\.whl"/);
  const none = renderStatusPages(buildStatusModel(f, NOW), { objectLinks: 'none' })[1]!.html;
  assert.doesNotMatch(none, /href="[^"#]*\.whl"/);
});

test('Markdown: tables, warnings, links only to known forges, repository text escaped', () => {
  const evil = provenance({ builderId: 'x | [click](https://evil.example) ![i](https://evil.example/i.png)', sourceRepository: 'https://evil.example/o/r' });
  const m = buildStatusModel(facts({ details: [{ name: 'p', releases: [release('1.0.0', { provenance: evil }), release('1.1.0')] }] }), NOW);
  const out = renderStatusMarkdown(m);
  assert.match(out, /^## Repository status: s3:\/\/bucket\/repo$/m);
  assert.match(out, /^> \[!WARNING\]$/m);
  assert.match(out, /^> timestamp version 9: Expires soon/m);
  assert.match(out, /^\| bins \\\(16\\\) \| 1–4 \| .* \| EXPIRED \|$/m);
  assert.doesNotMatch(out, /\]\(https:\/\/evil/);
  assert.match(out, /x \\\| \\\[click\\\]\\\(https:\/\/evil\.example\\\)/);
  assert.match(out, /\[https:\/\/github\.com\/o\/r\]\(https:\/\/github\.com\/o\/r\)/);
  // Every table row has the header's number of cells.
  const lines = out.split('\n').filter((l) => l.startsWith('| '));
  for (const l of lines) assert.ok(l.replace(/\\\|/g, '').split('|').length >= 4, l);
  assert.equal(md('a|b\nc'), 'a\\|b c');
});
