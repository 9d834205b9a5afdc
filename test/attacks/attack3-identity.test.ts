import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { matchIdentity, type CertificateIdentity, type Identity } from '../../src/policy/identity.ts';
import { checkProvenancePolicy } from '../../src/verify/attestation-check.ts';
import type { Policy } from '../../src/policy/policy.ts';
import type { ProvenanceFacts } from '../../src/provenance/parse.ts';

/**
 * Attack (capacity A): someone who may push a branch to the repository, but not to main, runs the
 * release workflow on a branch NAMED `x.yml@refs/heads/main`. git accepts that name, and Fulcio
 * writes the SAN `…/workflows/release.yml@refs/heads/x.yml@refs/heads/main`. A policy that allows
 * any workflow of main (`…/workflows/*.yml@refs/heads/main`) must not accept it: the `*` of the
 * workflow part must not reach across the `@` into the ref.
 */
const GH = 'https://token.actions.githubusercontent.com';
const WORKFLOWS = 'https://github.com/org/repo/.github/workflows';
const EVIL_BRANCH = 'refs/heads/x.yml@refs/heads/main';
const EVIL_SAN = `${WORKFLOWS}/release.yml@${EVIL_BRANCH}`;
const cert = (subject: string, ref: string): CertificateIdentity => ({
  issuer: GH,
  subject,
  extensions: { issuer: GH, sourceRepositoryUri: 'https://github.com/org/repo', sourceRepositoryRef: ref, buildConfigUri: subject },
});

test('attack3 A: a branch named `x.yml@refs/heads/main` is a valid git ref name (the attacker can create it)', () => {
  execFileSync('git', ['check-ref-format', EVIL_BRANCH]);
});

test('attack3 A: a workflow wildcard does not reach across `@` into the ref (SAN and extension patterns)', () => {
  const identity: Identity = { issuer: GH, subject: `${WORKFLOWS}/*.yml@refs/heads/main` };
  assert.equal(matchIdentity([identity], cert(`${WORKFLOWS}/release.yml@refs/heads/main`, 'refs/heads/main'), 'p').ok, true);
  assert.deepEqual(matchIdentity([identity], cert(EVIL_SAN, EVIL_BRANCH), 'p'), { ok: false, mismatch: { reason: 'subject', allowed: [identity.subject] } });
  const byExtension: Identity = { issuer: GH, subject: `${WORKFLOWS}/*`, extensions: { buildConfigUri: `${WORKFLOWS}/*.yml@refs/heads/main` } };
  assert.equal(matchIdentity([byExtension], cert(EVIL_SAN, EVIL_BRANCH), 'p').ok, false);
  // Wildcards in the ref part, and patterns without `@`, keep their documented meaning.
  assert.equal(matchIdentity([{ issuer: GH, subject: `${WORKFLOWS}/release.yml@refs/tags/v*` }], cert(`${WORKFLOWS}/release.yml@refs/tags/v1.2`, 'refs/tags/v1.2'), 'p').ok, true);
  assert.equal(matchIdentity([{ issuer: GH, subject: 'https://github.com/org/*' }], cert(EVIL_SAN, EVIL_BRANCH), 'p').ok, true);
});

test('attack3 A: the provenance policy\'s builder pattern has the same meaning (the statement\'s builder id is the workflow ref)', () => {
  const policy: Policy = {
    policyVersion: 1,
    attestation: { keys: {}, threshold: 1, identities: [{ issuer: GH, subject: `${WORKFLOWS}/*` }] },
    provenance: { builders: [`${WORKFLOWS}/*.yml@refs/heads/main`], sourceRepositories: [], refs: [] },
    allowUnsafeDisableVerification: false,
  };
  const facts = (builderId: string) => ({ format: 'slsa-v1', builderId, subjects: [] }) as unknown as ProvenanceFacts;
  checkProvenancePolicy(facts(`${WORKFLOWS}/release.yml@refs/heads/main`), policy, 'a.json');
  assert.throws(() => checkProvenancePolicy(facts(EVIL_SAN), policy, 'a.json'), (e: unknown) => (e as { code?: string }).code === 'E_PROVENANCE_BUILDER');
});
