import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { workspace } from './workspace.ts';

test('a release with a failed step says what failed (integration, step, code) instead of "released to", and exits non-zero', { timeout: 300_000 }, async (t) => {
  const w = await workspace(t);
  await writeFile(path.join(w.dir, 'integrations/redisdb/datadog_checks/redisdb/__about__.py'), "__version__ = 'not a version'\n");
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  const code = await main(['release', 'postgres', 'redisdb', '--integrations-dir', 'integrations'], o, w.env, w.dir);
  assert.equal(code, 3, 'the exit class of the failed step (bad input)');
  const lines = o.out.trim().split('\n');
  assert.equal(lines[0], `release to ${w.repo} FAILED: 1 of 2 integration(s) not released`);
  assert.doesNotMatch(o.out, /released to/);
  assert.ok(lines.some((l) => /^✅ datadog-postgres 23\.2\.0$/.test(l)), o.out);
  assert.ok(lines.some((l) => /^❌ datadog-redisdb — build: E_VERSION_INVALID: /.test(l)), o.out);
  assert.match(o.err, /E_RELEASE_FAILED: 1 of 2 integration\(s\) not released: redisdb \(build: E_VERSION_INVALID\)/);

  // Once fixed, the same command reports a plain success.
  await writeFile(path.join(w.dir, 'integrations/redisdb/datadog_checks/redisdb/__about__.py'), "__version__ = '7.1.0'\n");
  const ok = { out: '', err: '', interactive: false, stdout: (s: string) => void (ok.out += s), stderr: (s: string) => void (ok.err += s) };
  assert.equal(await main(['release', 'postgres', 'redisdb', '--integrations-dir', 'integrations'], ok, w.env, w.dir), 0, ok.err);
  assert.equal(ok.out.split('\n')[0], `released to ${w.repo}`);
});
