import { Metadata, MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import { succinctRolesOf } from './changes.ts';
import { CONFIG_KEY, parseConfig, type RepositoryConfig } from './config.ts';
import { metadataKey } from './sign.ts';

/**
 * The repository as it stands, read from Storage and checked the way a client would before
 * anything is added to it: the root chain from the operator's trusted root (`anchor`, kept in the
 * key store; without one, from the repository's own 1.root.json, which only `repo status` and
 * read-only tools accept) (each version signed by the previous
 * root's keys and its own), timestamp, snapshot and targets signed by the keys root names, the
 * snapshot matching the length and hash the timestamp pins, and every version the one the
 * referring metadata names. Bins are loaded (and checked) on demand, so a publish reads a
 * constant amount whatever the repository's size.
 */
export interface TrustedState {
  config: RepositoryConfig;
  root: Metadata<Root>;
  timestamp: Metadata<Timestamp>;
  /** Etag of timestamp.json as read: the compare-and-swap precondition of the next commit. */
  timestampEtag: string;
  snapshot: Metadata<Snapshot>;
  targets: Metadata<Targets>;
}

export async function loadTrustedState(storage: Storage, anchor?: Uint8Array): Promise<TrustedState> {
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

  const config = await loadConfig(storage);

  let root = anchor ? await anchoredRoot(storage, anchor) : parse(MetadataKind.Root, firstRoot.bytes, metadataKey('root', 1), storage);
  verify(root, 'root', root, metadataKey('root', root.signed.version), storage);
  if (!anchor) expectVersion(root.signed.version, 1, metadataKey('root', 1), storage);
  for (let n = root.signed.version + 1; ; n++) {
    const key = metadataKey('root', n);
    const obj = await storage.get(key);
    if (!obj) break;
    const next = parse(MetadataKind.Root, obj.bytes, key, storage);
    verify(root, 'root', next, key, storage);
    verify(next, 'root', next, key, storage);
    expectVersion(next.signed.version, n, key, storage);
    root = next;
  }

  const tsKey = metadataKey('timestamp');
  const timestamp = parse(MetadataKind.Timestamp, tsObj.bytes, tsKey, storage);
  verify(root, 'timestamp', timestamp, tsKey, storage);

  const snapVersion = timestamp.signed.snapshotMeta.version;
  const snapKey = metadataKey('snapshot', snapVersion);
  const snapObj = await storage.get(snapKey);
  if (!snapObj) throw incomplete(storage, snapKey, `timestamp.json names snapshot version ${snapVersion}, which is missing`);
  try {
    timestamp.signed.snapshotMeta.verify(Buffer.from(snapObj.bytes));
  } catch (e) {
    throw tampered(storage, snapKey, `does not match the length/sha256 timestamp.json pins: ${(e as Error).message}`);
  }
  const snapshot = parse(MetadataKind.Snapshot, snapObj.bytes, snapKey, storage);
  verify(root, 'snapshot', snapshot, snapKey, storage);
  expectVersion(snapshot.signed.version, snapVersion, snapKey, storage);

  const targetsMeta = snapshot.signed.meta['targets.json'];
  if (!targetsMeta) throw tampered(storage, snapKey, 'lists no targets.json');
  const targetsKey = metadataKey('targets', targetsMeta.version);
  const targetsObj = await storage.get(targetsKey);
  if (!targetsObj) throw incomplete(storage, targetsKey, `the snapshot names targets version ${targetsMeta.version}, which is missing`);
  const targets = parse(MetadataKind.Targets, targetsObj.bytes, targetsKey, storage);
  verify(root, 'targets', targets, targetsKey, storage);
  expectVersion(targets.signed.version, targetsMeta.version, targetsKey, storage);

  checkConfigAgrees(config, root.signed, targets.signed, storage);
  return { config, root, timestamp, timestampEtag: tsObj.etag, snapshot, targets };
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
  const bin = parse(MetadataKind.Targets, obj.bytes, key, storage);
  verify(state.targets, name, bin, key, storage);
  expectVersion(bin.signed.version, meta.version, key, storage);
  return bin;
}

async function loadConfig(storage: Storage): Promise<RepositoryConfig> {
  const obj = await storage.get(CONFIG_KEY);
  if (!obj) {
    throw new ProvenantError('E_REPO_CONFIG', `${CONFIG_KEY} is missing`, {
      file: `${storage.location}/${CONFIG_KEY}`,
      hint: 'restore it from a backup (docs/repository.md documents its fields)',
    });
  }
  return parseConfig(obj.bytes, `${storage.location}/${CONFIG_KEY}`);
}

function checkConfigAgrees(config: RepositoryConfig, root: Root, targets: Targets, storage: Storage): void {
  const disagree = (field: string, why: string) =>
    new ProvenantError('E_REPO_CONFIG_MISMATCH', `${CONFIG_KEY} disagrees with the signed metadata: ${why}`, {
      exitClass: 'verification',
      file: `${storage.location}/${CONFIG_KEY}`,
      field,
      hint: 'the signed metadata is authoritative; fix the config to match it (docs/repository.md)',
    });
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
    const signed = root.roles[role];
    if (!signed || !sameSet(signed.keyIDs, config.roles[role].keyids)) throw disagree(`roles.${role}.keyids`, `the ${role} keys differ`);
    if (signed.threshold !== config.roles[role].threshold) throw disagree(`roles.${role}.threshold`, `the ${role} threshold differs`);
  }
  const succinct = succinctRolesOf(targets);
  if (!sameSet(succinct.keyIDs, config.roles.bins.keyids)) throw disagree('roles.bins.keyids', 'the bin keys differ');
  if (succinct.threshold !== config.roles.bins.threshold) throw disagree('roles.bins.threshold', 'the bin threshold differs');
  if (succinct.numberOfBins !== config.bins.count) throw disagree('bins.count', `targets delegates ${succinct.numberOfBins} bins`);
  if (succinct.namePrefix !== config.bins.namePrefix) throw disagree('bins.namePrefix', `targets names bins ${succinct.namePrefix}-…`);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

function parse<K extends MetadataKind>(kind: K, bytes: Uint8Array, key: string, storage: Storage) {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as never;
    return Metadata.fromJSON(kind as MetadataKind.Root, json) as unknown as Metadata<
      K extends MetadataKind.Root ? Root : K extends MetadataKind.Timestamp ? Timestamp : K extends MetadataKind.Snapshot ? Snapshot : Targets
    >;
  } catch (e) {
    throw tampered(storage, key, `is not valid ${kind} metadata: ${(e as Error).message}`);
  }
}

function verify(
  delegator: Metadata<Root> | Metadata<Targets>,
  role: string,
  delegate: Metadata<Root | Targets | Snapshot | Timestamp>,
  key: string,
  storage: Storage,
): void {
  try {
    delegator.verifyDelegate(role, delegate);
  } catch (e) {
    throw tampered(storage, key, `is not signed by the ${role} keys the repository trusts: ${(e as Error).message}`);
  }
}

function expectVersion(actual: number, expected: number, key: string, storage: Storage): void {
  if (actual !== expected) throw tampered(storage, key, `has version ${actual} where ${expected} is expected`);
}

function tampered(storage: Storage, key: string, why: string): ProvenantError {
  return new ProvenantError('E_REPO_TAMPERED', `${key} ${why}`, {
    exitClass: 'verification',
    file: `${storage.location}/${key}`,
    hint: 'the repository was modified outside provenant; restore it from a backup before publishing again',
  });
}

function incomplete(storage: Storage, key: string, why: string): ProvenantError {
  return new ProvenantError('E_REPO_INCOMPLETE', `${key}: ${why}`, {
    exitClass: 'verification',
    file: `${storage.location}/${key}`,
    hint: 'the repository is missing metadata it refers to; restore it from a backup before publishing again',
  });
}
