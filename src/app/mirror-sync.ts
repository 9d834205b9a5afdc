import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TargetFile } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import { METADATA_DIR } from '../formats/layout.ts';
import type { Fetcher } from '../net/fetcher.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { rebuildIndex } from '../simple-index/rebuild.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import { openStorage } from '../storage/open.ts';
import type { S3StorageOptions } from '../storage/s3.ts';
import { sha256Hex } from '../util/hash.ts';
import { downloadPinnedAttestation, downloadPinnedWheel } from '../verify/artifact.ts';
import { checkPointer } from '../verify/pointer-check.ts';
import { repositoryBaseUrl } from '../verify/repository-url.ts';
import { repositoryStateDir } from '../verify/state-dir.ts';
import { readRootFile } from '../verify/trust-anchor.ts';
import { TufClient } from '../verify/tuf-client.ts';
import { pointerPrefixIn, releasesIn } from '../verify/datadog-v2-versions.ts';
import { RecordingFetcher } from '../mirror/recording-fetcher.ts';
import { rootsUpTo } from '../mirror/root-chain.ts';
import { openRepositoryFetcher } from './download.ts';
import { verifiedCoreMetadata } from './mirror-core-metadata.ts';

const TIMESTAMP_KEY = `${METADATA_DIR}/timestamp.json`;

export interface MirrorSyncRequest {
  src: string;
  dst: string;
  root?: string | undefined;
  s3?: S3StorageOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  reporter?: Reporter;
}

export interface MirrorSyncResult {
  ok: true;
  src: string;
  dst: string;
  tuf: { root: number; timestamp: number; snapshot: number };
  releases: number;
  /** Objects created at DST by this run, and those already there with the same bytes (a resumed sync). */
  written: number;
  unchanged: number;
}

/** What is copied: bytes in memory, or a verified wheel in the scratch directory. */
type Source = Uint8Array | { file: string };

/**
 * `provenant mirror sync SRC DST`: reads SRC through the downloader's TUF client from the root
 * you trust (every role, every bin, every target with its length and hashes, every wheel and
 * attestation a pointer pins, each `.whl.metadata` against its wheel), and only when all of it
 * passed writes the same bytes to DST: immutable objects first (create-only, so a resumed sync
 * finds what it wrote before), the index pages, then DST's timestamp.json last by
 * compare-and-swap, the commit point the publish protocol uses.
 */
export async function syncMirror(req: MirrorSyncRequest): Promise<MirrorSyncResult> {
  const env = req.env ?? process.env;
  const cwd = req.cwd ?? process.cwd();
  const reporter = req.reporter ?? silentReporter;
  const rootFile = req.root ?? (env.PROVENANT_ROOT || undefined);
  if (!rootFile) {
    throw new ProvenantError('E_USAGE', '--root is required: SRC is verified from a root you trust, never from SRC itself', { exitClass: 'usage', field: '--root', hint: 'pass the key store\'s keys/root.json with --root' });
  }
  const given = await readRootFile(rootFile, '--root');
  const srcUrl = repositoryBaseUrl(req.src, cwd);
  const dst = openStorage(req.dst, { ...req.s3, cwd, env });
  const scratch = await mkdtemp(path.join(tmpdir(), 'provenant-sync-'));
  const base = await openRepositoryFetcher(srcUrl, { s3: req.s3, net: { env } });
  const rec = new RecordingFetcher(base, srcUrl);
  try {
    const tuf = await TufClient.open({ repositoryUrl: srcUrl, stateDir: repositoryStateDir(path.join(scratch, 'state'), srcUrl), rootFile, fetcher: rec, reporter });
    await tuf.refresh();
    const targets = await tuf.listTargets('');
    const targetBytes = new Map<string, Uint8Array>();
    for (const t of targets) targetBytes.set(t.path, await tuf.fetchTarget(t));
    await tuf.flush();
    const v = tuf.versions();
    reporter.debug(`✓ tuf: root v${v.root}, timestamp v${v.timestamp}, snapshot v${v.snapshot}, ${targets.length} targets`);

    const copies = new Map<string, Source>(rec.recorded);
    const releases = await verifyReleases(targets, targetBytes, base, srcUrl, rec, path.join(scratch, 'wheels'), copies, tuf.layout());
    for (const [key, bytes] of await rootsUpTo(base, srcUrl, given)) copies.set(key, bytes);
    const timestamp = copies.get(TIMESTAMP_KEY) as Uint8Array;
    copies.delete(TIMESTAMP_KEY);

    const current = await dst.get(TIMESTAMP_KEY);
    checkNoRollback(current?.bytes, timestamp, dst.location);
    let written = 0;
    let unchanged = 0;
    // Metadata after the objects it pins, so DST never lists a version whose files are missing.
    const order = [...copies.keys()].sort((a, b) => Number(a.startsWith(`${METADATA_DIR}/`)) - Number(b.startsWith(`${METADATA_DIR}/`)) || (a < b ? -1 : a > b ? 1 : 0));
    for (const key of order) {
      const src = copies.get(key)!;
      const bytes = src instanceof Uint8Array ? src : await readFile(src.file);
      if ((await dst.putImmutable(key, bytes, objectPropsFor(key))) === 'created') written++;
      else unchanged++;
    }
    // Datadog's downloader reads no simple index, and that layout's wheels are not under simple/.
    if (tuf.layout() !== 'datadog-v2') await rebuildIndex(dst, reporter);
    await dst.putIfMatch(TIMESTAMP_KEY, timestamp, objectPropsFor(TIMESTAMP_KEY), current?.etag);
    written++;
    reporter.step('mirror', 'sync', 'ok', `${srcUrl} → ${dst.location}: timestamp v${v.timestamp}, ${releases} release(s), ${written} written, ${unchanged} already there`);
    return { ok: true, src: srcUrl, dst: dst.location, tuf: { root: v.root, timestamp: v.timestamp ?? 0, snapshot: v.snapshot ?? 0 }, releases, written, unchanged };
  } finally {
    base.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Every pointer's wheel, attestation and `.whl.metadata`, checked against its pins, added to `copies`. Returns the number of releases. */
async function verifyReleases(
  targets: TargetFile[],
  targetBytes: Map<string, Uint8Array>,
  fetcher: Fetcher,
  srcUrl: string,
  rec: RecordingFetcher,
  wheelDir: string,
  copies: Map<string, Source>,
  layout: 'datadog-v2' | undefined,
): Promise<number> {
  // The layout the signed targets say: its pointers are elsewhere, and without them no wheel would be copied.
  // The directory that holds every project's pointer directory (`pointers/`, `wheelsmith/v1/`).
  const dir = pointerPrefixIn(layout, 'x').slice(0, -'x/'.length);
  const projects = new Set(targets.map((t) => (t.path.startsWith(dir) ? t.path.slice(dir.length).split('/')[0] : undefined)).filter((p): p is string => !!p));
  let count = 0;
  await mkdir(wheelDir, { recursive: true });
  for (const project of projects) {
    for (const r of releasesIn(layout, targets, project)) {
      const checked = checkPointer(targetBytes.get(r.target.path)!, r.target, { project, version: r.version }, srcUrl, layout);
      const p = checked.pointer;
      const wheelFile = await downloadPinnedWheel(fetcher, { url: checked.wheelUrl, length: p.length, sha256: p.digest }, wheelDir, checked.wheelFileName);
      const attestation = await downloadPinnedAttestation(fetcher, { url: checked.attestationUrl, length: p.attestation.length, sha256: p.attestation.digest });
      const wheelKey = rec.keyOf(checked.wheelUrl)!;
      copies.set(wheelKey, { file: wheelFile });
      copies.set(rec.keyOf(checked.attestationUrl)!, attestation);
      const metadata = await verifiedCoreMetadata(fetcher, checked.wheelUrl, await readFile(wheelFile), wheelKey);
      if (metadata) copies.set(`${wheelKey}.metadata`, metadata);
      count++;
    }
  }
  return count;
}

/** DST must not be ahead of SRC, nor at SRC's version with other content: a sync never moves a mirror back. */
function checkNoRollback(dstTimestamp: Uint8Array | undefined, srcTimestamp: Uint8Array, location: string): void {
  if (!dstTimestamp) return;
  const version = (b: Uint8Array): number | undefined => {
    try {
      const v = (JSON.parse(Buffer.from(b).toString('utf8')) as { signed?: { version?: unknown } }).signed?.version;
      return Number.isSafeInteger(v) ? (v as number) : undefined;
    } catch {
      return undefined;
    }
  };
  const d = version(dstTimestamp);
  const s = version(srcTimestamp)!; // verified by the TUF refresh above
  // A DST timestamp whose version cannot be read cannot be shown to be older: never overwrite it blindly.
  if (d === undefined || d > s || (d === s && sha256Hex(dstTimestamp) !== sha256Hex(srcTimestamp))) {
    throw new ProvenantError('E_MIRROR_ROLLBACK', d === undefined ? `${location} has a timestamp.json whose version cannot be read: the sync cannot tell whether it would move it back` : `${location} is at timestamp v${d}, ${d > s ? 'newer than' : 'another one than'} the source's v${s}: the sync would move it back`, {
      exitClass: 'conflict',
      file: TIMESTAMP_KEY,
      hint: 'sync from the repository DST was copied from, or into an empty destination',
    });
  }
}
