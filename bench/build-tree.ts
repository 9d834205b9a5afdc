// A whole integrations-core tree (the real fixtures, hatch.toml and all, copied under renamed
// projects up to ~85 integrations): provenant builds all of it in one process, against
// `python -m build --wheel --no-isolation` once per integration, which is how `ddev release
// build` builds. Fails if any wheel differs between the two.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../src/cli/main.ts';
import { sha256Hex } from '../src/util/hash.ts';
import { buildWheel } from '../src/wheel/wheel.ts';
import { integrationsCoreTree } from '../test/helpers/integrations-core.ts';
import { peerPython } from '../test/helpers/peers.ts';
import type { BenchTable } from './table.ts';

const run = promisify(execFile);
const EPOCH = 1580601600;

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

/** Wall and CPU seconds of this process (a child process's CPU, e.g. git's, is not counted). */
async function measure<T>(fn: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6, value };
}

export async function wholeTreeTable(work: string): Promise<BenchTable> {
  const copies = Number(process.env.PROVENANT_BENCH_TREE_COPIES ?? 17);
  const tree = path.join(work, 'integrations-core');
  await mkdir(tree);
  const names = await integrationsCoreTree(tree, copies);
  const dirs = names.map((n) => path.join(tree, n));
  const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), TMPDIR: work };

  // One warm-up build of the tree (module loading, JIT), as a long-running release job would have.
  for (const d of dirs) await buildWheel(d, { sourceDateEpoch: EPOCH });

  const oursOut = await mkdtemp(path.join(work, 'tree-ours-'));
  const wheels = await measure(async () => {
    for (const d of dirs) {
      const w = await buildWheel(d, { sourceDateEpoch: EPOCH });
      const tmp = path.join(oursOut, `.${w.fileName}.tmp`);
      await writeFile(tmp, w.bytes);
      await rename(tmp, path.join(oursOut, w.fileName));
    }
  });

  // The command a release engineer runs: wheel, pointer and in-toto statement into each dist/.
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  const cli = await measure(() => main(['build', '--all', '--json'], o, { PATH: process.env.PATH, SOURCE_DATE_EPOCH: String(EPOCH) }, tree));
  if (cli.value !== 0) throw new Error(`provenant build --all failed: ${o.err}`);

  const theirsOut = path.join(work, 'tree-python-m-build');
  const { stdout } = await run(peerPython(), ['-c', PYTHON_M_BUILD, JSON.stringify(dirs), theirsOut], { env, maxBuffer: 16 << 20 });
  const py = JSON.parse(stdout) as { wall: number; cpu: number };

  const mismatches: string[] = [];
  const theirs = await readdir(theirsOut);
  for (const f of theirs) {
    const [a, b] = await Promise.all([readFile(path.join(oursOut, f)).catch(() => undefined), readFile(path.join(theirsOut, f))]);
    if (a === undefined || sha256Hex(a) !== sha256Hex(b)) mismatches.push(f);
  }
  if (theirs.length !== names.length || mismatches.length > 0) throw new Error(`whole tree: ${theirs.length} wheels from python -m build for ${names.length} integrations; differing: ${mismatches.join(', ')}`);

  const n = names.length;
  return {
    title: `Whole integrations-core tree (${n} integrations with hatch.toml, SOURCE_DATE_EPOCH=${EPOCH})`,
    columns: ['tool', 'integrations', 'wall s', 'ms/integration', 'CPU ms/integration', 'provenant speed-up (wall)', 'provenant speed-up (CPU)'],
    rows: [
      ['provenant buildWheel + write the .whl, whole tree in one process', n, wheels.wall, (wheels.wall * 1000) / n, (wheels.cpu * 1000) / n, py.wall / wheels.wall, py.cpu / wheels.cpu],
      ['provenant build --all (wheel, pointer, in-toto statement into each dist/)', n, cli.wall, (cli.wall * 1000) / n, (cli.cpu * 1000) / n, py.wall / cli.wall, py.cpu / cli.cpu],
      ['python -m build --wheel --no-isolation, once per integration (as ddev release build)', n, py.wall, (py.wall * 1000) / n, (py.cpu * 1000) / n, 1, 1],
    ],
    notes: [
      `all ${n} wheels byte-identical between provenant and python -m build (sha256 compared)`,
      `tree: the ${names.length / copies} fixtures of test/fixtures/integrations-core, ${copies} copies each under renamed projects (PROVENANT_BENCH_TREE_COPIES)`,
      'one untimed provenant warm-up pass over the tree; python -m build time includes interpreter start-up for each integration, as a release engineer sees it',
      'CPU: provenant\'s own process (build --all also runs git for each integration\'s provenance, not counted); python -m build: all its processes (RUSAGE_CHILDREN of a driver)',
      `1-minute load average ${loadavg()[0]!.toFixed(1)} at the end on ${availableParallelism()} cores`,
    ],
  };
}
