import { verifyAttestation, type VerifiedAttestation, type VerifyOptions } from '../attest/verify.ts';
import { isProvenantError } from '../errors.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { sameVersion } from '../formats/wheel-binding.ts';
import { allowedBy } from '../policy/pattern.ts';
import type { Policy } from '../policy/policy.ts';
import { parseStatement, provenanceFacts, type ProvenanceFacts } from '../provenance/parse.ts';
import { PREDICATE_SLSA_V02, PREDICATE_SLSA_V1, STATEMENT_TYPE_V01, STATEMENT_TYPE_V1 } from '../provenance/schema.ts';
import { checkFailed, type CheckName } from './checks.ts';
import { checkCertificateMatchesStatement } from './certificate-statement.ts';

/** Re-labels another engine's verification error with the check that raised it. */
function asCheck(check: CheckName, e: unknown): never {
  if (isProvenantError(e)) throw checkFailed(check, e.code, e.message, { file: e.file, field: e.field, hint: e.hint, cause: e });
  throw e;
}

/**
 * Attestation signature: the DSSE signatures against the keys of the TUF-distributed policy
 * only (a key inside the bundle is never trusted), or a keyless bundle against the
 * TUF-distributed Sigstore trusted root and the policy's identities; then the payload type.
 * Returns the exact signed statement bytes and who signed.
 */
export async function checkAttestationSignature(
  bundle: Uint8Array,
  policy: Policy,
  file: string,
  opts: Omit<VerifyOptions, 'file'> = {},
): Promise<Pick<VerifiedAttestation, 'payload' | 'keyIds' | 'keyless' | 'pki'>> {
  try {
    const v = await verifyAttestation(bundle, policy, { ...opts, file });
    return { payload: v.payload, keyIds: v.keyIds, ...(v.keyless ? { keyless: v.keyless } : {}), ...(v.pki ? { pki: v.pki } : {}) };
  } catch (e) {
    return asCheck('attestation signature', e);
  }
}

const STATEMENT_TYPES = new Set([STATEMENT_TYPE_V1, STATEMENT_TYPE_V01]);
const PREDICATE_TYPES = new Map([
  [STATEMENT_TYPE_V1, PREDICATE_SLSA_V1],
  [STATEMENT_TYPE_V01, PREDICATE_SLSA_V02],
]);

/**
 * Statement types: `_type` is an in-toto Statement (v1, or v0.1 for the reference guide's
 * format) and `predicateType` the SLSA provenance that goes with it; then the schema.
 */
export function checkStatementTypes(payload: Uint8Array, file: string): ProvenanceFacts {
  let raw: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    raw = parsed as Record<string, unknown>;
  } catch (e) {
    throw checkFailed('statement types', 'E_STATEMENT_INVALID', `the signed payload is not a JSON statement: ${(e as Error).message}`, { file });
  }
  const type = raw._type;
  if (typeof type !== 'string' || !STATEMENT_TYPES.has(type)) {
    throw checkFailed('statement types', 'E_STATEMENT_TYPE', `_type is ${JSON.stringify(type)}, expected ${[...STATEMENT_TYPES].join(' or ')}`, { file, field: '_type' });
  }
  const wanted = PREDICATE_TYPES.get(type)!;
  if (raw.predicateType !== wanted) {
    throw checkFailed('statement types', 'E_PREDICATE_TYPE', `predicateType is ${JSON.stringify(raw.predicateType)}, expected ${wanted} for ${type}`, {
      file,
      field: 'predicateType',
    });
  }
  try {
    return provenanceFacts(parseStatement(payload, file));
  } catch (e) {
    return asCheck('statement types', e);
  }
}

/** Subject: the statement names this wheel file, with the digest the pointer pins. */
export function checkSubject(facts: ProvenanceFacts, wheelFileName: string, sha256: string, file: string): void {
  const named = facts.subjects.filter((s) => s.name === wheelFileName);
  if (named.length === 0) {
    throw checkFailed('subject', 'E_SUBJECT_MISMATCH', `the attestation is about ${facts.subjects.map((s) => s.name).join(', ') || 'nothing'}, not ${wheelFileName}`, {
      file,
      field: 'subject',
      hint: 'the attestation belongs to another release; do not install this wheel',
    });
  }
  if (!named.some((s) => s.sha256 === sha256)) {
    throw checkFailed('subject', 'E_SUBJECT_DIGEST', `the attestation's sha256 for ${wheelFileName} is ${named[0]!.sha256}, the wheel's is ${sha256}`, {
      file,
      field: 'subject.digest.sha256',
      hint: 'the attestation describes different bytes under the same name; do not install this wheel',
    });
  }
}

/**
 * The build parameters that name a release, where the statement has them, must name this one:
 * `project` (PEP 503 name), `version` (PEP 440 equality) and `wheel` (the file name). Part of the
 * subject check: together they say the attestation is about this release and no other. Other
 * parameters (provenant's `integration` is a directory name, not a project) are not compared.
 */
export function checkProvenanceParameters(facts: ProvenanceFacts, release: { project: string; version: string; wheelFileName: string }, file: string): void {
  const where = facts.format === 'slsa-v1' ? 'predicate.buildDefinition.externalParameters' : 'predicate.invocation.parameters';
  const named: [key: string, expected: string, agrees: (v: string) => boolean][] = [
    ['project', release.project, (v) => normalizeProjectName(v) === normalizeProjectName(release.project)],
    ['version', release.version, (v) => sameVersion(v, release.version)],
    ['wheel', release.wheelFileName, (v) => v === release.wheelFileName],
  ];
  for (const [key, expected, agrees] of named) {
    if (!Object.hasOwn(facts.parameters, key)) continue;
    const value = facts.parameters[key];
    if (typeof value === 'string' && agrees(value)) continue;
    throw checkFailed('subject', 'E_PROVENANCE_PARAMETERS_MISMATCH', `the signed build parameter ${key} is ${JSON.stringify(value)}, but this release's is ${expected}`, {
      file,
      field: `${where}.${key}`,
      hint: 'the attestation was made for another release; do not install this wheel',
    });
  }
}

/** Provenance policy: builder id, source repository and ref allowed by the policy's patterns. */
export function checkProvenancePolicy(facts: ProvenanceFacts, policy: Policy, file: string): void {
  const p = policy.provenance;
  const policyHint = 'the policy (TUF target policy/attestation-policy.json) does not allow this build; see docs/policy.md';
  if (!allowedBy(p.builders, facts.builderId) || p.builders.length === 0) {
    throw checkFailed('provenance policy', 'E_PROVENANCE_BUILDER', `builder ${facts.builderId} is not allowed (allowed: ${p.builders.join(', ')})`, { file, field: 'builder.id', hint: policyHint });
  }
  if (p.sourceRepositories.length > 0 && (facts.sourceRepository === undefined || !allowedBy(p.sourceRepositories, facts.sourceRepository))) {
    throw checkFailed('provenance policy', 'E_PROVENANCE_SOURCE', `source repository ${facts.sourceRepository ?? '(none recorded)'} is not allowed (allowed: ${p.sourceRepositories.join(', ')})`, {
      file,
      field: 'sourceRepository',
      hint: policyHint,
    });
  }
  if (p.refs.length > 0 && (facts.ref === undefined || !allowedBy(p.refs, facts.ref))) {
    throw checkFailed('provenance policy', 'E_PROVENANCE_REF', `ref ${facts.ref ?? '(none recorded)'} is not allowed (allowed: ${p.refs.join(', ')})`, { file, field: 'ref', hint: policyHint });
  }
}

/** The release an attestation must describe: the pointer's project and version, and the wheel it pins. */
export interface AttestedRelease {
  project: string;
  version: string;
  wheelFileName: string;
  sha256: string;
}

/**
 * Every check of the signed statement, in the downloader's order: types, subject and build
 * parameters, the provenance policy, and, for a certificate (Fulcio or an organization's CA), the
 * CI facts it records against the statement's. One function, so `download` and the status pages
 * cannot drift apart; `onPass` reports each check as it passes.
 */
export function checkAttestedStatement(
  signed: Pick<VerifiedAttestation, 'payload' | 'keyless' | 'pki'>,
  policy: Policy,
  release: AttestedRelease,
  file: string,
  onPass: (check: CheckName, facts: ProvenanceFacts) => void = () => {},
): ProvenanceFacts {
  const facts = checkStatementTypes(signed.payload, file);
  onPass('statement types', facts);
  checkSubject(facts, release.wheelFileName, release.sha256, file);
  checkProvenanceParameters(facts, release, file);
  onPass('subject', facts);
  checkProvenancePolicy(facts, policy, file);
  const certified = signed.keyless?.certificate ?? signed.pki?.certificate;
  if (certified) checkCertificateMatchesStatement(certified, facts, file);
  onPass('provenance policy', facts);
  return facts;
}
