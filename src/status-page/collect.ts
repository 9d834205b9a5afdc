import { Readable } from 'node:stream';
import type { Metadata, TargetFile, Targets } from '@tufjs/models';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { consistentTargetPath, POLICY_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/layout.ts';
import { parsePolicy, type Policy } from '../policy/policy.ts';
import type { Storage } from '../storage/storage.ts';
import { binNames, succinctRolesOf } from '../tuf/changes.ts';
import { durationSeconds, SIGNING_ROLES, type SigningRole } from '../tuf/config.ts';
import { loadBin, loadTrustedState, type TrustAnchor, type TrustedState } from '../tuf/trusted-state.ts';
import { downloadPinnedAttestation } from '../verify/artifact.ts';
import { checkAttestationSignature, checkAttestedStatement } from '../verify/attestation-check.ts';
import { codePointCompare } from '../util/code-point-order.ts';
import { checkFailed, type CheckName } from '../verify/checks.ts';
import { checkPointer } from '../verify/pointer-check.ts';
import { repositoryBaseUrl } from '../verify/repository-url.ts';
import { projectPointerPrefix, releasesOf } from '../verify/versions.ts';
import type { Problem, ReleaseFacts, RoleFacts, StatusFacts } from './model.ts';
import { signatureFacts } from './signature.ts';
import { StorageFetcher } from './storage-fetcher.ts';
import { mapLimited } from '../util/map-limited.ts';

export interface CollectOptions {
  /** The key store's trust (root, settings, kept timestamp); without it the repository's own 1.root.json. */
  anchor?: TrustAnchor | undefined;
  /** Projects to verify release by release (PEP 503 names): 'all', a list, or chosen from all the projects. */
  details: 'all' | readonly string[] | ((projects: readonly string[]) => readonly string[]);
  /** Objects read at once (S3 latency is what this hides). Default 16. */
  concurrency?: number;
}

/**
 * Reads the repository the way `repo status` does (loadTrustedState: the root chain from the
 * trusted root, timestamp, snapshot, targets; then every bin), and for the projects asked for,
 * each release the way `provenant download` checks it, short of fetching the wheel: the pointer
 * against its TUF target, the attestation against the pointer's pin, its signature against the
 * TUF-signed policy, statement types, subject and parameters, and the provenance policy. A check
 * that fails is recorded as the release's problem (the page shows it, and nothing the failed data
 * claims); transport and storage failures are thrown, so no page says "not verified" for a network
 * error. Nothing unsigned (provenant-repository.json, the index, earlier pages) is read for facts.
 */
export async function collectStatusFacts(storage: Storage, opts: CollectOptions): Promise<StatusFacts> {
  const limit = opts.concurrency ?? 16;
  const state = await loadTrustedState(storage, opts.anchor);
  if (state.config.layout === 'datadog-v2') {
    // The pages read provenant's pointers; a page listing no release would say something false.
    throw new ProvenantError('E_REPO_LAYOUT', 'status pages are not made for a repository in the datadog-v2 layout', {
      exitClass: 'input',
      hint: 'use `provenant repo status` (text or --json), which verifies this layout too (docs/datadog-v2.md)',
    });
  }
  const names = binNames(state.targets.signed);
  const bins = await mapLimited(names, limit, (name) => loadBin(storage, state, name));
  const targets = bins.flatMap((b) => Object.values(b.signed.targets));

  const byProject = new Map<string, TargetFile[]>();
  for (const t of targets) {
    const project = t.path.split('/')[1];
    if (project === undefined || !t.path.startsWith(projectPointerPrefix(project))) continue;
    byProject.set(project, [...(byProject.get(project) ?? []), t]);
  }
  const projects = [...byProject]
    .sort(([a], [b]) => codePointCompare(a, b))
    .map(([name, ts]) => ({ name, releases: releasesOf(ts, name) }))
    .filter((p) => p.releases.length > 0);

  const chosen = typeof opts.details === 'function' ? opts.details(projects.map((p) => p.name)) : opts.details;
  const wanted = chosen === 'all' ? projects : projects.filter((p) => chosen.includes(p.name));
  const policy = wanted.length > 0 ? await readPolicy(storage, state) : undefined;
  const base = repositoryBaseUrl(storage.location, '/');
  const fetcher = new StorageFetcher(storage, base);
  const details: StatusFacts['details'] = [];
  for (const p of wanted) {
    const releases = await mapLimited(p.releases, limit, (r) => verifyRelease(storage, fetcher, base, policy!, p.name, r.version, r.target));
    details.push({ name: p.name, releases });
  }

  const root = state.root.signed;
  const top = (role: RoleFacts['role'], md: { signed: { version: number; expires: string } }): RoleFacts => ({
    role,
    version: md.signed.version,
    expires: md.signed.expires,
    threshold: root.roles[role]?.threshold ?? 0,
    keyCount: root.roles[role]?.keyIDs.length ?? 0,
  });
  const succinct = succinctRolesOf(state.targets.signed);
  return {
    repository: storage.location,
    anchored: opts.anchor !== undefined,
    settings: state.configSource,
    roles: [top('root', state.root), top('targets', state.targets), top('snapshot', state.snapshot), top('timestamp', state.timestamp)],
    bins: binFacts(bins, succinct.threshold, succinct.keyIDs.length),
    periods: periodsOf(state),
    projects: projects.map((p) => ({ name: p.name, versions: p.releases.map((r) => r.version) })),
    details,
    ...(policy && 'problem' in policy ? { policyProblem: policy.problem } : {}),
  };
}

function binFacts(bins: Metadata<Targets>[], threshold: number, keyCount: number): StatusFacts['bins'] {
  const versions = bins.map((b) => b.signed.version);
  const expires = bins.map((b) => b.signed.expires).sort()[0] ?? '';
  return { count: bins.length, minVersion: Math.min(...versions), maxVersion: Math.max(...versions), expires, threshold, keyCount };
}

function periodsOf(state: TrustedState): Partial<Record<SigningRole, number>> {
  return Object.fromEntries(SIGNING_ROLES.map((r) => [r, durationSeconds(state.config.roles[r].expires)]));
}

type PolicyRead = { policy: Policy; sigstoreTrustedRoot: () => Promise<Uint8Array> } | { problem: Problem };

/** The attestation policy, a target of the trusted targets role, checked against its pin. */
async function readPolicy(storage: Storage, state: TrustedState): Promise<PolicyRead> {
  const info = state.targets.signed.targets[POLICY_TARGET];
  if (!info) return { problem: { check: 'attestation signature', code: 'E_POLICY_MISSING', message: `the repository publishes no attestation policy (TUF target ${POLICY_TARGET})` } };
  try {
    const bytes = await readTarget(storage, info, 'attestation signature');
    let root: Promise<Uint8Array> | undefined;
    // As download reads it: a TUF target of the trusted targets role, only for a keyless bundle.
    const sigstoreTrustedRoot = () => (root ??= readSigstoreTrustedRoot(storage, state));
    return { policy: parsePolicy(bytes, POLICY_TARGET), sigstoreTrustedRoot };
  } catch (e) {
    return { problem: problemOf('attestation signature', e) };
  }
}

async function readSigstoreTrustedRoot(storage: Storage, state: TrustedState): Promise<Uint8Array> {
  const info = state.targets.signed.targets[SIGSTORE_TRUSTED_ROOT_TARGET];
  if (!info) {
    throw checkFailed('attestation signature', 'E_SIGSTORE_ROOT_MISSING', `the attestation is keyless, and the repository publishes no Sigstore trusted root (TUF target ${SIGSTORE_TRUSTED_ROOT_TARGET})`, {
      file: SIGSTORE_TRUSTED_ROOT_TARGET,
      hint: 'the repository owners must publish one (`provenant repo set-trust --sigstore-trusted-root …`, signed by the targets role)',
    });
  }
  return readTarget(storage, info, 'attestation signature');
}

async function verifyRelease(storage: Storage, fetcher: StorageFetcher, base: string, policy: PolicyRead, project: string, version: string, target: TargetFile): Promise<ReleaseFacts> {
  const facts: ReleaseFacts = { version, target: target.path };
  let check: CheckName = 'pointer target';
  try {
    const bytes = await readTarget(storage, target, check);
    check = 'pointer schema';
    const checked = checkPointer(bytes, target, { project, version }, base);
    const p = checked.pointer;
    facts.wheel = { fileName: checked.wheelFileName, sha256: p.digest, length: p.length, key: fetcher.keyOf(checked.wheelUrl)! };
    facts.attestation = { key: fetcher.keyOf(checked.attestationUrl)!, sha256: p.attestation.digest, length: p.attestation.length };
    check = 'attestation signature';
    if ('problem' in policy) throw policy.problem;
    check = 'attestation length and digest';
    const pin = { url: checked.attestationUrl, length: p.attestation.length, sha256: p.attestation.digest };
    const bundle = await downloadPinnedAttestation(fetcher, pin);
    check = 'attestation signature';
    const signed = await checkAttestationSignature(bundle, policy.policy, pin.url, { project, sigstoreTrustedRoot: policy.sigstoreTrustedRoot });
    check = 'statement types';
    const provenance = checkAttestedStatement(signed, policy.policy, { project, version, wheelFileName: checked.wheelFileName, sha256: p.digest }, pin.url, (passed) => {
      check = passed === 'statement types' ? 'subject' : 'provenance policy';
    });
    facts.provenance = provenance;
    facts.signature = signatureFacts(signed);
  } catch (e) {
    facts.problem = problemOf(check, e);
  }
  return facts;
}

/**
 * A failed check becomes the release's problem. A missing object is one too (the repository is
 * incomplete); any other failure (network, credentials, a bug) is not about the release: rethrown.
 */
function problemOf(check: CheckName, e: unknown): Problem {
  if (isProblem(e)) return e;
  if (isProvenantError(e) && (e.exitClass === 'verification' || e.code === 'E_NET_NOT_FOUND')) {
    const prefix = `${check}: `;
    return { check, code: e.code, message: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message };
  }
  throw e;
}

function isProblem(e: unknown): e is Problem {
  return typeof e === 'object' && e !== null && !(e instanceof Error) && 'check' in e && 'code' in e;
}

/** A small target's bytes at its consistent-snapshot name, checked against its TUF length and hashes. */
async function readTarget(storage: Storage, info: TargetFile, check: CheckName): Promise<Uint8Array> {
  const sha256 = info.hashes.sha256;
  const key = sha256 ? consistentTargetPath(info.path, sha256) : info.path;
  const obj = await storage.get(key);
  if (!obj) throw checkFailed(check, 'E_NET_NOT_FOUND', `${key} is missing`, { file: key });
  // The downloader's codes: length first, then every hash TUF lists.
  if (obj.bytes.byteLength !== info.length) throw checkFailed(check, 'E_TARGET_LENGTH', `${key} is ${obj.bytes.byteLength} bytes, TUF pins ${info.length}`, { file: key });
  try {
    await info.verify(Readable.from([obj.bytes]));
  } catch (e) {
    throw checkFailed(check, 'E_TARGET_DIGEST', `${key} is not the bytes TUF pins: ${(e as Error).message}`, { file: key });
  }
  return obj.bytes;
}
