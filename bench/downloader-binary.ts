// The single-executable downloader (dist/provenant-download) against `provenant download` and
// the Python reference (bench/download_reference.py: python-tuf ngclient + hashlib), one
// download per process as a host runs it, same loopback repository, same run. Each run is
// measured by /usr/bin/time: wall, CPU (user + sys) and peak RSS of the whole process.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildDownloader } from '../scripts/build-downloader.ts';
import { pointerTargetPath } from '../src/formats/layout.ts';
import { peerPython, REPO_ROOT } from '../test/helpers/peers.ts';
import { benchRepo, median } from './download.ts';
import type { Benchmark, BenchTable } from './table.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const PROJECT = 'datadog-bench';
const VERSION = '1.0.0';
const TIME = '/usr/bin/time';

type Tool = 'binary' | 'baseline' | 'cli' | 'python';
type Mode = 'cold' | 'warm' | 'start-up';
interface Sample {
  wall: number;
  cpu: number;
  rssKiB: number;
}

/** One process under /usr/bin/time; a failed run fails the benchmark (a refusal is not a fast download). */
async function timed(argv: string[], work: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const out = path.join(work, 'time.txt');
  await run(TIME, ['-o', out, '-f', '%e %U %S %M', ...argv], { env, maxBuffer: 1 << 20 });
  const [wall, user, sys, rss] = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys!, rssKiB: rss! };
}

function command(tool: Tool, mode: Mode, exe: string, url: string, rootFile: string, dir: string): string[] {
  if (tool === 'baseline') exe = process.env.PROVENANT_BENCH_BINARY_BASELINE!;
  if (mode === 'start-up') {
    if (tool === 'binary' || tool === 'baseline') return [exe, '--help'];
    if (tool === 'cli') return [process.execPath, path.join(REPO_ROOT, 'bin/provenant.js'), 'download', '--help'];
    return [peerPython(), '-c', 'import hashlib, urllib.request; from tuf.ngclient import Updater'];
  }
  const common = [PROJECT, '--version', VERSION, '--repository', url, '--root', rootFile, '--state-dir', path.join(dir, 'state'), '--dest', path.join(dir, 'dest')];
  if (tool === 'binary' || tool === 'baseline') return [exe, ...common];
  if (tool === 'cli') return [process.execPath, path.join(REPO_ROOT, 'bin/provenant.js'), 'download', ...common];
  return [peerPython(), path.join(REPO_ROOT, 'bench/download_reference.py'), url, rootFile, pointerTargetPath(PROJECT, VERSION), '1', mode, dir, '0'];
}

async function once(tool: Tool, mode: Mode, exe: string, url: string, rootFile: string, dir: string): Promise<Sample> {
  await mkdir(dir, { recursive: true });
  if (mode === 'cold') await Promise.all(['state', 'metadata'].map((d) => rm(path.join(dir, d), { recursive: true, force: true })));
  await rm(path.join(dir, 'dest'), { recursive: true, force: true });
  // The executable gets an empty environment, as on a host without Node; the CLI and Python their usual one.
  const env = tool === 'binary' || tool === 'baseline' ? {} : { ...process.env, PROVENANT_STATE_DIR: '', PROVENANT_ROOT: '' };
  return timed(command(tool, mode, exe, url, rootFile, dir), dir, env);
}

export const downloaderBinaryBenchmark: Benchmark = {
  name: 'downloader-binary',
  async run(): Promise<BenchTable[]> {
    const rounds = Number(process.env.PROVENANT_BENCH_BINARY_ROUNDS ?? 9);
    const cleanups: (() => unknown)[] = [];
    const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
    const work = await mkdtemp(path.join(tmpdir(), 'provenant-bench-binary-'));
    try {
      const exe = path.join(work, 'provenant-download');
      await buildDownloader(exe);
      const { fx, url } = await benchRepo(t, MiB, 200);
      // An earlier build of the executable, measured in the same rounds (before/after a change).
      const tools: Tool[] = ['binary', ...(process.env.PROVENANT_BENCH_BINARY_BASELINE ? (['baseline'] as const) : []), 'cli', 'python'];
      const rows: (string | number)[][] = [];
      for (const mode of ['start-up', 'cold', 'warm'] as const) {
        const samples: Record<Tool, Sample[]> = { binary: [], baseline: [], cli: [], python: [] };
        for (let r = 0; r < rounds; r++) {
          // Rotating order: the machine's load drifts, and every tool sees the same drift.
          for (let i = 0; i < tools.length; i++) {
            const tool = tools[(r + i) % tools.length]!;
            samples[tool].push(await once(tool, mode, exe, url, fx.rootFile, path.join(work, `${tool}-${mode}`)));
          }
        }
        const m = (tool: Tool, k: keyof Sample) => median(samples[tool].map((s) => s[k]));
        for (const tool of tools) {
          rows.push([
            mode,
            { binary: 'provenant-download (SEA)', baseline: 'baseline executable', cli: 'provenant download', python: 'python reference' }[tool],
            Math.round(m(tool, 'wall') * 1000),
            Math.round(m(tool, 'cpu') * 1000),
            Math.round(m(tool, 'rssKiB') / 1024),
            tool === 'python' ? '1.00×' : `${(m('python', 'wall') / m(tool, 'wall')).toFixed(2)}×`,
            tool === 'python' ? '1.00×' : `${(m('python', 'cpu') / m(tool, 'cpu')).toFixed(2)}×`,
          ]);
        }
      }
      return [
        {
          title: 'downloader-binary: one verified download per process, 1 MiB wheel, loopback `provenant serve` (201 releases in 256 bins)',
          columns: ['run', 'tool', 'wall ms', 'CPU ms', 'peak RSS MiB', 'speed-up (wall)', 'speed-up (CPU)'],
          rows,
          notes: [
            `Medians of ${rounds} rounds, tools in rotating order; /usr/bin/time (%e, %U+%S, %M) around each whole process.`,
            'Knobs: PROVENANT_BENCH_BINARY_ROUNDS; PROVENANT_BENCH_BINARY_BASELINE=<an executable> adds its row, measured in the same rounds.',
            'start-up: `provenant-download --help`, `provenant download --help`, and Python importing the reference\'s modules.',
            'cold: a fresh state directory (root.json only); warm: trusted metadata kept. The binary runs with an empty environment (no PATH, no Node).',
            'Speed-up is python ÷ tool (above 1: faster than the reference). The reference checks no DSSE signature and no policy.',
          ],
        },
      ];
    } finally {
      for (const fn of cleanups.reverse()) await fn();
      await rm(work, { recursive: true, force: true });
    }
  },
};
