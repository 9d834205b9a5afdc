// `npm run bench -- publish-1m`: one release published into a repository already holding 10^6
// releases, by provenant (publishReleases) and by python-tuf's repository API
// (bench/publish_reference.py) making the same update, each into its own copy of the same
// repository, same run. Counts the metadata files re-signed from the storage writes.
//
// The 10^6 releases are not published one by one (that would take hours): their pointers are
// put straight into the bins with the writer's own functions (groupByBin, binWithTargets,
// commitChanges: one commit), once per machine and code version, and kept under
// .tmp/bench-cache/ (key: the hash of the TUF writer, formats, storage and signer code, the
// lockfile, FIXTURE_VERSION and the sizes) so reruns start in seconds.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TargetFile } from '@tufjs/models';
import { publishReleases } from '../src/app/publish.ts';
import { initRepository } from '../src/app/repo.ts';
import { pointerTargetPath } from '../src/formats/layout.ts';
import { FsStorage } from '../src/storage/fs.ts';
import { binWithTargets, expiresFor, groupByBin, targetFile } from '../src/tuf/changes.ts';
import { keyStoreSignerSource } from '../src/tuf/signer-source.ts';
import { loadBin, loadTrustedState } from '../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../src/tuf/writer.ts';
import { syntheticRelease } from '../test/publish/synthetic.ts';
import { peerPython, REPO_ROOT } from '../test/helpers/peers.ts';
import { median } from './download.ts';
import { Counting } from './publish.ts';
import type { Benchmark, BenchTable } from './table.ts';

const run = promisify(execFile);
const CACHE = path.join(REPO_ROOT, '.tmp/bench-cache');
/** What the cached repository's bytes depend on, besides buildFixture below. */
const CODE = ['src/tuf', 'src/formats', 'src/storage', 'src/signers', 'src/app/repo.ts', 'package-lock.json'];
/** Bump when buildFixture changes what it writes. */
const FIXTURE_VERSION = 1;

async function codeHash(extra: string): Promise<string> {
  const h = createHash('sha256').update(extra);
  for (const entry of CODE) {
    const abs = path.join(REPO_ROOT, entry);
    const files = (await stat(abs)).isDirectory() ? (await readdir(abs, { recursive: true })).sort().map((f) => path.join(abs, f)) : [abs];
    for (const f of files) if ((await stat(f)).isFile()) h.update(f.slice(REPO_ROOT.length)).update(await readFile(f));
  }
  return h.digest('hex').slice(0, 20);
}

function pointerBytes(i: number): Uint8Array {
  return new TextEncoder().encode(`pointer ${i}\n`);
}

/** `n` releases of 1000 projects, each release's pointer a target of its bin: one commit. */
async function buildFixture(dir: string, n: number, bins: number): Promise<void> {
  const storage = new FsStorage(path.join(dir, 'repository'));
  const keysDir = path.join(dir, 'keys');
  // The longest expiries the settings allow, so the cached copy stays usable for a week.
  await initRepository(storage, undefined, { keysDir, env: {}, binCount: bins, expires: { timestamp: '7d', snapshot: '30d', bins: '90d' } });
  const state = await loadTrustedState(storage);
  const files: TargetFile[] = [];
  for (let i = 0; i < n; i++) files.push(targetFile(pointerTargetPath(`datadog-fill${i % 1000}`, `1.${Math.floor(i / 1000)}.0`), pointerBytes(i)));
  const changed = new Map();
  const now = new Date();
  for (const [name, add] of groupByBin(state.targets.signed, files)) {
    const bin = await loadBin(storage, state, name);
    changed.set(name, binWithTargets(bin.signed, add, bin.signed.version + 1, expiresFor(state.config, 'bins', now)));
  }
  const changes = { bins: changed };
  await commitChanges(storage, state, await signersForCommit(state, keyStoreSignerSource(keysDir, {}), changes), changes, now);
}

/** Where the repository of `n` releases in `bins` bins is cached for this code. */
export async function fixtureDir(n: number, bins: number): Promise<string> {
  return path.join(CACHE, `publish-${n}-${bins}-${await codeHash(`${FIXTURE_VERSION}/${n}/${bins}`)}`);
}

/** The cached repository of `n` releases in `bins` bins, made if missing or about to expire. */
async function fixture(n: number, bins: number): Promise<{ dir: string; built: boolean; seconds: number }> {
  const dir = await fixtureDir(n, bins);
  try {
    const ts = JSON.parse(await readFile(path.join(dir, 'repository/metadata/timestamp.json'), 'utf8')) as { signed: { expires: string } };
    if (Date.parse(ts.signed.expires) - Date.now() > 2 * 86400_000) return { dir, built: false, seconds: 0 };
  } catch {
    // not cached yet
  }
  await rm(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await mkdir(tmp, { recursive: true });
  const t0 = process.hrtime.bigint();
  await buildFixture(tmp, n, bins);
  await rename(tmp, dir);
  return { dir, built: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Wall and CPU milliseconds of `fn` (CPU: this process, every thread). */
async function ms(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 };
}

export const publishScaleBenchmark: Benchmark = {
  name: 'publish-1m',
  async run(): Promise<BenchTable[]> {
    const n = Number(process.env.PROVENANT_BENCH_PUBLISH_RELEASES ?? 1_000_000);
    const binCounts = (process.env.PROVENANT_BENCH_PUBLISH_BINS ?? '256,2048').split(',').map(Number);
    const runs = Number(process.env.PROVENANT_BENCH_PUBLISH_RUNS ?? 7);
    const rows: (string | number)[][] = [];
    const notes: string[] = [];
    for (const bins of binCounts) {
      const fx = await fixture(n, bins);
      const binBytes = (await stat(path.join(fx.dir, 'repository/metadata', `2.${bins === 256 ? 'bins-00' : 'bins-000'}.json`)).catch(() => undefined))?.size;
      notes.push(`${bins} bins: ${Math.round(n / bins)} releases per bin (${binBytes ? `${Math.round(binBytes / 1024)} KiB per bin` : 'size unknown'}); fixture ${fx.built ? `built in ${fx.seconds.toFixed(0)} s` : 'from the cache'} (${fx.dir})`);
      const work = await mkdtemp(path.join(tmpdir(), 'provenant-bench-publish-1m-'));
      try {
        // Each tool publishes into its own copy: they must not see each other's releases.
        for (const tool of ['provenant', 'python'] as const) await cp(fx.dir, path.join(work, tool), { recursive: true });
        const ours = new Counting(path.join(work, 'provenant/repository'));
        const signers = keyStoreSignerSource(path.join(work, 'provenant/keys'), {});
        const times: { wall: number; cpu: number }[] = [];
        // One untimed publish first: module loading and JIT, as the peer's imports are not timed.
        await publishReleases(ours, signers, [syntheticRelease('datadog-warmup', '1.0.0')], undefined, { updateIndex: null, statusPages: false });
        ours.files = 0;
        ours.bytes = 0;
        for (let r = 0; r < runs; r++) {
          times.push(await ms(() => publishReleases(ours, signers, [syntheticRelease('datadog-bench', `9.${r}.0`)], undefined, { updateIndex: null, statusPages: false })));
        }
        const keys = JSON.parse(await readFile(path.join(work, 'python/keys/keys.json'), 'utf8')) as { keys: Record<string, { file: string; keyid: string }> };
        const online = keys.keys.online!;
        const { stdout } = await run(peerPython(), [path.join(REPO_ROOT, 'bench/publish_reference.py'), path.join(work, 'python/repository'), path.join(work, 'python/keys', online.file), online.keyid, String(runs)], { maxBuffer: 1 << 20 });
        const py = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number[]; cpu_ms: number[]; files: number; bytes: number };
        const oursMs = median(times.map((x) => x.wall));
        const oursCpu = median(times.map((x) => x.cpu));
        const pyMs = median(py.ms);
        const pyCpu = median(py.cpu_ms);
        rows.push([n, bins, 'provenant publishReleases', ours.files / runs, Math.round(ours.bytes / runs / 1024), oursMs, oursCpu, `${(pyMs / oursMs).toFixed(2)}× / ${(pyCpu / oursCpu).toFixed(2)}×`]);
        rows.push([n, bins, 'python-tuf Metadata API (same update)', py.files, Math.round(py.bytes / 1024), pyMs, pyCpu, '1.00×']);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
    return [
      {
        title: `publish-1m: publish one release into a repository of ${n} releases (local directory)`,
        columns: ['releases already published', 'bins', 'tool', 'metadata files re-signed', 'KiB re-signed', `wall ms (median of ${runs})`, 'CPU ms', 'speed-up wall / CPU'],
        rows,
        notes: [
          ...notes,
          'Files re-signed: counted from the storage writes under metadata/ (provenant) and from the files the peer writes.',
          'Both read and verify timestamp, snapshot, targets and the bin against the root, write the release\'s objects (wheel, .metadata, attestation, pointer), then the bin, snapshot and timestamp, each durably (fsync of the file and its directory); neither updates the simple index. One untimed provenant publish first (module loading, JIT); the peer\'s imports are not timed either.',
          'provenant also keeps a copy of each timestamp under timestamps/ and in the key store (rollback evidence, docs/repository.md); the peer does not. Target: ≤ 3 files, < 200 ms.',
          `Knobs: PROVENANT_BENCH_PUBLISH_RELEASES (${n}), PROVENANT_BENCH_PUBLISH_BINS (${binCounts.join(',')}), PROVENANT_BENCH_PUBLISH_RUNS (${runs}).`,
        ],
      },
    ];
  },
};
