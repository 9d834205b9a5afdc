import { parseSigstoreTrustedRoot } from '../attest/sigstore-root.ts';
import { retryAfterConflict } from '../tuf/commit-conflict.ts';
import { ProvenantError } from '../errors.ts';
import { targetObjectKey, POLICY_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/layout.ts';
import { parsePolicy } from '../policy/policy.ts';
import { trustedKeys } from '../attest/keys.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { targetsWith, expiresFor, targetFile } from '../tuf/changes.ts';
import { keepNewerTimestamp, trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadTrustedState } from '../tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../tuf/writer.ts';

/**
 * What a downloader trusts attestations by, published as targets of the TOP-LEVEL targets role:
 * the attestation policy and the Sigstore trusted root. Changing either is a new targets version
 * signed with the targets key(s), kept offline; the online key (bins, snapshot, timestamp)
 * cannot. Each file is checked before anything is written.
 */
export interface TrustTargets {
  /** A new attestation policy (JSON bytes, docs/policy.md). */
  policy?: Uint8Array | undefined;
  /** A new Sigstore trusted root (protobuf-specs TrustedRoot JSON). */
  sigstoreTrustedRoot?: Uint8Array | undefined;
}

export interface TrustTargetsResult {
  repository: string;
  /** Target paths whose content changed; empty when the repository already had these files. */
  changed: string[];
  targetsVersion: number | undefined;
  metadataWritten: string[];
}

/** The trust targets as target files, each validated: a bad file is refused before any write. */
export function trustTargetFiles(t: TrustTargets): { path: string; bytes: Uint8Array }[] {
  const out: { path: string; bytes: Uint8Array }[] = [];
  if (t.policy) {
    // The keys too, as hosts read them: unreadable material, or a key both trusted and revoked, would refuse every release.
    trustedKeys(parsePolicy(t.policy, POLICY_TARGET));
    out.push({ path: POLICY_TARGET, bytes: t.policy });
  }
  if (t.sigstoreTrustedRoot) {
    parseSigstoreTrustedRoot(t.sigstoreTrustedRoot, SIGSTORE_TRUSTED_ROOT_TARGET);
    out.push({ path: SIGSTORE_TRUSTED_ROOT_TARGET, bytes: t.sigstoreTrustedRoot });
  }
  return out;
}

export async function publishTrustTargets(
  storage: Storage,
  signers: SignerSource,
  reporter: Reporter = silentReporter,
  t: TrustTargets,
  opts: { now?: () => Date } = {},
): Promise<TrustTargetsResult> {
  const files = trustTargetFiles(t);
  if (files.length === 0) {
    throw new ProvenantError('E_USAGE', 'nothing to publish: give a policy and/or a Sigstore trusted root', {
      exitClass: 'usage',
      hint: 'e.g. provenant repo set-trust --policy policy.json --sigstore-trusted-root public-good',
    });
  }
  const now = (opts.now ?? (() => new Date()))();
  for (let attempt = 1; ; attempt++) {
    const state = await loadTrustedState(storage, await trustAnchorOf(signers));
    const current = state.targets.signed.targets;
    const changed = files.map((f) => ({ ...f, target: targetFile(f.path, f.bytes) })).filter((f) => current[f.path]?.hashes.sha256 !== f.target.hashes.sha256 || current[f.path]?.length !== f.target.length);
    if (changed.length === 0) {
      reporter.info('the repository already publishes these trust targets; nothing signed');
      return { repository: storage.location, changed: [], targetsVersion: undefined, metadataWritten: [] };
    }
    const version = state.targets.signed.version + 1;
    const targets = targetsWith(state.targets.signed, changed.map((f) => f.target), version, expiresFor(state.config, 'targets', now));
    const changes = { targets };
    // Every signer before any write: a missing targets key leaves the repository untouched.
    const commitSigners = await signersForCommit(state, signers, changes);
    for (const f of changed) {
      const key = targetObjectKey(f.path, f.target.hashes.sha256!, state.config.layout);
      // Content-addressed: a copy left by an earlier attempt is the same bytes ('identical').
      await storage.putImmutable(key, f.bytes, objectPropsFor(key));
    }
    try {
      const commit = await commitChanges(storage, state, commitSigners, changes, now);
      await keepNewerTimestamp(signers, storage, commit.timestamp, reporter);
      reporter.step(storage.location, 'set-trust', 'ok', `targets v${commit.versions['targets.json']}: ${changed.map((f) => f.path).join(', ')}`);
      return { repository: storage.location, changed: changed.map((f) => f.path), targetsVersion: commit.versions['targets.json'], metadataWritten: commit.written };
    } catch (e) {
      await retryAfterConflict(e, attempt, reporter);
    }
  }
}
