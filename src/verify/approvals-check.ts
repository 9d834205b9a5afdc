import { trustedKeys } from '../attest/keys.ts';
import { verifyAttestationBundle } from '../attest/verify.ts';
import { ProvenantError, isProvenantError } from '../errors.ts';
import { parseApprovalStatement } from '../formats/approval.ts';
import { approvalTargetPath, POLICY_TARGET } from '../formats/layout.ts';
import type { ApprovalsPolicy, Policy } from '../policy/policy.ts';
import type { TargetFile } from '@tufjs/models';

export interface ApprovedRelease {
  project: string;
  version: string;
  wheelFileName: string;
  sha256: string;
}

export interface ApprovalTally {
  /** Policy approval key ids with a valid approval of this exact wheel, one per distinct key. */
  accepted: string[];
  /** Approvals that count zero, and why. */
  rejected: { file: string; reason: string }[];
}

/** The approval rule that applies to `project`, if the policy asks for approvals at all. */
export function approvalsRequired(policy: Policy, project: string): ApprovalsPolicy | undefined {
  const a = policy.approvals;
  if (!a) return undefined;
  return a.projects === undefined || a.projects.includes(project) ? a : undefined;
}

/**
 * The approval keys as a keyed-only policy, so each approval's DSSE signatures are checked by the
 * same code as attestations (verifyAttestationBundle): keys come only from the TUF-distributed
 * policy, a certificate or a hint naming another key is refused.
 */
function approvalKeysPolicy(a: ApprovalsPolicy): Policy {
  return {
    policyVersion: 1,
    attestation: { keys: a.keys, threshold: 1 },
    provenance: { builders: ['*'], sourceRepositories: [], refs: [] },
    allowUnsafeDisableVerification: false,
  };
}

/**
 * Counts the distinct approval keys that approved exactly this wheel. An approval signed by a key
 * the policy does not list, for another file name or digest, or not an approval statement counts
 * zero; one key counts once however many approvals it signed (keys naming the same key material too).
 */
export function tallyApprovals(files: readonly { file: string; bytes: Uint8Array }[], approvals: ApprovalsPolicy, release: ApprovedRelease): ApprovalTally {
  const keysPolicy = approvalKeysPolicy(approvals);
  const identityOf = new Map([...trustedKeys(keysPolicy).values()].map((k) => [k.keyId, k.identity]));
  const accepted = new Map<string, string>(); // key identity → key id
  const rejected: ApprovalTally['rejected'] = [];
  for (const { file, bytes } of files) {
    let verified;
    try {
      verified = verifyAttestationBundle(bytes, keysPolicy, { file });
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      rejected.push({ file, reason: `${e.code}: ${e.message}` });
      continue;
    }
    const parsed = parseApprovalStatement(verified.payload);
    if ('problem' in parsed) {
      rejected.push({ file, reason: parsed.problem });
      continue;
    }
    const subject = parsed.statement.subject[0]!;
    if (subject.name !== release.wheelFileName || subject.digest.sha256 !== release.sha256) {
      rejected.push({ file, reason: `it approves ${subject.name} sha256 ${subject.digest.sha256.slice(0, 12)}…, not ${release.wheelFileName} sha256 ${release.sha256.slice(0, 12)}…` });
      continue;
    }
    for (const keyId of verified.keyIds) {
      const identity = identityOf.get(keyId)!;
      if (!accepted.has(identity)) accepted.set(identity, keyId);
    }
  }
  return { accepted: [...accepted.values()], rejected };
}

/** Fewer than `threshold` distinct approvers: E_APPROVALS_MISSING, naming what counted zero. */
export function checkApprovals(tally: ApprovalTally, approvals: ApprovalsPolicy, release: ApprovedRelease): void {
  if (tally.accepted.length >= approvals.threshold) return;
  const why = tally.rejected.map((r) => `${r.file}: ${r.reason}`).join('; ');
  throw new ProvenantError(
    'E_APPROVALS_MISSING',
    `${release.project} ${release.version} has ${tally.accepted.length} valid approval(s) of ${release.wheelFileName}; the policy requires ${approvals.threshold}${why ? ` (counted zero: ${why})` : ''}`,
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
  const paths = Object.keys(approvals.keys).map((keyId) => approvalTargetPath(release.project, release.version, keyId));
  const infos = await Promise.all(paths.map(async (p) => tuf.targetInfo(p)));
  return Promise.all(infos.flatMap((info) => (info ? [tuf.fetchTarget(info).then((bytes) => ({ file: info.path, bytes }))] : [])));
}
