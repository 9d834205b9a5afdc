import { trustedKeys } from '../attest/keys.ts';
import { verifyAttestationBundle } from '../attest/verify.ts';
import { isProvenantError } from '../errors.ts';
import type { Policy, SignerQuorum } from '../policy/policy.ts';
import type { TargetFile } from '@tufjs/models';

/**
 * k of n policy keys, each with a signed statement about the exact wheel: the machinery shared by
 * release approvals (approvals-check.ts) and rebuild VSAs (rebuilds-check.ts). Each statement is
 * a TUF target, one path per policy key; what a statement must say is the caller's `judge`.
 */
export interface QuorumTally {
  /** Policy key ids whose statement passed the judge, one per distinct key. */
  accepted: string[];
  /** Statements that count zero, and why. */
  rejected: { file: string; reason: string }[];
}

/** The rule that applies to `project`, if the policy has one at all. */
export function quorumFor(rule: SignerQuorum | undefined, project: string): SignerQuorum | undefined {
  if (!rule) return undefined;
  return rule.projects === undefined || rule.projects.includes(project) ? rule : undefined;
}

/**
 * The quorum's keys as a keyed-only policy, so each statement's DSSE signatures are checked by the
 * same code as attestations (verifyAttestationBundle): keys come only from the TUF-distributed
 * policy, a certificate or a hint naming another key is refused.
 */
function keysOnlyPolicy(q: SignerQuorum): Policy {
  return {
    policyVersion: 1,
    attestation: { keys: q.keys, threshold: 1 },
    provenance: { builders: ['*'], sourceRepositories: [], refs: [] },
    allowUnsafeDisableVerification: false,
  };
}

/**
 * Counts the distinct quorum keys that signed a statement the judge accepts (the judge returns
 * why a payload counts zero, or undefined). A statement signed by a key the quorum does not list
 * counts zero; one key counts once however many statements it signed (keys naming the same key
 * material too).
 */
export function tallyQuorum(files: readonly { file: string; bytes: Uint8Array }[], quorum: SignerQuorum, judge: (payload: Uint8Array) => string | undefined): QuorumTally {
  const keysPolicy = keysOnlyPolicy(quorum);
  const identityOf = new Map([...trustedKeys(keysPolicy).values()].map((k) => [k.keyId, k.identity]));
  const accepted = new Map<string, string>(); // key identity → key id
  const rejected: QuorumTally['rejected'] = [];
  for (const { file, bytes } of files) {
    let verified;
    try {
      verified = verifyAttestationBundle(bytes, keysPolicy, { file });
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      rejected.push({ file, reason: `${e.code}: ${e.message}` });
      continue;
    }
    const problem = judge(verified.payload);
    if (problem !== undefined) {
      rejected.push({ file, reason: problem });
      continue;
    }
    for (const keyId of verified.keyIds) {
      const identity = identityOf.get(keyId)!;
      if (!accepted.has(identity)) accepted.set(identity, keyId);
    }
  }
  return { accepted: [...accepted.values()], rejected };
}

/** `<count> … (counted zero: …)`: the part of a refusal that says what did not count. */
export function countedZero(tally: QuorumTally): string {
  const why = tally.rejected.map((r) => `${r.file}: ${r.reason}`).join('; ');
  return why ? ` (counted zero: ${why})` : '';
}

/** Where a host looks: one TUF target per quorum key, so every statement it reads is pinned. */
export async function fetchQuorumStatements(
  tuf: { targetInfo(path: string): Promise<TargetFile | undefined>; fetchTarget(info: TargetFile): Promise<Uint8Array> },
  quorum: SignerQuorum,
  pathOf: (keyId: string) => string,
): Promise<{ file: string; bytes: Uint8Array }[]> {
  const infos = await Promise.all(Object.keys(quorum.keys).map(async (keyId) => tuf.targetInfo(pathOf(keyId))));
  return Promise.all(infos.flatMap((info) => (info ? [tuf.fetchTarget(info).then((bytes) => ({ file: info.path, bytes }))] : [])));
}
