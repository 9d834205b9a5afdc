import { POLICY_TARGET } from '../formats/layout.ts';
import { retiredKeysReliedOn } from '../policy/attestation-keys.ts';
import { parsePolicy, type Policy } from '../policy/policy.ts';
import { collectStatusFacts } from '../status-page/collect.ts';
import type { Storage } from '../storage/storage.ts';
import { loadTrustedState, type TrustAnchor } from '../tuf/trusted-state.ts';
import { readTarget } from './release-trust.ts';

/** A published release whose attestation relies on a retired or revoked key (docs/attestation-keys.md). */
export interface KeyAffectedRelease {
  project: string;
  version: string;
  /** The pointer's TUF target path. */
  target: string;
  /** `revoked`: hosts refuse it (E_ATTESTATION_KEY_REVOKED); `retired`: still installable. */
  reason: 'revoked' | 'retired';
  installable: boolean;
  /** The retired or revoked key id(s) it relies on. */
  keyIds: string[];
}

/** The key id a revocation refusal names (src/attest/verify.ts writes `revoked key <keyid>`). */
const REVOKED_KEY = /revoked key ([0-9a-f]{64})/;

/**
 * Every published release that relies on a retired or revoked attestation key, checked the way
 * a host checks it (collectStatusFacts). Cheap when the TUF-signed policy retires and revokes
 * nothing: then no pointer or attestation is read.
 */
export async function releasesOnOldKeys(storage: Storage, anchor: TrustAnchor | undefined): Promise<KeyAffectedRelease[] | 'unsupported layout'> {
  const { policy, layout } = await publishedPolicy(storage, anchor);
  if (!policy || ((policy.attestation.retiredKeys ?? []).length === 0 && Object.keys(policy.attestation.revokedKeys ?? {}).length === 0)) return [];
  // The release-by-release checks (collectStatusFacts) read provenant's layout only.
  if (layout === 'datadog-v2') return 'unsupported layout';
  const facts = await collectStatusFacts(storage, { anchor, details: 'all' });
  const out: KeyAffectedRelease[] = [];
  for (const p of facts.details) {
    for (const r of p.releases) {
      const at = { project: p.name, version: r.version, target: r.target };
      if (r.problem?.code === 'E_ATTESTATION_KEY_REVOKED') {
        const keyId = REVOKED_KEY.exec(r.problem.message)?.[1];
        out.push({ ...at, reason: 'revoked', installable: false, keyIds: keyId ? [keyId] : [] });
      } else if (r.signature?.kind === 'key') {
        // signature is set only when every check passed: the release installs.
        const retired = retiredKeysReliedOn(policy, r.signature.keyIds);
        if (retired.length > 0) out.push({ ...at, reason: 'retired', installable: true, keyIds: retired });
      }
    }
  }
  return out;
}

/** The policy target, checked against its TUF pin (E_TARGET_DIGEST), and the repository's layout. */
async function publishedPolicy(storage: Storage, anchor: TrustAnchor | undefined): Promise<{ policy: Policy | undefined; layout: 'datadog-v2' | undefined }> {
  const state = await loadTrustedState(storage, anchor);
  const layout = state.config.layout;
  const bytes = await readTarget(storage, state.targets.signed.targets, POLICY_TARGET, layout);
  return { policy: bytes && parsePolicy(bytes, POLICY_TARGET), layout };
}
