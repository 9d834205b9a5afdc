import type { TargetFile } from '@tufjs/models';
import { signAttestation } from '../attest/sign.ts';
import { verifyAttestation } from '../attest/verify.ts';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { attestationKey, pointerTargetPath } from '../formats/layout.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { parsePointer, renderPointer } from '../formats/pointer.ts';
import { checkKeysMayAttest } from '../policy/attestation-keys.ts';
import type { Policy } from '../policy/policy.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { Signer } from '../signers/signer.ts';
import { StorageFetcher } from '../status-page/storage-fetcher.ts';
import type { Storage } from '../storage/storage.ts';
import { binNames } from '../tuf/changes.ts';
import { trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import { loadBin, loadTrustedState } from '../tuf/trusted-state.ts';
import { sha256Hex } from '../util/hash.ts';
import { checkAttestedStatement } from '../verify/attestation-check.ts';
import { checkPointer } from '../verify/pointer-check.ts';
import { repositoryBaseUrl } from '../verify/repository-url.ts';
import { releasesOnOldKeys } from './attestation-key-status.ts';
import { publishReleases, type PublishOptions, type PublishResult, type Release } from './publish.ts';
import { publishedTrustCheck, readPublishedTrust, readTarget } from './release-trust.ts';

/**
 * `repo reattest` (docs/attestation-keys.md): re-signs the SAME statement of published releases
 * with a new attestation key and publishes the new attestation through the publish protocol,
 * replacing each pointer by one that differs only in its attestation reference. The wheel, its
 * digest and the pointer's other fields never change (checked again at planning: E_RELEASE_IMMUTABLE).
 */
export interface ReattestRequest {
  /** `all`: every release `repo status` lists as relying on a retired or revoked key; else these. */
  releases: 'all' | readonly { project: string; version: string }[];
  /** The new attestation key(s): listed in the policy, neither retired nor revoked. */
  attestationSigners: readonly Signer[];
  reporter?: Reporter;
  publish?: Omit<PublishOptions, 'reattest'>;
}

export interface ReattestResult {
  /** The releases re-attested (empty when --all found none). */
  releases: { project: string; version: string; target: string; attestation: string; keyIds: string[] }[];
  publish: PublishResult | undefined;
}

export async function reattestReleases(storage: Storage, signers: SignerSource, req: ReattestRequest): Promise<ReattestResult> {
  const reporter = req.reporter ?? silentReporter;
  const trust = await readPublishedTrust(storage, signers);
  checkKeysMayAttest(trust.policy, req.attestationSigners.map((s) => s.keyId), '--key');
  const anchor = await trustAnchorOf(signers);
  const state = await loadTrustedState(storage, anchor);
  const affected = req.releases === 'all' ? await releasesOnOldKeys(storage, anchor) : [];
  if (state.config.layout === 'datadog-v2' || affected === 'unsupported layout') {
    throw new ProvenantError('E_REPO_LAYOUT', 'repo reattest re-attests releases in provenant\'s layout only, not the datadog-v2 layout', {
      exitClass: 'input',
      hint: 'republish the affected releases as new versions signed with the new attestation key (docs/attestation-keys.md)',
    });
  }
  const wanted =
    req.releases === 'all'
      ? affected.map((r) => ({ project: r.project, version: r.version }))
      : req.releases.map((r) => ({ project: normalizeProjectName(r.project), version: r.version }));
  if (wanted.length === 0) {
    reporter.info('no release relies on a retired or revoked attestation key: nothing to re-attest');
    return { releases: [], publish: undefined };
  }
  const targets = new Map<string, TargetFile>();
  for (const name of binNames(state.targets.signed)) for (const t of Object.values((await loadBin(storage, state, name)).signed.targets)) targets.set(t.path, t);

  const base = repositoryBaseUrl(storage.location, '/');
  const fetcher = new StorageFetcher(storage, base);
  const trustCheck = publishedTrustCheck(storage, signers);
  const releases: Release[] = [];
  const out: ReattestResult['releases'] = [];
  for (const w of wanted) {
    const path = pointerTargetPath(w.project, w.version);
    const target = targets.get(path);
    if (!target) {
      throw new ProvenantError('E_REATTEST_NOT_PUBLISHED', `${w.project} ${w.version} is not published in ${storage.location}`, {
        exitClass: 'not-found',
        file: path,
        hint: 'name published releases as <project>==<version> (see `provenant repo status --json`), or use --all',
      });
    }
    const r = await reattestOne(storage, fetcher, base, trust, target, w, req.attestationSigners);
    await trustCheck(r.release.attestation.bytes, w.project, r.attestationKey);
    releases.push(r.release);
    out.push({ project: w.project, version: w.version, target: path, attestation: r.attestationKey, keyIds: req.attestationSigners.map((s) => s.keyId) });
    reporter.step(w.project, 'reattest', 'ok', `${w.version}: ${r.attestationKey}`);
  }
  const publish = await publishReleases(storage, signers, releases, reporter, { ...req.publish, reattest: true });
  return { releases: out, publish };
}

type Trust = Awaited<ReturnType<typeof readPublishedTrust>>;

async function reattestOne(
  storage: Storage,
  fetcher: StorageFetcher,
  base: string,
  trust: Trust,
  target: TargetFile,
  release: { project: string; version: string },
  newSigners: readonly Signer[],
): Promise<{ release: Release; attestationKey: string }> {
  // Pinned by every hash the bin lists, as hosts check it (readTarget), not by sha256 alone.
  const pointerBytes = (await readTarget(storage, { [target.path]: target }, target.path, undefined))!;
  const checked = checkPointer(pointerBytes, target, release, base);
  const p = checked.pointer;
  const oldKey = fetcher.keyOf(checked.attestationUrl)!;
  const oldBundle = await pinned(storage, oldKey, p.attestation.length, p.attestation.digest);
  // The statement re-signed is one a key the policy knows (trusted, retired or revoked) signed,
  // about exactly this wheel, and the current provenance policy accepts it: nothing a bucket
  // writer made up gets a trusted signature.
  const signed = await verifyAttestation(oldBundle, everyKnownKey(trust.policy), {
    file: oldKey,
    project: release.project,
    ...(trust.sigstoreRoot ? { sigstoreTrustedRoot: async () => trust.sigstoreRoot! } : {}),
  }).catch((e: unknown) => {
    if (!isProvenantError(e)) throw e;
    throw new ProvenantError('E_REATTEST_SOURCE', `${release.project} ${release.version}: the published attestation was not signed by any key the policy lists, retired or revoked (${e.code}: ${e.message})`, {
      exitClass: 'verification',
      file: oldKey,
      hint: 'do not re-attest it: nobody the policy ever trusted signed this statement; rebuild the release from source instead',
      cause: e,
    });
  });
  checkAttestedStatement(signed, trust.policy, { ...release, wheelFileName: checked.wheelFileName, sha256: p.digest }, oldKey);
  const payload = signed.payload;
  const wheelKey = fetcher.keyOf(checked.wheelUrl)!;
  const wheel = await pinned(storage, wheelKey, p.length, p.digest);
  const metadata = await storage.get(`${wheelKey}.metadata`);
  if (!metadata) throw missing(`${wheelKey}.metadata`, storage);

  const bundle = (await signAttestation(payload, newSigners)).bytes;
  const bundleSha = sha256Hex(bundle);
  const oldName = oldKey.slice(oldKey.lastIndexOf('/') + 1).replace(/^[0-9a-f]{64}\./, '');
  // A new object name: published objects are immutable, and the pointer pins the bytes anyway.
  const fileName = `${bundleSha}.${oldName}`;
  const uri = `${p.attestation.uri.slice(0, p.attestation.uri.lastIndexOf('/') + 1)}${fileName}`;
  const pointer = new TextEncoder().encode(renderPointer({ ...p, attestation: { ...p.attestation, uri, digest: bundleSha, length: bundle.byteLength } }));
  parsePointer(new TextDecoder().decode(pointer), target.path);
  return {
    release: {
      project: release.project,
      version: release.version,
      wheel: { fileName: checked.wheelFileName, bytes: wheel, metadata: metadata.bytes },
      pointer,
      attestation: { fileName, bytes: bundle },
    },
    attestationKey: attestationKey(release.project, fileName),
  };
}

/** The policy with its revoked keys trusted again, threshold 1: only to check who signed what is re-signed. */
function everyKnownKey(policy: Policy): Policy {
  const { revokedKeys, retiredKeys: _retired, ...attestation } = policy.attestation;
  return { ...policy, attestation: { ...attestation, keys: { ...attestation.keys, ...revokedKeys }, threshold: 1 } };
}

async function pinned(storage: Storage, key: string, length: number, sha256: string): Promise<Uint8Array> {
  const obj = await storage.get(key);
  if (!obj) throw missing(key, storage);
  if (obj.bytes.byteLength !== length || sha256Hex(obj.bytes) !== sha256) {
    throw new ProvenantError('E_TARGET_DIGEST', `${key} in ${storage.location} is not the bytes its pointer pins`, {
      exitClass: 'verification',
      file: key,
      hint: 'the repository was altered outside provenant; check it with `provenant repo status` before re-attesting',
    });
  }
  return obj.bytes;
}

function missing(key: string, storage: Storage): ProvenantError {
  return new ProvenantError('E_NET_NOT_FOUND', `${key} is missing from ${storage.location}`, { exitClass: 'verification', file: key, hint: 'the repository is incomplete; check it with `provenant repo status`' });
}
