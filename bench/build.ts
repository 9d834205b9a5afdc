// Wheel building: provenant in-process vs hatchling (its builder API looping in one Python
// process, and `python -m build --wheel --no-isolation` per wheel), same sources, same
// SOURCE_DATE_EPOCH. Fails if any tool's bytes differ from provenant's.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildWheel } from '../src/build/wheel.ts';
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
start = time.perf_counter()
for _ in range(n):
    for root in roots:
        target = WheelBuilder(root).build(directory=out, versions=["standard"])
        for t in target:
            digests[os.path.basename(t)] = t
elapsed = time.perf_counter() - start
result = {name: hashlib.sha256(open(p, "rb").read()).hexdigest() for name, p in digests.items()}
print(json.dumps({"elapsed": elapsed, "digests": result}))
`;

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, v];
}

export const buildBenchmark: Benchmark = {
  name: 'build',
  async run(): Promise<BenchTable[]> {
    const n = Number(process.env.PROVENANT_BENCH_BUILD_N ?? 40);
    const cliRounds = Number(process.env.PROVENANT_BENCH_BUILD_CLI_N ?? 2);
    const work = await mkdtemp(path.join(tmpdir(), 'provenant-bench-build-'));
    try {
      const src = path.join(REPO_ROOT, 'examples/integrations');
      const names = (await readdir(src, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
      const roots: string[] = [];
      for (const name of names) {
        const dir = path.join(work, 'src', name);
        await cp(path.join(src, name), dir, { recursive: true, filter: (s) => !s.split(path.sep).includes('dist') });
        roots.push(dir);
      }
      const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) };

      // provenant, in-process; one warm-up round so JIT and module loading are not timed.
      const ours = new Map<string, string>();
      for (const r of roots) {
        const w = await buildWheel(r, { sourceDateEpoch: EPOCH });
        ours.set(w.fileName, sha256Hex(w.bytes));
      }
      // Each wheel is written out, as hatchling's loop writes its wheels.
      const oursOut = await mkdtemp(path.join(work, 'ours-'));
      const [oursSecs] = await time(async () => {
        for (let i = 0; i < n; i++)
          for (const r of roots) {
            const w = await buildWheel(r, { sourceDateEpoch: EPOCH });
            await writeFile(path.join(oursOut, w.fileName), w.bytes);
          }
      });

      // hatchling's builder API in one Python process (interpreter start-up excluded).
      const { stdout } = await run(peerPython(), ['-c', HATCHLING_LOOP, JSON.stringify(roots), String(n)], { env, maxBuffer: 16 << 20 });
      const api = JSON.parse(stdout) as { elapsed: number; digests: Record<string, string> };

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
      const oursRate = wheels / oursSecs;
      const apiRate = wheels / api.elapsed;
      const cliRate = (cliRounds * roots.length) / cliSecs;
      return [
        {
          title: `Wheel build throughput (${roots.length} example integrations, SOURCE_DATE_EPOCH=${EPOCH})`,
          columns: ['tool', 'wheels', 'seconds', 'wheels/s', 'provenant speed-up'],
          rows: [
            ['provenant buildWheel (in-process)', wheels, oursSecs, oursRate, 1],
            ['hatchling WheelBuilder API (one Python process)', wheels, api.elapsed, apiRate, oursRate / apiRate],
            ['python -m build --wheel --no-isolation (per wheel)', cliRounds * roots.length, cliSecs, cliRate, oursRate / cliRate],
          ],
          notes: [
            `all ${ours.size} wheels byte-identical across the three tools (sha256 compared)`,
            'target: ≥ 20× hatchling\'s builder API throughput',
            `N=${n} rounds in-process (PROVENANT_BENCH_BUILD_N), ${cliRounds} rounds of python -m build (PROVENANT_BENCH_BUILD_CLI_N)`,
          ],
        },
      ];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
