// `npm run bench -- build-tree`: a whole integrations-core tree (the real fixtures, hatch.toml
// and all, copied under renamed projects up to ~85 integrations) built by `provenant build --all`
// as a release engineer runs it (one process, start-up included), serially (--jobs 1) and with
// the default --jobs (every core), against `python -m build --wheel --no-isolation` once per
// integration, which is how `ddev release build` builds. Also the in-process builder loop
// (start-up and JIT warm-up excluded). Fails if any wheel differs between the tools or runs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sha256Hex } from '../src/util/hash.ts';
import { workersFor } from '../src/wheel/wheel-pool.ts';
import { buildWheel } from '../src/wheel/wheel.ts';
import { integrationsCoreTree } from '../test/helpers/integrations-core.ts';
import { peerPython, REPO_ROOT } from '../test/helpers/peers.ts';
import { median } from './download.ts';
import type { Benchmark, BenchTable } from './table.ts';

const run = promisify(execFile);
const EPOCH = 1580601600;
const TIME = '/usr/bin/time';

/** Runs `python -m build` once per integration from one Python driver, which also reports the CPU its children used. */
const PYTHON_M_BUILD = `
import json, resource, subprocess, sys, time
dirs, out = json.loads(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
for d in dirs:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, d], check=True, stdout=subprocess.DEVNULL)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": ru.ru_utime + ru.ru_stime}))
`;

interface Sample {
  wall: number;
  cpu: number;
}

/** `provenant build --all` as a whole process under /usr/bin/time: wall and CPU (all threads). */
async function cliBuild(tree: string, jobs: number | undefined, env: NodeJS.ProcessEnv): Promise<Sample> {
  const out = path.join(tree, '..', 'time.txt');
  const args = [path.join(REPO_ROOT, 'bin/provenant.js'), 'build', '--all', '--json', ...(jobs === undefined ? [] : ['--jobs', String(jobs)])];
  await run(TIME, ['-o', out, '-f', '%e %U %S', process.execPath, ...args], { cwd: tree, env, maxBuffer: 64 << 20 });
  const [wall, user, sys] = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys! };
}

/** Wall and CPU seconds of this process. */
async function measure(fn: () => Promise<void>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

async function wheelDigests(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.whl'))) out.set(f, sha256Hex(await readFile(path.join(dir, f))));
  return out;
}

export async function wholeTreeTable(work: string): Promise<BenchTable> {
  const copies = Number(process.env.PROVENANT_BENCH_TREE_COPIES ?? 17);
  const rounds = Number(process.env.PROVENANT_BENCH_TREE_ROUNDS ?? 3);
  const tree = path.join(work, 'integrations-core');
  await mkdir(tree);
  const names = await integrationsCoreTree(tree, copies);
  const dirs = names.map((n) => path.join(tree, n));
  const n = names.length;
  const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), TMPDIR: work };
  const cores = availableParallelism();
  const loadBefore = loadavg()[0]!;

  // The in-process builder: one untimed warm-up pass (module loading, JIT), as a long-running job.
  for (const d of dirs) await buildWheel(d, { sourceDateEpoch: EPOCH });
  const oursOut = await mkdtemp(path.join(work, 'tree-ours-'));
  const inProcess = await measure(async () => {
    for (const d of dirs) {
      const w = await buildWheel(d, { sourceDateEpoch: EPOCH });
      const tmp = path.join(oursOut, `.${w.fileName}.tmp`);
      await writeFile(tmp, w.bytes);
      await rename(tmp, path.join(oursOut, w.fileName));
    }
  });

  // The command: serial and parallel runs alternate, so the machine's drifting load hits both.
  const cli: Record<'serial' | 'parallel', Sample[]> = { serial: [], parallel: [] };
  const cliWheels: Record<'serial' | 'parallel', Map<string, string>[]> = { serial: [], parallel: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? (['serial', 'parallel'] as const) : (['parallel', 'serial'] as const)) {
      await Promise.all(dirs.map((d) => rm(path.join(d, 'dist'), { recursive: true, force: true })));
      cli[kind].push(await cliBuild(tree, kind === 'serial' ? 1 : undefined, env));
      const built = new Map<string, string>();
      for (const d of dirs) for (const [f, h] of await wheelDigests(path.join(d, 'dist'))) built.set(f, h);
      cliWheels[kind].push(built);
    }
  }

  const theirsOut = path.join(work, 'tree-python-m-build');
  const { stdout } = await run(peerPython(), ['-c', PYTHON_M_BUILD, JSON.stringify(dirs), theirsOut], { env, maxBuffer: 16 << 20 });
  const py = JSON.parse(stdout) as Sample;

  const theirs = await wheelDigests(theirsOut);
  const ours = await wheelDigests(oursOut);
  const mismatches: string[] = [];
  for (const [f, h] of theirs) {
    if (ours.get(f) !== h) mismatches.push(`${f} (in-process)`);
    for (const [kind, runs] of Object.entries(cliWheels)) for (const built of runs) if (built.get(f) !== h) mismatches.push(`${f} (build --all, ${kind})`);
  }
  if (theirs.size !== n || mismatches.length > 0) throw new Error(`whole tree: ${theirs.size} wheels from python -m build for ${n} integrations; differing: ${[...new Set(mismatches)].join(', ')}`);

  const med = (xs: Sample[]): Sample => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
  const serial = med(cli.serial);
  const parallel = med(cli.parallel);
  const row = (label: string, s: Sample) => [label, n, s.wall, (s.wall * 1000) / n, (s.cpu * 1000) / n, py.wall / s.wall, py.cpu / s.cpu];
  const workers = workersFor(n, cores);
  return {
    title: `build-tree: whole integrations-core tree (${n} integrations with hatch.toml, SOURCE_DATE_EPOCH=${EPOCH}), ${cores} cores`,
    columns: ['tool', 'integrations', 'wall s', 'ms/integration', 'CPU ms/integration', 'provenant speed-up (wall)', 'provenant speed-up (CPU)'],
    rows: [
      row('provenant build --all --jobs 1 (whole process: wheel, pointer, statement into each dist/)', serial),
      row(`provenant build --all (default --jobs ${cores}: ${workers > 1 ? `${workers} wheel worker threads` : 'wheels in the main thread, too few per worker'})`, parallel),
      row('provenant buildWheel + write the .whl, in-process after a warm-up pass', inProcess),
      ['python -m build --wheel --no-isolation, once per integration (as ddev release build)', n, py.wall, (py.wall * 1000) / n, (py.cpu * 1000) / n, 1, 1],
    ],
    notes: [
      `all ${n} wheels byte-identical between provenant (in-process, and every build --all run, serial and parallel) and python -m build (sha256 compared)`,
      `tree: the ${n / copies} fixtures of test/fixtures/integrations-core, ${copies} copies each under renamed projects (PROVENANT_BENCH_TREE_COPIES), under ${work}; not a git checkout (one git process for the whole tree)`,
      `build --all: median of ${rounds} runs each, serial and default alternating (PROVENANT_BENCH_TREE_ROUNDS); /usr/bin/time around the whole process, Node start-up included; python -m build time includes interpreter start-up for each integration`,
      `a wheel worker thread is started per ${50} integrations up to --jobs (src/wheel/wheel-pool.ts: a worker costs about 50 builds to start)`,
      `CPU: user + sys of every thread of the process; python -m build: all its processes (RUSAGE_CHILDREN of a driver). Target: ≥ 50× (issue 14)`,
      `1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end on ${cores} cores (other processes compete for them: compare the CPU columns)`,
    ],
  };
}

export const buildTreeBenchmark: Benchmark = {
  name: 'build-tree',
  async run(): Promise<BenchTable[]> {
    const base = process.env.PROVENANT_BENCH_BUILD_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    const work = await mkdtemp(path.join(base, 'provenant-bench-tree-'));
    try {
      return [await wholeTreeTable(work)];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
