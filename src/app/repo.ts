import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Metadata, Targets } from '@tufjs/models';
import { retryAfterConflict } from '../tuf/commit-conflict.ts';
import { ProvenantError } from '../errors.ts';
import { DDV2_LATEST, DDV2_POINTER_PREFIX, DDV2_ROLE } from '../formats/datadog-v2.ts';
import { POLICY_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET, targetObjectKey } from '../formats/layout.ts';
import { trustTargetFiles } from './trust-targets.ts';
import { defaultPolicy, renderPolicy } from '../policy/policy.ts';
import { assignRoles, closeAll, createKey, loadSigner, passphraseFor, readKeyIndex, recordKeyRefs, type KeyRefRecord } from '../signers/key-store.ts';
import { KEPT_TIMESTAMP_FILE, SETTINGS_FILE, writeKeyStoreFile } from '../signers/trust-files.ts';
import { anchorKeyRef, assertNoSecret, parseKeyRef } from '../signers/key-ref.ts';
import { openSigner } from '../signers/open-signer.ts';
import { TRUSTED_ROOT_FILE, writeTrustedRoot } from '../signers/trusted-root.ts';
import { ensureKeyStoreDir, KEY_STORE_GITIGNORE } from '../signers/key-store-location.ts';
import { gitWorkTreeOf } from '../provenance/git.ts';
import type { KeyType, Signer } from '../signers/signer.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import {
  binNames,
  emptyBin,
  expiresFor,
  initialRoot,
  initialTargets,
  nextSnapshot,
  nextTimestamp,
  resigned,
  targetFile,
  type KeyedPublicKey,
} from '../tuf/changes.ts';
import {
  CONFIG_KEY,
  DEFAULT_BIN_COUNT,
  DEFAULT_BIN_PREFIX,
  DEFAULT_EXPIRY,
  RepositoryConfigSchema,
  SPEC_VERSION,
  durationSeconds,
  renderConfig,
  type RepositoryConfig,
  type SigningRole,
} from '../tuf/config.ts';
import { metadataKey, serializeMetadata, signMetadata } from '../tuf/sign.ts';
import { keepNewerTimestamp, trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadBin, loadTrustedState, type TrustAnchor } from '../tuf/trusted-state.ts';
import { commitChanges, keepTimestampCopy, signersForCommit, type PendingChanges } from '../tuf/writer.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { renderStatusPages } from '../status-page/html.ts';
import { renderStatusMarkdown } from '../status-page/markdown.ts';
import { keepStatusPages, statusModel, writeChangedPages, type StatusPagesOutcome } from '../status-page/pages.ts';
import { FsStorage } from '../storage/fs.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { repositoryBaseUrl } from '../verify/repository-url.ts';

/**
 * Repository lifecycle: `init` (keys, config, policy, signed metadata), `status` (what is
 * there and when it expires) and `refresh` (re-sign what is close to expiry).
 */
export interface InitOptions {
  keysDir: string;
  env?: NodeJS.ProcessEnv;
  /** Type of newly generated TUF keys (default ed25519). */
  keyType?: KeyType;
  /** Type of a newly generated attestation key (default ecdsa, P-256). */
  attestationKeyType?: KeyType;
  binCount?: number;
  /** `datadog-v2`: the layout Datadog's own downloader reads (docs/datadog-v2.md); default provenant's. */
  layout?: 'datadog-v2' | undefined;
  /** Root keys to generate and require (default 1; production: 2 or more). */
  rootThreshold?: number;
  /**
   * Keys that stay on their device (or elsewhere on disk), by reference (docs/keys.md): recorded
   * in keys.json for their role instead of generating a key. Root keys beyond these (up to
   * rootThreshold) are taken from the store or generated.
   */
  keyRefs?: { root?: readonly string[]; targets?: string; online?: string; attestation?: string };
  /** Base for relative paths in keyRefs. Default: process.cwd(). */
  cwd?: string;
  expires?: Partial<Record<SigningRole, string>>;
  /** A Sigstore trusted root to publish beside the policy, for keyless attestations (docs/attestations.md). */
  sigstoreTrustedRoot?: Uint8Array;
  now?: () => Date;
}

export interface InitResult {
  repository: string;
  keysDir: string;
  config: RepositoryConfig;
  /** Key name → { keyid, roles, created, ref } for every key the repository uses. */
  keys: { name: string; keyid: string; roles: string[]; created: boolean; encrypted: boolean; ref?: string }[];
  metadataWritten: number;
  bins: number;
}

const ONLINE_ROLES = ['bins', 'snapshot', 'timestamp'];

/**
 * Creates a repository: keys (reusing those the key store already assigns to a role), the config,
 * the attestation policy as a target of the targets role, root/targets/all bins/snapshot at
 * version 1, and timestamp.json last, created only if absent (so two inits cannot both win).
 */
export async function initRepository(storage: Storage, reporter: Reporter = silentReporter, opts: InitOptions): Promise<InitResult> {
  const env = opts.env ?? process.env;
  const now = (opts.now ?? (() => new Date()))();
  if (await storage.get(metadataKey('timestamp'))) {
    throw new ProvenantError('E_REPO_EXISTS', `a repository already exists at ${storage.location}`, {
      exitClass: 'conflict',
      hint: 'use `provenant repo status` to inspect it, or pick another --repository',
    });
  }
  if (await storage.get(metadataKey('root', 1))) {
    throw new ProvenantError('E_REPO_PARTIAL', `${storage.location} holds metadata from an interrupted init (no timestamp.json)`, {
      exitClass: 'conflict',
      hint: 'remove the directory (nothing in it was ever valid) and run init again',
    });
  }
  if (existsSync(path.join(opts.keysDir, TRUSTED_ROOT_FILE))) {
    throw new ProvenantError('E_KEYS_IN_USE', `the key store ${opts.keysDir} already belongs to a repository (it holds that repository's trusted root)`, {
      exitClass: 'conflict',
      file: path.join(opts.keysDir, TRUSTED_ROOT_FILE),
      hint: 'use one key store per repository: pass another --keys directory',
    });
  }
  const rootThreshold = opts.rootThreshold ?? 1;
  const keyType = opts.keyType ?? 'ed25519';
  const expires = { ...DEFAULT_EXPIRY, ...opts.expires };
  const role = (r: SigningRole, keyids: string[], threshold = 1) => ({ threshold, expires: expires[r], keyids });
  const makeConfig = (ids: Record<'root' | 'targets' | 'online' | 'attestation', string[]>) =>
    parseOrThrow({
      configVersion: 1,
      specVersion: SPEC_VERSION,
      consistentSnapshot: true,
      ...(opts.layout ? { layout: opts.layout } : {}),
      bins: { count: opts.binCount ?? DEFAULT_BIN_COUNT, namePrefix: DEFAULT_BIN_PREFIX },
      roles: {
        root: role('root', ids.root, rootThreshold),
        targets: role('targets', ids.targets),
        bins: role('bins', ids.online),
        snapshot: role('snapshot', ids.online),
        timestamp: role('timestamp', ids.online),
      },
      attestation: { keyids: ids.attestation, threshold: 1 },
    });
  // Settings are checked before any key is generated: a bad flag must leave nothing behind.
  const placeholder = (n: number) => Array.from({ length: n }, (_, i) => i.toString(16).padStart(64, '0'));
  makeConfig({ root: placeholder(rootThreshold), targets: placeholder(1), online: placeholder(1), attestation: placeholder(1) });
  const extraTargets = trustTargetFiles({ sigstoreTrustedRoot: opts.sigstoreTrustedRoot });

  // Keys given by reference are checked (and made absolute, as keys.json is read from the store)
  // and opened (PIN, permissions, a probe signature) before any key is generated: a bad
  // reference must leave nothing behind either.
  const groups: KeyGroup[] = [
    { base: 'root', count: Math.max(rootThreshold, opts.keyRefs?.root?.length ?? 0), type: keyType, roles: ['root'], refs: opts.keyRefs?.root ?? [] },
    { base: 'targets', count: 1, type: keyType, roles: ['targets'], refs: [opts.keyRefs?.targets] },
    { base: 'online', count: 1, type: keyType, roles: ONLINE_ROLES, refs: [opts.keyRefs?.online] },
    { base: 'attestation', count: 1, type: opts.attestationKeyType ?? 'ecdsa', roles: ['attestation'], refs: [opts.keyRefs?.attestation] },
  ];
  const records: KeyRefRecord[] = [];
  try {
    for (const g of groups) {
      for (const [i, given] of g.refs.filter((r) => r !== undefined).entries()) {
        const field = `--${g.base}-key`;
        const ref = anchorKeyRef(given, opts.cwd ?? process.cwd(), field);
        assertNoSecret(parseKeyRef(ref, field), field);
        const name = keyNameAt(g, i + 1);
        records.push({ name, ref, roles: g.roles, signer: await openSigner(ref, { env, cwd: opts.keysDir, keyName: name, field }) });
      }
    }
    const attestationRef = records.find((r) => r.roles.includes('attestation'));
    if (attestationRef) defaultPolicy({ attestationKeys: [attestationRef.signer] });
    // The store (with its .gitignore) appears only once every given reference has opened.
    await ensureKeyStoreDir(opts.keysDir);
    await warnIfInGitWorkTree(opts.keysDir, reporter);
    await recordKeyRefs(opts.keysDir, records);
  } catch (e) {
    await closeAll(records.map((r) => r.signer));
    throw e;
  }
  // The references stay open for signing below: a token asks for its PIN once, KMS is described once.
  const opened: Signer[] = records.map((r) => r.signer);
  const ensured: EnsuredKey[][] = [];
  try {
    for (const g of groups) ensured.push(await ensureKeys(opts.keysDir, g, env, records.filter((r) => r.roles === g.roles).map((r) => r.name)));
  } catch (e) {
    await closeAll(opened);
    throw e;
  }
  const [rootKeys, targetsKeys, onlineKeys, attestationKeys] = ensured;
  const roleKeys = { root: rootKeys!, targets: targetsKeys!, online: onlineKeys!, attestation: attestationKeys! };
  for (const k of Object.values(roleKeys).flat()) {
    const how = k.ref ? `recorded ${parseKeyRef(k.ref).kind} key` : k.created ? 'generated' : 'reused';
    reporter.step(k.name, 'key', 'ok', `${how} ${k.keyid.slice(0, 12)}… for ${k.roles.join(', ')}${k.encrypted ? ' (encrypted)' : ''}`);
  }
  const ids = (ks: { keyid: string }[]) => ks.map((k) => k.keyid);
  const config = makeConfig({ root: ids(roleKeys.root), targets: ids(roleKeys.targets), online: ids(roleKeys.online), attestation: ids(roleKeys.attestation) });

  // Open every signer before writing anything: a wrong passphrase or PIN must leave nothing behind.
  const signer = async (name: string) => {
    const already = records.find((r) => r.name === name);
    if (already) return already.signer;
    const s = await loadSigner(opts.keysDir, name, env);
    opened.push(s);
    return s;
  };
  let metadataWritten = 0;
  let binCount = 0;
  try {
    const rootSigners: Signer[] = [];
    for (const k of roleKeys.root) rootSigners.push(await signer(k.name));
    const targetsSigner = await signer(roleKeys.targets[0]!.name);
    const onlineSigner = await signer(roleKeys.online[0]!.name);
    const attestationSigner = await signer(roleKeys.attestation[0]!.name);
    const pub = (s: Signer): KeyedPublicKey => ({ keyId: s.keyId, publicKey: s.publicKey });

    const policyBytes = renderPolicy(defaultPolicy({ attestationKeys: [attestationSigner] }));
    const policyTarget = targetFile(POLICY_TARGET, policyBytes);
    const extra = extraTargets.map((f) => ({ ...f, target: targetFile(f.path, f.bytes) }));
    const root = initialRoot(
      config,
      { root: rootSigners.map(pub), targets: [pub(targetsSigner)], bins: [pub(onlineSigner)], snapshot: [pub(onlineSigner)], timestamp: [pub(onlineSigner)] },
      now,
    );
    const targets = initialTargets(config, [pub(onlineSigner)], [policyTarget, ...extra.map((f) => f.target)], now);

    const writes: [string, Uint8Array][] = [];
    const rootBytes = serializeMetadata(await signMetadata(root, rootSigners, 'root'));
    writes.push([metadataKey('root', 1), rootBytes]);
    writes.push([metadataKey('targets', 1), serializeMetadata(await signMetadata(targets, [targetsSigner], 'targets'))]);
    const versions: Record<string, number> = { 'targets.json': 1 };
    const names = binNames(targets);
    for (const name of names) {
      writes.push([metadataKey(name, 1), serializeMetadata(await signMetadata(emptyBin(config, now), [onlineSigner], name))]);
      versions[`${name}.json`] = 1;
    }
    const snapshot = nextSnapshot(undefined, versions, 1, config.specVersion, expiresFor(config, 'snapshot', now));
    const snapshotBytes = serializeMetadata(await signMetadata(snapshot, [onlineSigner], 'snapshot'));
    writes.push([metadataKey('snapshot', 1), snapshotBytes]);
    const timestamp = nextTimestamp(1, snapshotBytes, 1, config.specVersion, expiresFor(config, 'timestamp', now));
    const timestampBytes = serializeMetadata(await signMetadata(timestamp, [onlineSigner], 'timestamp'));

    const policyKey = targetObjectKey(POLICY_TARGET, policyTarget.hashes.sha256!, config.layout);
    const configBytes = renderConfig(config);
    await storage.put(CONFIG_KEY, configBytes, objectPropsFor(CONFIG_KEY));
    await storage.putImmutable(policyKey, policyBytes, objectPropsFor(policyKey));
    for (const f of extra) {
      const key = targetObjectKey(f.path, f.target.hashes.sha256!, config.layout);
      await storage.putImmutable(key, f.bytes, objectPropsFor(key));
    }
    for (const [key, bytes] of writes) await storage.putImmutable(key, bytes, objectPropsFor(key));
    await storage.putIfMatch(metadataKey('timestamp'), timestampBytes, objectPropsFor(metadataKey('timestamp')), undefined);
    await keepTimestampCopy(storage, 1, timestampBytes);
    // From now on every publish and refresh signs with the key store's settings, checks the
    // repository's root chain from its root.json (written last: it marks the store as in use) and
    // its timestamp from the one kept here.
    await writeKeyStoreFile(opts.keysDir, SETTINGS_FILE, configBytes);
    await writeKeyStoreFile(opts.keysDir, KEPT_TIMESTAMP_FILE, timestampBytes);
    await writeTrustedRoot(opts.keysDir, rootBytes);
    reporter.step(storage.location, 'init', 'ok', `root, targets, ${names.length} bins, snapshot, timestamp; ${[POLICY_TARGET, ...extra.map((f) => f.path)].join(', ')}`);
    metadataWritten = writes.length + 1;
    binCount = names.length;
  } finally {
    await closeAll(opened);
  }
  const keyIndex = await readKeyIndex(opts.keysDir);
  return {
    repository: storage.location,
    keysDir: opts.keysDir,
    config,
    keys: Object.values(roleKeys)
      .flat()
      .map((k) => ({ name: k.name, keyid: k.keyid, roles: keyIndex.keys[k.name]?.roles ?? k.roles, created: k.created, encrypted: k.encrypted, ...(k.ref ? { ref: k.ref } : {}) })),
    metadataWritten,
    bins: binCount,
  };
}

/** The store's .gitignore keeps keys out of commits; a work tree is still no place for them (one `git add -f`). */
async function warnIfInGitWorkTree(keysDir: string, reporter: Reporter): Promise<void> {
  const tree = await gitWorkTreeOf(keysDir);
  if (tree === undefined) return;
  reporter.warn(
    `the key store ${keysDir} is inside the git work tree ${tree}: git ignores it (${path.join(keysDir, KEY_STORE_GITIGNORE)}), ` +
      'but private keys belong outside work trees; move it and pass --keys DIR (e.g. --keys ~/provenant-keys)',
  );
}

interface EnsuredKey {
  name: string;
  keyid: string;
  roles: string[];
  created: boolean;
  encrypted: boolean;
  ref?: string;
}

interface KeyGroup {
  base: string;
  count: number;
  type: KeyType;
  roles: string[];
  refs: readonly (string | undefined)[];
}

/** `<base>` for a single key, else `<base>-N`. */
function keyNameAt(g: KeyGroup, n: number): string {
  return g.count === 1 && n === 1 ? g.base : `${g.base}-${n}`;
}

/**
 * `count` keys assigned to the group's first role: the ones just recorded by reference first,
 * then the store's existing ones, then new ones for the rest.
 */
async function ensureKeys(keysDir: string, g: KeyGroup, env: NodeJS.ProcessEnv, recorded: readonly string[]): Promise<EnsuredKey[]> {
  const out: EnsuredKey[] = [];
  const index = await readKeyIndex(keysDir);
  const byName = ([a]: [string, unknown], [b]: [string, unknown]) => (recorded.includes(a) ? 0 : 1) - (recorded.includes(b) ? 0 : 1) || a.localeCompare(b);
  for (const [name, e] of Object.entries(index.keys).sort(byName)) {
    if (out.length >= g.count) break;
    if (e.roles.includes(g.roles[0]!)) {
      const missing = g.roles.filter((r) => !e.roles.includes(r));
      if (missing.length > 0) await assignRoles(keysDir, name, missing);
      out.push({ name, keyid: e.keyid, roles: g.roles, created: false, encrypted: e.encrypted, ...(e.ref ? { ref: e.ref } : {}) });
    }
  }
  for (let n = 1; out.length < g.count; n++) {
    const name = keyNameAt(g, n);
    if ((await readKeyIndex(keysDir)).keys[name]) continue;
    const e = await createKey(keysDir, name, { type: g.type, roles: g.roles, passphrase: passphraseFor(name, env) });
    out.push({ name, keyid: e.keyid, roles: g.roles, created: true, encrypted: e.encrypted });
  }
  return out;
}

function parseOrThrow(raw: unknown): RepositoryConfig {
  const r = RepositoryConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ProvenantError('E_REPO_CONFIG', `invalid repository settings: ${issue.message}`, {
      exitClass: 'usage',
      field: issue.path.join('.'),
      hint: 'see `provenant repo init --help` and docs/repository.md',
    });
  }
  return r.data;
}

export interface RoleStatus {
  role: string;
  version: number;
  expires: string;
  expired: boolean;
  /** Seconds of validity left (negative once expired). */
  remainingSeconds: number;
  threshold: number;
  keyids: string[];
}

export interface RepoStatus {
  repository: string;
  specVersion: string;
  consistentSnapshot: boolean;
  roles: RoleStatus[];
  bins: { count: number; namePrefix: string; oldestExpiry: string; expired: number };
  /** Pointer targets across all bins (one per published release). */
  releases: number;
  projects: number;
  policyTarget: boolean;
  /** Whether a Sigstore trusted root is published (keyless attestations can be checked). */
  sigstoreTrustedRoot: boolean;
  config: RepositoryConfig;
  /** Whether the root chain was checked from a trusted root given by the caller (the key store's). */
  anchored: boolean;
  /** Where the settings shown came from: the key store's copy, or the repository's when none was given. */
  settings: 'key store' | 'repository';
  /** Validly signed snapshots newer than the committed one that no timestamp is known to pin (leftovers). */
  uncommittedSnapshots: number[];
  /** Present for a repository not in the default layout. */
  layout?: 'datadog-v2';
}

/** The release a pointer target path names (either layout), or undefined for other targets. */
function releaseOfTarget(targetPath: string): { project: string } | undefined {
  const parts = targetPath.split('/');
  if (parts[0] === 'pointers' && parts.length === 3) return { project: parts[1]! };
  if (targetPath.startsWith(`${DDV2_POINTER_PREFIX}/`) && parts.length === 4 && parts[3] !== `${DDV2_LATEST}.json`) return { project: parts[2]! };
  return undefined;
}

/**
 * Reads and verifies the whole repository's metadata (every bin), so it is also an integrity check.
 * With the key store's trust anchor it also refuses a rolled-back repository (E_REPO_ROLLBACK, saying
 * what is behind what); without one, the repository's own copies of timestamps still reveal it. An
 * expired role is E_REPO_EXPIRED, as a client would refuse it. Targets (pointers, wheels,
 * attestations) are not read: `provenant download` checks each.
 */
export async function repoStatus(storage: Storage, opts: { now?: () => Date; trustedRoot?: Uint8Array; anchor?: TrustAnchor } = {}): Promise<RepoStatus> {
  const now = (opts.now ?? (() => new Date()))();
  const anchor = opts.anchor ?? (opts.trustedRoot ? { root: opts.trustedRoot } : undefined);
  const state = await loadTrustedState(storage, anchor);
  const root = state.root.signed;
  const roleStatus = (role: string, md: { signed: { version: number; expires: string } }, threshold: number, keyids: string[]): RoleStatus => {
    const remaining = Math.floor((Date.parse(md.signed.expires) - now.getTime()) / 1000);
    return { role, version: md.signed.version, expires: md.signed.expires, expired: remaining <= 0, remainingSeconds: remaining, threshold, keyids };
  };
  const top = (r: string) => ({ threshold: root.roles[r]?.threshold ?? 0, keyids: root.roles[r]?.keyIDs ?? [] });
  const roles = [
    roleStatus('root', state.root, top('root').threshold, top('root').keyids),
    roleStatus('targets', state.targets, top('targets').threshold, top('targets').keyids),
    roleStatus('snapshot', state.snapshot, top('snapshot').threshold, top('snapshot').keyids),
    roleStatus('timestamp', state.timestamp, top('timestamp').threshold, top('timestamp').keyids),
  ];
  const names = binNames(state.targets.signed);
  let releases = 0;
  let oldest = '';
  let expiredBins = 0;
  const projects = new Set<string>();
  for (const name of names) {
    const bin = await loadBin(storage, state, name);
    // Bins also hold release approvals and rebuild VSAs (docs/approvals.md, docs/rebuild.md), wheelsmith its latest.json: a release is its pointer.
    const paths = Object.keys(bin.signed.targets).map(releaseOfTarget).filter((r) => r !== undefined);
    releases += paths.length;
    for (const r of paths) projects.add(r.project);
    if (oldest === '' || bin.signed.expires < oldest) oldest = bin.signed.expires;
    if (Date.parse(bin.signed.expires) <= now.getTime()) expiredBins++;
  }
  const expired = [...roles.filter((r) => r.expired).map((r) => `${r.role} (version ${r.version}) expired at ${r.expires}`), ...(expiredBins > 0 ? [`${expiredBins} bin(s) expired, the earliest at ${oldest}`] : [])];
  if (expired.length > 0) {
    // Clients refuse an expired role (TUF's freeze protection), so a repository with one is not fine.
    throw new ProvenantError('E_REPO_EXPIRED', `${storage.location}: ${expired.join('; ')}: every host refuses it (E_TUF_EXPIRED)`, {
      exitClass: 'verification',
      file: `${storage.location}/metadata`,
      hint: 'run `provenant repo refresh` with the same --repository and --keys (it re-signs what expired; root or targets need their offline keys), and check the job that runs it on a schedule',
    });
  }
  return {
    repository: storage.location,
    specVersion: root.specVersion,
    consistentSnapshot: root.consistentSnapshot,
    roles,
    ...(state.config.layout ? { layout: state.config.layout } : {}),
    bins: { count: names.length, namePrefix: state.config.layout === 'datadog-v2' ? DDV2_ROLE : state.config.bins.namePrefix, oldestExpiry: oldest, expired: expiredBins },
    releases,
    projects: projects.size,
    policyTarget: POLICY_TARGET in state.targets.signed.targets,
    sigstoreTrustedRoot: SIGSTORE_TRUSTED_ROOT_TARGET in state.targets.signed.targets,
    anchored: anchor !== undefined,
    config: state.config,
    settings: state.configSource,
    uncommittedSnapshots: state.history.uncommitted,
  };
}

export interface StatusReportOptions {
  anchor?: TrustAnchor | undefined;
  /** Projects to show release by release (default all). */
  projects?: readonly string[] | undefined;
  /** Directory to write the status pages into (index.html, status/<project>.html). */
  htmlDir?: string | undefined;
  /** File to write the Markdown summary into; '-' returns it instead (for stdout). */
  markdownFile?: string | undefined;
  now?: () => Date;
}

/**
 * `repo status --html DIR --markdown FILE`: the status pages `publish` keeps, made locally. Links
 * to the repository's objects point into it when it is a local directory, else are left out.
 */
export async function repoStatusReport(storage: Storage, opts: StatusReportOptions): Promise<{ htmlWritten: string[]; markdown?: string }> {
  const model = await statusModel(storage, { anchor: opts.anchor, details: opts.projects ?? 'all', ...(opts.now ? { now: opts.now } : {}) });
  const unknown = (opts.projects ?? []).filter((p) => !model.projects.some((q) => q.name === p));
  if (unknown.length > 0) {
    throw new ProvenantError('E_PROJECT_UNKNOWN', `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not published in ${storage.location}`, {
      exitClass: 'not-found',
      field: '--project',
      hint: `published projects: ${model.projects.map((p) => p.name).slice(0, 20).join(', ') || 'none'}`,
    });
  }
  const base = repositoryBaseUrl(storage.location, '/');
  const out: { htmlWritten: string[]; markdown?: string } = { htmlWritten: [] };
  if (opts.htmlDir !== undefined) {
    const pages = renderStatusPages(model, { objectLinks: base.startsWith('file:') ? { base } : 'none' });
    const dir = new FsStorage(opts.htmlDir);
    out.htmlWritten = (await writeChangedPages(dir, pages)).map((k) => path.join(dir.location, k));
  }
  if (opts.markdownFile !== undefined) {
    const markdown = renderStatusMarkdown(model);
    if (opts.markdownFile === '-') out.markdown = markdown;
    else await writeFileAtomic(opts.markdownFile, markdown);
  }
  return out;
}

export interface RefreshOptions {
  now?: () => Date;
  /** Re-sign a role when less than this share of its configured period is left (default 0.5). */
  threshold?: number;
  /** Re-sign these roles whatever their expiry. */
  force?: readonly ('root' | 'targets' | 'bins' | 'snapshot' | 'timestamp')[];
  /**
   * Recover a rolled-back repository (E_REPO_ROLLBACK): sign a new snapshot and timestamp on top of
   * its newest committed snapshot, so every host moves forward again. Without a rollback, a plain refresh.
   */
  rollForward?: boolean;
  /** Bring the status pages' TUF section up to date after re-signing; default true. */
  statusPages?: boolean;
}

export interface RefreshResult {
  repository: string;
  /** Roles (and bin names) re-signed; empty when nothing was close to expiry. */
  resigned: string[];
  metadataWritten: string[];
  /** Set when a rolled-back timestamp.json was superseded (`rollForward`). */
  rolledForward?: { fromSnapshot: number; toSnapshot: number };
  /** The overview page after re-signing (versions and expiry changed); absent when nothing was re-signed. */
  statusPages?: StatusPagesOutcome;
}

/**
 * Re-signs what is close to expiry with a new version: root, targets and bins as needed (each
 * needing its own keys), then snapshot and timestamp. Nothing due: nothing written. Run it on a
 * schedule shorter than the timestamp's expiry (docs/repository.md).
 */
export async function refreshRepository(
  storage: Storage,
  signers: SignerSource,
  reporter: Reporter = silentReporter,
  opts: RefreshOptions = {},
): Promise<RefreshResult> {
  const now = (opts.now ?? (() => new Date()))();
  const share = opts.threshold ?? 0.5;
  const force = new Set(opts.force ?? []);
  for (let attempt = 1; ; attempt++) {
    const state = await loadTrustedState(storage, await trustAnchorOf(signers), { rollForward: opts.rollForward ?? false });
    const { config } = state;
    const { rolledForward } = state.history;
    // Rolling forward always signs a new snapshot and timestamp: that is what supersedes the old timestamp.json.
    if (rolledForward) force.add('snapshot').add('timestamp');
    const due = (role: SigningRole, expires: string) =>
      force.has(role) || Date.parse(expires) - now.getTime() < durationSeconds(config.roles[role].expires) * 1000 * share;
    const changes: PendingChanges = {};
    const resignedRoles: string[] = [];
    if (due('root', state.root.signed.expires)) {
      changes.root = resigned(state.root.signed, state.root.signed.version + 1, expiresFor(config, 'root', now));
      resignedRoles.push('root');
    }
    if (due('targets', state.targets.signed.expires)) {
      changes.targets = resigned(state.targets.signed, state.targets.signed.version + 1, expiresFor(config, 'targets', now));
      resignedRoles.push('targets');
    }
    const bins = new Map<string, Targets>();
    for (const name of binNames(state.targets.signed)) {
      const bin: Metadata<Targets> = await loadBin(storage, state, name);
      if (due('bins', bin.signed.expires)) {
        bins.set(name, resigned(bin.signed, bin.signed.version + 1, expiresFor(config, 'bins', now)));
        resignedRoles.push(name);
      }
    }
    if (bins.size > 0) changes.bins = bins;
    const snapshotDue = due('snapshot', state.snapshot.signed.expires);
    const timestampDue = due('timestamp', state.timestamp.signed.expires);
    if (resignedRoles.length === 0 && !snapshotDue && !timestampDue) {
      reporter.info('nothing is close to expiry; nothing re-signed');
      await keepNewerTimestamp(signers, storage, state.timestampBytes, reporter);
      return { repository: storage.location, resigned: [], metadataWritten: [] };
    }
    resignedRoles.push('snapshot', 'timestamp');
    const commitSigners = await signersForCommit(state, signers, changes);
    try {
      const commit = await commitChanges(storage, state, commitSigners, changes, now);
      if (commit.root) await signers.trustRoot(commit.root);
      await keepNewerTimestamp(signers, storage, commit.timestamp, reporter);
      if (rolledForward) reporter.step(storage.location, 'roll forward', 'ok', `snapshot ${rolledForward.toSnapshot} is current again (timestamp version ${commit.timestampVersion})`);
      reporter.step(storage.location, 'refresh', 'ok', `re-signed ${summarize(resignedRoles)}`);
      const statusPages = opts.statusPages === false ? { written: [] } : await keepStatusPages(storage, signers, { projects: [], now: () => now }, reporter);
      return { repository: storage.location, resigned: resignedRoles, metadataWritten: commit.written, ...(rolledForward ? { rolledForward } : {}), statusPages };
    } catch (e) {
      await retryAfterConflict(e, attempt, reporter);
    }
  }
}

function summarize(roles: string[]): string {
  const bins = roles.filter((r) => !['root', 'targets', 'snapshot', 'timestamp'].includes(r));
  const rest = roles.filter((r) => !bins.includes(r));
  return [...rest, ...(bins.length > 0 ? [`${bins.length} bin(s)`] : [])].join(', ');
}
