import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Metadata, Root, Targets } from '@tufjs/models';
import { baseOf, summarize, targetsLayoutRefused, type Proposal, type ProposalDocument } from '../ceremony/proposal.ts';
import { writeProposal } from '../ceremony/proposal-file.ts';
import { ProvenantError } from '../errors.ts';
import { layoutOfTargets } from '../formats/datadog-v2.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { keyIdOf } from '../signers/key-file.ts';
import { anchorKeyRef, assertNoSecret, parseKeyRef } from '../signers/key-ref.ts';
import { closeAll, createKey, passphraseFor, readKeyIndex, recordKeyRefs } from '../signers/key-store.ts';
import { openSigner } from '../signers/open-signer.ts';
import type { KeyType, PublicKeyInfo } from '../signers/signer.ts';
import type { Storage } from '../storage/storage.ts';
import { expiresFor, targetsWith, targetFile } from '../tuf/changes.ts';
import { expiresAt, checkExpiry, type RepositoryConfig } from '../tuf/config.ts';
import { metadataKey } from '../tuf/sign.ts';
import { trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadTrustedState, type TrustedState } from '../tuf/trusted-state.ts';
import { nextTargetsVersion } from './ceremony-check.ts';
import { trustTargetFiles, type TrustTargets } from './trust-targets.ts';

/**
 * `repo root propose` and `repo targets propose` (docs/ceremony.md): the next root or targets
 * metadata, unsigned, in a proposal file. Made from the repository as the key store trusts it
 * (so a proposal is never based on a tampered repository). New keys are read here, from their
 * token, KMS or file (`new` generates one in the key store), and recorded in the key store so
 * the publisher can use new online keys; no private key leaves its holder.
 */
export interface ProposeCommon {
  keysDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the proposal goes; default <proposalsDir>/<kind>-v<N>.json. */
  out?: string;
  proposalsDir: string;
  /** Validity of the new version, e.g. 365d (default: the settings' period for the role). */
  expires?: string;
  /** Type of keys generated for `new` (default ed25519). */
  keyType?: KeyType;
  now?: () => Date;
}

export interface RootProposeOptions extends ProposeCommon {
  /** Root keys to add: key references, `*.json` public key files (`repo key show --json`), or `new`. */
  addRootKeys?: readonly string[];
  /** Root keys to remove: key ids (a unique prefix of 8+) or key store names. */
  removeRootKeys?: readonly string[];
  rootThreshold?: number;
  /** Replaces the targets key (the proposal then holds a re-signed targets too, for the new key to sign). */
  targetsKey?: string;
  /** Replaces the online key: snapshot and timestamp in root, the bin delegation in targets. */
  onlineKey?: string;
}

export interface TargetsProposeOptions extends ProposeCommon, TrustTargets {
  /** Replaces the bin delegation's key (the online key for bins only). */
  binsKey?: string;
}

export interface ProposeResult {
  file: string;
  kind: 'root' | 'targets';
  summary: string[];
  /** Keys added to the key store for this proposal (new or by reference). */
  recordedKeys: string[];
}

interface NewKey {
  keyId: string;
  publicKey: PublicKeyInfo;
  name: string;
}

export async function proposeRoot(storage: Storage, source: SignerSource, reporter: Reporter = silentReporter, opts: RootProposeOptions): Promise<ProposeResult> {
  const now = (opts.now ?? (() => new Date()))();
  const state = await loadTrustedState(storage, await trustAnchorOf(source));
  if ((opts.targetsKey || opts.onlineKey) && layoutOfTargets(state.targets.signed) === 'datadog-v2') throw targetsLayoutRefused();
  const ctx = await keyContext(opts);
  const current = state.root.signed;
  const json = jsonOf(current) as { keys: Record<string, unknown>; roles: Record<string, { keyids: string[]; threshold: number }> };
  const rootIds = [...json.roles.root!.keyids];
  for (const spec of opts.removeRootKeys ?? []) {
    const id = findKeyId(spec, rootIds, ctx.names, '--remove-key');
    rootIds.splice(rootIds.indexOf(id), 1);
  }
  for (const spec of opts.addRootKeys ?? []) {
    const k = await ctx.resolve(spec, 'root', ['root']);
    if (rootIds.includes(k.keyId)) throw usage(`${spec} is already a root key (${k.keyId.slice(0, 12)}…)`, '--add-key', 'leave it out, or remove another key');
    json.keys[k.keyId] = keyJson(k.publicKey);
    rootIds.push(k.keyId);
  }
  const threshold = opts.rootThreshold ?? json.roles.root!.threshold;
  checkThreshold(threshold, rootIds.length, 'root');
  json.roles.root = { keyids: rootIds, threshold };
  let targetsKey: NewKey | undefined;
  if (opts.targetsKey) {
    targetsKey = await ctx.resolve(opts.targetsKey, 'targets', ['targets']);
    json.keys[targetsKey.keyId] = keyJson(targetsKey.publicKey);
    json.roles.targets = { keyids: [targetsKey.keyId], threshold: 1 };
  }
  let online: NewKey | undefined;
  if (opts.onlineKey) {
    online = await ctx.resolve(opts.onlineKey, 'online', ['bins', 'snapshot', 'timestamp']);
    json.keys[online.keyId] = keyJson(online.publicKey);
    json.roles.snapshot = { keyids: [online.keyId], threshold: 1 };
    json.roles.timestamp = { keyids: [online.keyId], threshold: 1 };
  }
  // Keys no role names any more leave the root (a removed key must not linger as trusted material).
  const used = new Set(Object.values(json.roles).flatMap((r) => r.keyids));
  for (const id of Object.keys(json.keys)) if (!used.has(id)) delete json.keys[id];
  const expires = expiryOf(opts.expires, state.config, 'root', now);
  const root = Root.fromJSON({ ...json, version: current.version + 1, expires } as never);
  // A new targets key must sign targets again, and new bin keys live in targets: both need a targets part.
  const targets = targetsKey || online ? nextTargets(state, online, expiryOf(undefined, state.config, 'targets', now)) : undefined;
  return write(storage, state, reporter, opts, ctx, 'root', { root, targets, files: [] });
}

export async function proposeTargets(storage: Storage, source: SignerSource, reporter: Reporter = silentReporter, opts: TargetsProposeOptions): Promise<ProposeResult> {
  const now = (opts.now ?? (() => new Date()))();
  const files = trustTargetFiles(opts);
  if (files.length === 0 && !opts.binsKey && !opts.expires) {
    throw usage('nothing to propose', '--policy', 'give --policy FILE, --sigstore-trusted-root, --bins-key or --expires');
  }
  const state = await loadTrustedState(storage, await trustAnchorOf(source));
  if (layoutOfTargets(state.targets.signed) === 'datadog-v2') throw targetsLayoutRefused();
  const ctx = await keyContext(opts);
  const bins = opts.binsKey ? await ctx.resolve(opts.binsKey, 'online', ['bins']) : undefined;
  const expires = expiryOf(opts.expires, state.config, 'targets', now);
  const withFiles = targetsWith(state.targets.signed, files.map((f) => targetFile(f.path, f.bytes)), state.targets.signed.version, expires);
  const targets = nextTargets({ ...state, targets: new Metadata(withFiles) }, bins, expires);
  return write(storage, state, reporter, opts, ctx, 'targets', { targets, files });
}

async function write(
  storage: Storage,
  state: TrustedState,
  reporter: Reporter,
  opts: ProposeCommon,
  ctx: KeyContext,
  kind: 'root' | 'targets',
  next: { root?: Root | undefined; targets?: Targets | undefined; files: { path: string; bytes: Uint8Array }[] },
): Promise<ProposeResult> {
  const rootBytes = (await storage.get(metadataKey('root', state.root.signed.version)))!.bytes;
  const targetsBytes = (await storage.get(metadataKey('targets', state.targets.signed.version)))!.bytes;
  const names = (id: string) => ctx.names.get(id) ?? '';
  const summary = summarize({ root: state.root.signed, targets: state.targets.signed }, next, names);
  const involved = [next.root?.keys, next.root && state.root.signed.keys, next.targets?.delegations?.keys, next.targets && state.targets.signed.delegations?.keys].flatMap((k) => Object.keys(k ?? {}));
  const doc: ProposalDocument = {
    provenantProposal: 1,
    kind,
    created: (opts.now ?? (() => new Date()))().toISOString(),
    base: { root: baseOf(rootBytes, state.root.signed.version), targets: baseOf(targetsBytes, state.targets.signed.version) },
    targetFiles: Object.fromEntries(next.files.map((f) => [f.path, Buffer.from(f.bytes).toString('base64')])),
    keyNames: Object.fromEntries(involved.filter((id) => ctx.names.has(id)).map((id) => [id, ctx.names.get(id)!])),
    summary,
  };
  const proposal: Proposal = { doc, ...(next.root ? { root: new Metadata(next.root) } : {}), ...(next.targets ? { targets: new Metadata(next.targets) } : {}) };
  const version = kind === 'root' ? next.root!.version : next.targets!.version;
  const file = opts.out ?? path.join(opts.proposalsDir, `${kind}-v${version}.json`);
  if (existsSync(file)) {
    throw new ProvenantError('E_PROPOSAL_EXISTS', `${file} already exists`, {
      exitClass: 'conflict',
      file,
      hint: 'sign or publish that proposal, or remove it if it is abandoned, or pass --out FILE',
    });
  }
  await writeProposal(file, proposal);
  reporter.step(file, 'propose', 'ok', summary.join('; '));
  return { file, kind, summary, recordedKeys: ctx.recorded };
}

/** The next top-level targets: version+1, fresh expiry, and the bin delegation moved to `bins` when given. */
function nextTargets(state: Pick<TrustedState, 'targets' | 'history'>, bins: NewKey | undefined, expires: string): Targets {
  const json = jsonOf(state.targets.signed) as { delegations: { keys: Record<string, unknown>; succinct_roles: { keyids: string[]; threshold: number } } };
  if (bins) {
    const d = json.delegations;
    for (const id of d.succinct_roles.keyids) delete d.keys[id];
    d.keys[bins.keyId] = keyJson(bins.publicKey);
    d.succinct_roles = { ...d.succinct_roles, keyids: [bins.keyId], threshold: 1 };
  }
  return Targets.fromJSON({ ...json, version: nextTargetsVersion(state), expires } as never);
}

function jsonOf(md: Root | Targets): Record<string, unknown> {
  // `_type` is not a constructor field (see changes.ts `resigned`).
  const { _type: _ignored, ...json } = structuredClone(md.toJSON()) as Record<string, unknown>;
  return json;
}

function keyJson(k: PublicKeyInfo): Record<string, unknown> {
  return { keytype: k.keytype, scheme: k.scheme, keyval: { public: k.keyval.public } };
}

function expiryOf(duration: string | undefined, config: RepositoryConfig, role: 'root' | 'targets', now: Date): string {
  if (duration === undefined) return expiresFor(config, role, now);
  const expires = expiresAt(now, duration);
  checkExpiry(role, expires, now);
  return expires;
}

function checkThreshold(threshold: number, keys: number, role: string): void {
  if (threshold >= 1 && threshold <= keys) return;
  throw new ProvenantError('E_PROPOSAL_THRESHOLD', `the ${role} threshold ${threshold} is ${threshold < 1 ? 'below 1' : `above the ${keys} ${role} key(s) it would have`}: nobody could ever sign it`, {
    exitClass: 'usage',
    field: '--threshold',
    hint: `add keys with --add-key, or give a threshold from 1 to ${keys}`,
  });
}

function usage(message: string, field: string, hint: string): ProvenantError {
  return new ProvenantError('E_USAGE', message, { exitClass: 'usage', field, hint });
}

interface KeyContext {
  /** Key id → key store name, for summaries and messages. */
  names: Map<string, string>;
  recorded: string[];
  resolve(spec: string, base: string, roles: string[]): Promise<NewKey>;
}

async function keyContext(opts: ProposeCommon): Promise<KeyContext> {
  const env = opts.env ?? process.env;
  const index = await readKeyIndex(opts.keysDir);
  const names = new Map(Object.entries(index.keys).map(([n, e]) => [e.keyid, n]));
  const recorded: string[] = [];
  const freeName = async (base: string) => {
    const taken = (await readKeyIndex(opts.keysDir)).keys;
    for (let n = 2; ; n++) if (!taken[`${base}-${n}`] && !existsSync(path.join(opts.keysDir, `${base}-${n}.pem`))) return `${base}-${n}`;
  };
  return {
    names,
    recorded,
    async resolve(spec, base, roles) {
      const known = [...names].find(([, n]) => n === spec);
      if (known) {
        const e = index.keys[spec]!;
        return { keyId: known[0], name: spec, publicKey: { keytype: e.keytype, scheme: e.scheme, keyval: { public: e.public } } };
      }
      if (spec === 'new') {
        const name = await freeName(base);
        const e = await createKey(opts.keysDir, name, { type: opts.keyType ?? 'ed25519', roles, passphrase: passphraseFor(name, env) });
        names.set(e.keyid, name);
        recorded.push(name);
        return { keyId: e.keyid, name, publicKey: { keytype: e.keytype, scheme: e.scheme, keyval: { public: e.public } } };
      }
      if (spec.endsWith('.json')) {
        const file = path.resolve(opts.cwd ?? process.cwd(), spec);
        const k = await readPublicKeyFile(file);
        const name = path.basename(file).replace(/(\.pub)?\.json$/, '');
        names.set(k.keyId, name);
        return { ...k, name };
      }
      const ref = anchorKeyRef(spec, opts.cwd ?? process.cwd(), `--${base}-key`);
      assertNoSecret(parseKeyRef(ref, `--${base}-key`), `--${base}-key`);
      const name = await freeName(base);
      const signer = await openSigner(ref, { env, cwd: opts.keysDir, keyName: name, field: `--${base}-key` });
      try {
        await recordKeyRefs(opts.keysDir, [{ name, ref, roles, signer }]);
      } finally {
        await closeAll([signer]);
      }
      names.set(signer.keyId, name);
      recorded.push(name);
      return { keyId: signer.keyId, name, publicKey: signer.publicKey };
    },
  };
}

/** A public key as `repo key show --json` prints it: `{keyid?, keytype, scheme, keyval: {public}}`. */
async function readPublicKeyFile(file: string): Promise<{ keyId: string; publicKey: PublicKeyInfo }> {
  const bad = (why: string) =>
    new ProvenantError('E_PUBLIC_KEY_INVALID', `${file} is not a TUF public key: ${why}`, {
      file,
      hint: 'the key holder writes it with `provenant repo key show --key <their key ref> --json > holder.pub.json`',
    });
  let raw: { keyid?: unknown; keytype?: unknown; scheme?: unknown; keyval?: { public?: unknown } };
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as typeof raw;
  } catch (e) {
    throw bad((e as Error).message);
  }
  const schemes: Record<string, string> = { ed25519: 'ed25519', 'ecdsa-sha2-nistp256': 'ecdsa', 'ecdsa-sha2-nistp384': 'ecdsa' };
  if (typeof raw.scheme !== 'string' || schemes[raw.scheme] !== raw.keytype || typeof raw.keyval?.public !== 'string') throw bad('keytype/scheme/keyval.public missing or unsupported');
  const publicKey = { keytype: raw.keytype, scheme: raw.scheme, keyval: { public: raw.keyval.public } } as PublicKeyInfo;
  const keyId = keyIdOf(publicKey);
  if (raw.keyid !== undefined && raw.keyid !== keyId) throw bad(`its keyid ${String(raw.keyid)} is not the key's (${keyId})`);
  return { keyId, publicKey };
}

/** A key id given in full, by a unique prefix of 8+ hex digits, or by its key store name. */
function findKeyId(spec: string, among: readonly string[], names: ReadonlyMap<string, string>, field: string): string {
  const byName = [...names].filter(([id, n]) => n === spec && among.includes(id)).map(([id]) => id);
  const byPrefix = /^[0-9a-f]{8,64}$/.test(spec) ? among.filter((id) => id.startsWith(spec)) : [];
  const found = [...new Set([...byName, ...byPrefix])];
  if (found.length === 1) return found[0]!;
  throw usage(`${spec} names ${found.length === 0 ? 'no' : 'more than one'} current root key`, field, `root keys: ${among.map((id) => `${id.slice(0, 12)}…${names.get(id) ? ` (${names.get(id)})` : ''}`).join(', ')}`);
}
