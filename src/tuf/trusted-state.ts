import { isDeepStrictEqual } from 'node:util';
import { Metadata, MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import { releaseDelegationOf, succinctRolesOf } from './changes.ts';
import { DDV2_ROLE, layoutOfTargets } from '../formats/datadog-v2.ts';
import { CONFIG_KEY, parseConfig, type RepositoryConfig } from './config.ts';
import { adoptableTargets, examineHistory, targetsOf, TimestampMoved, type History } from './history.ts';
import { expectVersion, incomplete, parseMetadata, tampered, verifySigned } from './metadata-checks.ts';
import { metadataKey } from './sign.ts';

/**
 * What the operator trusts, kept in the key store (docs/keys.md): the root the repository's root
 * chain starts from, the settings signing uses, and the newest timestamp this key store committed or
 * verified. None comes from the repository, which anyone able to write to the bucket can edit.
 */
export interface TrustAnchor {
  root: Uint8Array;
  /** The authoritative provenant-repository.json; without it the repository's copy is used (read-only checks). */
  settings?: { bytes: Uint8Array; file: string } | undefined;
  kept?: { bytes: Uint8Array; file: string } | undefined;
}

/**
 * The repository as it stands, read from Storage and checked the way a client would before
 * anything is added to it: the root chain from the operator's trusted root (the anchor's; without
 * one, from the repository's own 1.root.json, which only `repo status` and read-only tools accept)
 * (each version signed by the previous root's keys and its own), timestamp, snapshot and targets
 * signed by the keys root names, the snapshot matching the length and hash the timestamp pins,
 * every version the one the referring metadata names, and timestamp.json not moved behind a
 * commit (history.ts). Bins are loaded (and checked) on demand, so a publish reads a constant
 * amount whatever the repository's size.
 */
export interface TrustedState {
  config: RepositoryConfig;
  /** Where `config` came from: the key store (signing) or the repository's public copy (read-only checks). */
  configSource: 'key store' | 'repository';
  root: Metadata<Root>;
  timestamp: Metadata<Timestamp>;
  /** timestamp.json's bytes as read (what the key store keeps once verified). */
  timestampBytes: Uint8Array;
  /** Etag of timestamp.json as read: the compare-and-swap precondition of the next commit. */
  timestampEtag: string;
  /** The committed snapshot (after a roll-forward, the newest proven commit). */
  snapshot: Metadata<Snapshot>;
  targets: Metadata<Targets>;
  /** Newer snapshots than the committed one and the floor they set for the next commit. */
  history: History;
}

export interface LoadOptions {
  /** Continue from the newest committed snapshot of a rolled-back repository instead of refusing it. */
  rollForward?: boolean;
}

/** How often a read is restarted because rivals kept committing while it ran (then they are reported as a rollback). */
const MAX_READS = 10;

export async function loadTrustedState(storage: Storage, anchor?: TrustAnchor | Uint8Array, opts: LoadOptions = {}): Promise<TrustedState> {
  const trust: TrustAnchor | undefined = anchor instanceof Uint8Array ? { root: anchor } : anchor;
  for (let read = 1; ; read++) {
    try {
      return await loadOnce(storage, trust, opts, read < MAX_READS);
    } catch (e) {
      if (!(e instanceof TimestampMoved)) throw e;
    }
  }
}

async function loadOnce(storage: Storage, trust: TrustAnchor | undefined, opts: LoadOptions, mayRetry: boolean): Promise<TrustedState> {
  // Timestamp first: its etag must be the one read before anything it points to.
  const tsObj = await storage.get(metadataKey('timestamp'));
  const firstRoot = await storage.get(metadataKey('root', 1));
  if (!tsObj && !firstRoot) {
    throw new ProvenantError('E_REPO_NOT_INITIALIZED', `no TUF repository at ${storage.location}`, {
      exitClass: 'not-found',
      hint: 'create one with `provenant repo init --repository <dir>`',
    });
  }
  if (!firstRoot) throw incomplete(storage, metadataKey('root', 1), 'the initial root metadata is missing');
  if (!tsObj) throw incomplete(storage, metadataKey('timestamp'), 'timestamp.json is missing (an interrupted `repo init`?)');

  const trusted = trust?.settings ? parseConfig(trust.settings.bytes, trust.settings.file) : undefined;
  const published = await loadConfig(storage, trust?.settings?.file);

  let root = trust ? await anchoredRoot(storage, trust.root) : parseMetadata(MetadataKind.Root, firstRoot.bytes, metadataKey('root', 1), storage);
  verifySigned(root, 'root', root, metadataKey('root', root.signed.version), storage);
  if (!trust) expectVersion(root.signed.version, 1, metadataKey('root', 1), storage);
  for (let n = root.signed.version + 1; ; n++) {
    const key = metadataKey('root', n);
    const obj = await storage.get(key);
    if (!obj) break;
    const next = parseMetadata(MetadataKind.Root, obj.bytes, key, storage);
    verifySigned(root, 'root', next, key, storage);
    verifySigned(next, 'root', next, key, storage);
    expectVersion(next.signed.version, n, key, storage);
    root = next;
  }

  const tsKey = metadataKey('timestamp');
  const timestamp = parseMetadata(MetadataKind.Timestamp, tsObj.bytes, tsKey, storage);
  verifySigned(root, 'timestamp', timestamp, tsKey, storage);

  const snapVersion = timestamp.signed.snapshotMeta.version;
  const snapKey = metadataKey('snapshot', snapVersion);
  const snapObj = await storage.get(snapKey);
  if (!snapObj) throw incomplete(storage, snapKey, `timestamp.json names snapshot version ${snapVersion}, which is missing`);
  try {
    timestamp.signed.snapshotMeta.verify(Buffer.from(snapObj.bytes));
  } catch (e) {
    throw tampered(storage, snapKey, `does not match the length/sha256 timestamp.json pins: ${(e as Error).message}`);
  }
  let snapshot = parseMetadata(MetadataKind.Snapshot, snapObj.bytes, snapKey, storage);
  verifySigned(root, 'snapshot', snapshot, snapKey, storage);
  expectVersion(snapshot.signed.version, snapVersion, snapKey, storage);
  let targets = await targetsOf(storage, root, snapshot);

  const { history, base } = await examineHistory(
    storage,
    { root, timestamp, timestampEtag: tsObj.etag, snapshot },
    { kept: trust?.kept, rollForward: opts.rollForward, recheck: mayRetry },
  );
  if (base) {
    snapshot = base.md;
    targets = await targetsOf(storage, root, snapshot);
  }
  const config = trusted ? agreeingCopy(trusted, trust!.settings!.file, published, storage) : published;
  checkConfigAgrees(config, root.signed, targets.signed, trust?.settings?.file ?? `${storage.location}/${CONFIG_KEY}`);
  const floorTargets = history.floor?.meta['targets.json'];
  if (history.floor && floorTargets !== undefined && floorTargets > targets.signed.version) {
    const adopted = await adoptableTargets(storage, root, targets, floorTargets);
    if (adopted) history.floor.targets = adopted;
  }
  return {
    config,
    configSource: trust?.settings ? 'key store' : 'repository',
    root,
    timestamp,
    timestampBytes: tsObj.bytes,
    timestampEtag: tsObj.etag,
    snapshot,
    targets,
    history,
  };
}

/** The operator's trusted root, which the repository must hold byte for byte at its version. */
async function anchoredRoot(storage: Storage, anchor: Uint8Array): Promise<Metadata<Root>> {
  let trusted: Metadata<Root>;
  try {
    trusted = Metadata.fromJSON(MetadataKind.Root, JSON.parse(new TextDecoder().decode(anchor)) as never);
    trusted.verifyDelegate('root', trusted);
  } catch (e) {
    throw new ProvenantError('E_TRUSTED_ROOT_INVALID', `the key store's trusted root is not self-signed root metadata: ${(e as Error).message}`, {
      exitClass: 'input',
      field: 'root.json',
      hint: 'restore the key store\'s root.json from a backup (it is the repository root you trust)',
    });
  }
  const key = metadataKey('root', trusted.signed.version);
  const held = await storage.get(key);
  if (!held) throw incomplete(storage, key, `the repository lacks root version ${trusted.signed.version}, which the key store trusts (rolled back?)`);
  if (Buffer.compare(Buffer.from(held.bytes), Buffer.from(anchor)) !== 0) {
    throw new ProvenantError('E_TRUSTED_ROOT_MISMATCH', `${key} differs from the root the key store trusts`, {
      exitClass: 'verification',
      file: `${storage.location}/${key}`,
      hint: 'either the key store belongs to another repository (check --keys and --repository), or the repository\'s root metadata was replaced: restore it from a backup before publishing',
    });
  }
  return trusted;
}

/** One hashed bin at the version the trusted snapshot names, signed by the keys targets delegates to. */
export async function loadBin(storage: Storage, state: TrustedState, name: string): Promise<Metadata<Targets>> {
  const meta = state.snapshot.signed.meta[`${name}.json`];
  const snapKey = metadataKey('snapshot', state.snapshot.signed.version);
  if (!meta) throw tampered(storage, snapKey, `lists no ${name}.json`);
  const key = metadataKey(name, meta.version);
  const obj = await storage.get(key);
  if (!obj) throw incomplete(storage, key, `the snapshot names ${name} version ${meta.version}, which is missing`);
  const bin = parseMetadata(MetadataKind.Targets, obj.bytes, key, storage);
  verifySigned(state.targets, name, bin, key, storage);
  expectVersion(bin.signed.version, meta.version, key, storage);
  return bin;
}

/** The repository's public copy of the settings. */
async function loadConfig(storage: Storage, trustedFile: string | undefined): Promise<RepositoryConfig> {
  const obj = await storage.get(CONFIG_KEY);
  if (!obj) {
    throw new ProvenantError('E_REPO_CONFIG', `${CONFIG_KEY} is missing`, {
      file: `${storage.location}/${CONFIG_KEY}`,
      hint: trustedFile ? `copy the key store's ${trustedFile} there` : 'restore it from a backup (docs/repository.md documents its fields)',
    });
  }
  return parseConfig(obj.bytes, `${storage.location}/${CONFIG_KEY}`);
}

/**
 * The key store's settings, which signing uses. The repository's copy must say the same: one that
 * differs was edited by someone other than the operator, and is refused rather than half-trusted.
 */
function agreeingCopy(config: RepositoryConfig, trustedFile: string, published: RepositoryConfig, storage: Storage): RepositoryConfig {
  const field = firstDifference(config, published);
  if (field !== undefined) {
    throw new ProvenantError('E_REPO_CONFIG_MISMATCH', `${CONFIG_KEY} in the repository differs from the key store's copy at ${field || 'the top level'}`, {
      exitClass: 'verification',
      file: `${storage.location}/${CONFIG_KEY}`,
      field,
      hint: `the key store's ${trustedFile} is authoritative (the repository's copy is public information only): copy it over the repository's after checking who changed it`,
    });
  }
  return config;
}

/** Dotted path of the first field where two JSON values differ ('' for the values themselves), or undefined. */
function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return at;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
    const d = firstDifference(x[k], y[k], at ? `${at}.${k}` : k);
    if (d !== undefined) return d;
  }
  return at;
}

function checkConfigAgrees(config: RepositoryConfig, root: Root, targets: Targets, file: string): void {
  const disagree = (field: string, why: string) =>
    new ProvenantError('E_REPO_CONFIG_MISMATCH', `${CONFIG_KEY} disagrees with the signed metadata: ${why}`, {
      exitClass: 'verification',
      file,
      field,
      hint: 'the signed metadata is authoritative; fix the config to match it (docs/repository.md)',
    });
  if (!root.consistentSnapshot) throw disagree('consistentSnapshot', 'root does not enable consistent snapshots');
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
    const signed = root.roles[role];
    if (!signed || !sameSet(signed.keyIDs, config.roles[role].keyids)) throw disagree(`roles.${role}.keyids`, `the ${role} keys differ`);
    if (signed.threshold !== config.roles[role].threshold) throw disagree(`roles.${role}.threshold`, `the ${role} threshold differs`);
  }
  const isDdv2 = layoutOfTargets(targets) === 'datadog-v2';
  if (isDdv2 !== (config.layout === 'datadog-v2')) throw disagree('layout', `targets delegates to ${isDdv2 ? `the ${DDV2_ROLE} role (layout datadog-v2)` : 'hashed bins (the default layout)'}`);
  const delegation = releaseDelegationOf(targets);
  if (!sameSet(delegation.keyIDs, config.roles.bins.keyids)) throw disagree('roles.bins.keyids', 'the bin keys differ');
  if (delegation.threshold !== config.roles.bins.threshold) throw disagree('roles.bins.threshold', 'the bin threshold differs');
  if (isDdv2) return;
  const succinct = succinctRolesOf(targets);
  if (succinct.numberOfBins !== config.bins.count) throw disagree('bins.count', `targets delegates ${succinct.numberOfBins} bins`);
  if (succinct.namePrefix !== config.bins.namePrefix) throw disagree('bins.namePrefix', `targets names bins ${succinct.namePrefix}-…`);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

