import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { signAttestation } from '../attest/sign.ts';
import { ProvenantError } from '../errors.ts';
import { approvalStatement, parseApprovalStatement, renderApprovalStatement } from '../formats/approval.ts';
import { approvalTargetPath } from '../formats/layout.ts';
import { isValidProjectName, normalizeProjectName, parseWheelFileName } from '../formats/pep503.ts';
import { assertWheelOfRelease } from '../formats/wheel-binding.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { Signer } from '../signers/signer.ts';
import type { Storage } from '../storage/storage.ts';
import type { SignerSource } from '../tuf/signer-source.ts';
import { publishStatements, singleKeyedStatement, type PublishStatementsResult } from './publish-statements.ts';
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
  const bad = (why: string) => new ProvenantError('E_APPROVAL_INVALID', `${file} is not an approval: ${why}`, { exitClass: 'input', file, hint: 'publish the file `provenant approve` wrote' });
  const { keyId, payload } = singleKeyedStatement(bytes, file, bad);
  const parsed = parseApprovalStatement(payload);
  if ('problem' in parsed) throw bad(parsed.problem);
  const { project, version } = parsed.statement.predicate;
  return approvalTargetPath(normalizeProjectName(project), version, keyId);
}

export type PublishApprovalsResult = PublishStatementsResult;

/** Approvals are targets of the hashed bins, signed with the online key like pointers (publish-statements.ts). */
export async function publishApprovals(
  storage: Storage,
  signers: SignerSource,
  files: readonly { file: string; bytes: Uint8Array }[],
  reporter: Reporter = silentReporter,
  opts: { now?: () => Date } = {},
): Promise<PublishApprovalsResult> {
  return publishStatements(storage, signers, files, approvalTargetOf, 'publish approval', reporter, opts);
}
