// Publishing to S3 (a real MinIO on loopback) against the same publish to a local directory:
// time to publish one release, and throughput with 8 publishers racing on one bucket, with the
// compare-and-swap retries that racing costs. Every run ends with a consistency check.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishReleases, type PublishResult } from '../src/app/publish.ts';
import { initRepository, repoStatus } from '../src/app/repo.ts';
import { FsStorage } from '../src/storage/fs.ts';
import type { Storage } from '../src/storage/storage.ts';
import { keyStoreSignerSource } from '../src/tuf/signer-source.ts';
import { startMinio } from '../test/helpers/minio.ts';
import { makeRelease } from '../test/s3/fixtures.ts';
import type { Benchmark, BenchTable } from './table.ts';

const SEQUENTIAL = 10;
const PUBLISHERS = 8;
const ROUNDS = 3;

async function seconds<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, v];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

interface Backend {
  name: string;
  /** A fresh, empty repository location; one Storage per publisher (own client, own sockets). */
  fresh(): Promise<() => Storage>;
}

async function measure(backend: Backend, keysDir: string) {
  const signers = keyStoreSignerSource(keysDir);
  // One release at a time, into a repository with the default 256 bins.
  const open = await backend.fresh();
  await initRepository(open(), undefined, { keysDir });
  await publishReleases(open(), signers, [makeRelease('warm-up', '1.0.0')]);
  const single: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const [s] = await seconds(() => publishReleases(open(), signers, [makeRelease(`bench-${i % 4}`, `1.${i}.0`)]));
    single.push(s);
  }
  // PUBLISHERS at once, ROUNDS times, each with a different release.
  const racing = await backend.fresh();
  await initRepository(racing(), undefined, { keysDir });
  const metadataBefore = (await racing().list('metadata/')).length;
  const results: PublishResult[] = [];
  const [total] = await seconds(async () => {
    for (let round = 0; round < ROUNDS; round++) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: PUBLISHERS }, (_, p) => publishReleases(racing(), signers, [makeRelease(`racer-${p % 5}`, `${round}.${p}.0`)])),
        )),
      );
    }
  });
  const status = await repoStatus(racing());
  if (status.releases !== PUBLISHERS * ROUNDS) throw new Error(`${backend.name}: ${status.releases} releases in TUF, expected ${PUBLISHERS * ROUNDS}`);
  const retries = results.map((r) => r.attempts - 1);
  // Versioned metadata written by publishers that then lost the race: never referenced, never removed.
  const referenced = results.reduce((n, r) => n + r.metadataWritten.filter((k) => !k.endsWith('/timestamp.json')).length, 0);
  const orphans = (await racing().list('metadata/')).length - metadataBefore - referenced;
  return {
    median: quantile(single, 0.5),
    p90: quantile(single, 0.9),
    perMinute: (PUBLISHERS * ROUNDS * 60) / total,
    retries: retries.reduce((a, b) => a + b, 0),
    maxAttempts: Math.max(...results.map((r) => r.attempts)),
    orphans,
  };
}

export const s3Benchmark: Benchmark = {
  name: 's3',
  async run(): Promise<BenchTable[]> {
    const cleanups: (() => unknown)[] = [];
    const t = { after: (fn: () => unknown) => cleanups.push(fn) };
    try {
      const work = await mkdtemp(path.join(tmpdir(), 'provenant-bench-s3-'));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      const keysDir = path.join(work, 'keys');
      const minio = await startMinio(t);
      let n = 0;
      const backends: Backend[] = [
        {
          name: 'S3 (MinIO, loopback)',
          async fresh() {
            const bucket = await minio.createBucket();
            return () => minio.storage(`s3://${bucket}/repo`);
          },
        },
        {
          name: 'local directory',
          async fresh() {
            const dir = path.join(work, `fs-${n++}`);
            return () => new FsStorage(dir);
          },
        },
      ];
      const rows: (string | number)[][] = [];
      const raceRows: (string | number)[][] = [];
      for (const b of backends) {
        const r = await measure(b, keysDir);
        rows.push([b.name, r.median * 1000, r.p90 * 1000]);
        raceRows.push([b.name, r.perMinute, r.retries, r.maxAttempts, r.orphans]);
      }
      return [
        {
          title: 'Publish one release (wheel, metadata, attestation, pointer, bin, snapshot, timestamp, index)',
          columns: ['repository', 'median ms', 'p90 ms'],
          rows,
          notes: [`${SEQUENTIAL} sequential publishes into a repository with 256 hashed bins; MinIO built from source, single drive, on loopback.`],
        },
        {
          title: `${PUBLISHERS} concurrent publishers, ${ROUNDS} rounds (${PUBLISHERS * ROUNDS} releases)`,
          columns: ['repository', 'releases/minute', 'CAS retries', 'max attempts', 'orphaned metadata'],
          rows: raceRows,
          notes: [
            'Each publisher has its own client; a lost compare-and-swap on timestamp.json re-reads, rebases and re-signs.',
            'The local directory serialises publishers with a lock file, so it never retries.',
            'Orphaned metadata: versioned bins/snapshots written by publishers that then lost the race (unreferenced, harmless, never deleted).',
            'Every run is checked afterwards: all releases present in the TUF metadata.',
          ],
        },
      ];
    } finally {
      for (const f of cleanups.reverse()) await f();
    }
  },
};
