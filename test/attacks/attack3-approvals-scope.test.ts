import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { approvalsRequired } from '../../src/verify/approvals-check.ts';
import { testSigner } from '../attest/keys.ts';

/**
 * Attack (capacity C, with the attestation key too, e.g. a compromised CI): the policy asks for
 * approvals of `Datadog_Postgres`, as its maintainer spelled it. The downloader asks about the
 * PEP 503 name `datadog-postgres`; compared verbatim, approvals would silently not apply and a
 * release signed by CI alone would install. The policy must refuse the spelling it cannot match.
 */
const a = testSigner('ed25519');
const policyWith = (projects: string[]) =>
  new TextEncoder().encode(
    JSON.stringify({
      policyVersion: 1,
      attestation: { keys: {}, threshold: 1, identities: [{ issuer: 'https://token.actions.githubusercontent.com', subject: 'https://github.com/org/repo/*' }] },
      provenance: { builders: ['*'], sourceRepositories: [], refs: [] },
      allowUnsafeDisableVerification: false,
      approvals: { keys: { [a.keyId]: { keytype: a.publicKey.keytype, scheme: a.publicKey.scheme, keyval: a.publicKey.keyval } }, threshold: 1, projects },
    }),
  );

test('attack3 C: approvals for a project named other than PEP 503-normalized are refused when the policy is read, not skipped', () => {
  assert.ok(approvalsRequired(parsePolicy(policyWith(['datadog-postgres']), 'p.json'), 'datadog-postgres'));
  for (const name of ['Datadog_Postgres', 'datadog_postgres', 'datadog.postgres', 'Datadog-Postgres']) {
    assert.throws(
      () => parsePolicy(policyWith([name]), 'p.json'),
      (e: unknown) => e instanceof ProvenantError && e.code === 'E_POLICY_INVALID' && /approvals\.projects/.test(e.describe()),
      name,
    );
  }
});
