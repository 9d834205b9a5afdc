import type { AttestedRelease } from './attestation-check.ts';
import { ProvenantError } from '../errors.ts';
import { parseApprovalStatement } from '../formats/approval.ts';
import { approvalTargetPath, POLICY_TARGET } from '../formats/layout.ts';
import type { ApprovalsPolicy, Policy } from '../policy/policy.ts';
import { countedZero, fetchQuorumStatements, quorumFor, tallyQuorum, type QuorumTally } from './signer-quorum.ts';
import type { TargetFile } from '@tufjs/models';

/** Approvals are about the release exactly as its attestation is: the wheel the pointer pins. */
export type ApprovedRelease = AttestedRelease;

/** The approval rule that applies to `project`, if the policy asks for approvals at all. */
export function approvalsRequired(policy: Policy, project: string): ApprovalsPolicy | undefined {
  return quorumFor(policy.approvals, project);
}

/**
 * Counts the distinct approval keys that approved exactly this wheel. An approval signed by a key
 * the policy does not list, for another file name or digest, or not an approval statement counts
 * zero; one key counts once however many approvals it signed (keys naming the same key material too).
 */
export function tallyApprovals(files: readonly { file: string; bytes: Uint8Array }[], approvals: ApprovalsPolicy, release: ApprovedRelease): QuorumTally {
  return tallyQuorum(files, approvals, (payload) => {
    const parsed = parseApprovalStatement(payload);
    if ('problem' in parsed) return parsed.problem;
    const subject = parsed.statement.subject[0]!;
    if (subject.name !== release.wheelFileName || subject.digest.sha256 !== release.sha256) {
      return `it approves ${subject.name} sha256 ${subject.digest.sha256.slice(0, 12)}…, not ${release.wheelFileName} sha256 ${release.sha256.slice(0, 12)}…`;
    }
    return undefined;
  });
}

/** Fewer than `threshold` distinct approvers: E_APPROVALS_MISSING, naming what counted zero. */
export function checkApprovals(tally: QuorumTally, approvals: ApprovalsPolicy, release: ApprovedRelease): void {
  if (tally.accepted.length >= approvals.threshold) return;
  throw new ProvenantError(
    'E_APPROVALS_MISSING',
    `${release.project} ${release.version} has ${tally.accepted.length} valid approval(s) of ${release.wheelFileName}; the policy requires ${approvals.threshold}${countedZero(tally)}`,
    {
      exitClass: 'verification',
      file: POLICY_TARGET,
      field: 'approvals.threshold',
      hint: `do not install it yet: ${approvals.threshold} approvers listed in the policy must run \`provenant approve ${release.project}==${release.version}\` on this wheel and have the approvals published (docs/approvals.md)`,
    },
  );
}

/** Where a host looks: one TUF target per policy approval key, so every approval it reads is pinned. */
export async function fetchApprovals(
  tuf: { targetInfo(path: string): Promise<TargetFile | undefined>; fetchTarget(info: TargetFile): Promise<Uint8Array> },
  approvals: ApprovalsPolicy,
  release: { project: string; version: string },
): Promise<{ file: string; bytes: Uint8Array }[]> {
  return fetchQuorumStatements(tuf, approvals, (keyId) => approvalTargetPath(release.project, release.version, keyId));
}
