import { parseAttestationBundle } from '../attest/bundle.ts';
import { retryAfterConflict } from '../tuf/commit-conflict.ts';
import type { ProvenantError } from '../errors.ts';
import { consistentTargetPath } from '../formats/layout.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { binWithTargets, classifyTarget, expiresFor, groupByBin, targetFile } from '../tuf/changes.ts';
import { keepNewerTimestamp, trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadBin, loadTrustedState } from '../tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../tuf/writer.ts';
import type { Targets } from '@tufjs/models';

/**
 * Signed statements published beside a release (approvals, rebuild VSAs): targets of the hashed
 * bins, signed with the online key like pointers, so a host reads each one pinned by TUF.
 */
export interface PublishStatementsResult {
  repository: string;
  published: string[];
  unchanged: string[];
}

/**
 * The key id and payload of a bundle carrying exactly one keyed signature that names its key:
 * where such a statement goes is read from the file itself. Nothing here is trusted: every host
 * verifies the signature against the TUF-distributed policy.
 */
export function singleKeyedStatement(bytes: Uint8Array, file: string, bad: (why: string) => ProvenantError): { keyId: string; payload: Uint8Array } {
  const bundle = parseAttestationBundle(bytes, file);
  if (bundle.kind !== 'keyed' || bundle.perSignature.length !== 1 || !bundle.hint) throw bad('it must carry exactly one keyed signature naming its key');
  return { keyId: bundle.hint, payload: bundle.envelope.payload };
}

/**
 * Publishes each file at the target path `targetOf` reads from it. Published statements are
 * immutable: other bytes at a published path are E_RELEASE_IMMUTABLE; the same bytes again change
 * nothing. A concurrent publisher that wins the timestamp compare-and-swap makes this re-read and retry.
 */
export async function publishStatements(
  storage: Storage,
  signers: SignerSource,
  files: readonly { file: string; bytes: Uint8Array }[],
  targetOf: (bytes: Uint8Array, file: string) => string,
  label: string,
  reporter: Reporter = silentReporter,
  opts: { now?: () => Date } = {},
): Promise<PublishStatementsResult> {
  const targets = files.map((f) => ({ ...f, target: targetFile(targetOf(f.bytes, f.file), f.bytes) }));
  const now = (opts.now ?? (() => new Date()))();
  for (let attempt = 1; ; attempt++) {
    const state = await loadTrustedState(storage, await trustAnchorOf(signers));
    const bins = new Map<string, Targets>();
    const added: typeof targets = [];
    for (const [name, group] of groupByBin(state.targets.signed, targets.map((t) => t.target))) {
      const bin = await loadBin(storage, state, name);
      const fresh = group.filter((t) => classifyTarget(bin.signed, t) === 'added');
      if (fresh.length === 0) continue;
      added.push(...targets.filter((t) => fresh.includes(t.target)));
      bins.set(name, binWithTargets(bin.signed, fresh, bin.signed.version + 1, expiresFor(state.config, 'bins', now)));
    }
    const unchanged = targets.filter((t) => !added.includes(t)).map((t) => t.target.path);
    if (added.length === 0) return { repository: storage.location, published: [], unchanged };
    const commitSigners = await signersForCommit(state, signers, { bins });
    for (const t of added) {
      const key = consistentTargetPath(t.target.path, t.target.hashes.sha256!);
      await storage.putImmutable(key, t.bytes, objectPropsFor(key));
    }
    try {
      const commit = await commitChanges(storage, state, commitSigners, { bins }, now);
      await keepNewerTimestamp(signers, storage, commit.timestamp, reporter);
      for (const t of added) reporter.step(storage.location, label, 'ok', t.target.path);
      return { repository: storage.location, published: added.map((t) => t.target.path), unchanged };
    } catch (e) {
      await retryAfterConflict(e, attempt, reporter);
    }
  }
}
