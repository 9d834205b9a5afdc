import path from 'node:path';
import { MetadataKind, type Metadata, type Root, type Snapshot, type TargetFile, type Targets, type Timestamp } from '@tufjs/models';
import { UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import { Updater } from 'tuf-js';
import type { Reporter } from '../reporter.ts';
import { ProvenantError } from '../errors.ts';
import { DDV2_TARGETS_DIR, layoutOfTargets } from '../formats/datadog-v2.ts';
import { consistentTargetPath, METADATA_DIR } from '../formats/layout.ts';
import { readAll, type Fetcher } from '../net/fetcher.ts';
import { TufFetcherAdapter } from '../net/tuf-fetcher.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { TargetCache } from './target-cache.ts';
import { consistentHash, hashMismatch, uncheckablePins } from './target-hashes.ts';
import { checkGivenRoot, invalidStateRoot, parseStateRoot, readRootFile, readStateRoot, ROOT_FILE, ROOT_SOURCE, rootHistoryFile, rootIdentity, rootNotInChain, type RootDocument } from './trust-anchor.ts';
import { fromTufError } from './tuf-errors.ts';
import './tuf-models-linear.ts';
import './tuf-models-verify-cache.ts';

/** The largest pointer or policy target fetched into memory. */
export const MAX_SMALL_TARGET = 1 << 20;

export interface TufClientOptions {
  /** Repository root URL, ending in `/` (repositoryBaseUrl). */
  repositoryUrl: string;
  /** This repository's state directory (repositoryStateDir): trusted metadata lives here. */
  stateDir: string;
  /** A root.json to start trusting from, when the state directory has none yet. */
  rootFile?: string | undefined;
  fetcher: Fetcher;
  reporter: Reporter;
  /** Where targets already verified once are kept by sha256, to skip fetching them again. */
  cache?: TargetCache | undefined;
  /** The command that resets this state (`provenant state forget …`), named in hints. */
  forgetCommand?: string | undefined;
}

/** What the updater keeps private and the downloader needs: the trusted set and per-role loading. */
interface UpdaterInternals {
  trustedSet: { root: Metadata<Root>; targets?: Metadata<Targets>; timestamp?: Metadata<Timestamp>; snapshot?: Metadata<Snapshot> };
  loadTargets(role: string, parentRole: string): Promise<Metadata<Targets> | undefined>;
  loadLocalMetadata(name: string): Buffer;
  persistMetadata(name: string, bytes: Buffer): void;
}

/** The first root of a state that does not exist yet, handed to the Updater's constructor (below). */
let firstRootForConstructor: Buffer | undefined;

/**
 * tuf-js's Updater reads the trusted root from its metadata directory in its constructor. On
 * first use that root is the user's --root, which must not reach the state before a refresh
 * has succeeded with it: this subclass takes it from memory instead.
 */
class AnchoredUpdater extends Updater {
  constructor(options: ConstructorParameters<typeof Updater>[0], firstRoot: Buffer | undefined) {
    firstRootForConstructor = firstRoot;
    try {
      super(options);
    } finally {
      firstRootForConstructor = undefined;
    }
  }
}
const updaterPrototype = Updater.prototype as unknown as UpdaterInternals;
if (typeof updaterPrototype.loadLocalMetadata === 'function') {
  const fromDisk = updaterPrototype.loadLocalMetadata;
  (AnchoredUpdater.prototype as unknown as UpdaterInternals).loadLocalMetadata = function (this: UpdaterInternals, name: string): Buffer {
    return name === MetadataKind.Root && firstRootForConstructor ? firstRootForConstructor : fromDisk.call(this, name);
  };
}

/**
 * The TUF client side of the downloader: tuf-js's Updater (the spec's client workflow) over our
 * fetcher, with its metadata directory in the per-repository state directory. Trust starts only
 * from a root.json given by the user or already in the state, never from the network; a root
 * given on first use is written to the state only once a refresh has succeeded with it.
 */
export class TufClient {
  readonly repositoryUrl: string;
  readonly stateDir: string;
  private readonly updater: Updater;
  private readonly internals: UpdaterInternals;
  private readonly adapter: TufFetcherAdapter;
  private readonly fetcher: Fetcher;
  private readonly cache: TargetCache | undefined;
  private readonly forgetCommand: string;
  /** The --root given, if any, to check against the chain once the refresh has moved it on. */
  private readonly given: (RootDocument & { file: string }) | undefined;
  /** First use: state writes held back until the first refresh succeeds (then undefined). */
  private held: Map<string, Uint8Array> | undefined;
  /** Identities of the root versions trusted during this run (their history files may still be in flight). */
  private readonly rootsThisRun = new Map<number, string>();
  /** The last state write queued per file: writes to one file land in the order tuf-js made them. */
  private readonly writes = new Map<string, Promise<void>>();
  private writeError: { file: string; error: unknown } | undefined;

  private constructor(
    opts: TufClientOptions,
    updater: Updater,
    adapter: TufFetcherAdapter,
    anchor: { given: (RootDocument & { file: string }) | undefined; firstUse: RootDocument | undefined; forgetCommand: string },
  ) {
    this.repositoryUrl = opts.repositoryUrl;
    this.stateDir = opts.stateDir;
    this.updater = updater;
    this.adapter = adapter;
    this.fetcher = opts.fetcher;
    this.cache = opts.cache;
    this.forgetCommand = anchor.forgetCommand;
    this.given = anchor.given;
    this.internals = updater as unknown as UpdaterInternals;
    if (typeof this.internals.loadTargets !== 'function' || typeof this.internals.persistMetadata !== 'function' || typeof updaterPrototype.loadLocalMetadata !== 'function') {
      throw new ProvenantError('E_INTERNAL', 'the installed tuf-js does not have the Updater internals provenant relies on', {
        exitClass: 'internal',
        hint: 'reinstall with `npm ci` (package-lock.json pins the tuf-js provenant was tested with)',
      });
    }
    if (anchor.firstUse) {
      this.held = new Map();
      this.rootsThisRun.set(anchor.firstUse.version, anchor.firstUse.identity);
      this.hold(path.join(this.stateDir, ROOT_FILE), anchor.firstUse.bytes);
      this.hold(rootHistoryFile(this.stateDir, anchor.firstUse.version), anchor.firstUse.bytes);
    }
    // tuf-js persists with a plain writeFileSync: a crash would leave a torn file. Replace it
    // with write-temp, fsync, rename, started at once but not waited for: the fsync (a few ms)
    // then overlaps the next request instead of stopping the event loop. tuf-js never reads
    // back a file it persisted in the same run (it keeps the verified role in memory), and
    // flush() waits for every write before a download may succeed. Every root version is also
    // kept in root-history/ (trust-anchor.ts).
    this.internals.persistMetadata = (name, bytes) => {
      this.hold(path.join(this.stateDir, `${encodeURIComponent(name)}.json`), bytes);
      if (name === MetadataKind.Root) {
        const root = this.internals.trustedSet.root.signed;
        const version = root.version;
        this.rootsThisRun.set(version, rootIdentity(root));
        this.hold(rootHistoryFile(this.stateDir, version), bytes);
      }
    };
  }

  /** Writes `bytes` to `file` in the background, or holds it until the first refresh succeeds. */
  private hold(file: string, bytes: Uint8Array): void {
    if (this.held) this.held.set(file, Uint8Array.from(bytes));
    else this.persist(file, bytes);
  }

  private persist(file: string, bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    const next = (this.writes.get(file) ?? Promise.resolve()).then(() =>
      writeFileAtomic(file, copy).catch((error: unknown) => {
        this.writeError ??= { file, error };
      }),
    );
    this.writes.set(file, next);
  }

  /**
   * Waits until every metadata file tuf-js persisted is on disk (temp file, fsync, rename).
   * Fails if any write failed: a download must not succeed on trust state it could not keep.
   */
  async flush(): Promise<void> {
    await Promise.all(this.writes.values());
    if (this.writeError) {
      const { file, error } = this.writeError;
      throw new ProvenantError('E_TUF_STATE_WRITE', `cannot write trusted metadata to ${file}: ${(error as Error).message}`, {
        exitClass: 'input',
        file,
        hint: 'check that the state directory (--state-dir, PROVENANT_STATE_DIR) is writable and its disk not full',
        cause: error,
      });
    }
  }

  /**
   * Opens the state. With a state root and --root, --root must be in the chain the state has
   * trusted (checked now, or after the refresh when it is newer than the state's root). Without
   * a state root, --root is required and becomes the first root once a refresh succeeds.
   */
  static async open(opts: TufClientOptions): Promise<TufClient> {
    const given = opts.rootFile ? { ...(await readRootFile(opts.rootFile, '--root')), file: opts.rootFile } : undefined;
    const stateRoot = await readStateRoot(opts.stateDir);
    if (!stateRoot && !given) {
      throw new ProvenantError('E_TUF_ROOT_MISSING', `no trusted root for ${opts.repositoryUrl} in ${opts.stateDir}`, {
        exitClass: 'usage',
        field: '--root',
        hint: `pass --root FILE (or PROVENANT_ROOT): ${ROOT_SOURCE}`,
      });
    }
    const forgetCommand = opts.forgetCommand ?? `provenant state forget ${opts.repositoryUrl}`;
    // Parsed (one signature check, remembered for tuf-js's own) only when there is a --root to compare.
    const trusted = stateRoot && given ? parseStateRoot(stateRoot, opts.stateDir, forgetCommand) : undefined;
    if (trusted && given) await checkGivenRoot(given, opts.stateDir, trusted, forgetCommand, opts.reporter);
    const adapter = new TufFetcherAdapter(opts.fetcher);
    let updater: Updater;
    try {
      updater = new AnchoredUpdater(
        { metadataDir: opts.stateDir, metadataBaseUrl: `${opts.repositoryUrl}${METADATA_DIR}/`, targetBaseUrl: opts.repositoryUrl, fetcher: adapter },
        stateRoot ? undefined : given!.bytes,
      );
    } catch (e) {
      throw invalidStateRoot(opts.stateDir, forgetCommand, e);
    }
    return new TufClient(opts, updater, adapter, { given, firstUse: stateRoot ? undefined : given, forgetCommand });
  }

  /**
   * The TUF client workflow, in the spec's order: root rotation (N+1.root.json until one is
   * missing), then timestamp, snapshot, top-level targets. Nothing else is requested while the
   * root is updated, and nothing after a failed root update.
   */
  async refresh(): Promise<void> {
    try {
      await this.guard(() => this.updater.refresh());
    } catch (e) {
      throw this.withForgetHint(e);
    }
    if (this.held) {
      const held = this.held;
      this.held = undefined;
      for (const [file, bytes] of held) this.persist(file, bytes);
    }
    this.checkGivenRootAfterRefresh();
  }

  /** A --root newer than the state's root must be the one the refresh arrived at (or passed). */
  private checkGivenRootAfterRefresh(): void {
    const given = this.given;
    if (!given) return;
    const now = this.internals.trustedSet.root.signed.version;
    const seen = this.rootsThisRun.get(given.version);
    if (given.version > now) throw rootNotInChain(given, this.stateDir, now, this.forgetCommand, `the repository serves no root v${given.version} signed by the trusted root`);
    if (seen !== undefined && seen !== given.identity) {
      throw rootNotInChain(given, this.stateDir, now, this.forgetCommand, `the repository's root v${given.version} is another one`);
    }
  }

  /**
   * Metadata not signed by the trusted root's keys: an attack, or a repository re-created with
   * new keys while this state still trusts the old ones. The hint names the state and the reset.
   */
  private withForgetHint(e: unknown): unknown {
    if (!(e instanceof ProvenantError) || !(e.cause instanceof UnsignedMetadataError)) return e;
    return new ProvenantError(e.code, `${e.message} (trusted root v${this.internals.trustedSet.root.signed.version} from ${this.stateDir})`, {
      exitClass: e.exitClass,
      ...(e.file ? { file: e.file } : {}),
      hint: `if the repository was re-created with new keys (ask its owners; otherwise this is an attack), forget the old trust with \`${this.forgetCommand}\` and download again with --root`,
      cause: e.cause,
    });
  }

  /** The target's trusted info, found through the delegation to its bin; undefined when not listed. */
  async targetInfo(targetPath: string): Promise<TargetFile | undefined> {
    return this.guard(() => this.updater.getTargetInfo(targetPath));
  }

  /**
   * Every target under `prefix`, from every delegated bin (each checked against the snapshot
   * like any role tuf-js loads). Bins already in the state directory and still current are not
   * fetched again, so only the first listing of a repository reads them all.
   */
  async listTargets(prefix: string, concurrency = 8): Promise<TargetFile[]> {
    const targets = this.internals.trustedSet.targets;
    if (!targets) await this.refresh();
    const top = this.internals.trustedSet.targets!.signed;
    const found: TargetFile[] = Object.values(top.targets).filter((t) => t.path.startsWith(prefix));
    const succinct = top.delegations?.succinctRoles;
    const roles = succinct ? [...succinct.getRoles()] : Object.keys(top.delegations?.roles ?? {});
    let next = 0;
    const worker = async () => {
      while (next < roles.length) {
        const role = roles[next++]!;
        const md = await this.guard(() => this.internals.loadTargets(role, MetadataKind.Targets));
        for (const t of Object.values(md?.signed.targets ?? {})) {
          if (!t.path.startsWith(prefix)) continue;
          // A bin may only speak for the paths delegated to it; anything else is ignored, as tuf-js would.
          const delegated = succinct ? succinct.getRoleForTarget(t.path) === role : top.delegations!.roles![role]!.isDelegatedPath(t.path);
          if (delegated) found.push(t);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, roles.length) }, worker));
    return found;
  }

  /**
   * The repository's layout, as its signed top-level targets say: `datadog-v2` when they delegate
   * to the one `wheelsmith` role (docs/datadog-v2.md), whose targets live under `targets/`.
   */
  layout(): 'datadog-v2' | undefined {
    const targets = this.internals.trustedSet.targets?.signed;
    return targets ? layoutOfTargets(targets) : undefined;
  }

  /** Where the target is fetched from: its consistent-snapshot name when the root says so. */
  targetUrl(info: TargetFile): string {
    const consistent = this.internals.trustedSet.root.signed.consistentSnapshot;
    const hash = consistentHash(info.hashes);
    const named = consistent && hash ? consistentTargetPath(info.path, hash) : info.path;
    const key = this.layout() === 'datadog-v2' ? `${DDV2_TARGETS_DIR}/${named}` : named;
    return `${this.repositoryUrl}${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * The target's bytes, checked against its trusted length and every hash it lists (small
   * targets only, at most MAX_SMALL_TARGET): from the cache when it holds those bytes (by
   * sha256), else fetched, checked and cached. This is our fetch, not tuf-js's downloadTarget,
   * so the hash checks are ours too (target-hashes.ts).
   */
  async fetchTarget(info: TargetFile): Promise<Uint8Array> {
    const uncheckable = uncheckablePins(info.hashes);
    if (uncheckable) throw targetMismatch('E_TARGET_DIGEST', info, uncheckable);
    // Pointers and the policy are a few KiB: a pin far larger is a compromised online key trying
    // to make every host buffer it, not a real target.
    if (info.length > MAX_SMALL_TARGET) throw targetMismatch('E_TARGET_LENGTH', info, `is pinned at ${info.length} bytes; pointers and policies over ${MAX_SMALL_TARGET} bytes are refused`);
    const sha256 = info.hashes.sha256;
    const cached = sha256 ? await this.cache?.get(info.length, sha256) : undefined;
    let bytes: Uint8Array;
    if (cached) bytes = cached;
    else {
      try {
        bytes = await readAll(this.fetcher, this.targetUrl(info), info.length);
      } catch (e) {
        if (e instanceof ProvenantError && e.code === 'E_LENGTH_EXCEEDED') throw targetMismatch('E_TARGET_LENGTH', info, `is longer than the ${info.length} bytes TUF pins`);
        throw e;
      }
      if (bytes.length !== info.length) throw targetMismatch('E_TARGET_LENGTH', info, `is ${bytes.length} bytes, TUF pins ${info.length}`);
    }
    const mismatch = hashMismatch(info.hashes, bytes);
    if (mismatch) throw targetMismatch('E_TARGET_DIGEST', info, mismatch);
    if (!cached && sha256) this.cache?.put(sha256, bytes);
    return bytes;
  }

  /** Versions of the trusted top-level metadata, for reports. */
  versions(): { root: number; timestamp: number | undefined; snapshot: number | undefined } {
    const s = this.internals.trustedSet;
    return { root: s.root.signed.version, timestamp: s.timestamp?.signed.version, snapshot: s.snapshot?.signed.version };
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromTufError(e, this.adapter.thrown, this.repositoryUrl);
    }
  }
}

function targetMismatch(code: string, info: TargetFile, why: string): ProvenantError {
  return new ProvenantError(code, `${info.path} ${why}: the file was tampered with or mixed from another publish`, {
    exitClass: 'verification',
    file: info.path,
    hint: 'do not install from this repository until its maintainers republish it',
  });
}
