import assert from 'node:assert/strict';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { repositoryStateDir } from '../../src/verify/state-dir.ts';
import { publish, recreateRepository, repoFixture, signedRelease, type RepoFixture } from './helpers/fixture.ts';
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

async function cliJson(fx: RepoFixture, argv: string[]): Promise<{ code: number; doc: Record<string, unknown>; err: string }> {
  const r = await cli(fx, argv);
  return { code: r.code, doc: JSON.parse(r.out || '{}') as Record<string, unknown>, err: r.err };
}

test('--version that is not a PEP 440 version is a usage error (exit 2, E_USAGE_VERSION), nothing fetched', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  const r = await run(fx, ['datadog-demo', '--repository', server.url, '--version', 'notaversion', '--json']);
  assert.equal(r.code, 2, r.err);
  assert.equal((JSON.parse(r.out) as { error: { code: string; field: string } }).error.code, 'E_USAGE_VERSION');
  assert.deepEqual(server.requests, []);
});

test('a local repository path that holds no repository: the error names the missing file, not an HTTP status', async (t) => {
  const fx = await repoFixture(t);
  const empty = path.join(fx.dir, 'not-a-repository');
  await mkdir(empty);
  const r = await run(fx, ['datadog-demo', '--repository', empty, '--json']);
  assert.equal(r.code, 4, r.err);
  const error = (JSON.parse(r.out) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, 'E_TUF_NO_REPOSITORY');
  assert.match(error.message, /file not found: .*not-a-repository\/metadata\/timestamp\.json/);
  assert.doesNotMatch(error.message, /HTTP/);
});

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

test('a repository re-created with new keys: the error names the stale state and `provenant state forget`, which resets it', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  assert.equal((await run(fx, ['datadog-demo', '--repository', server.url])).code, 0);
  const stateBase = path.join(fx.dir, 'state');
  const recreated = await recreateRepository(fx);
  await publish(recreated, [await signedRelease(recreated, 'datadog-demo', '2.0.0')]);

  // Without --root: the state's old root does not sign the new metadata.
  const stale = await run(fx, ['datadog-demo', '--repository', server.url, '--json'], []);
  assert.equal(stale.code, 5, stale.err);
  const error = (JSON.parse(stale.out) as { error: { code: string; message: string; hint: string } }).error;
  assert.equal(error.code, 'E_TUF_METADATA');
  const stateDir = repositoryStateDir(stateBase, server.url);
  assert.ok(error.message.includes(stateDir), error.message);
  assert.ok(error.hint.includes(`provenant state forget ${server.url} --state-dir ${stateBase}`), error.hint);
  // With the new repository's root: refused as not in the state's chain, with the same way out.
  const conflict = await run(recreated, ['datadog-demo', '--repository', server.url, '--json']);
  assert.equal(conflict.code, 5, conflict.err);
  const conflictError = (JSON.parse(conflict.out) as { error: { code: string; message: string; hint: string } }).error;
  assert.equal(conflictError.code, 'E_TUF_ROOT_CONFLICT');
  assert.ok(conflictError.message.includes(stateDir) && conflictError.hint.includes('provenant state forget'), conflictError.hint);

  const forgot = await cliJson(fx, ['state', 'forget', server.url, '--state-dir', stateBase, '--json']);
  assert.equal(forgot.code, 0, forgot.err);
  assert.deepEqual(forgot.doc, { ok: true, repository: server.url, stateDir, removed: true });
  await assert.rejects(stat(stateDir), { code: 'ENOENT' });
  assert.equal((await cliJson(fx, ['state', 'forget', server.url, '--state-dir', stateBase, '--json'])).doc.removed, false);

  const fresh = await run(recreated, ['datadog-demo', '--repository', server.url, '--json']);
  assert.equal(fresh.code, 0, fresh.err);
  assert.equal((JSON.parse(fresh.out) as { version: string }).version, '2.0.0');
});

test('state forget --help documents the command; a human run says what it removed', async (t) => {
  const fx = await repoFixture(t);
  const help = await cli(fx, ['state', 'forget', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /provenant state forget \.\/repository/);
  const r = await cli(fx, ['state', 'forget', fx.repoDir, '--state-dir', path.join(fx.dir, 'state')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^nothing to forget for file:\/\/.*\/repository\/ \(/);
});
