import type { AttestedRelease } from './attestation-check.ts';
import { ProvenantError } from '../errors.ts';
import { POLICY_TARGET, rebuildTargetPath } from '../formats/layout.ts';
import { parseVsa, REBUILD_POLICY_URI } from '../formats/vsa.ts';
import type { Policy, SignerQuorum } from '../policy/policy.ts';
import { countedZero, fetchQuorumStatements, quorumFor, tallyQuorum, type QuorumTally } from './signer-quorum.ts';
import type { TargetFile } from '@tufjs/models';

/** The release as the host verified it: the pointer's wheel digest and attestation digest. */
/** The release as attested, and the attestation the rebuilders checked. */
export type RebuiltRelease = AttestedRelease & { attestationSha256: string };

/**
 * Why a VSA does not vouch for a rebuild of exactly this release, or undefined when it does: a
 * SLSA VSA v1 of the rebuild policy, PASSED, whose subject is this wheel (file name, which carries
 * the version, and sha256) and whose input attestations include this release's attestation.
 */
export function judgeVsa(payload: Uint8Array, release: RebuiltRelease): string | undefined {
  const parsed = parseVsa(payload);
  if ('problem' in parsed) return parsed.problem;
  const { subject, predicate } = parsed.statement;
  const s = subject[0]!;
  if (s.name !== release.wheelFileName || s.digest.sha256 !== release.sha256) {
    return `it is about ${s.name} sha256 ${s.digest.sha256.slice(0, 12)}…, not ${release.wheelFileName} sha256 ${release.sha256.slice(0, 12)}…`;
  }
  if (predicate.verificationResult !== 'PASSED') return `its verificationResult is ${predicate.verificationResult}`;
  if (predicate.policy.uri !== REBUILD_POLICY_URI) return `it verifies policy ${predicate.policy.uri}, not a rebuild (${REBUILD_POLICY_URI})`;
  if (!predicate.inputAttestations.some((a) => a.digest.sha256 === release.attestationSha256)) {
    return `its input attestations do not include this release's attestation (sha256 ${release.attestationSha256.slice(0, 12)}…)`;
  }
  return undefined;
}

/** The distinct rebuilder keys whose VSA vouches for this release; the others count zero, with why. */
export function tallyRebuilds(files: readonly { file: string; bytes: Uint8Array }[], rebuilders: SignerQuorum, release: RebuiltRelease): QuorumTally {
  return tallyQuorum(files, rebuilders, (payload) => judgeVsa(payload, release));
}

/**
 * When the policy asks for independent rebuilders of this project: fetches each rebuilder key's
 * VSA (a TUF target), counts the distinct keys whose VSA vouches for this release, and refuses
 * with E_REBUILDS_MISSING below the threshold. Returns the tally, or undefined when none is needed.
 */
export async function checkRebuilds(
  tuf: { targetInfo(path: string): Promise<TargetFile | undefined>; fetchTarget(info: TargetFile): Promise<Uint8Array> },
  policy: Policy,
  release: RebuiltRelease,
): Promise<QuorumTally | undefined> {
  const rule = quorumFor(policy.rebuilders, release.project);
  if (!rule) return undefined;
  const files = await fetchQuorumStatements(tuf, rule, (keyId) => rebuildTargetPath(release.project, release.version, keyId));
  const tally = tallyRebuilds(files, rule, release);
  if (tally.accepted.length >= rule.threshold) return tally;
  throw new ProvenantError(
    'E_REBUILDS_MISSING',
    `${release.project} ${release.version} has ${tally.accepted.length} valid rebuild VSA(s) of ${release.wheelFileName} from independent rebuilders; the policy requires ${rule.threshold}${countedZero(tally)}`,
    {
      exitClass: 'verification',
      file: POLICY_TARGET,
      field: 'rebuilders.threshold',
      hint: `do not install it yet: ${rule.threshold} rebuilders listed in the policy must run \`provenant rebuild ${release.project}==${release.version} --sign-vsa\` and have their VSAs published (docs/rebuild.md)`,
    },
  );
}
