import { MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import { DDV2_DELEGATED_PATHS, DDV2_ROLE, layoutOfTargets } from '../formats/datadog-v2.ts';
import type { PublicKeyInfo } from '../signers/signer.ts';
import { sha256Hex } from '../util/hash.ts';
import { binBitLength, checkExpiry, expiresAt, type RepositoryConfig, type SigningRole } from './config.ts';

/**
 * What changes in which metadata, with no I/O and no signing: the initial repository, and the
 * next version of a bin, the snapshot and the timestamp when targets are added. Callers sign
 * and store the results.
 */
export interface KeyedPublicKey {
  keyId: string;
  publicKey: PublicKeyInfo;
}

type SuccinctRoles = NonNullable<NonNullable<Targets['delegations']>['succinctRoles']>;

// @tufjs/models exports no Role/Delegations constructors, so roles and delegations are built
// from their JSON form: the same path a client takes when it parses the metadata.
function keysJson(keys: readonly KeyedPublicKey[]): Record<string, unknown> {
  return Object.fromEntries(
    keys.map((k) => [k.keyId, { keytype: k.publicKey.keytype, scheme: k.publicKey.scheme, keyval: { public: k.publicKey.keyval.public } }]),
  );
}

/** When a version of `role` signed `now` expires: the settings' period, never past the role's limit. */
export function expiresFor(config: RepositoryConfig, role: SigningRole, now: Date): string {
  const expires = expiresAt(now, config.roles[role].expires);
  checkExpiry(role, expires, now);
  return expires;
}

/** Root version 1: the keys and thresholds of the config, consistent snapshots on. */
export function initialRoot(config: RepositoryConfig, keys: Record<SigningRole, readonly KeyedPublicKey[]>, now: Date): Root {
  const topRoles = ['root', 'targets', 'snapshot', 'timestamp'] as const;
  return Root.fromJSON({
    spec_version: config.specVersion,
    version: 1,
    expires: expiresFor(config, 'root', now),
    consistent_snapshot: true,
    keys: keysJson(topRoles.flatMap((r) => keys[r])),
    roles: Object.fromEntries(topRoles.map((r) => [r, { keyids: keys[r].map((k) => k.keyId), threshold: config.roles[r].threshold }])),
  } as never);
}

/**
 * Targets version 1: the given targets (the attestation policy) and the delegation of release
 * targets: succinct hashed bins, or in the datadog-v2 layout the one role `wheelsmith`, limited to
 * the pointer paths (a target it signs anywhere else is not its to sign, and clients ignore it).
 */
export function initialTargets(
  config: RepositoryConfig,
  binKeys: readonly KeyedPublicKey[],
  targets: readonly TargetFile[],
  now: Date,
): Targets {
  const keyids = binKeys.map((k) => k.keyId);
  const threshold = config.roles.bins.threshold;
  return Targets.fromJSON({
    spec_version: config.specVersion,
    version: 1,
    expires: expiresFor(config, 'targets', now),
    targets: Object.fromEntries(targets.map((t) => [t.path, t.toJSON()])),
    delegations: {
      keys: keysJson(binKeys),
      ...(config.layout === 'datadog-v2'
        ? { roles: [{ name: DDV2_ROLE, keyids, threshold, terminating: true, paths: DDV2_DELEGATED_PATHS }] }
        : { succinct_roles: { keyids, threshold, bit_length: binBitLength(config.bins.count), name_prefix: config.bins.namePrefix } }),
    },
  } as never);
}

export function succinctRolesOf(targets: Targets): SuccinctRoles {
  const s = targets.delegations?.succinctRoles;
  if (!s) {
    throw new ProvenantError('E_REPO_LAYOUT', 'targets metadata delegates no succinct hashed bins', {
      exitClass: 'verification',
      hint: 'this repository was not created by `provenant repo init`',
    });
  }
  return s;
}

/**
 * The roles release targets are delegated to, whichever the layout: the hashed bins, or the one
 * `wheelsmith` role (datadog-v2). `roleFor` is the role that may sign a path, undefined when
 * none may: such a target is refused before anything is signed.
 */
export interface ReleaseDelegation {
  names: string[];
  keyIDs: string[];
  threshold: number;
  roleFor(path: string): string | undefined;
}

export function releaseDelegationOf(targets: Targets): ReleaseDelegation {
  const role = targets.delegations?.roles?.[DDV2_ROLE];
  if (role && layoutOfTargets(targets) === 'datadog-v2') {
    return { names: [DDV2_ROLE], keyIDs: role.keyIDs, threshold: role.threshold, roleFor: (p) => (role.isDelegatedPath(p) ? DDV2_ROLE : undefined) };
  }
  const s = succinctRolesOf(targets);
  return { names: [...s.getRoles()], keyIDs: s.keyIDs, threshold: s.threshold, roleFor: (p) => s.getRoleForTarget(p) };
}

export function binNames(targets: Targets): string[] {
  return releaseDelegationOf(targets).names;
}

export function emptyBin(config: RepositoryConfig, now: Date): Targets {
  return new Targets({ version: 1, specVersion: config.specVersion, expires: expiresFor(config, 'bins', now) });
}

/** A target file with its sha256 and optional `custom` fields. */
export function targetFile(path: string, bytes: Uint8Array, custom?: Record<string, unknown>): TargetFile {
  return new TargetFile({
    path,
    length: bytes.byteLength,
    hashes: { sha256: sha256Hex(bytes) },
    ...(custom ? { unrecognizedFields: { custom: custom as never } } : {}),
  });
}

export type TargetChange = 'added' | 'unchanged';

/**
 * Whether adding `t` to `bin` adds it or changes nothing. Targets are immutable: the same path
 * with another wheel is E_RELEASE_IMMUTABLE. The same wheel with a fresh attestation (every
 * build records its own run, so rebuilding identical bytes gives a new pointer) is the same
 * release: it changes nothing, and the published attestation stays.
 */
export function classifyTarget(bin: Targets, t: TargetFile): TargetChange {
  const existing = bin.targets[t.path];
  if (!existing) return 'added';
  if (sameTarget(existing, t) || sameWheel(existing, t)) return 'unchanged';
  throw releaseImmutable(existing, t);
}

function sameTarget(a: TargetFile, b: TargetFile): boolean {
  return a.length === b.length && a.hashes.sha256 === b.hashes.sha256;
}

function sameWheel(a: TargetFile, b: TargetFile): boolean {
  const wheel = (t: TargetFile) => (t.custom as { wheel?: { file?: unknown; sha256?: unknown; length?: unknown } } | undefined)?.wheel;
  const x = wheel(a);
  const y = wheel(b);
  return typeof x?.sha256 === 'string' && x.sha256 === y?.sha256 && x.length === y?.length && x.file === y?.file;
}

/** A published pointer target asked to change: named by project and version where publish recorded them. */
function releaseImmutable(existing: TargetFile, t: TargetFile): ProvenantError {
  const custom = t.custom as { name?: unknown; version?: unknown } | undefined;
  const release = typeof custom?.name === 'string' && typeof custom.version === 'string' ? `${custom.name} ${custom.version}` : t.path;
  return new ProvenantError('E_RELEASE_IMMUTABLE', `${release} is already published with other content (${t.path}); releases are immutable`, {
    exitClass: 'conflict',
    file: t.path,
    field: 'sha256',
    hint: `publish a new version instead (published sha256 ${existing.hashes.sha256 ?? '?'}, length ${existing.length}; new sha256 ${t.hashes.sha256 ?? '?'}, length ${t.length})`,
  });
}

/**
 * The next version of a bin with `add` included. Only new paths are added: a published target
 * never changes (E_RELEASE_IMMUTABLE), whoever the caller, so no bin provenant signs moves a release.
 */
export function binWithTargets(bin: Targets, add: readonly TargetFile[], version: number, expires: string, movable: (path: string) => boolean = () => false): Targets {
  for (const t of add) {
    const existing = bin.targets[t.path];
    if (existing && !sameTarget(existing, t) && !movable(t.path)) throw releaseImmutable(existing, t);
  }
  return targetsWith(bin, add, version, expires);
}

/**
 * The next version of a bin where published pointers are replaced by re-attested ones
 * (docs/attestation-keys.md). Each must already be published, for the same project, version and
 * wheel (file, sha256, length); the caller also checks the pointer bytes differ only in their
 * attestation (checkReattestedPointer). Anything else stays E_RELEASE_IMMUTABLE.
 */
export function binWithReattested(bin: Targets, replace: readonly TargetFile[], version: number, expires: string): Targets {
  for (const t of replace) {
    const existing = bin.targets[t.path];
    if (!existing) {
      throw new ProvenantError('E_REATTEST_NOT_PUBLISHED', `${t.path} is not published: only a published release can be re-attested`, {
        exitClass: 'not-found',
        file: t.path,
        hint: 'publish it with `provenant publish`; `repo reattest` only replaces the attestation of a release already in the repository',
      });
    }
    const named = (x: TargetFile) => x.custom as { name?: unknown; version?: unknown } | undefined;
    if (!sameWheel(existing, t) || named(existing)?.name !== named(t)?.name || named(existing)?.version !== named(t)?.version) throw releaseImmutable(existing, t);
  }
  return targetsWith(bin, replace, version, expires);
}

/**
 * The next version of the top-level targets role with `set` put in place: its own targets (the
 * attestation policy, the Sigstore trusted root) are trust settings the targets keys may replace,
 * unlike releases, which live in the bins.
 */
export function targetsWith(md: Targets, set: readonly TargetFile[], version: number, expires: string): Targets {
  const targets: Record<string, TargetFile> = { ...md.targets };
  for (const t of set) targets[t.path] = t;
  return new Targets({
    version,
    specVersion: md.specVersion,
    expires,
    targets,
    ...(md.delegations ? { delegations: md.delegations } : {}),
    unrecognizedFields: md.unrecognizedFields,
  });
}

/** A role's new version with the same content and a fresh expiry (refresh). */
export function resigned<T extends Targets | Snapshot | Root>(md: T, version: number, expires: string): T {
  // `_type` is not a constructor field: left in, it would be carried as an unrecognised field.
  const { _type: _ignored, ...json } = md.toJSON() as Record<string, unknown>;
  return (md.constructor as unknown as { fromJSON(d: unknown): T }).fromJSON({ ...json, version, expires });
}

/**
 * Groups targets by the role the delegation assigns them to. A path no role may sign is refused
 * (E_REPO_LAYOUT): clients would never find it, so publishing it would only burn the version.
 */
export function groupByBin(targets: Targets, files: readonly TargetFile[]): Map<string, TargetFile[]> {
  const delegation = releaseDelegationOf(targets);
  const out = new Map<string, TargetFile[]>();
  for (const f of files) {
    const bin = delegation.roleFor(f.path);
    if (bin === undefined) {
      throw new ProvenantError('E_REPO_LAYOUT', `no delegated role of this repository may sign ${f.path}`, {
        exitClass: 'input',
        file: f.path,
        hint: `this repository's layout delegates only ${delegation.names.length === 1 ? `${delegation.names[0]} (its paths are in targets.json)` : 'its hashed bins'}; approvals and other extra targets need the default layout`,
      });
    }
    // Appended in place: copying the list per file made grouping quadratic in a bin's size.
    const list = out.get(bin);
    if (list) list.push(f);
    else out.set(bin, [f]);
  }
  return out;
}

/** Snapshot listing `versions` (file name → version) over the previous snapshot's entries. */
export function nextSnapshot(
  prev: Snapshot | undefined,
  versions: Readonly<Record<string, number>>,
  version: number,
  specVersion: string,
  expires: string,
): Snapshot {
  const meta: Record<string, MetaFile> = { ...(prev?.meta ?? {}) };
  for (const [file, v] of Object.entries(versions)) meta[file] = new MetaFile({ version: v });
  return new Snapshot({ version, specVersion, expires, meta });
}

/** Timestamp pinning the snapshot by version, length and sha256. */
export function nextTimestamp(snapshotVersion: number, snapshotBytes: Uint8Array, version: number, specVersion: string, expires: string): Timestamp {
  return new Timestamp({
    version,
    specVersion,
    expires,
    snapshotMeta: new MetaFile({ version: snapshotVersion, length: snapshotBytes.byteLength, hashes: { sha256: sha256Hex(snapshotBytes) } }),
  });
}
