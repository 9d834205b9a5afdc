import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { publish, repoFixture, signedRelease } from '../download/helpers/fixture.ts';

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  return o;
}

test('repo status --markdown: the job-summary view on stdout or in a file, limited with --project; an unknown project is E_PROJECT_UNKNOWN', async (t) => {
  const fx = await repoFixture(t);
  const demo = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [demo, await signedRelease(fx, 'datadog-other', '2.0.0')]);
  const run = async (...args: string[]) => {
    const o = capture();
    const code = await main(['repo', 'status', '--repository', fx.repoDir, '--keys', fx.keysDir, ...args], o, {}, fx.dir);
    return { code, ...o };
  };

  const md = await run('--markdown', '-', '--project', 'Datadog_Demo');
  assert.equal(md.code, 0, md.err);
  assert.match(md.out, /^## Repository status: /);
  assert.match(md.out, /^\| datadog-other \| 1 \| 2\.0\.0 \|$/m, 'every project in the overview');
  assert.match(md.out, /^### datadog-demo$/m);
  assert.doesNotMatch(md.out, /^### datadog-other$/m, 'release by release only for --project');
  const digest = /digest: ([0-9a-f]{64})/.exec(new TextDecoder().decode(demo.pointer))![1]!;
  assert.match(md.out, new RegExp(`^\\| 1\\.0\\.0 \\| 2026-01-01 00:00 UTC \\| \`${digest}\` \\| 4\\.0 KiB \\| .* \\| passed \\|$`, 'm'));
  assert.doesNotMatch(md.out, /repository .* \(TUF 1\.0\.31/, "'-' replaces the usual output");

  const file = await run('--markdown', 'summary.md');
  assert.equal(file.code, 0, file.err);
  assert.match(file.out, /^repository .* \(TUF 1\.0\.31/, 'the usual output too');
  const written = await readFile(path.join(fx.dir, 'summary.md'), 'utf8');
  assert.match(written, /^### datadog-other$/m);

  const unknown = await run('--markdown', '-', '--project', 'datadog-nope');
  assert.equal(unknown.code, 4);
  assert.match(unknown.err, /E_PROJECT_UNKNOWN: datadog-nope is not published .*published projects: datadog-demo, datadog-other/);
});
