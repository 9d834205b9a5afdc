import type { TargetFile, Targets } from '@tufjs/models';
import { DEFAULT_COMMIT_ATTEMPTS, retryAfterConflict } from '../tuf/commit-conflict.ts';
import { ProvenantError, isProvenantError } from '../errors.ts';
import { attestationKey, consistentTargetPath, pointerTargetPath, wheelKey } from '../formats/layout.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { parsePointer, type Pointer } from '../formats/pointer.ts';
import { assertWheelOfRelease } from '../formats/wheel-binding.ts';
import type { IndexEntry } from '../simple-index/entry.ts';
import { updateIndex } from '../simple-index/update.ts';
import { keepStatusPages, type StatusPagesOutcome } from '../status-page/pages.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { binWithReattested, binWithTargets, classifyTarget, expiresFor, groupByBin, targetFile } from '../tuf/changes.ts';
import { reattestedTargets } from './reattest-plan.ts';
import { keepNewerTimestamp, trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadBin, loadTrustedState, type TrustedState } from '../tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../tuf/writer.ts';
import { sha256Hex } from '../util/hash.ts';
import { asDatadogV2, isLatestTarget, latestUpdates } from './datadog-v2-release.ts';
import { silentReporter, type Reporter } from '../reporter.ts';

/**
 * The publish protocol (ARCHITECTURE.md), written once against Storage:
 *   1. read and verify the repository's trusted state (timestamp etag first);
 *   2. work out which bins gain which pointer targets; a pointer already published with the same
 *      bytes changes nothing, with other bytes it is E_RELEASE_IMMUTABLE; load every signer needed;
 *   3. write the immutable objects (wheel, PEP 658 metadata, attestation, pointer at its
 *      consistent-snapshot path), then each changed bin, then the snapshot (create-only);
 *   4. compare-and-swap timestamp.json on the etag of step 1: the single commit point;
 *      on E_CAS_CONFLICT start again from 1 (bounded, with jitter);
 *   5. update the simple index for the published projects.
 * A failure before 4 leaves the repository as clients saw it (new objects are unreferenced).
 */
export interface Release {
  /** Project name (any spelling; normalised per PEP 503). */
  project: string;
  version: string;
  wheel: {
    fileName: string;
    bytes: Uint8Array;
    /** Exact `.dist-info/METADATA` bytes, served as `<wheel>.metadata` (PEP 658). */
    metadata: Uint8Array;
    /** Defaults to the `Requires-Python` header of `metadata`. */
    requiresPython?: string | undefined;
  };
  /** The pointer file's bytes; it must pin this wheel and this attestation. */
  pointer: Uint8Array;
  /** The signed attestation (Sigstore bundle) the pointer pins. */
  attestation: { fileName: string; bytes: Uint8Array };
}

export type IndexUpdater = (storage: Storage, entries: IndexEntry[], reporter: Reporter) => Promise<{ written: string[] }>;

export interface PublishOptions {
  now?: () => Date;
  /** Commit attempts before giving up on a contended repository (default 10). */
  maxAttempts?: number;
  /** Simple-index update after the commit; default the index engine's `updateIndex`; null skips it. */
  updateIndex?: IndexUpdater | null;
  /** Take the backend's publish lock when it has one (the local directory does). Default true. */
  lock?: boolean;
  /** Keep the status pages (index.html, status/<project>.html) after the index; default true. */
  statusPages?: boolean;
  /**
   * Re-attestation (`repo reattest`, docs/attestation-keys.md): each release must already be
   * published, and its pointer is replaced by one that differs only in its attestation.
   */
  reattest?: boolean;
}

export interface ReleaseOutcome {
  project: string;
  version: string;
  status: 'published' | 'unchanged';
  /** TUF target path of the pointer, and the bin that lists it. */
  target: string;
  bin: string;
  objects: { wheel: string; metadata: string; attestation: string; pointer: string };
}

export interface PublishResult {
  repository: string;
  releases: ReleaseOutcome[];
  /** False when every release was already published (nothing written). */
  committed: boolean;
  attempts: number;
  /** Metadata files written by the successful commit, timestamp.json last. */
  metadataWritten: string[];
  snapshotVersion: number;
  timestampVersion: number;
  indexWritten: string[];
  /** Status pages written; a failure to write them is a warning (E_PUBLISH_STATUS_PAGE), not an error. */
  statusPages: StatusPagesOutcome;
}

export interface PreparedRelease {
  release: Release;
  project: string;
  pointer: Pointer;
  target: TargetFile;
  /** The bytes of the pointer target (the release's pointer, or its Datadog form in the datadog-v2 layout). */
  pointerBytes: Uint8Array;
  keys: ReleaseOutcome['objects'];
}

export async function publishReleases(
  storage: Storage,
  signers: SignerSource,
  releases: readonly Release[],
  reporter: Reporter = silentReporter,
  options: PublishOptions = {},
): Promise<PublishResult> {
  const prepared = dedupe(releases.map(prepareRelease));
  const run = () => publishLocked(storage, signers, prepared, reporter, options);
  return options.lock !== false && hasLock(storage) ? storage.withLock('publish', run) : run();
}

interface LockingStorage extends Storage {
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

function hasLock(s: Storage): s is LockingStorage {
  return typeof (s as Partial<LockingStorage>).withLock === 'function';
}

async function publishLocked(
  storage: Storage,
  source: SignerSource,
  given: PreparedRelease[],
  reporter: Reporter,
  givenOptions: PublishOptions,
): Promise<PublishResult> {
  const now = (givenOptions.now ?? (() => new Date()))();
  const maxAttempts = givenOptions.maxAttempts ?? DEFAULT_COMMIT_ATTEMPTS;
  let uploaded = false;
  for (let attempt = 1; ; attempt++) {
    const state = await loadTrustedState(storage, await trustAnchorOf(source));
    const ddv2 = state.config.layout === 'datadog-v2';
    const prepared = ddv2 ? given.map(asDatadogV2) : given;
    // Datadog's downloader reads neither a simple index nor status pages, and its wheels are not under simple/.
    const options: PublishOptions = ddv2 ? { ...givenOptions, updateIndex: null, statusPages: false } : givenOptions;
    const plan = await planAdditions(storage, state, prepared, now, options.reattest === true);
    const outcomes = prepared.map((p) => outcome(p, plan));
    if (plan.added.length === 0) {
      reporter.info(`nothing to publish: ${prepared.length} release(s) already in ${storage.location}`);
      await keepNewerTimestamp(source, storage, state.timestampBytes, reporter);
      const indexWritten = await refreshIndex(storage, prepared, now, reporter, options);
      const statusPages = await refreshStatusPages(storage, source, prepared, now, reporter, options);
      return {
        repository: storage.location,
        releases: outcomes,
        committed: false,
        attempts: attempt,
        metadataWritten: [],
        snapshotVersion: state.snapshot.signed.version,
        timestampVersion: state.timestamp.signed.version,
        indexWritten,
        statusPages,
      };
    }
    const commitSigners = await signersForCommit(state, source, { bins: plan.bins });
    if (!uploaded) {
      for (const [k, p] of plan.added.entries()) {
        await uploadObjects(storage, p, reporter);
        reporter.progress('releases uploaded', k + 1, plan.added.length);
      }
      for (const l of plan.latest) await storage.putImmutable(l.key, l.bytes, objectPropsFor(l.key));
      uploaded = true;
    }
    try {
      const commit = await commitChanges(storage, state, commitSigners, { bins: plan.bins }, now);
      await keepNewerTimestamp(source, storage, commit.timestamp, reporter);
      reporter.debug(`committed timestamp v${commit.timestampVersion} (snapshot v${commit.snapshotVersion}); wrote ${commit.written.join(', ')}`);
      for (const p of plan.added) reporter.step(p.project, 'publish', 'ok', `${p.release.wheel.fileName} → ${plan.binOf.get(p.target.path)}`);
      const indexWritten = await refreshIndex(storage, prepared, now, reporter, options);
      const statusPages = await refreshStatusPages(storage, source, prepared, now, reporter, options);
      return {
        repository: storage.location,
        releases: outcomes,
        committed: true,
        attempts: attempt,
        metadataWritten: commit.written,
        snapshotVersion: commit.snapshotVersion,
        timestampVersion: commit.timestampVersion,
        indexWritten,
        statusPages,
      };
    } catch (e) {
      await retryAfterConflict(e, attempt, reporter, maxAttempts);
    }
  }
}

interface Plan {
  added: PreparedRelease[];
  bins: Map<string, Targets>;
  binOf: Map<string, string>;
  /** datadog-v2: the latest.json targets this publish moves, with their objects. */
  latest: ReturnType<typeof latestUpdates>;
}

/** Which bins gain which targets, checked against what is already published. */
async function planAdditions(storage: Storage, state: TrustedState, prepared: PreparedRelease[], now: Date, reattest: boolean): Promise<Plan> {
  const groups = groupByBin(state.targets.signed, prepared.map((p) => p.target));
  const byPath = new Map(prepared.map((p) => [p.target.path, p]));
  const added: PreparedRelease[] = [];
  const bins = new Map<string, Targets>();
  const binOf = new Map<string, string>();
  const latest: Plan['latest'] = [];
  for (const [name, files] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const bin = await loadBin(storage, state, name);
    const fresh = reattest
      ? await reattestedTargets(storage, bin.signed, files.map((f) => ({ target: f, pointer: byPath.get(f.path)!.release.pointer })), state.config.layout)
      : files.filter((f) => classifyTarget(bin.signed, f) === 'added');
    for (const f of files) binOf.set(f.path, name);
    if (fresh.length === 0) continue;
    const freshReleases = fresh.map((f) => byPath.get(f.path)!);
    added.push(...freshReleases);
    const next = bin.signed.version + 1;
    const expires = expiresFor(state.config, 'bins', now);
    if (reattest) {
      bins.set(name, binWithReattested(bin.signed, fresh, next, expires));
      continue;
    }
    const ddv2 = state.config.layout === 'datadog-v2';
    const moved = ddv2 ? latestUpdates(bin.signed, freshReleases) : [];
    latest.push(...moved);
    const targets = [...fresh, ...moved.map((l) => l.target)];
    // latest.json is the one target that moves; every release target stays immutable.
    bins.set(name, binWithTargets(bin.signed, targets, next, expires, ddv2 ? isLatestTarget : undefined));
  }
  return { added, bins, binOf, latest };
}

function outcome(p: PreparedRelease, plan: Plan): ReleaseOutcome {
  return {
    project: p.project,
    version: p.pointer.version,
    status: plan.added.includes(p) ? 'published' : 'unchanged',
    target: p.target.path,
    bin: plan.binOf.get(p.target.path) ?? '',
    objects: p.keys,
  };
}

/** Wheel and its metadata, the attestation, then the pointer that pins them: create-only. */
async function uploadObjects(storage: Storage, p: PreparedRelease, reporter: Reporter): Promise<void> {
  const r = p.release;
  const puts: [string, Uint8Array][] = [
    [p.keys.wheel, r.wheel.bytes],
    [p.keys.metadata, r.wheel.metadata],
    [p.keys.attestation, r.attestation.bytes],
    [p.keys.pointer, p.pointerBytes],
  ];
  for (const [key, bytes] of puts) {
    const res = await storage.putImmutable(key, bytes, objectPropsFor(key));
    reporter.debug(`${key}: ${res}`, 2);
  }
}

async function refreshIndex(
  storage: Storage,
  prepared: PreparedRelease[],
  now: Date,
  reporter: Reporter,
  options: PublishOptions,
): Promise<string[]> {
  const updater = options.updateIndex === undefined ? updateIndex : options.updateIndex;
  if (updater === null) return [];
  const entries: IndexEntry[] = prepared.map((p) => ({
    project: p.project,
    version: p.pointer.version,
    fileName: p.release.wheel.fileName,
    sha256: p.pointer.digest,
    size: p.pointer.length,
    metadataSha256: sha256Hex(p.release.wheel.metadata),
    requiresPython: p.release.wheel.requiresPython ?? requiresPythonOf(p.release.wheel.metadata),
    uploadTime: now,
  }));
  try {
    return (await updater(storage, entries, reporter)).written;
  } catch (e) {
    throw new ProvenantError('E_PUBLISH_INDEX', `the release is committed but the simple index could not be updated: ${(e as Error).message}`, {
      exitClass: isProvenantError(e) ? e.exitClass : 'internal',
      hint: 'run the same publish again: it changes no TUF metadata and retries the index',
      cause: e,
    });
  }
}

/** After the index: the overview and the published projects' status pages (docs/status-page.md). */
async function refreshStatusPages(
  storage: Storage,
  source: SignerSource,
  prepared: PreparedRelease[],
  now: Date,
  reporter: Reporter,
  options: PublishOptions,
): Promise<StatusPagesOutcome> {
  if (options.statusPages === false) return { written: [] };
  return keepStatusPages(storage, source, { projects: prepared.map((p) => p.project), now: () => now }, reporter);
}

/** Checks a release is self-consistent (the pointer pins exactly these bytes) and names its objects. */
export function prepareRelease(r: Release): PreparedRelease {
  const project = normalizeProjectName(r.project);
  const where = `${project} ${r.version}`;
  const pointer = parsePointer(new TextDecoder().decode(r.pointer), `pointer of ${where}`);
  const bad = (field: string, why: string) =>
    new ProvenantError('E_RELEASE_INVALID', `${where}: ${why}`, {
      file: `pointer of ${where}`,
      field,
      hint: 'rebuild and re-sign the integration (`provenant build` then `provenant sign`) so dist/ is consistent',
    });
  if (normalizeProjectName(pointer.name) !== project) throw bad('pointer.name', `pointer names project ${pointer.name}`);
  if (pointer.version !== r.version) throw bad('pointer.version', `pointer names version ${pointer.version}`);
  if (pointer.digest !== sha256Hex(r.wheel.bytes) || pointer.length !== r.wheel.bytes.byteLength) {
    throw bad('pointer.digest', `pointer does not pin the wheel ${r.wheel.fileName}`);
  }
  if (pointer.attestation.digest !== sha256Hex(r.attestation.bytes) || pointer.attestation.length !== r.attestation.bytes.byteLength) {
    throw bad('pointer.attestation.digest', `pointer does not pin the attestation ${r.attestation.fileName}`);
  }
  for (const [field, name] of [
    ['wheel.fileName', r.wheel.fileName],
    ['attestation.fileName', r.attestation.fileName],
  ] as const) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.+!-]*$/.test(name)) throw bad(field, `${JSON.stringify(name)} is not a plain file name`);
  }
  assertWheelOfRelease(r.wheel.fileName, { project, version: r.version }, { file: `pointer of ${where}`, field: 'wheel.fileName' });
  const pointerPath = pointerTargetPath(project, r.version);
  const pointerSha = sha256Hex(r.pointer);
  const wheel = wheelKey(project, r.wheel.fileName);
  return {
    release: r,
    project,
    pointer,
    pointerBytes: r.pointer,
    target: targetFile(pointerPath, r.pointer, {
      name: project,
      version: r.version,
      wheel: { file: r.wheel.fileName, sha256: pointer.digest, length: pointer.length },
    }),
    keys: {
      wheel,
      metadata: `${wheel}.metadata`,
      attestation: attestationKey(project, r.attestation.fileName),
      pointer: consistentTargetPath(pointerPath, pointerSha),
    },
  };
}

function dedupe(prepared: PreparedRelease[]): PreparedRelease[] {
  const seen = new Map<string, PreparedRelease>();
  for (const p of prepared) {
    const prev = seen.get(p.target.path);
    if (!prev) seen.set(p.target.path, p);
    else if (prev.target.hashes.sha256 !== p.target.hashes.sha256) {
      throw new ProvenantError('E_RELEASE_INVALID', `${p.project} ${p.pointer.version} is given twice with different content`, {
        exitClass: 'usage',
        hint: 'publish each version once',
      });
    }
  }
  return [...seen.values()];
}

/** `Requires-Python` from the METADATA header block (RFC 822 style, before the first blank line). */
export function requiresPythonOf(metadata: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(metadata);
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const m = /^Requires-Python:[ \t]*(.*?)[ \t]*$/im.exec(head);
  return m?.[1] || undefined;
}

