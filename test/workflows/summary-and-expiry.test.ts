import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { releaseSummaryMarkdown } from '../../src/app/release-summary.ts';
import type { ReleaseSummary } from '../../src/app/release.ts';
import { main } from '../../src/cli/main.ts';
import { workspace } from '../release/workspace.ts';

/**
 * `release --summary FILE` (the workflow's $GITHUB_STEP_SUMMARY) and `repo status --fail-within`
 * (the refresh workflow's alarm), through the CLI on a local repository with a keyed attestation.
 * The keyless form (Rekor log index) is covered by release-workflow.test.ts.
 */
test('release --summary appends per-integration locations, digests and the verification status; repo status --fail-within fails before expiry', { timeout: 300_000 }, async (t) => {
  const w = await workspace(t);
  const file = path.join(w.dir, 'summary.md');
  const r = await w.release('postgres', '--summary', file);
  assert.equal(r.code, 0, r.err);
  const rec = r.summary!.integrations[0]!;
  const md = await readFile(file, 'utf8');
  assert.ok(md.startsWith(`## Released: \`${w.repo}\``), md);
  assert.ok(md.includes(`### ✅ datadog-postgres ${rec.version}`), md);
  assert.ok(md.includes(`\`${w.repo}/${rec.artifacts!.objects!.wheel}\``), md);
  assert.ok(md.includes(rec.artifacts!.wheel.sha256) && md.includes(rec.artifacts!.attestation.sha256), md);
  assert.ok(md.includes('Rekor log index: none (keyed signature)'), md);
  assert.ok(md.includes('Verification: **verified**'), md);
  // Appended, never overwritten: a job summary collects every step's output.
  assert.equal((await w.release('postgres', '--summary', file)).code, 0);
  assert.equal((await readFile(file, 'utf8')).split('## Released').length - 1, 2);

  // The timestamp is valid for 1 day: a 2-day window must fail, naming it; a 1-hour one passes.
  const status = async (...args: string[]) => {
    const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
    return { code: await main(['repo', 'status', '--repository', 'repository', '--keys', 'keys', ...args], o, w.env, w.dir), ...o };
  };
  const soon = await status('--fail-within', '2d');
  assert.equal(soon.code, 5, soon.err);
  assert.match(soon.err, /E_REPO_EXPIRING: expires within 2d: timestamp v\d+/);
  assert.doesNotMatch(soon.err, /root v/);
  const json = await status('--fail-within', '2d', '--json');
  assert.equal(json.code, 5);
  assert.equal((JSON.parse(json.out) as { ok: boolean }).ok, false);
  const fine = await status('--fail-within', '1h');
  assert.equal(fine.code, 0, fine.err);
  const bad = await status('--fail-within', 'soon');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /E_USAGE: --fail-within must be a duration/);
  // Issue 11's name for the same check: one implementation, the same exits.
  const alias = await status('--expiring-within', '3d');
  assert.equal(alias.code, 5, alias.err);
  assert.match(alias.err, /E_REPO_EXPIRING: expires within 3d: timestamp v\d+/);
  assert.equal((await status('--expiring-within', '1h')).code, 0);
  const badAlias = await status('--expiring-within', 'soon');
  assert.match(badAlias.err, /E_USAGE: --expiring-within must be a duration/);
  const both = await status('--expiring-within', '3d', '--fail-within', '1h');
  assert.equal(both.code, 2);
  assert.match(both.err, /E_USAGE: --fail-within 1h and --expiring-within 3d/);
});

test('the Markdown summary of a failed dry run: nothing claimed as written or verified, table cells cannot be broken by error text', () => {
  const s: ReleaseSummary = {
    repository: 's3://bucket/prefix',
    dryRun: true,
    ok: false,
    writes: [],
    snapshotVersion: undefined,
    timestampVersion: undefined,
    integrations: [
      {
        integration: 'postgres',
        project: 'datadog-postgres',
        version: '1.0.0',
        ok: true,
        steps: [],
        artifacts: { wheel: { fileName: 'w.whl', sha256: 'a'.repeat(64), size: 3 }, attestation: { fileName: 'a.sigstore.json', sha256: 'b'.repeat(64), keyIds: ['c'.repeat(64)] } },
      },
      { integration: 'redisdb', project: undefined, version: undefined, ok: false, steps: [{ step: 'build', status: 'fail', detail: 'E_X: bad | value\n`injected`' }] },
    ],
  };
  const md = releaseSummaryMarkdown(s);
  assert.ok(md.startsWith('## Dry run FAILED (1 of 2 not released): `s3://bucket/prefix`'), md);
  assert.ok(md.includes('| wheel w.whl (3 bytes) | (dry run: not written) |'), md);
  assert.ok(md.includes('Verification: not run (dry run)'), md);
  assert.ok(md.includes('### ❌ redisdb'), md);
  assert.ok(md.includes("Failed at **build**: E_X: bad \\| value 'injected'"), md);
  assert.ok(!md.includes('**verified**'), md);
  // Error text makes no live link or tag in the job summary.
  const linked = releaseSummaryMarkdown({ ...s, integrations: [{ ...s.integrations[1]!, steps: [{ step: 'build', status: 'fail', detail: 'see [here](https://evil.example) <img src=x>' }] }] });
  assert.ok(linked.includes('see \\[here\\](https://evil.example) \\<img src=x\\>'), linked);
});
