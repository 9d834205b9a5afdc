import { MetadataKind, type Metadata, type Root, type Targets } from '@tufjs/models';
import { retryAfterConflict } from '../tuf/commit-conflict.ts';
import { parseMetadata } from '../tuf/metadata-checks.ts';
import { keyLabel, signedBytes, type Proposal } from '../ceremony/proposal.ts';
import { readProposal } from '../ceremony/proposal-file.ts';
import { settingsAfter } from '../ceremony/settings.ts';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { consistentTargetPath } from '../formats/layout.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { PublicKeyInfo, Signer } from '../signers/signer.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage, StoredObject } from '../storage/storage.ts';
import { binNames, expiresFor, resigned, releaseDelegationOf } from '../tuf/changes.ts';
import { CONFIG_KEY, parseConfig, renderConfig } from '../tuf/config.ts';
import { metadataKey } from '../tuf/sign.ts';
import { keepNewerTimestamp, trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadBin, loadTrustedState, type TrustedState } from '../tuf/trusted-state.ts';
import { belowFloor, commitChanges, type CommitSigners, type PendingChanges } from '../tuf/writer.ts';
import { sha256Hex } from '../util/hash.ts';
import { checkProposal, describeThreshold, isPublished } from './ceremony-check.ts';

export interface PublishProposalResult {
  repository: string;
  file: string;
  rootVersion?: number;
  targetsVersion?: number;
  metadataWritten: string[];
  summary: string[];
}

/**
 * `repo root publish` / `repo targets publish`: checks every threshold (root: the current root's
 * root role AND the new root's, TUF spec §5.3.4; targets: the targets role it is published
 * under), naming the signers missing, then commits through the publish protocol (versioned files
 * first, timestamp.json by compare-and-swap): the new root and/or targets as signed by the
 * holders, every bin again when the bin keys changed, snapshot and timestamp with the online key
 * the NEW root names (from the key store). Then the key store trusts the new root and settings.
 */
export async function publishProposal(
  storage: Storage,
  source: SignerSource,
  file: string,
  reporter: Reporter = silentReporter,
  opts: { now?: () => Date; keyNames?: ReadonlyMap<string, string> } = {},
): Promise<PublishProposalResult> {
  const now = (opts.now ?? (() => new Date()))();
  const p = await readProposal(file);
  for (let attempt = 1; ; attempt++) {
    let state: TrustedState;
    // The repository as this attempt reads it: itself, or itself without an uncommitted root of this proposal.
    let view = storage;
    try {
      state = await loadTrustedState(storage, await trustAnchorOf(source));
    } catch (e) {
      if (!(isProvenantError(e) && (e.code === 'E_REPO_CONFIG_MISMATCH' || e.code === 'E_REPO_TAMPERED'))) throw e;
      const finished = await finishInterrupted(storage, source, p, file);
      if (finished) {
        reporter.step(storage.location, 'publish proposal', 'ok', `already published; the key store and the settings now follow it`);
        return finished;
      }
      const hidden = await withoutUncommittedRoot(storage, p);
      if (!hidden) throw e;
      // A run that died after writing the new root and before its commit: commit it now (the root write is identical).
      view = hidden;
      state = await loadTrustedState(view, await trustAnchorOf(source));
    }
    let check: Awaited<ReturnType<typeof checkProposal>>;
    try {
      check = await checkProposal(view, state, p, file, now);
    } catch (e) {
      // Published already (this run was interrupted just before the key store took the new root): finish.
      if (!(isProvenantError(e) && e.code === 'E_PROPOSAL_STALE' && (await isPublished(view, p)))) throw e;
      const root = p.root ? (await view.get(metadataKey('root', state.root.signed.version)))!.bytes : undefined;
      await followPublished(view, source, renderConfig(state.config), root);
      reporter.step(view.location, 'publish proposal', 'ok', 'already published; the key store now trusts its root');
      return alreadyPublished(view, file, p);
    }
    const unmet = check.thresholds.filter((t) => !t.met);
    if (unmet.length > 0) {
      const label = keyLabel((id) => p.doc.keyNames[id] || opts.keyNames?.get(id) || '');
      throw new ProvenantError('E_PROPOSAL_UNSIGNED', `not enough signatures to publish ${file}: ${unmet.map((t) => describeThreshold(t, label)).join('; ')}`, {
        exitClass: 'verification',
        file,
        field: `${unmet[0]!.part}.signatures`,
        hint: `have the missing holders run \`provenant repo ${unmet[0]!.part} sign ${file} --key <their key>\`, then publish again`,
      });
    }
    for (const md of [p.root, p.targets]) {
      if (md && Date.parse(md.signed.expires) <= now.getTime()) {
        throw new ProvenantError('E_PROPOSAL_EXPIRED', `the proposal's ${md.signed.type} expired at ${md.signed.expires}: every host would refuse it`, {
          exitClass: 'verification',
          file,
          field: `${md.signed.type}.signed.expires`,
          hint: 'propose again (the new proposal gets a fresh expiry) and collect the signatures anew',
        });
      }
    }
    const changes = await changesOf(view, state, p, now);
    const signers = await commitSigners(state, source, p, changes);
    for (const [target, b64] of Object.entries(p.doc.targetFiles)) await putTargetFile(view, p, target, Buffer.from(b64, 'base64'), file);
    try {
      const commit = await commitChanges(view, state, signers, changes, now);
      // From here the new metadata is live: the settings follow its keys, the key store trusts the
      // new root. Interrupted in between, the same publish again finishes it (finishInterrupted).
      await followPublished(view, source, renderConfig(settingsAfter(state.config, changes.root, changes.targets)), commit.root);
      await keepNewerTimestamp(source, view, commit.timestamp, reporter);
      reporter.step(view.location, 'publish proposal', 'ok', check.summary.join('; '));
      return {
        repository: view.location,
        file,
        ...(p.root ? { rootVersion: p.root.signed.version } : {}),
        ...(commit.versions['targets.json'] !== undefined && p.targets ? { targetsVersion: commit.versions['targets.json'] } : {}),
        metadataWritten: commit.written,
        summary: check.summary,
      };
    } catch (e) {
      await retryAfterConflict(e, attempt, reporter);
    }
  }
}

async function followPublished(storage: Storage, source: SignerSource, settings: Uint8Array, root: Uint8Array | undefined): Promise<void> {
  await source.trustSettings(settings);
  await storage.put(CONFIG_KEY, settings, objectPropsFor(CONFIG_KEY));
  if (root) await source.trustRoot(root);
}

/**
 * A publish interrupted after its commit leaves settings that disagree with the new metadata
 * (E_REPO_CONFIG_MISMATCH for every publisher). Publishing the same proposal again lands here: the
 * repository is verified as usual from the key store's root, with the settings this proposal
 * leads to standing in for both copies; if that holds and the repository has exactly this
 * proposal's metadata, the settings and trusted root are written. Anything else: undefined (the
 * caller reports the mismatch).
 */
async function finishInterrupted(storage: Storage, source: SignerSource, p: Proposal, file: string): Promise<PublishProposalResult | undefined> {
  const anchor = await trustAnchorOf(source);
  const settings = renderConfig(settingsAfter(parseConfig(anchor.settings!.bytes, anchor.settings!.file), p.root?.signed, p.targets?.signed));
  const withSettings = overlay(storage, (key) => (key === CONFIG_KEY ? { bytes: settings, etag: 'proposal' } : undefined));
  let state: TrustedState;
  try {
    state = await loadTrustedState(withSettings, { ...anchor, settings: { bytes: settings, file: anchor.settings!.file } });
  } catch {
    return undefined;
  }
  // Committed: the root is in the verified chain and the targets the snapshot names are the proposal's.
  if (!(await isPublished(storage, p)) || (p.targets && state.targets.signed.version !== p.targets.signed.version)) return undefined;
  const root = p.root ? (await storage.get(metadataKey('root', state.root.signed.version)))!.bytes : undefined;
  await followPublished(storage, source, settings, root);
  return alreadyPublished(storage, file, p);
}

function alreadyPublished(storage: Storage, file: string, p: Proposal): PublishProposalResult {
  return { repository: storage.location, file, ...(p.root ? { rootVersion: p.root.signed.version } : {}), ...(p.targets ? { targetsVersion: p.targets.signed.version } : {}), metadataWritten: [], summary: p.doc.summary };
}

/**
 * The repository without this proposal's root when that root is there but was never committed
 * (its run died between writing it and the compare-and-swap): hosts already see it, and the
 * timestamp or targets it rotates are still the old keys', so the commit must be finished.
 * Only that exact root is hidden: anything else stays as the repository has it.
 */
async function withoutUncommittedRoot(storage: Storage, p: Proposal): Promise<Storage | undefined> {
  if (!p.root) return undefined;
  const key = metadataKey('root', p.root.signed.version);
  const held = await storage.get(key);
  if (!held || !Buffer.from(signedBytes(parseMetadata(MetadataKind.Root, held.bytes, key, storage))).equals(Buffer.from(signedBytes(p.root)))) return undefined;
  return overlay(storage, (k) => (k === key ? null : undefined));
}

/** `storage` with some reads answered otherwise (`null`: absent; undefined: as stored); writes go through. */
function overlay(storage: Storage, read: (key: string) => StoredObject | null | undefined): Storage {
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'get') {
        return async (key: string) => {
          const r = read(key);
          return r === null ? undefined : (r ?? target.get(key));
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function changesOf(storage: Storage, state: TrustedState, p: Proposal, now: Date): Promise<PendingChanges> {
  const changes: PendingChanges = { ...(p.root ? { root: p.root.signed } : {}), ...(p.targets ? { targets: p.targets.signed } : {}) };
  if (!p.targets) return changes;
  // Bins are signed by the keys targets delegates to: new bin keys mean every bin signed again by them.
  const before = releaseDelegationOf(state.targets.signed);
  const after = releaseDelegationOf(p.targets.signed);
  if ([...before.keyIDs].sort().join() === [...after.keyIDs].sort().join() && before.threshold === after.threshold) return changes;
  const bins = new Map<string, Targets>();
  for (const name of binNames(state.targets.signed)) {
    const bin = (await loadBin(storage, state, name)).signed;
    bins.set(name, resigned(bin, bin.version, expiresFor(state.config, 'bins', now)));
  }
  return { ...changes, bins };
}

/**
 * The holders' signatures stand in for signers of the root and targets parts: each returns its
 * signature only for exactly the bytes that were signed, so the writer cannot publish anything
 * else under them. The online roles are signed with the keys the new root (and targets) name.
 */
async function commitSigners(state: TrustedState, source: SignerSource, p: Proposal, changes: PendingChanges): Promise<CommitSigners> {
  const root = changes.root ?? state.root.signed;
  const top = (role: 'targets' | 'snapshot', r: Root) => source.signersFor(role, r.roles[role]!.keyIDs, r.roles[role]!.threshold);
  const succinct = releaseDelegationOf(changes.targets ?? state.targets.signed);
  const below = belowFloor(state, changes);
  return {
    root: p.root ? presigned(p.root, [state.root.signed, p.root.signed]) : [],
    targets: p.targets ? presigned(p.targets, [root]) : below.targets === 'resign' ? await top('targets', root) : [],
    bins: (changes.bins?.size ?? 0) > 0 || below.bins.length > 0 ? await source.signersFor('bins', succinct.keyIDs, succinct.threshold) : [],
    snapshot: await top('snapshot', root),
    timestamp: await source.signersFor('timestamp', root.roles.timestamp!.keyIDs, root.roles.timestamp!.threshold),
  };
}

function presigned(md: Metadata<Root | Targets>, roots: Root[]): Signer[] {
  const expected = Buffer.from(signedBytes(md));
  return Object.values(md.signatures).map((s) => {
    const key = roots.map((r) => r.keys[s.keyID]).find((k) => k !== undefined)!;
    return {
      keyId: s.keyID,
      publicKey: { keytype: key.keyType, scheme: key.scheme, keyval: { public: key.keyVal.public } } as PublicKeyInfo,
      publicKeyPem: '',
      async sign(bytes: Uint8Array) {
        if (!expected.equals(Buffer.from(bytes))) {
          throw new ProvenantError('E_PROPOSAL_STALE', `the ${md.signed.type} metadata to publish is not the one the holders signed (version ${md.signed.version} is taken)`, {
            exitClass: 'conflict',
            hint: 'propose again from the current repository and collect the signatures anew',
          });
        }
        return Buffer.from(s.sig, 'hex');
      },
    };
  });
}

/** A target the new targets lists, written content-addressed before the commit (create-only). */
async function putTargetFile(storage: Storage, p: Proposal, target: string, bytes: Uint8Array, file: string): Promise<void> {
  const info = p.targets?.signed.targets[target];
  if (!info || info.length !== bytes.byteLength || info.hashes.sha256 !== sha256Hex(bytes)) {
    throw new ProvenantError('E_PROPOSAL_TAMPERED', `the proposal carries ${target}, but its targets metadata does not pin those bytes`, {
      exitClass: 'verification',
      file,
      field: `targetFiles.${target}`,
      hint: 'do not use this file: take the proposal as its author wrote it, or propose again',
    });
  }
  const key = consistentTargetPath(target, info.hashes.sha256);
  await storage.putImmutable(key, bytes, objectPropsFor(key));
}
