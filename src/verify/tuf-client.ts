import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Metadata, MetadataKind, type Root, type Snapshot, type TargetFile, type Targets, type Timestamp } from '@tufjs/models';
import { Updater } from 'tuf-js';
import type { Reporter } from '../reporter.ts';
import { ProvenantError } from '../errors.ts';
import { consistentTargetPath, METADATA_DIR } from '../formats/layout.ts';
import { readAll, type Fetcher } from '../net/fetcher.ts';
import { TufFetcherAdapter } from '../net/tuf-fetcher.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { sha256Hex } from '../util/hash.ts';
import type { TargetCache } from './target-cache.ts';
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
}

/** tuf-js's default cap for timestamp.json, named so the prefetch asks for the same. */
const TIMESTAMP_MAX_LENGTH = 16384;

/** What the updater keeps private and the downloader needs: the trusted set and per-role loading. */
interface UpdaterInternals {
  trustedSet: { root: Metadata<Root>; targets?: Metadata<Targets>; timestamp?: Metadata<Timestamp>; snapshot?: Metadata<Snapshot> };
  loadTargets(role: string, parentRole: string): Promise<Metadata<Targets> | undefined>;
  persistMetadata(name: string, bytes: Buffer): void;
}

/**
 * The TUF client side of the downloader: tuf-js's Updater (the spec's client workflow) over our
 * fetcher, with its metadata directory in the per-repository state directory. Trust starts only
 * from a root.json given by the user or already in the state, never from the network.
 */
export class TufClient {
  readonly repositoryUrl: string;
  readonly stateDir: string;
  private readonly metadataUrl: string;
  private readonly updater: Updater;
  private readonly internals: UpdaterInternals;
  private readonly adapter: TufFetcherAdapter;
  private readonly fetcher: Fetcher;
  private readonly cache: TargetCache | undefined;
  /** The last state write queued per file: writes to one file land in the order tuf-js made them. */
  private readonly writes = new Map<string, Promise<void>>();
  private writeError: { file: string; error: unknown } | undefined;

  private constructor(opts: TufClientOptions, updater: Updater, adapter: TufFetcherAdapter) {
    this.repositoryUrl = opts.repositoryUrl;
    this.stateDir = opts.stateDir;
    this.metadataUrl = `${opts.repositoryUrl}${METADATA_DIR}/`;
    this.updater = updater;
    this.adapter = adapter;
    this.fetcher = opts.fetcher;
    this.cache = opts.cache;
    this.internals = updater as unknown as UpdaterInternals;
    if (typeof this.internals.loadTargets !== 'function' || typeof this.internals.persistMetadata !== 'function') {
      throw new ProvenantError('E_INTERNAL', 'the installed tuf-js does not have the Updater internals provenant relies on', {
        exitClass: 'internal',
        hint: 'reinstall with `npm ci` (package-lock.json pins the tuf-js provenant was tested with)',
      });
    }
    // tuf-js persists with a plain writeFileSync: a crash would leave a torn file. Replace it
    // with write-temp, fsync, rename, started at once but not waited for: the fsync (a few ms)
    // then overlaps the next request instead of stopping the event loop. tuf-js never reads
    // back a file it persisted in the same run (it keeps the verified role in memory), and
    // flush() waits for every write before a download may succeed.
    this.internals.persistMetadata = (name, bytes) => this.persist(path.join(this.stateDir, `${encodeURIComponent(name)}.json`), bytes);
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

  static async open(opts: TufClientOptions): Promise<TufClient> {
    await mkdir(opts.stateDir, { recursive: true });
    await ensureTrustedRoot(opts);
    const adapter = new TufFetcherAdapter(opts.fetcher);
    let updater: Updater;
    try {
      updater = new Updater({
        metadataDir: opts.stateDir,
        metadataBaseUrl: `${opts.repositoryUrl}${METADATA_DIR}/`,
        targetBaseUrl: opts.repositoryUrl,
        fetcher: adapter,
        config: { timestampMaxLength: TIMESTAMP_MAX_LENGTH },
      });
    } catch (e) {
      throw new ProvenantError('E_TUF_ROOT_INVALID', `the trusted root in ${opts.stateDir} is not valid TUF root metadata: ${(e as Error).message}`, {
        exitClass: 'input',
        file: path.join(opts.stateDir, 'root.json'),
        hint: 'remove the state directory and start again from a root.json you trust (--root)',
        cause: e,
      });
    }
    return new TufClient(opts, updater, adapter);
  }

  /**
   * The TUF client workflow: root rotation, timestamp, snapshot, top-level targets. The
   * timestamp is requested while the next root version is probed (one round trip saved);
   * tuf-js verifies it only after the root update, as the spec orders.
   */
  async refresh(): Promise<void> {
    this.adapter.prefetch(`${this.metadataUrl}timestamp.json`, TIMESTAMP_MAX_LENGTH);
    await this.guard(() => this.updater.refresh());
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

  /** Where the target is fetched from: its consistent-snapshot name when the root says so. */
  targetUrl(info: TargetFile): string {
    const consistent = this.internals.trustedSet.root.signed.consistentSnapshot;
    const sha256 = info.hashes.sha256;
    const key = consistent && sha256 ? consistentTargetPath(info.path, sha256) : info.path;
    return `${this.repositoryUrl}${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * The target's bytes, checked against its trusted length and hashes (small targets only, at most MAX_SMALL_TARGET):
   * from the cache when it holds exactly those bytes, else fetched, checked and cached.
   */
  async fetchTarget(info: TargetFile): Promise<Uint8Array> {
    const sha256 = info.hashes.sha256;
    if (!sha256) {
      throw new ProvenantError('E_TARGET_DIGEST', `target ${info.path} has no sha256 in TUF metadata`, {
        exitClass: 'verification',
        file: info.path,
        hint: 'do not use this repository; tell its publisher (provenant always pins sha256)',
      });
    }
    // Pointers and the policy are a few KiB: a pin far larger is a compromised online key trying
    // to make every host buffer it, not a real target.
    if (info.length > MAX_SMALL_TARGET) throw targetMismatch('E_TARGET_LENGTH', info, `is pinned at ${info.length} bytes; pointers and policies over ${MAX_SMALL_TARGET} bytes are refused`);
    const cached = await this.cache?.get(info.length, sha256);
    if (cached) return cached;
    const url = this.targetUrl(info);
    let bytes: Buffer;
    try {
      bytes = await readAll(this.fetcher, url, info.length);
    } catch (e) {
      if (e instanceof ProvenantError && e.code === 'E_LENGTH_EXCEEDED') throw targetMismatch('E_TARGET_LENGTH', info, `is longer than the ${info.length} bytes TUF pins`);
      throw e;
    }
    if (bytes.length !== info.length) throw targetMismatch('E_TARGET_LENGTH', info, `is ${bytes.length} bytes, TUF pins ${info.length}`);
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw targetMismatch('E_TARGET_DIGEST', info, `has sha256 ${actual}, TUF pins ${sha256}`);
    this.cache?.put(sha256, bytes);
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

/** Where a host's first trusted root comes from: one story in every hint (README, docs/download.md). */
const ROOT_SOURCE = "the root.json of the publisher's key store (keys/root.json, written by `provenant repo init`), copied to the host out of band, never fetched from the repository";

/**
 * Root bootstrap: keep the state's root.json (it may have been rotated since); else copy the
 * user's file in after checking it is a root that signs itself. Never fetched on first use.
 */
export async function ensureTrustedRoot(opts: Pick<TufClientOptions, 'repositoryUrl' | 'stateDir' | 'rootFile' | 'reporter'>): Promise<void> {
  const trusted = path.join(opts.stateDir, 'root.json');
  await mkdir(opts.stateDir, { recursive: true });
  if (await exists(trusted)) {
    if (opts.rootFile) opts.reporter.debug(`using the trusted root already in ${opts.stateDir}; --root only initialises a new state directory`);
    return;
  }
  if (!opts.rootFile) {
    throw new ProvenantError('E_TUF_ROOT_MISSING', `no trusted root for ${opts.repositoryUrl} in ${opts.stateDir}`, {
      exitClass: 'usage',
      field: '--root',
      hint: `pass --root FILE (or PROVENANT_ROOT): ${ROOT_SOURCE}`,
    });
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(opts.rootFile);
  } catch (e) {
    throw new ProvenantError('E_TUF_ROOT_INVALID', `cannot read the root file: ${(e as Error).message}`, {
      exitClass: 'input',
      file: opts.rootFile,
      field: '--root',
      hint: `check the path; --root takes ${ROOT_SOURCE}`,
      cause: e,
    });
  }
  try {
    const md = Metadata.fromJSON(MetadataKind.Root, JSON.parse(bytes.toString('utf8')));
    md.verifyDelegate(MetadataKind.Root, md);
  } catch (e) {
    throw new ProvenantError('E_TUF_ROOT_INVALID', `the root file is not TUF root metadata signed by its own keys: ${(e as Error).message}`, {
      exitClass: 'input',
      file: opts.rootFile,
      field: '--root',
      hint: `--root takes ${ROOT_SOURCE}`,
      cause: e,
    });
  }
  await writeFileAtomic(trusted, bytes);
  opts.reporter.debug(`initialised trust for ${opts.repositoryUrl} from ${opts.rootFile}`);
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
