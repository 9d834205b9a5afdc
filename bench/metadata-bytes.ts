// `npm run bench -- metadata-bytes`: the bytes a returning host fetches to download a new
// release from a repository of 10^5 releases, by kind (TUF metadata, wheel, attestation,
// pointer), through a byte-counting loopback proxy in front of `provenant serve`: provenant
// download and the reference (python-tuf ngclient + hashlib, bench/download_reference.py),
// same repository, same run. PEP 458 estimates TUF metadata at 5–9 % of what a client downloads.
//
// A returning host: it downloaded version 1.0.0 before (its trusted metadata kept); then 1.1.0
// was published, and it downloads that. The 10^5 other releases are pointers put straight into
// the bins (bench/publish.ts fillBins); the two downloaded releases are published and signed
// the normal way.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pointerTargetPath } from '../src/formats/layout.ts';
import { peerPython, REPO_ROOT } from '../test/helpers/peers.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from '../test/download/helpers/fixture.ts';
import { childUrl, serveElsewhere } from './download.ts';
import { fillBins } from './publish.ts';
import type { Benchmark, BenchTable } from './table.ts';

const run = promisify(execFile);
const PROJECT = 'datadog-bench';
const KINDS = ['metadata', 'wheel', 'attestation', 'pointer', 'other'] as const;
type Kind = (typeof KINDS)[number];
type Tool = 'provenant' | 'python';

function kindOf(urlPath: string): Kind {
  const p = decodeURIComponent(urlPath.split('?')[0]!);
  if (p.startsWith('/metadata/')) return 'metadata';
  if (p.endsWith('.whl')) return 'wheel';
  if (p.startsWith('/attestations/')) return 'attestation';
  if (p.startsWith('/pointers/')) return 'pointer';
  return 'other';
}

/** Body bytes by kind in the proxy's log since it was last emptied. */
async function countLog(log: string): Promise<Record<Kind, number> & { requests: number; files: string[] }> {
  const out = { metadata: 0, wheel: 0, attestation: 0, pointer: 0, other: 0, requests: 0, files: [] as string[] };
  for (const line of (await readFile(log, 'utf8')).split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { path: string; status: number; bytes: number };
    out[kindOf(r.path)] += r.bytes;
    out.requests++;
    out.files.push(`${r.path} ${r.status} ${r.bytes}`);
  }
  return out;
}

async function download(tool: Tool, fx: RepoFixture, url: string, version: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (tool === 'provenant') {
    await run(process.execPath, [path.join(REPO_ROOT, 'bin/provenant.js'), 'download', PROJECT, '--version', version, '--repository', url, '--root', fx.rootFile, '--state-dir', path.join(dir, 'state'), '--dest', path.join(dir, `dest-${version}`)], {
      env: { ...process.env, PROVENANT_STATE_DIR: '', PROVENANT_ROOT: '' },
    });
  } else {
    await run(peerPython(), [path.join(REPO_ROOT, 'bench/download_reference.py'), url, fx.rootFile, pointerTargetPath(PROJECT, version), '1', 'warm', dir, '0']);
  }
}

export const metadataBytesBenchmark: Benchmark = {
  name: 'metadata-bytes',
  async run(): Promise<BenchTable[]> {
    const n = Number(process.env.PROVENANT_BENCH_METADATA_RELEASES ?? 100_000);
    const binCounts = (process.env.PROVENANT_BENCH_METADATA_BINS ?? '256,1024').split(',').map(Number);
    const wheelKiB = (process.env.PROVENANT_BENCH_METADATA_WHEEL_KIB ?? '20,1024').split(',').map(Number);
    const cleanups: (() => unknown)[] = [];
    const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
    const work = await mkdtemp(path.join(tmpdir(), 'provenant-bench-metadata-'));
    const rows: (string | number)[][] = [];
    const detail: string[] = [];
    try {
      for (const bins of binCounts) {
        const fx = await repoFixture(t, { binCount: bins });
        await fillBins(fx.storage, fx.keysDir, n);
        for (const kib of wheelKiB) {
          const v1 = `1.${kib}.0`;
          const v2 = `1.${kib}.1`;
          await publish(fx, [await signedRelease(fx, PROJECT, v1, { size: kib * 1024 })]);
          const log = path.join(work, `requests-${bins}-${kib}.log`);
          await writeFile(log, '');
          const url = await childUrl(t, [path.join(REPO_ROOT, 'bench/byte-counting-proxy.ts'), await serveElsewhere(t, fx.repoDir), log]);
          // First visit (untimed, uncounted): the host's trusted metadata.
          for (const tool of ['provenant', 'python'] as const) await download(tool, fx, url, v1, path.join(work, `${tool}-${bins}-${kib}`));
          await publish(fx, [await signedRelease(fx, PROJECT, v2, { size: kib * 1024 })]);
          for (const tool of ['provenant', 'python'] as const) {
            await writeFile(log, '');
            await download(tool, fx, url, v2, path.join(work, `${tool}-${bins}-${kib}`));
            const c = await countLog(log);
            const total = KINDS.reduce((s, k) => s + c[k], 0);
            rows.push([
              bins,
              `${kib} KiB`,
              tool === 'provenant' ? 'provenant download' : 'python-tuf ngclient reference',
              c.requests,
              (c.metadata / 1024).toFixed(1),
              (c.wheel / 1024).toFixed(1),
              ((c.attestation + c.pointer + c.other) / 1024).toFixed(1),
              `${((100 * c.metadata) / total).toFixed(1)} %`,
            ]);
            if (kib === wheelKiB[0]) detail.push(`${bins} bins, ${tool}: ${c.files.join('; ')}`);
          }
        }
      }
      return [
        {
          title: `metadata-bytes: what a returning host fetches to download a new release, repository of ${n} releases (loopback, byte-counting proxy)`,
          columns: ['bins', 'wheel', 'tool', 'requests', 'metadata KiB', 'wheel KiB', 'attestation + pointer + other KiB', 'metadata share'],
          rows,
          notes: [
            'Returning host: it downloaded x.y.0 before with the same state directory (trusted metadata kept); x.y.1 was then published, and it downloads x.y.1. Body bytes as sent by the server (no HTTP compression).',
            'metadata: everything under metadata/ (root probe, timestamp, snapshot, the bin; targets.json only if it changed). PEP 458 estimates 5–9 %; aim ≤ 5 %.',
            `Knobs: PROVENANT_BENCH_METADATA_RELEASES (${n}), PROVENANT_BENCH_METADATA_BINS (${binCounts.join(',')}), PROVENANT_BENCH_METADATA_WHEEL_KIB (${wheelKiB.join(',')}).`,
            ...detail.map((d) => `requests (path status bytes) at ${wheelKiB[0]} KiB — ${d}`),
          ],
        },
      ];
    } finally {
      for (const fn of cleanups.reverse()) await fn();
      await rm(work, { recursive: true, force: true });
    }
  },
};
