import { isDeepStrictEqual } from 'node:util';
import { Metadata, MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import { expectVersion, incomplete, parseMetadata, tampered, validlySigned, verifySigned } from './metadata-checks.ts';
import { metadataKey } from './sign.ts';

/**
 * What the repository holds beyond the state timestamp.json commits, and whether that state was
 * moved backwards. Versioned metadata is never deleted, so newer snapshots than the committed one
 * are either leftovers (a publisher that crashed or lost its compare-and-swap, or one still at
 * work) or the trace of a rollback: someone without keys put an older timestamp.json back. Only a
 * timestamp tells them apart, so every commit also keeps a copy of its timestamp under its version
 * (`timestamps/N.timestamp.json`, written once the commit has happened), and the key store keeps the
 * newest timestamp it committed or verified. A newer snapshot that a validly signed timestamp
 * pinned was committed: the repository was rolled back. One that none pinned is a leftover, and the
 * next snapshot lists every file at least at the version the newest leftovers list (their
 * "floor"), so even a rollback whose evidence was deleted never moves a client backwards.
 */
export const TIMESTAMP_COPIES_DIR = 'timestamps';

/** Where the copy of committed timestamp version `n` is kept. */
export function timestampCopyKey(n: number): string {
  return `${TIMESTAMP_COPIES_DIR}/${n}.timestamp.json`;
}

export interface Floor {
  /** Highest validly signed snapshot version present above the committed one. */
  snapshot: number;
  /** Metadata file name → highest version those snapshots list. */
  meta: Record<string, number>;
  /**
   * targets.json at `meta['targets.json']` when it re-signs the committed targets unchanged (a
   * refresh's leftover): listable as it is, so a publisher without the targets key can meet the floor.
   */
  targets?: Metadata<Targets>;
}

export interface History {
  /** Validly signed snapshot versions above the committed one that no timestamp is known to pin. */
  uncommitted: number[];
  floor?: Floor;
  /** The next timestamp's version must be at least this (past every timestamp seen). */
  minTimestampVersion: number;
  /** Set when the state was moved forward past a rolled-back timestamp.json (`rollForward`). */
  rolledForward?: { fromSnapshot: number; toSnapshot: number };
}

interface Found {
  version: number;
  md: Metadata<Snapshot>;
  bytes: Uint8Array;
}

/** A newer snapshot than the committed one that a validly signed timestamp once pinned. */
interface Commit {
  timestampVersion: number;
  snapshotVersion: number;
  /** The snapshot, when still present and validly signed (needed to roll forward). */
  snapshot?: Found;
  evidence: string;
}

export interface Committed {
  root: Metadata<Root>;
  timestamp: Metadata<Timestamp>;
  /** timestamp.json's etag when it was read. */
  timestampEtag: string;
  snapshot: Metadata<Snapshot>;
}

/**
 * timestamp.json changed while its history was read: a rival committed, so the newer evidence
 * is its commit, not a rollback. The caller reads the repository again.
 */
export class TimestampMoved extends Error {}

export interface HistoryOptions {
  /** The key store's kept timestamp (the newest it committed or verified) and where it is. */
  kept?: { bytes: Uint8Array; file: string } | undefined;
  /** Instead of refusing a rolled-back repository, continue from its newest committed snapshot. */
  rollForward?: boolean | undefined;
  /** Before reporting a rollback, check timestamp.json did not move meanwhile (TimestampMoved if it did). */
  recheck?: boolean;
}

export interface Examined {
  history: History;
  /** The snapshot to build on: the committed one, or after `rollForward` the newest proven commit. */
  base: Found | undefined;
}

/**
 * Reads the snapshots above the committed one and the evidence of their commits. Throws
 * E_REPO_ROLLBACK when timestamp.json is behind a proven commit, unless `rollForward`, which
 * returns that commit's snapshot as the base to build on.
 */
export async function examineHistory(storage: Storage, state: Committed, opts: HistoryOptions = {}): Promise<Examined> {
  const { root, timestamp, snapshot } = state;
  const found = await snapshotsAbove(storage, root, snapshot.signed.version);
  const kept = opts.kept ? parseKept(opts.kept.bytes, opts.kept.file) : undefined;
  const commits = await provenCommits(storage, root, timestamp.signed, snapshot.signed.version, found, kept);
  const minTimestampVersion = Math.max(timestamp.signed.version, kept?.signed.version ?? 0) + 1;

  let base: Found | undefined;
  let rolledForward: History['rolledForward'];
  if (commits.length > 0) {
    const newest = commits.reduce((a, b) => (b.snapshotVersion > a.snapshotVersion ? b : a));
    const recoverable = commits.filter((c) => c.snapshot).reduce<Commit | undefined>((a, b) => (!a || b.snapshotVersion > a.snapshotVersion ? b : a), undefined);
    const ok = recoverable !== undefined && recoverable.snapshotVersion >= newest.snapshotVersion;
    if (opts.recheck && (await storage.get(metadataKey('timestamp')))?.etag !== state.timestampEtag) throw new TimestampMoved();
    if (!opts.rollForward || !ok) throw rollbackError(storage, timestamp.signed, newest, ok);
    base = recoverable.snapshot!;
    rolledForward = { fromSnapshot: snapshot.signed.version, toSnapshot: base.version };
  }
  const from = base?.version ?? snapshot.signed.version;
  const above = found.filter((f) => f.version > from);
  const proven = new Set(commits.map((c) => c.snapshotVersion));
  return {
    base,
    history: {
      uncommitted: above.filter((f) => !proven.has(f.version)).map((f) => f.version),
      ...(above.length > 0 ? { floor: floorOf(above) } : {}),
      minTimestampVersion,
      ...(rolledForward ? { rolledForward } : {}),
    },
  };
}

/**
 * Newer snapshots, probed by version until one is missing (a publish reads one object more than
 * before when there are none). Files that do not verify are skipped: anyone can write garbage there.
 */
async function snapshotsAbove(storage: Storage, root: Metadata<Root>, committed: number): Promise<Found[]> {
  const out: Found[] = [];
  for (let v = committed + 1; ; v++) {
    const key = metadataKey('snapshot', v);
    const obj = await storage.get(key);
    if (!obj) return out;
    const md = validlySigned(MetadataKind.Snapshot, obj.bytes, root, 'snapshot', key, storage);
    if (md && md.signed.version === v) out.push({ version: v, md, bytes: obj.bytes });
  }
}

async function provenCommits(
  storage: Storage,
  root: Metadata<Root>,
  current: Timestamp,
  committed: number,
  found: Found[],
  kept: Metadata<Timestamp> | undefined,
): Promise<Commit[]> {
  const commits: Commit[] = [];
  for (const f of found) {
    const key = timestampCopyKey(f.version);
    const obj = await storage.get(key);
    const ts = obj && validlySigned(MetadataKind.Timestamp, obj.bytes, root, 'timestamp', key, storage);
    if (!ts || ts.signed.version <= current.version || ts.signed.snapshotMeta.version !== f.version || !pins(ts.signed, f.bytes)) continue;
    commits.push({ timestampVersion: ts.signed.version, snapshotVersion: f.version, snapshot: f, evidence: `its copy ${key} is validly signed` });
  }
  if (kept && (kept.signed.version > current.version || kept.signed.snapshotMeta.version > committed)) {
    const v = kept.signed.snapshotMeta.version;
    const f = found.find((x) => x.version === v && pins(kept.signed, x.bytes));
    commits.push({
      timestampVersion: kept.signed.version,
      snapshotVersion: v,
      ...(f ? { snapshot: f } : {}),
      evidence: "the key store committed or verified it (its timestamp.json)",
    });
  }
  return commits;
}

function pins(ts: Timestamp, snapshotBytes: Uint8Array): boolean {
  try {
    ts.snapshotMeta.verify(Buffer.from(snapshotBytes));
    return true;
  } catch {
    return false;
  }
}

function floorOf(above: Found[]): Floor {
  const meta: Record<string, number> = {};
  for (const f of above) {
    for (const [file, m] of Object.entries(f.md.signed.meta)) meta[file] = Math.max(meta[file] ?? 0, m.version);
  }
  return { snapshot: Math.max(...above.map((f) => f.version)), meta };
}

/**
 * The floor's targets.json, when it is the committed targets re-signed (same targets, same
 * delegations): a refresh that did not commit. Anything else needs the targets key to supersede.
 */
export async function adoptableTargets(storage: Storage, root: Metadata<Root>, committed: Metadata<Targets>, version: number): Promise<Metadata<Targets> | undefined> {
  const key = metadataKey('targets', version);
  const obj = await storage.get(key);
  const md = obj && validlySigned(MetadataKind.Targets, obj.bytes, root, 'targets', key, storage);
  if (!md || md.signed.version !== version) return undefined;
  const content = (t: Targets) => {
    const { version: _v, expires: _e, ...rest } = t.toJSON() as Record<string, unknown>;
    return rest;
  };
  return isDeepStrictEqual(content(md.signed), content(committed.signed)) ? md : undefined;
}

/** The targets metadata a snapshot names, signed by the targets keys root trusts, at that version. */
export async function targetsOf(storage: Storage, root: Metadata<Root>, snapshot: Metadata<Snapshot>): Promise<Metadata<Targets>> {
  const meta = snapshot.signed.meta['targets.json'];
  if (!meta) throw tampered(storage, metadataKey('snapshot', snapshot.signed.version), 'lists no targets.json');
  const key = metadataKey('targets', meta.version);
  const obj = await storage.get(key);
  if (!obj) throw incomplete(storage, key, `the snapshot names targets version ${meta.version}, which is missing`);
  const targets = parseMetadata(MetadataKind.Targets, obj.bytes, key, storage);
  verifySigned(root, 'targets', targets, key, storage);
  expectVersion(targets.signed.version, meta.version, key, storage);
  return targets;
}

function parseKept(bytes: Uint8Array, file: string): Metadata<Timestamp> {
  try {
    return Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(new TextDecoder().decode(bytes)) as never) as Metadata<Timestamp>;
  } catch (e) {
    throw new ProvenantError('E_KEPT_TIMESTAMP_INVALID', `the key store's timestamp.json is not timestamp metadata: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      hint: "restore it from a backup (it is the newest timestamp this key store committed or verified; deleting it gives up that part of the rollback check)",
    });
  }
}

function rollbackError(storage: Storage, current: Timestamp, newest: Commit, recoverable: boolean): ProvenantError {
  const tsKey = metadataKey('timestamp');
  const fix = recoverable
    ? `run \`provenant repo refresh --roll-forward\` with the same --repository and --keys (online key): it signs a new snapshot and timestamp on top of snapshot ${newest.snapshotVersion}, so every host moves forward again`
    : `snapshot ${newest.snapshotVersion} is no longer in the repository: restore metadata/ and timestamps/ from a backup that holds it, then run \`provenant repo refresh --roll-forward\``;
  return new ProvenantError(
    'E_REPO_ROLLBACK',
    `${tsKey} is version ${current.version} (snapshot ${current.snapshotMeta.version}), behind timestamp version ${newest.timestampVersion} (snapshot ${newest.snapshotVersion}), which was committed: ${newest.evidence}. Someone put back an older ${tsKey}; hosts that saw the newer one refuse it (E_TUF_ROLLBACK) and new hosts miss the releases since`,
    { exitClass: 'verification', file: `${storage.location}/${tsKey}`, hint: fix },
  );
}
