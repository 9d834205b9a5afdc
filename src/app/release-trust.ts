import { verifyAttestation } from '../attest/verify.ts';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { targetObjectKey, POLICY_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/layout.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { checkNotRetiredAttestation } from '../policy/attestation-keys.ts';
import { parsePolicy, type Policy } from '../policy/policy.ts';
import type { Storage } from '../storage/storage.ts';
import { trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadTrustedState } from '../tuf/trusted-state.ts';
import { consistentHash, hashMismatch, uncheckablePins } from '../verify/target-hashes.ts';

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
    let keyIds: string[];
    try {
      ({ keyIds } = await verifyAttestation(bundle, policy, {
        file,
        project: normalizeProjectName(project),
        ...(sigstoreRoot ? { sigstoreTrustedRoot: async () => sigstoreRoot } : {}),
      }));
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
    // Hosts would accept it, but a retired key may attest no new release (docs/attestation-keys.md).
    checkNotRetiredAttestation(policy, keyIds, file);
  };
}

/** The attestation policy and Sigstore trusted root the repository distributes, read through TUF from the key store's root. */
export async function readPublishedTrust(storage: Storage, signers: SignerSource): Promise<{ policy: Policy; sigstoreRoot: Uint8Array | undefined }> {
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

/**
 * A target's bytes, pinned by its metadata's (targets or a bin) length and every hash it lists,
 * as a host checks them (src/verify/target-hashes.ts); undefined when not a target.
 */
export async function readTarget(storage: Storage, targets: Record<string, { length: number; hashes: Record<string, string> }>, target: string, layout: 'datadog-v2' | undefined): Promise<Uint8Array | undefined> {
  const info = targets[target];
  if (!info) return undefined;
  const pin = uncheckablePins(info.hashes) === undefined ? consistentHash(info.hashes) : undefined;
  const key = pin ? targetObjectKey(target, pin, layout) : target;
  const obj = pin ? await storage.get(key) : undefined;
  if (!obj || obj.bytes.length !== info.length || hashMismatch(info.hashes, obj.bytes) !== undefined) {
    throw new ProvenantError('E_TARGET_DIGEST', `${key} in ${storage.location} is ${obj ? 'not the file the targets metadata pins' : pin ? 'missing' : 'pinned by hashes provenant cannot check'}`, {
      exitClass: 'verification',
      file: key,
      hint: 'the repository was altered outside provenant; a policy or trusted root: publish it again with `provenant repo set-trust`; a pointer: check the repository with `provenant repo status`',
    });
  }
  return obj.bytes;
}
