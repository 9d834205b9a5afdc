import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { workspace } from '../release/workspace.ts';

async function run(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  const code = await main(args, o, env, cwd);
  return { code, out: o.out, err: o.err };
}

test('repo init --layout datadog-v2, release --all, repo status, repo refresh and download through the CLI', { timeout: 300_000 }, async (t) => {
  const w = await workspace(t);
  const init = await run(['repo', 'init', '--layout', 'datadog-v2', '--json'], w.env, w.dir);
  assert.equal(init.code, 0, init.err);
  assert.equal((JSON.parse(init.out) as { config: { layout?: string } }).config.layout, 'datadog-v2');
  const settings = JSON.parse(await readFile(path.join(w.repo, 'provenant-repository.json'), 'utf8')) as { layout?: string };
  assert.equal(settings.layout, 'datadog-v2');
  const targets = JSON.parse(await readFile(path.join(w.repo, 'metadata/1.targets.json'), 'utf8')) as { signed: { delegations: { roles: { name: string; paths: string[] }[] } } };
  assert.deepEqual(targets.signed.delegations.roles.map((r) => [r.name, r.paths]), [['wheelsmith', ['wheelsmith/v1/*/*.json']]]);

  const rel = await w.release('--all');
  assert.equal(rel.code, 0, rel.err);
  assert.equal(existsSync(path.join(w.repo, 'simple')), false, 'no simple index in this layout');
  assert.equal(existsSync(path.join(w.repo, 'wheels/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl')), true);
  assert.equal(existsSync(path.join(w.repo, 'attestations/datadog-postgres/23.2.0.sigstore.json')), true);

  const status = await run(['repo', 'status', '--json'], w.env, w.dir);
  assert.equal(status.code, 0, status.err);
  const doc = JSON.parse(status.out) as { layout?: string; releases: number; projects: number; bins: { count: number; namePrefix: string } };
  assert.equal(doc.layout, 'datadog-v2');
  assert.equal(doc.releases, 4, 'latest.json targets are not counted as releases');
  assert.equal(doc.projects, 4);
  assert.deepEqual([doc.bins.count, doc.bins.namePrefix], [1, 'wheelsmith']);
  assert.match((await run(['repo', 'status'], w.env, w.dir)).out, /wheelsmith layout datadog-v2/);
  const pages = await run(['repo', 'status', '--markdown', '-'], w.env, w.dir);
  assert.equal(pages.code, 3, pages.err);
  assert.match(pages.err, /E_REPO_LAYOUT: status pages are not made/);

  const refresh = await run(['repo', 'refresh', '--force', 'bins', '--json'], w.env, w.dir);
  assert.equal(refresh.code, 0, refresh.err);
  assert.ok((JSON.parse(refresh.out) as { metadataWritten: string[] }).metadataWritten.some((k) => /^metadata\/\d+\.wheelsmith\.json$/.test(k)), refresh.out);

  const dl = await run(['download', 'datadog-postgres', '--repository', 'repository', '--root', path.join(w.repo, 'metadata/1.root.json'), '--state-dir', path.join(w.dir, 'state'), '--dest', path.join(w.dir, 'out'), '--json'], w.env, w.dir);
  assert.equal(dl.code, 0, dl.err);
  assert.equal((JSON.parse(dl.out) as { version: string; verified: boolean }).verified, true);
});
