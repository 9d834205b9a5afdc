// Wheel building: provenant in-process vs hatchling (its builder API looping in one Python
// process, and `python -m build --wheel --no-isolation` per wheel), same sources, same
// SOURCE_DATE_EPOCH, same number of rounds (the whole-tree row is bench/build-tree.ts). Fails if any tool's bytes differ from provenant's.
// Reports wall-clock throughput and CPU time per wheel: the development VM is shared, and CPU
// time is the figure that other processes' load disturbs least.
import { execFile } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildWheel } from '../src/wheel/wheel.ts';
import { sha256Hex } from '../src/util/hash.ts';
import { peerPython, REPO_ROOT } from '../test/helpers/peers.ts';
import type { Benchmark, BenchTable } from './table.ts';

const run = promisify(execFile);
const EPOCH = 1580601600;

const HATCHLING_LOOP = `
import hashlib, json, os, sys, tempfile, time
from hatchling.builders.wheel import WheelBuilder
roots, n = json.loads(sys.argv[1]), int(sys.argv[2])
out = tempfile.mkdtemp()
digests = {}
def build_all():
    for root in roots:
        for t in WheelBuilder(root).build(directory=out, versions=["standard"]):
            digests[os.path.basename(t)] = t
build_all()  # warm-up: plugin discovery and imports are not timed (provenant's warm-up matches)
start, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    build_all()
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
result = {name: hashlib.sha256(open(p, "rb").read()).hexdigest() for name, p in digests.items()}
print(json.dumps({"elapsed": elapsed, "cpu": cpu, "digests": result}))
`;

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, v];
}

/** Wall and CPU seconds (all of this process's threads, so GC helpers count too). */
async function timeWithCpu(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const [wall] = await time(fn);
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

export const buildBenchmark: Benchmark = {
  name: 'build',
  async run(): Promise<BenchTable[]> {
    const n = Number(process.env.PROVENANT_BENCH_BUILD_N ?? 200);
    const cliRounds = Number(process.env.PROVENANT_BENCH_BUILD_CLI_N ?? 2);
    // Sources, outputs and hatchling's temporary files all live on one file system, a RAM one
    // where there is one: on a shared VM, disk journaling would otherwise dominate both tools'
    // wall time and measure the disk rather than the builders.
    const base = process.env.PROVENANT_BENCH_BUILD_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    const work = await mkdtemp(path.join(base, 'provenant-bench-build-'));
    try {
      const src = path.join(REPO_ROOT, 'examples/integrations');
      const names = (await readdir(src, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
      const roots: string[] = [];
      for (const name of names) {
        const dir = path.join(work, 'src', name);
        await cp(path.join(src, name), dir, { recursive: true, filter: (s) => !s.split(path.sep).includes('dist') });
        roots.push(dir);
      }
      const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), TMPDIR: work };

      const loadBefore = loadavg()[0]!;
      // provenant, in-process. 100 warm-up rounds first so that JIT compilation (JS and wasm tiers)
      // and module loading are not timed (hatchling's loop gets a warm-up round for its imports
      // and plugins; its per-build work has no JIT to warm).
      const ours = new Map<string, string>();
      for (let i = 0; i < 100; i++) {
        for (const r of roots) {
          const w = await buildWheel(r, { sourceDateEpoch: EPOCH });
          ours.set(w.fileName, sha256Hex(w.bytes));
        }
      }
      // Each wheel is written out as hatchling writes it: a new temporary file, then renamed
      // over the previous round's wheel.
      const oursOut = await mkdtemp(path.join(work, 'ours-'));
      const oursRounds = async (rounds: number, write: boolean) => {
        for (let i = 0; i < rounds; i++)
          for (const r of roots) {
            const w = await buildWheel(r, { sourceDateEpoch: EPOCH });
            if (write) {
              const tmp = path.join(oursOut, `.${w.fileName}.tmp`);
              writeFileSync(tmp, w.bytes);
              renameSync(tmp, path.join(oursOut, w.fileName));
            }
          }
      };
      // Half the rounds before hatchling runs and half after, so that a change in the VM's
      // load during the run affects both tools alike.
      const first = await timeWithCpu(() => oursRounds(Math.ceil(n / 2), true));
      const firstInMemory = await timeWithCpu(() => oursRounds(Math.ceil(n / 2), false));

      // hatchling's builder API in one Python process (interpreter start-up excluded).
      const { stdout } = await run(peerPython(), ['-c', HATCHLING_LOOP, JSON.stringify(roots), String(n)], { env, maxBuffer: 16 << 20 });
      const api = JSON.parse(stdout) as { elapsed: number; cpu: number; digests: Record<string, string> };

      const secondInMemory = await timeWithCpu(() => oursRounds(Math.floor(n / 2), false));
      const second = await timeWithCpu(() => oursRounds(Math.floor(n / 2), true));
      const oursSecs = first.wall + second.wall;
      const oursCpu = first.cpu + second.cpu;
      const memSecs = firstInMemory.wall + secondInMemory.wall;
      const memCpu = firstInMemory.cpu + secondInMemory.cpu;

      // The PEP 517 front end a release engineer runs, one process per wheel.
      const cliOut = path.join(work, 'cli');
      const [cliSecs] = await time(async () => {
        for (let i = 0; i < cliRounds; i++)
          for (const r of roots) await run(peerPython(), ['-m', 'build', '--wheel', '--no-isolation', '--outdir', cliOut, r], { env });
      });
      const cli = new Map<string, string>();
      for (const f of await readdir(cliOut)) cli.set(f, sha256Hex(await readFile(path.join(cliOut, f))));

      const mismatches: string[] = [];
      for (const [file, digest] of ours) {
        if (api.digests[file] !== digest) mismatches.push(`${file}: hatchling API ${api.digests[file] ?? 'missing'} vs provenant ${digest}`);
        if (cli.get(file) !== digest) mismatches.push(`${file}: python -m build ${cli.get(file) ?? 'missing'} vs provenant ${digest}`);
      }
      if (mismatches.length > 0) throw new Error(`wheel bytes differ between tools:\n${mismatches.join('\n')}`);

      const wheels = n * roots.length;
      const cliWheels = cliRounds * roots.length;
      const oursRate = wheels / oursSecs;
      const apiRate = wheels / api.elapsed;
      const cliRate = cliWheels / cliSecs;
      const oursCpuMs = (oursCpu * 1000) / wheels;
      const apiCpuMs = (api.cpu * 1000) / wheels;
      return [
        {
          title: `Wheel build throughput (${roots.length} example integrations, SOURCE_DATE_EPOCH=${EPOCH})`,
          columns: ['tool', 'wheels', 'wall s', 'wheels/s', 'CPU ms/wheel', 'provenant speed-up (wall)', 'provenant speed-up (CPU)'],
          rows: [
            ['provenant buildWheel + write the .whl (in-process, one thread)', wheels, oursSecs, oursRate, oursCpuMs, 1, 1],
            ['provenant buildWheel, bytes kept in memory (no file written)', wheels, memSecs, wheels / memSecs, (memCpu * 1000) / wheels, '-', '-'],
            ['hatchling WheelBuilder API (one Python process)', wheels, api.elapsed, apiRate, apiCpuMs, oursRate / apiRate, apiCpuMs / oursCpuMs],
            ['python -m build --wheel --no-isolation (per wheel)', cliWheels, cliSecs, cliRate, '-', oursRate / cliRate, '-'],
          ],
          notes: [
            `all ${ours.size} wheels byte-identical across the three tools (sha256 compared)`,
            'speed-ups compare rows that write the wheel file, as hatchling does; the in-memory row shows what writing costs on this machine',
            'target: ≥ 20× hatchling\'s builder API throughput',
            `N=${n} rounds of every example for provenant and the hatchling API (PROVENANT_BENCH_BUILD_N), ${cliRounds} rounds of python -m build (PROVENANT_BENCH_BUILD_CLI_N)`,
            `sources, wheels and temporary files under ${base} (PROVENANT_BENCH_BUILD_TMP)`,
            `${availableParallelism()} cores, 1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (other processes compete for the cores: compare the CPU columns)`,
            'python -m build CPU time is not measured (it spans child processes); its wall time includes interpreter start-up, as a release engineer sees it',
          ],
        },
      ];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
