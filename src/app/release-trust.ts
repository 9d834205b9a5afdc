import { verifyAttestation } from '../attest/verify.ts';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { targetObjectKey, POLICY_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/layout.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { parsePolicy, type Policy } from '../policy/policy.ts';
import type { Storage } from '../storage/storage.ts';
import { trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadTrustedState } from '../tuf/trusted-state.ts';
import { sha256Hex } from '../util/hash.ts';

/**
 * Before `publish` or `release` signs a release, its attestation is verified the way every host
 * will verify it: against the attestation policy and the Sigstore trusted root the repository
 * distributes through TUF (read from the key store's root, never from the bucket alone). A
 * certificate identity or a key the policy does not accept (a keys.json whose attestation entry
 * was pointed elsewhere, a `sign --key` with the wrong key) would publish a release no host can
 * install, and releases are immutable, so the version would be burnt: it is refused here
 * (E_RELEASE_IDENTITY_REFUSED) before anything is written.
 */
export function publishedTrustCheck(storage: Storage, signers: SignerSource): (bundle: Uint8Array, project: string, file: string) => Promise<void> {
  let trust: Promise<{ policy: Policy; sigstoreRoot: Uint8Array | undefined }> | undefined;
  return async (bundle, project, file) => {
    trust ??= readPublishedTrust(storage, signers);
    const { policy, sigstoreRoot } = await trust;
    try {
      await verifyAttestation(bundle, policy, {
        file,
        project: normalizeProjectName(project),
        ...(sigstoreRoot ? { sigstoreTrustedRoot: async () => sigstoreRoot } : {}),
      });
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      throw new ProvenantError('E_RELEASE_IDENTITY_REFUSED', `the repository's attestation policy would refuse this attestation (${e.code}: ${e.message}); nothing was published for ${project}`, {
        exitClass: 'verification',
        file,
        field: e.field,
        hint: `sign again with a key or workflow identity the policy lists (the key store's attestation key, an identity in attestation.identities, or a certificate from a CA in attestation.certificateAuthorities), or publish a policy that accepts it with \`provenant repo set-trust --policy\` (docs/policy.md)`,
        cause: e,
      });
    }
  };
}

async function readPublishedTrust(storage: Storage, signers: SignerSource): Promise<{ policy: Policy; sigstoreRoot: Uint8Array | undefined }> {
  const state = await loadTrustedState(storage, await trustAnchorOf(signers));
  const policy = await readTarget(storage, state.targets.signed.targets, POLICY_TARGET, state.config.layout);
  if (!policy) {
    throw new ProvenantError('E_POLICY_MISSING', `the repository publishes no attestation policy (TUF target ${POLICY_TARGET})`, {
      exitClass: 'verification',
      file: POLICY_TARGET,
      hint: 'publish one with `provenant repo set-trust --policy policy.json` (docs/policy.md)',
    });
  }
  return { policy: parsePolicy(policy, POLICY_TARGET), sigstoreRoot: await readTarget(storage, state.targets.signed.targets, SIGSTORE_TRUSTED_ROOT_TARGET, state.config.layout) };
}

/** A top-level target's bytes, pinned by the targets metadata's length and sha256; undefined when not a target. */
export async function readTarget(storage: Storage, targets: Record<string, { length: number; hashes: Record<string, string> }>, target: string, layout: 'datadog-v2' | undefined): Promise<Uint8Array | undefined> {
  const info = targets[target];
  if (!info) return undefined;
  const sha = info.hashes.sha256;
  const key = sha ? targetObjectKey(target, sha, layout) : target;
  const obj = await storage.get(key);
  if (!obj || obj.bytes.length !== info.length || sha256Hex(obj.bytes) !== sha) {
    throw new ProvenantError('E_TARGET_DIGEST', `${key} in ${storage.location} is ${obj ? 'not the file the targets metadata pins' : 'missing'}`, {
      exitClass: 'verification',
      file: key,
      hint: 'the repository was altered outside provenant; publish the trust targets again with `provenant repo set-trust`',
    });
  }
  return obj.bytes;
}
