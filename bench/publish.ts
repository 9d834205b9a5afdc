// Publishing one release into repositories already holding 10^3, 10^4 and 10^5 releases:
// provenant's hashed bins (TAP 15, 256 bins) against the reference POC's flat design, where every
// release is a target of one targets.json that is re-signed whole on each publish. Same keys,
// same signing and serialisation code, same local-directory storage; we count the metadata files
// and bytes re-signed and time the publish (median of a few).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, MetadataKind, type Targets } from '@tufjs/models';
import { publishReleases } from '../src/app/publish.ts';
import { initRepository } from '../src/app/repo.ts';
import { consistentTargetPath, pointerTargetPath } from '../src/formats/layout.ts';
import { sha256Hex } from '../src/util/hash.ts';
import { loadSigner } from '../src/signers/key-store.ts';
import { FsStorage } from '../src/storage/fs.ts';
import { objectPropsFor } from '../src/storage/object-props.ts';
import type { ObjectProps, Storage } from '../src/storage/storage.ts';
import { binWithTargets, expiresFor, groupByBin, nextSnapshot, nextTimestamp, targetFile } from '../src/tuf/changes.ts';
import { metadataKey, serializeMetadata, signMetadata } from '../src/tuf/sign.ts';
import { keyStoreSignerSource } from '../src/tuf/signer-source.ts';
import { loadBin, loadTrustedState } from '../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../src/tuf/writer.ts';
// @tufjs/models builds large maps quadratically; without this the flat design could not even be
// parsed at 10^5 targets, which would flatter the comparison.
import '../src/verify/tuf-models-linear.ts';
import { syntheticRelease } from '../test/publish/synthetic.ts';
import type { Benchmark, BenchTable } from './table.ts';

const SIZES = [1_000, 10_000, 100_000];
const RUNS = 5;

/** Counts metadata writes (files and bytes) of the storage it wraps. */
export class Counting extends FsStorage {
  files = 0;
  bytes = 0;
  private count(key: string, n: number) {
    if (key.startsWith('metadata/')) {
      this.files++;
      this.bytes += n;
    }
  }
  override async putImmutable(key: string, bytes: Uint8Array, props: ObjectProps) {
    const r = await super.putImmutable(key, bytes, props);
    this.count(key, bytes.byteLength);
    return r;
  }
  override async putIfMatch(key: string, bytes: Uint8Array, props: ObjectProps, etag: string | undefined) {
    const r = await super.putIfMatch(key, bytes, props, etag);
    this.count(key, bytes.byteLength);
    return r;
  }
}

function pointerBytes(i: number): Uint8Array {
  return new TextEncoder().encode(`pointer ${i}\n`);
}

/** Adds `n` pointer targets straight to the bins (metadata only: the wheels are not needed to measure re-signing). */
export async function fillBins(storage: Storage, keysDir: string, n: number): Promise<void> {
  const state = await loadTrustedState(storage);
  const files = Array.from({ length: n }, (_, i) => targetFile(pointerTargetPath(`datadog-fill${i % 1000}`, `1.${Math.floor(i / 1000)}.0`), pointerBytes(i)));
  const bins = new Map<string, Targets>();
  for (const [name, add] of groupByBin(state.targets.signed, files)) {
    const bin = await loadBin(storage, state, name);
    bins.set(name, binWithTargets(bin.signed, add, bin.signed.version + 1, expiresFor(state.config, 'bins', new Date())));
  }
  const changes = { bins };
  await commitChanges(storage, state, await signersForCommit(state, keyStoreSignerSource(keysDir, {}), changes), changes, new Date());
}

/** The flat design: one targets.json listing every release, re-signed whole on each publish. */
async function flatInit(storage: Storage, keysDir: string, n: number): Promise<void> {
  const state = await loadTrustedState(storage);
  const targets = state.targets.signed;
  for (let i = 0; i < n; i++) targets.addTarget(targetFile(pointerTargetPath(`datadog-fill${i % 1000}`, `1.${Math.floor(i / 1000)}.0`), pointerBytes(i)));
  await flatCommit(storage, keysDir, targets, 2, state.snapshot.signed.version + 1, state.timestamp.signed.version + 1, state.timestampEtag);
}

async function flatCommit(storage: Storage, keysDir: string, targets: Targets, tv: number, sv: number, tsv: number, etag: string): Promise<void> {
  const targetsKey = await loadSigner(keysDir, 'targets', {});
  const online = await loadSigner(keysDir, 'online', {});
  const spec = targets.specVersion;
  const json = targets.toJSON() as Record<string, unknown>;
  delete json._type;
  const next = (targets.constructor as unknown as { fromJSON(d: unknown): Targets }).fromJSON({ ...json, version: tv });
  const tBytes = serializeMetadata(await signMetadata(next, [targetsKey], 'targets'));
  await storage.putImmutable(metadataKey('targets', tv), tBytes, objectPropsFor(metadataKey('targets', tv)));
  const snap = nextSnapshot(undefined, { 'targets.json': tv }, sv, spec, targets.expires);
  const sBytes = serializeMetadata(await signMetadata(snap, [online], 'snapshot'));
  await storage.putImmutable(metadataKey('snapshot', sv), sBytes, objectPropsFor(metadataKey('snapshot', sv)));
  const ts = nextTimestamp(sv, sBytes, tsv, spec, targets.expires);
  await storage.putIfMatch(metadataKey('timestamp'), serializeMetadata(await signMetadata(ts, [online], 'timestamp')), objectPropsFor('metadata/timestamp.json'), etag);
}

/** Publishing one pointer in the flat design: read, verify and extend targets.json, re-sign it, snapshot, timestamp. */
async function flatPublishOne(storage: Counting, keysDir: string, i: number): Promise<void> {
  const tsObj = (await storage.get(metadataKey('timestamp')))!;
  const ts = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(new TextDecoder().decode(tsObj.bytes)));
  const sv = ts.signed.snapshotMeta.version;
  const snap = Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(new TextDecoder().decode((await storage.get(metadataKey('snapshot', sv)))!.bytes)));
  const tv = snap.signed.meta['targets.json']!.version;
  const tObj = (await storage.get(metadataKey('targets', tv)))!;
  const targets = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(new TextDecoder().decode(tObj.bytes)));
  const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(new TextDecoder().decode((await storage.get(metadataKey('root', 1)))!.bytes)));
  root.verifyDelegate('targets', targets);
  const rel = syntheticRelease('datadog-flat', `9.${i}.0`);
  for (const [key, bytes] of [
    [`simple/datadog-flat/${rel.wheel.fileName}`, rel.wheel.bytes],
    [`simple/datadog-flat/${rel.wheel.fileName}.metadata`, rel.wheel.metadata],
    [`attestations/datadog-flat/${rel.attestation.fileName}`, rel.attestation.bytes],
    [consistentTargetPath(pointerTargetPath('datadog-flat', `9.${i}.0`), sha256Hex(rel.pointer)), rel.pointer],
  ] as const) {
    await storage.putImmutable(key, bytes, objectPropsFor(key));
  }
  targets.signed.addTarget(targetFile(pointerTargetPath('datadog-flat', `9.${i}.0`), rel.pointer));
  await flatCommit(storage, keysDir, targets.signed, tv + 1, sv + 1, ts.signed.version + 1, tsObj.etag);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function ms(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const publishBenchmark: Benchmark = {
  name: 'publish',
  async run(): Promise<BenchTable[]> {
    const rows: (string | number)[][] = [];
    for (const n of SIZES) {
      for (const design of ['hashed bins (256)', 'flat targets.json'] as const) {
        const dir = await mkdtemp(path.join(tmpdir(), 'provenant-bench-publish-'));
        try {
          const keysDir = path.join(dir, 'keys');
          const storage = new Counting(path.join(dir, 'repository'));
          await initRepository(storage, undefined, { keysDir, env: {} });
          if (design === 'flat targets.json') await flatInit(storage, keysDir, n);
          else await fillBins(storage, keysDir, n);
          const signers = keyStoreSignerSource(keysDir, {});
          const times: number[] = [];
          storage.files = 0;
          storage.bytes = 0;
          for (let r = 0; r < RUNS; r++) {
            times.push(
              await ms(() =>
                design === 'flat targets.json'
                  ? flatPublishOne(storage, keysDir, r)
                  : publishReleases(storage, signers, [syntheticRelease('datadog-bench', `9.${r}.0`)], undefined, { updateIndex: null, statusPages: false }),
              ),
            );
          }
          rows.push([n, design, storage.files / RUNS, Math.round(storage.bytes / RUNS / 1024), median(times)]);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    return [
      {
        title: 'Publish one release into a repository of N releases (local directory)',
        columns: ['releases already published', 'design', 'metadata files re-signed', 'KiB re-signed', 'ms (median of 5)'],
        rows,
        notes: [
          'provenant: the release\'s bin, the snapshot and the timestamp, whatever N (target: ≤ 4 files, < 200 ms at 10^5).',
          'flat: the reference POC\'s single targets.json, re-signed whole: cost grows with N.',
          'Both include reading and verifying the current metadata and writing wheel + metadata; the simple index is not included.',
        ],
      },
    ];
  },
};
