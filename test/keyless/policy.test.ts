import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { matchIdentity, type CertificateIdentity, type Identity } from '../../src/policy/identity.ts';
import { defaultPolicy, parsePolicy, renderPolicy } from '../../src/policy/policy.ts';
import type { ProvenanceFacts } from '../../src/provenance/parse.ts';
import { checkCertificateMatchesStatement } from '../../src/verify/certificate-statement.ts';
import { testSigner } from '../attest/keys.ts';

const GH = 'https://token.actions.githubusercontent.com';
const SAN = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const CERT: CertificateIdentity = {
  issuer: GH,
  subject: SAN,
  extensions: {
    issuer: GH,
    sourceRepositoryUri: 'https://github.com/org/repo',
    sourceRepositoryRef: 'refs/heads/main',
    sourceRepositoryDigest: 'a'.repeat(40),
    buildConfigUri: SAN,
    runnerEnvironment: 'github-hosted',
  },
};
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const isPolicyError = (field?: string) => (e: unknown) => e instanceof ProvenantError && e.code === 'E_POLICY_INVALID' && (field === undefined || e.field === field);

test('policy schema: identities next to (or instead of) keys; a keyless signature meets threshold 1 only', () => {
  const id: Identity = { issuer: GH, subject: 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/*', extensions: { runnerEnvironment: 'github-hosted' }, projects: ['datadog-*'] };
  const keyless = defaultPolicy({ attestationKeys: [], identities: [id] });
  assert.deepEqual(parsePolicy(renderPolicy(keyless), 'p.json'), keyless);
  const mixed = defaultPolicy({ attestationKeys: [testSigner('ed25519')], identities: [id] });
  assert.equal(parsePolicy(renderPolicy(mixed), 'p.json').attestation.identities?.length, 1);
  // No key and no identity, or a threshold only keys could meet: no attestation could verify.
  assert.throws(() => defaultPolicy({ attestationKeys: [] }), isPolicyError('attestation.threshold'));
  assert.throws(() => defaultPolicy({ attestationKeys: [], identities: [id], threshold: 2 }), isPolicyError('attestation.threshold'));
  // Identities are strict: an unknown extension name or field is an error, not ignored.
  const raw = JSON.parse(new TextDecoder().decode(renderPolicy(keyless))) as { attestation: { identities: Record<string, unknown>[] } };
  for (const bad of [{ ...id, extensions: { sourceRepo: 'x' } }, { ...id, subjectRegexp: '.*' }, { ...id, issuer: '' }, { ...id, projects: [] }, { ...id, projects: ['Datadog_Postgres'] }, { ...id, projects: ['datadog.postgres'] }]) {
    raw.attestation.identities = [bad];
    assert.throws(() => parsePolicy(enc(raw), 'p.json'), isPolicyError(), JSON.stringify(bad));
  }
});

test('matchIdentity: issuer exact, subject and extensions by anchored pattern, projects; the failure that got furthest is reported', () => {
  const base: Identity = { issuer: GH, subject: 'https://github.com/org/repo/*' };
  assert.equal(matchIdentity([base], CERT, 'p').ok, true);
  assert.deepEqual(matchIdentity([{ ...base, issuer: `${GH}/` }], CERT, 'p'), { ok: false, mismatch: { reason: 'issuer', allowed: [`${GH}/`] } });
  // Anchored: neither a prefix without `*`, nor a substring, nor a look-alike repository matches.
  for (const subject of ['https://github.com/org/repo', 'https://github.com/org/repo/', 'github.com/org/repo/*']) assert.equal(matchIdentity([{ ...base, subject }], CERT, 'p').ok, false, subject);
  assert.equal(matchIdentity([base], { ...CERT, subject: 'https://github.com/org/repo-evil/.github/workflows/release.yml@refs/heads/main' }, 'p').ok, false);
  // A pattern matches what it says, look-alikes included when it allows them: end with `/` before `*`.
  assert.equal(matchIdentity([{ ...base, subject: 'https://github.com/org/repo*' }], { ...CERT, subject: 'https://github.com/org/repo-evil/x' }, 'p').ok, true);
  // Extensions: absent or different both refuse; a later identity may still accept.
  const strict = { ...base, extensions: { runnerEnvironment: 'self-hosted' } };
  assert.deepEqual(matchIdentity([strict], CERT, 'p'), { ok: false, mismatch: { reason: 'extension', extension: 'runnerEnvironment', allowed: 'self-hosted', actual: 'github-hosted' } });
  assert.deepEqual(matchIdentity([{ ...base, extensions: { buildTrigger: 'push' } }], CERT, 'p'), { ok: false, mismatch: { reason: 'extension', extension: 'buildTrigger', allowed: 'push', actual: undefined } });
  const m = matchIdentity([strict, base], CERT, 'p');
  assert.ok(m.ok && m.identity === base);
  // Projects.
  assert.deepEqual(matchIdentity([{ ...base, projects: ['datadog-*'] }], CERT, 'other'), { ok: false, mismatch: { reason: 'project', allowed: ['datadog-*'] } });
  assert.equal(matchIdentity([{ ...base, projects: ['datadog-*'] }], CERT, undefined).ok, false, 'an unknown project never matches a project list');
});

test('certificate vs statement: each fact the certificate carries must be the statement\'s', () => {
  const facts: ProvenanceFacts = {
    format: 'slsa-v1',
    subjects: [],
    parameters: {},
    internalParameters: {},
    builderId: SAN,
    buildType: 'x',
    sourceRepository: 'https://github.com/org/repo.git',
    ref: 'refs/heads/main',
    commit: 'A'.repeat(40),
    invocationId: undefined,
  };
  checkCertificateMatchesStatement(CERT, facts, 'f'); // .git and hex case normalised
  const refused = (f: Partial<ProvenanceFacts>, field: string) =>
    assert.throws(() => checkCertificateMatchesStatement(CERT, { ...facts, ...f }, 'f'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_PROVENANCE_CERT_MISMATCH' && e.field === field && e.exitClass === 'verification');
  refused({ commit: 'b'.repeat(40) }, 'commit');
  refused({ commit: undefined }, 'commit');
  refused({ sourceRepository: 'https://github.com/org/fork' }, 'sourceRepository');
  refused({ ref: 'refs/heads/other' }, 'ref');
  refused({ builderId: 'https://provenant.dev/builders/local@v1' }, 'builder.id');
  // A certificate without those extensions (not a CI identity) has nothing to cross-check.
  checkCertificateMatchesStatement({ issuer: GH, subject: 'me@example.com', extensions: {} }, { ...facts, commit: undefined }, 'f');
});
