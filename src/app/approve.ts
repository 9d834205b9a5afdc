import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAttestationBundle } from '../attest/bundle.ts';
import { signAttestation } from '../attest/sign.ts';
import { ProvenantError } from '../errors.ts';
import { approvalStatement, parseApprovalStatement, renderApprovalStatement } from '../formats/approval.ts';
import { approvalTargetPath, consistentTargetPath } from '../formats/layout.ts';
import { isValidProjectName, normalizeProjectName, parseWheelFileName } from '../formats/pep503.ts';
import { assertWheelOfRelease } from '../formats/wheel-binding.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { Signer } from '../signers/signer.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { binWithTargets, classifyTarget, expiresFor, groupByBin, targetFile } from '../tuf/changes.ts';
import { keepNewerTimestamp, trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadBin, loadTrustedState } from '../tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../tuf/writer.ts';
import type { Targets } from '@tufjs/models';
import { sha256Hex } from '../util/hash.ts';

/** `<project>==<version>`, as pip spells an exact release. */
export function parseReleaseSpec(spec: string): { project: string; version: string } {
  const m = /^([^=\s]+)==([^=\s]+)$/.exec(spec.trim());
  if (!m || !isValidProjectName(m[1]!)) {
    throw new ProvenantError('E_USAGE', `${JSON.stringify(spec)} is not <project>==<version>`, { exitClass: 'usage', field: 'release', hint: 'e.g. provenant approve datadog-postgres==23.2.0 --wheel dist/…whl --key approver.pem' });
  }
  return { project: normalizeProjectName(m[1]!), version: m[2]! };
}

export interface ApproveRequest {
  release: { project: string; version: string };
  /** The wheel the approver reviewed (e.g. from dist/ or a verified `provenant download`): the approval binds to its sha256. */
  wheel: string;
  signer: Signer;
  note?: string;
  now?: Date;
}

export interface Approval {
  project: string;
  /** The wheel file name's version spelling: the one the pointer and the downloader use. */
  version: string;
  wheel: { fileName: string; sha256: string };
  keyId: string;
  /** Where it is published: `approvals/<project>/<version>/<keyid>.sigstore.json`. */
  target: string;
  bytes: Uint8Array;
}

/** Signs an approval of exactly the given wheel's bytes with the approver's key. */
export async function approveRelease(req: ApproveRequest): Promise<Approval> {
  const fileName = path.basename(req.wheel);
  assertWheelOfRelease(fileName, req.release, { file: req.wheel, field: '--wheel' });
  const bytes = await readFile(req.wheel).catch((e: NodeJS.ErrnoException) => {
    throw new ProvenantError('E_APPROVAL_INPUT', `cannot read the wheel ${req.wheel}: ${e.code ?? e.message}`, { exitClass: 'input', file: req.wheel, field: '--wheel', hint: 'give the wheel file you reviewed' });
  });
  const version = parseWheelFileName(fileName)!.version;
  const sha256 = sha256Hex(bytes);
  const statement = approvalStatement({ project: req.release.project, version, wheelFileName: fileName, sha256, note: req.note ?? '', approvedAt: req.now ?? new Date() });
  const signed = await signAttestation(renderApprovalStatement(statement), [req.signer]);
  return { project: req.release.project, version, wheel: { fileName, sha256 }, keyId: req.signer.keyId, target: approvalTargetPath(req.release.project, version, req.signer.keyId), bytes: signed.bytes };
}

/**
 * Where an approval file goes in the repository, read from the file itself: the key id its
 * signature names and the release its statement names. Nothing here is trusted: every host
 * verifies each approval against the TUF-distributed policy (src/verify/approvals-check.ts).
 */
export function approvalTargetOf(bytes: Uint8Array, file: string): string {
  const bundle = parseAttestationBundle(bytes, file);
  const bad = (why: string) => new ProvenantError('E_APPROVAL_INVALID', `${file} is not an approval: ${why}`, { exitClass: 'input', file, hint: 'publish the file `provenant approve` wrote' });
  if (bundle.kind !== 'keyed' || bundle.perSignature.length !== 1 || !bundle.hint) throw bad('it must carry exactly one keyed signature naming its key');
  const parsed = parseApprovalStatement(bundle.envelope.payload);
  if ('problem' in parsed) throw bad(parsed.problem);
  const { project, version } = parsed.statement.predicate;
  return approvalTargetPath(normalizeProjectName(project), version, bundle.hint);
}

export interface PublishApprovalsResult {
  repository: string;
  published: string[];
  unchanged: string[];
}

/**
 * Approvals are targets of the hashed bins, signed with the online key like pointers, so a host
 * reads each one pinned by TUF. They are immutable: another approval at a published path is
 * E_RELEASE_IMMUTABLE; the same bytes again change nothing.
 */
export async function publishApprovals(
  storage: Storage,
  signers: SignerSource,
  files: readonly { file: string; bytes: Uint8Array }[],
  reporter: Reporter = silentReporter,
  opts: { now?: () => Date } = {},
): Promise<PublishApprovalsResult> {
  const targets = files.map((f) => ({ ...f, target: targetFile(approvalTargetOf(f.bytes, f.file), f.bytes) }));
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
      for (const t of added) reporter.step(storage.location, 'publish approval', 'ok', t.target.path);
      return { repository: storage.location, published: added.map((t) => t.target.path), unchanged };
    } catch (e) {
      if (!(e instanceof ProvenantError && e.code === 'E_CAS_CONFLICT') || attempt >= 10) throw e;
      reporter.debug(`a publisher committed meanwhile (attempt ${attempt}); re-reading`);
    }
  }
}
