import { MetadataKind, type Metadata, type Root, type Targets } from '@tufjs/models';
import { ProvenantError, isProvenantError } from '../errors.ts';
import type { Signer } from '../signers/signer.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { expiresFor, nextSnapshot, nextTimestamp, releaseDelegationOf, resigned } from './changes.ts';
import { checkExpiry } from './config.ts';
import { timestampCopyKey } from './history.ts';
import { validlySigned } from './metadata-checks.ts';
import { metadataKey, serializeMetadata, signMetadata, type Signed } from './sign.ts';
import type { SignerSource } from './signer-source.ts';
import { loadBin, type TrustedState } from './trusted-state.ts';

/**
 * Commits new versions of roles onto a trusted state, in the order that keeps the repository
 * valid at every instant: versioned metadata first (create-only, so a file a client may already
 * have is never replaced), then timestamp.json by compare-and-swap on the etag the state was
 * read with: the single commit point, then a copy of it under its version (history.ts). A lost
 * compare-and-swap is E_CAS_CONFLICT and the caller re-reads, rebases and retries.
 *
 * Nothing signed moves a client backwards: the snapshot's version is above every validly signed
 * snapshot present, every file it lists is at least at the version the newest ones list (the
 * state's floor: leftovers below it are superseded by re-signing), and timestamp version N pins
 * snapshot version N, so it is above every timestamp ever committed (each pinned a snapshot at
 * least as new as its own version).
 */
export interface PendingChanges {
  /** New root content; written as version root+1. */
  root?: Root;
  /** New top-level targets content; written as the next free version. */
  targets?: Targets;
  /** Bin name → new content; each written as the next free version. */
  bins?: ReadonlyMap<string, Targets>;
}

export interface CommitResult {
  /** Storage keys of every metadata file this commit wrote, timestamp.json last. */
  written: string[];
  /** Role file name (e.g. `bins-3a.json`) → version now current. */
  versions: Record<string, number>;
  snapshotVersion: number;
  timestampVersion: number;
  timestampEtag: string;
  /** The new root's bytes when this commit signed one: the operator's trusted root from now on. */
  root?: Uint8Array;
  /** The committed timestamp.json's bytes (what the key store keeps). */
  timestamp: Uint8Array;
}

/**
 * Orphans of interrupted or losing publishers can occupy the next version of a role; those
 * numbers are skipped (clients only need versions to increase) up to this many times.
 */
const MAX_VERSION_PROBES = 64;

/** Gathers every signer the commit needs before anything is written, so a missing key writes nothing. */
export async function signersForCommit(state: TrustedState, source: SignerSource, changes: PendingChanges): Promise<CommitSigners> {
  const root = state.root.signed;
  const top = async (role: 'root' | 'targets' | 'snapshot' | 'timestamp') => {
    const r = root.roles[role];
    if (!r) throw new ProvenantError('E_REPO_TAMPERED', `root defines no ${role} role`, { exitClass: 'verification', hint: 'the root in the repository is not one provenant signed: restore it from the key store\'s root.json' });
    return source.signersFor(role, r.keyIDs, r.threshold);
  };
  const succinct = releaseDelegationOf((changes.targets ?? state.targets.signed) as Targets);
  const below = belowFloor(state, changes);
  return {
    root: changes.root ? await top('root') : [],
    targets: changes.targets || below.targets === 'resign' ? await top('targets') : [],
    bins: (changes.bins && changes.bins.size > 0) || below.bins.length > 0 ? await source.signersFor('bins', succinct.keyIDs, succinct.threshold) : [],
    snapshot: await top('snapshot'),
    timestamp: await top('timestamp'),
  };
}

/**
 * What the next snapshot would list below the floor unless superseded: bins to re-sign as they
 * are, and targets to list as the floor's (a refresh's leftover that changes nothing) or re-sign.
 */
export function belowFloor(state: TrustedState, changes: PendingChanges): { bins: string[]; targets?: 'adopt' | 'resign' } {
  const floor = state.history.floor;
  if (!floor) return { bins: [] };
  const current = state.snapshot.signed.meta;
  const bins = Object.keys(current)
    .filter((file) => file !== 'targets.json' && (floor.meta[file] ?? 0) > current[file]!.version)
    .map((file) => file.slice(0, -'.json'.length))
    .filter((name) => !changes.bins?.has(name));
  const targetsBelow = !changes.targets && (floor.meta['targets.json'] ?? 0) > state.targets.signed.version;
  return { bins, ...(targetsBelow ? { targets: floor.targets ? ('adopt' as const) : ('resign' as const) } : {}) };
}

export interface CommitSigners {
  root: Signer[];
  targets: Signer[];
  bins: Signer[];
  snapshot: Signer[];
  timestamp: Signer[];
}

export async function commitChanges(
  storage: Storage,
  state: TrustedState,
  signers: CommitSigners,
  changes: PendingChanges,
  now: Date,
): Promise<CommitResult> {
  const { config } = state;
  const floor = state.history.floor;
  const above = (file: string, current: number) => Math.max(current, floor?.meta[file] ?? 0) + 1;
  const below = belowFloor(state, changes);
  const written: string[] = [];
  const versions: Record<string, number> = {};
  let rootBytes: Uint8Array | undefined;
  // A taken version number is either an orphan (a publisher that crashed or lost before its
  // commit: skip past it) or a rival's commit in progress. Once the commit point has moved,
  // this attempt can only lose its compare-and-swap: give up now and rebase, instead of
  // signing and writing one more orphan per version probed.
  const overtaken = async () => (await storage.get(metadataKey('timestamp')))?.etag !== state.timestampEtag;

  if (changes.root) {
    checkExpiry('root', changes.root.expires, now);
    const v = state.root.signed.version + 1;
    const md = await signMetadata(resigned(changes.root, v, changes.root.expires), signers.root, 'root');
    const key = metadataKey('root', v);
    rootBytes = serializeMetadata(md);
    try {
      await storage.putImmutable(key, rootBytes, objectPropsFor(key));
    } catch (e) {
      if (isProvenantError(e) && e.code === 'E_IMMUTABLE_CONFLICT') throw casConflict(key, e);
      throw e;
    }
    written.push(key);
  }
  const targets = changes.targets ?? (below.targets === 'resign' ? state.targets.signed : undefined);
  if (targets) {
    checkExpiry('targets', targets.expires, now);
    const v = await writeVersioned(storage, 'targets', above('targets.json', state.targets.signed.version), (n) => resigned(targets, n, targets.expires), signers.targets, written, overtaken);
    versions['targets.json'] = v.version;
  } else if (below.targets === 'adopt') {
    versions['targets.json'] = floor!.targets!.signed.version;
  }
  const bins = new Map(changes.bins ?? []);
  for (const name of below.bins) {
    const bin = (await loadBin(storage, state, name)).signed;
    bins.set(name, resigned(bin, bin.version, expiresFor(config, 'bins', now)));
  }
  for (const [name, bin] of [...bins].sort(([a], [b]) => a.localeCompare(b))) {
    checkExpiry('bins', bin.expires, now);
    const file = `${name}.json`;
    const v = await writeVersioned(storage, name, above(file, state.snapshot.signed.meta[file]?.version ?? 0), (n) => resigned(bin, n, bin.expires), signers.bins, written, overtaken);
    versions[file] = v.version;
  }

  const prevSnap = state.snapshot.signed;
  const snap = await writeVersioned(
    storage,
    'snapshot',
    Math.max(prevSnap.version, floor?.snapshot ?? 0) + 1,
    (n) => nextSnapshot(prevSnap, versions, n, config.specVersion, expiresFor(config, 'snapshot', now)),
    signers.snapshot,
    written,
    overtaken,
  );

  const tsVersion = Math.max(snap.version, state.history.minTimestampVersion);
  const ts = await signMetadata(
    nextTimestamp(snap.version, snap.bytes, tsVersion, config.specVersion, expiresFor(config, 'timestamp', now)),
    signers.timestamp,
    'timestamp',
  );
  const tsKey = metadataKey('timestamp');
  const tsBytes = serializeMetadata(ts);
  const etag = await storage.putIfMatch(tsKey, tsBytes, objectPropsFor(tsKey), state.timestampEtag);
  written.push(tsKey);
  await keepTimestampCopy(storage, tsVersion, tsBytes, state.root);
  return {
    written,
    versions,
    snapshotVersion: snap.version,
    timestampVersion: tsVersion,
    timestampEtag: etag,
    timestamp: tsBytes,
    ...(rootBytes ? { root: rootBytes } : {}),
  };
}

/**
 * The committed timestamp under its version: the evidence that tells a later publisher its
 * snapshot was committed, should timestamp.json be moved back. Create-only like every versioned
 * object (a bucket policy can enforce it); written only once the commit has happened. Something
 * there that is not a timestamp of that version signed by `root`'s keys was put there by someone
 * without keys, to keep this commit's evidence out: it is replaced (compare-and-swap on what was
 * read). No client reads these copies, so no cache can hold the old bytes.
 */
export async function keepTimestampCopy(storage: Storage, version: number, bytes: Uint8Array, root?: Metadata<Root>): Promise<void> {
  const key = timestampCopyKey(version);
  try {
    try {
      await storage.putImmutable(key, bytes, objectPropsFor(key));
    } catch (e) {
      if (!(root && isProvenantError(e) && e.code === 'E_IMMUTABLE_CONFLICT')) throw e;
      const held = await storage.get(key);
      const copy = held && validlySigned(MetadataKind.Timestamp, held.bytes, root, 'timestamp', key, storage);
      if (!held || (copy && copy.signed.version === version)) throw e;
      await storage.putIfMatch(key, bytes, objectPropsFor(key), held.etag);
    }
  } catch (e) {
    throw new ProvenantError('E_TIMESTAMP_COPY', `timestamp version ${version} is committed, but its copy ${key} could not be written: ${(e as Error).message}`, {
      exitClass: isProvenantError(e) ? e.exitClass : 'internal',
      file: key,
      hint: 'the commit stands; run the same command again to finish its remaining steps (the copy only helps tell a rolled-back timestamp.json from a crash leftover later)',
      cause: e,
    });
  }
}

async function writeVersioned(
  storage: Storage,
  role: string,
  first: number,
  make: (version: number) => Signed,
  signers: readonly Signer[],
  written: string[],
  overtaken: () => Promise<boolean>,
): Promise<{ version: number; bytes: Uint8Array; md: Metadata<Signed> }> {
  let lastConflict: unknown;
  for (let v = first; v < first + MAX_VERSION_PROBES; v++) {
    const md = await signMetadata(make(v), signers, role);
    const bytes = serializeMetadata(md);
    const key = metadataKey(role, v);
    try {
      await storage.putImmutable(key, bytes, objectPropsFor(key));
      written.push(key);
      return { version: v, bytes, md };
    } catch (e) {
      if (!(isProvenantError(e) && e.code === 'E_IMMUTABLE_CONFLICT')) throw e;
      if (await overtaken()) throw casConflict(key, e);
      lastConflict = e;
    }
  }
  throw versionsTaken(role, first, first + MAX_VERSION_PROBES - 1, lastConflict);
}

/**
 * Every version probed is taken and the commit point never moved: no rival is at work, so this is
 * not contention to retry but objects no commit wrote (nothing committed lists a version this
 * high): someone with write access filled them, or publishers kept dying at that step.
 */
function versionsTaken(role: string, from: number, to: number, cause: unknown): ProvenantError {
  const range = `${metadataKey(role, from)} … ${metadataKey(role, to)}`;
  return new ProvenantError('E_METADATA_VERSIONS_TAKEN', `${range} are all taken, while no other publisher committed: the next ${role} version cannot be written`, {
    exitClass: 'verification',
    file: metadataKey(role, from),
    hint: `no committed metadata lists these versions, so move them out of the repository (keep them to find out who wrote them), then run the command again`,
    cause,
  });
}

function casConflict(key: string, cause: unknown): ProvenantError {
  return new ProvenantError('E_CAS_CONFLICT', `${key} was written by another publisher`, { exitClass: 'conflict', file: key, cause, hint: 'publishers kept racing: run the command again' });
}
