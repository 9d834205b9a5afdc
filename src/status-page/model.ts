import { compareVersions } from '../formats/pep440.ts';
import type { ProvenanceFacts } from '../provenance/parse.ts';
import type { SigningRole } from '../tuf/config.ts';
import { codePointCompare } from '../util/code-point-order.ts';
import { expiryState, warnMarginSeconds, type ExpiryState } from './expiry.ts';
import { forgeLinks, type SourceLinks } from './forge.ts';

/**
 * "What the signed metadata says": the one model every rendering of a repository's status
 * (the HTML pages, the Markdown job summary) is made from. Its input, StatusFacts, holds only what
 * was verified through the TUF chain from the trusted root, and the pointers and attestations
 * verified against it (collect.ts); this file only arranges it, so a page can never claim more
 * than the facts.
 */
export interface RoleFacts {
  role: 'root' | 'targets' | 'snapshot' | 'timestamp';
  version: number;
  expires: string;
  threshold: number;
  keyCount: number;
}

export interface BinFacts {
  count: number;
  minVersion: number;
  maxVersion: number;
  /** The earliest expiry among the bins (the one that matters first). */
  expires: string;
  threshold: number;
  keyCount: number;
}

/** Who the verification says signed: policy keys, or (keyless) the certificate's identity. */
export type SignatureFacts =
  | { kind: 'key'; keyIds: string[] }
  | { kind: 'keyless'; subject: string | undefined; issuer: string | undefined; logIndexes: string[] };

/** The first check a release failed, by the downloader's check names. */
export interface Problem {
  check: string;
  code: string;
  message: string;
}

export interface ReleaseFacts {
  version: string;
  /** TUF target path of the pointer. */
  target: string;
  /** What the verified pointer pins (absent when the pointer itself failed a check). */
  wheel?: { fileName: string; sha256: string; length: number; key: string };
  attestation?: { key: string; sha256: string; length: number };
  /** Present only when every check passed, as `provenant download` runs them. */
  provenance?: ProvenanceFacts;
  signature?: SignatureFacts;
  problem?: Problem;
}

export interface StatusFacts {
  /** Where the repository is (as the publisher sees it). */
  repository: string;
  /** True when the root chain was checked from the key store's root.json, not the repository's own. */
  anchored: boolean;
  settings: 'key store' | 'repository';
  roles: RoleFacts[];
  bins: BinFacts;
  /** Configured validity per role in seconds: only lowers the warning margins (expiry.ts). */
  periods: Partial<Record<SigningRole, number>>;
  /** Every project with pointer targets in the signed bins, and their versions. */
  projects: { name: string; versions: string[] }[];
  /** Projects whose releases were verified one by one (their pages are written). */
  details: { name: string; releases: ReleaseFacts[] }[];
  /** Why no attestation could be checked (no or an invalid policy target), if so. */
  policyProblem?: Problem;
}

export interface RoleRow {
  role: string;
  /** One number, or a range for the bins. */
  version: string;
  expires: string;
  state: ExpiryState;
  /** Seconds before expiry at which the page starts warning. */
  warnWithin: number;
  signers: string;
}

export interface ReleaseRow {
  version: string;
  target: string;
  wheel?: ReleaseFacts['wheel'];
  attestation?: ReleaseFacts['attestation'];
  /** The build time the signed provenance records, and which field it came from. */
  built?: { at: string; field: string };
  builder?: { id: string; buildType: string; invocationId: string | undefined };
  source?: { repository: string | undefined; ref: string | undefined; commit: string | undefined; links: SourceLinks };
  format?: ProvenanceFacts['format'];
  signature?: SignatureFacts;
  problem?: Problem;
}

export interface ProjectRow {
  name: string;
  releases: number;
  /** Newest version by PEP 440 order, pre-releases included. */
  newest: string | undefined;
  /** Set for projects verified release by release in this model. */
  verified?: { ok: number; failed: number };
}

export interface StatusModel {
  repository: string;
  generatedAt: string;
  anchored: boolean;
  settings: 'key store' | 'repository';
  roles: RoleRow[];
  /** Roles expired or close to it, in table order. */
  warnings: RoleRow[];
  projects: ProjectRow[];
  details: { name: string; releases: ReleaseRow[] }[];
  policyProblem?: Problem;
}

export function buildStatusModel(facts: StatusFacts, now: Date): StatusModel {
  const row = (role: SigningRole, version: string, expires: string, threshold: number, keyCount: number): RoleRow => ({
    role,
    version,
    expires,
    state: expiryState(role, expires, now, facts.periods[role]),
    warnWithin: warnMarginSeconds(role, facts.periods[role]),
    signers: `${threshold} of ${keyCount} key${keyCount === 1 ? '' : 's'}`,
  });
  const b = facts.bins;
  const roles = [
    ...facts.roles.map((r) => row(r.role, String(r.version), r.expires, r.threshold, r.keyCount)),
    { ...row('bins', b.minVersion === b.maxVersion ? String(b.minVersion) : `${b.minVersion}–${b.maxVersion}`, b.expires, b.threshold, b.keyCount), role: `bins (${b.count})` },
  ];
  const details = facts.details.map((d) => ({ name: d.name, releases: newestFirst(d.releases).map(releaseRow) }));
  const verified = new Map(details.map((d) => [d.name, { ok: d.releases.filter((r) => r.problem === undefined).length, failed: d.releases.filter((r) => r.problem !== undefined).length }]));
  const projects = [...facts.projects]
    .sort((x, y) => codePointCompare(x.name, y.name))
    .map((p) => {
      const v = verified.get(p.name);
      return { name: p.name, releases: p.versions.length, newest: newestFirst(p.versions.map((version) => ({ version })))[0]?.version, ...(v ? { verified: v } : {}) };
    });
  return {
    repository: facts.repository,
    generatedAt: now.toISOString(),
    anchored: facts.anchored,
    settings: facts.settings,
    roles,
    warnings: roles.filter((r) => r.state !== 'ok'),
    projects,
    details,
    ...(facts.policyProblem ? { policyProblem: facts.policyProblem } : {}),
  };
}

function newestFirst<T extends { version: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => compareVersions(b.version, a.version));
}

function releaseRow(r: ReleaseFacts): ReleaseRow {
  const p = r.provenance;
  const out: ReleaseRow = { version: r.version, target: r.target };
  if (r.wheel) out.wheel = r.wheel;
  if (r.attestation) out.attestation = r.attestation;
  if (r.problem) out.problem = r.problem;
  if (!p || r.problem) return out;
  const built = builtAt(p);
  if (built) out.built = built;
  out.format = p.format;
  out.builder = { id: p.builderId, buildType: p.buildType, invocationId: p.invocationId };
  out.source = { repository: p.sourceRepository, ref: p.ref, commit: p.commit, links: forgeLinks(p.sourceRepository, p.ref, p.commit) };
  if (r.signature) out.signature = r.signature;
  return out;
}

/** The build's end, else its start, named by the field of the statement's format that holds it. */
function builtAt(p: ProvenanceFacts): ReleaseRow['built'] {
  const v1 = p.format === 'slsa-v1';
  if (p.finishedOn) return { at: p.finishedOn, field: v1 ? 'runDetails.metadata.finishedOn' : 'metadata.buildFinishedOn' };
  if (p.startedOn) return { at: p.startedOn, field: v1 ? 'runDetails.metadata.startedOn' : 'metadata.buildStartedOn' };
  return undefined;
}
