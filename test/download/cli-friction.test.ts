import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from './helpers/fixture.ts';
import { freshDest } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

// The CLI around trust and network friction: --version usage, local-path errors, --deadline,
// and `provenant state forget` after a repository was re-created.

/** Any `provenant` command in-process; stdout and stderr captured. */
async function cli(fx: RepoFixture, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o: Output & { out: string; err: string } = { out: '', err: '', interactive: false, stdout: (t) => void (o.out += t), stderr: (t) => void (o.err += t) };
  const code = await main(argv, o, {}, fx.dir);
  return { code, out: o.out, err: o.err };
}

/** `provenant download` with the fixture's state and a fresh destination; `root` replaces the default `--root <fixture root>`. */
async function run(fx: RepoFixture, args: string[], root: string[] = ['--root', fx.rootFile]) {
  const dest = await freshDest(fx);
  return { ...(await cli(fx, ['download', ...args, ...root, '--state-dir', path.join(fx.dir, 'state'), '--dest', dest, '--retries', '0'])), dest };
}

test('a server that drips the wheel (1 byte / 1.5 s) under --timeout 2 is stopped by --deadline: exit 6, E_NET_DEADLINE, nothing at --dest', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
    if (!p.endsWith('.whl')) return false;
    res.writeHead(200, { 'content-length': '4096' });
    const timer = setInterval(() => res.write('P'), 1500);
    res.on('close', () => clearInterval(timer));
    return true;
  });
  const started = Date.now();
  const hung = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref());
  const r = await Promise.race([run(fx, ['datadog-demo', '--repository', server.url, '--timeout', '2', '--deadline', '4', '--json']), hung]);
  assert.notEqual(r, 'hung', 'the download was still running 20 s later');
  if (r === 'hung') return;
  const took = Date.now() - started;
  assert.equal(r.code, 6, r.err);
  assert.equal((JSON.parse(r.out) as { error: { code: string } }).error.code, 'E_NET_DEADLINE');
  assert.ok(took < 4_000 + 1_500, `failed after ${took} ms, deadline 4 s`);
  assert.deepEqual(await readdir(r.dest), []);
});
