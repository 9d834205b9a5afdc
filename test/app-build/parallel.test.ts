// `build --all --jobs N`: wheels built on worker threads, integrations built N at a time. The
// files written must be the serial build's, byte for byte, and hatchling's; results, reporter
// output and the error of a failing run must not depend on which integration finished first.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildIntegrations } from '../../src/app/build.ts';
import { openWorkspace, selectIntegrations } from '../../src/app/workspace.ts';
import { main } from '../../src/cli/main.ts';
import { isProvenantError } from '../../src/errors.ts';
import type { Reporter } from '../../src/reporter.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { wheelPool, workersFor } from '../../src/wheel/wheel-pool.ts';
import type { BuildOptions } from '../../src/wheel/types.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { hatchlingDigests, integrationsCoreTree } from '../helpers/integrations-core.ts';
import { tempDir } from '../helpers/peers.ts';
import { fakeIntegration, syntheticBuilder } from './fixtures.ts';

const EPOCH = '1700000000';

/** Every file of every dist/ under the tree, path → sha256. */
async function distFiles(tree: string, names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of names) for (const f of (await readdir(path.join(tree, n, 'dist'))).sort()) out[`${n}/${f}`] = sha256Hex(await readFile(path.join(tree, n, 'dist', f)));
  return out;
}

test('build --all --jobs 2 (two worker threads) writes the same bytes as --jobs 1, and the wheels are hatchling\'s', async (t) => {
  const work = await tempDir(t, 'provenant-parallel-');
  const trees = { serial: path.join(work, 'serial'), parallel: path.join(work, 'parallel') };
  let names: string[] = [];
  for (const tree of Object.values(trees)) {
    await mkdir(tree);
    names = await integrationsCoreTree(tree, 20);
  }
  assert.equal(workersFor(names.length, 2), 2, 'enough integrations for both workers to start');
  const outputs: Record<string, { out: string; err: string }> = {};
  for (const [kind, tree] of Object.entries(trees)) {
    const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
    const code = await main(['build', '--all', '--jobs', kind === 'serial' ? '1' : '2'], o, { PATH: process.env.PATH, SOURCE_DATE_EPOCH: EPOCH }, tree);
    assert.equal(code, 0, o.err);
    outputs[kind] = o;
  }
  // The same files; the same wheels (statements record the time, and pointers pin the statements:
  // the next test compares those under a fixed clock).
  const [serial, parallel] = [await distFiles(trees.serial, names), await distFiles(trees.parallel, names)];
  assert.deepEqual(Object.keys(parallel), Object.keys(serial));
  for (const f of Object.keys(serial).filter((f) => f.endsWith('.whl'))) assert.equal(parallel[f], serial[f], f);
  // stdout lists the wheels in the same (input) order.
  assert.equal(outputs.parallel!.out, outputs.serial!.out);
  assert.equal(outputs.serial!.out.trim().split('\n').length, names.length);

  const hatchling = await hatchlingDigests(names.map((n) => path.join(trees.parallel, n)), EPOCH);
  const wheels = Object.entries(parallel).filter(([f]) => f.endsWith('.whl'));
  assert.equal(wheels.length, names.length);
  for (const [f, digest] of wheels) assert.equal(digest, hatchling[path.basename(f)], f);
});

test('the statements of a parallel build equal the serial ones given the same clock and invocation id', async (t) => {
  const work = await tempDir(t, 'provenant-parallel-st-');
  const results: Record<string, Record<string, string>> = {};
  for (const jobs of [1, 3]) {
    const tree = path.join(work, `j${jobs}`);
    await mkdir(tree);
    const names = await integrationsCoreTree(tree, 2);
    const ws = await openWorkspace({ root: tree, cwd: tree });
    const pool = wheelPool(jobs);
    const req = { env: { SOURCE_DATE_EPOCH: EPOCH }, buildWheel: pool.build, jobs, now: () => new Date('2026-01-01T00:00:00Z'), invocationId: 'urn:uuid:fixed' };
    await buildIntegrations(selectIntegrations(ws, [], true), req).finally(() => pool.close());
    results[jobs] = await distFiles(tree, names);
  }
  assert.deepEqual(results[3], results[1]);
});

/** Records reporter calls as lines, to compare two runs' output. */
function recorder(lines: string[]): Reporter {
  return {
    step: (s, st, status, d) => void lines.push(`step ${s} ${st} ${status} ${d ?? ''}`),
    progress: (l, d, tot) => void lines.push(`progress ${l} ${d}/${tot}`),
    info: (m) => void lines.push(`info ${m}`),
    debug: (m) => void lines.push(`debug ${m.replace(/sha256:\w+/, '')}`),
    warn: (m) => void lines.push(`warn ${m}`),
  };
}

/** The synthetic builder, but the first integrations take longest: with jobs > 1 they finish last. */
/**
 * A builder whose builds finish in reverse input order when they run at once: each waits for the
 * next integration's build to finish first (no timers, so a loaded machine cannot reorder them).
 * Only for jobs > 1: run one at a time, `a` would wait for `b` forever.
 */
function laterFirst(order: string[], names = ['a', 'b', 'c', 'd']) {
  const inner = syntheticBuilder();
  const done = new Map(
    names.map((n) => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return [n, { promise, resolve }];
    }),
  );
  return async (dir: string, opts: BuildOptions) => {
    const name = path.basename(dir);
    const next = names[names.indexOf(name) + 1];
    if (next !== undefined) await done.get(next)!.promise;
    order.push(name);
    try {
      return await inner(dir, opts);
    } finally {
      done.get(name)!.resolve();
    }
  };
}

/** The same builder without waits, recording the order builds finish in. */
function inOrder(order: string[]) {
  const inner = syntheticBuilder();
  return async (dir: string, opts: BuildOptions) => {
    order.push(path.basename(dir));
    return inner(dir, opts);
  };
}

test('jobs > 1: results and reporter output in input order although later integrations finish first', async (t) => {
  const runs: Record<number, { lines: string[]; finished: string[]; results: string[] }> = {};
  for (const jobs of [1, 4]) {
    const root = await tempDir(t);
    const integrations = [];
    for (const n of ['a', 'b', 'c', 'd']) integrations.push(await fakeIntegration(root, n));
    const lines: string[] = [];
    const finished: string[] = [];
    const results = await buildIntegrations(integrations, { env: {}, buildWheel: jobs === 1 ? inOrder(finished) : laterFirst(finished), reporter: recorder(lines), jobs });
    runs[jobs] = { lines, finished, results: results.map((r) => r.integration) };
  }
  assert.deepEqual(runs[4]!.finished, ['d', 'c', 'b', 'a'], 'the builds did run at once');
  assert.deepEqual(runs[1]!.finished, ['a', 'b', 'c', 'd']);
  assert.deepEqual(runs[4]!.results, ['a', 'b', 'c', 'd']);
  assert.deepEqual(runs[4]!.lines, runs[1]!.lines);
  assert.equal(runs[1]!.lines.filter((l) => l.startsWith('warn ')).length, new Set(runs[1]!.lines.filter((l) => l.startsWith('warn '))).size, 'each note once');
});

test('jobs > 1: a failing run throws the first failure in input order, not the first to happen', async (t) => {
  const root = await tempDir(t);
  const integrations = [];
  for (const n of ['a', 'b', 'c', 'd']) integrations.push(await fakeIntegration(root, n));
  const inner = laterFirst([]);
  const failing = async (dir: string, opts: BuildOptions) => {
    const w = await inner(dir, opts);
    if (['b', 'd'].includes(path.basename(dir))) throw new Error(`broken ${path.basename(dir)}`);
    return w;
  };
  await assert.rejects(buildIntegrations(integrations, { env: {}, buildWheel: failing, jobs: 4 }), (e: unknown) => {
    assert.ok(isProvenantError(e) || e instanceof Error);
    assert.match((e as Error).message, /broken b/);
    return true;
  });
});

test('a wheel error on a worker thread comes back as the same ProvenantError as in this thread', async (t) => {
  const root = await tempDir(t);
  const dir = path.join(root, 'broken');
  await mkdir(dir);
  await writeFile(path.join(dir, 'pyproject.toml'), '[project\nname = "x"\n');
  const here = await buildWheel(dir, { sourceDateEpoch: 1 }).then(() => undefined, (e: unknown) => e);
  const pool = wheelPool(2);
  t.after(() => pool.close());
  const there = await pool.build(dir, { sourceDateEpoch: 1 }).then(() => undefined, (e: unknown) => e);
  assert.ok(isProvenantError(here) && isProvenantError(there));
  assert.deepEqual(there.toJSON(), here.toJSON());
  assert.equal(there.exitCode, here.exitCode);
});
