/**
 * Fuzz target: the in-toto statement (the signed DSSE payload) as the downloader reads it once
 * its signature verified: checkStatementTypes, then the subject, the build parameters and the
 * provenance policy. The release the statement is checked against is the one its first subject
 * names, so valid statements go all the way through the policy.
 */
import { normalizeProjectName, parseWheelFileName } from '../../src/formats/pep503.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { checkProvenanceParameters, checkProvenancePolicy, checkStatementTypes, checkSubject } from '../../src/verify/attestation-check.ts';
import { ATTESTATION_KEYS } from '../lib/attestation-keys.ts';

const FILE = 'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json';
/** A production-like policy: local and GitHub builders, DataDog repositories, branches and release tags. */
const POLICY = defaultPolicy({
  attestationKeys: Object.values(ATTESTATION_KEYS),
  builders: [LOCAL_BUILDER_ID, 'https://github.com/DataDog/*/.github/workflows/*'],
  sourceRepositories: ['https://github.com/DataDog/*'],
  refs: ['refs/heads/*', 'refs/tags/*'],
});

export function fuzz(data: Buffer): void {
  const facts = checkStatementTypes(data, FILE);
  const subject = facts.subjects[0];
  const wheel = subject ? parseWheelFileName(subject.name) : undefined;
  checkSubject(facts, subject?.name ?? 'datadog_postgres-23.2.0-py3-none-any.whl', subject?.sha256 ?? '0'.repeat(64), FILE);
  const release = wheel
    ? { project: normalizeProjectName(wheel.name), version: wheel.version, wheelFileName: subject!.name }
    : { project: 'datadog-postgres', version: '23.2.0', wheelFileName: subject!.name };
  checkProvenanceParameters(facts, release, FILE);
  checkProvenancePolicy(facts, POLICY, FILE);
}
