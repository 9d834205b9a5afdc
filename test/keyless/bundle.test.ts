import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { assertBundleLatest, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { signAttestationKeyless } from '../../src/attest/sign.ts';
import { verifyAttestation, verifyAttestationBundle } from '../../src/attest/verify.ts';
import { ProvenantError } from '../../src/errors.ts';
import { defaultPolicy, type DefaultPolicyOptions } from '../../src/policy/policy.ts';
import { python, tempDir } from '../helpers/peers.ts';
import { testSigner } from '../attest/keys.ts';
import { bytesOf, expectCode, json, keylessConfig, releaseIdentity, RUN } from './helpers/keyless.ts';
import { startSigstore, type SigstoreInstance } from './helpers/sigstore.ts';

/**
 * Keyless bundles as provenant writes them, checked by three verifiers: @sigstore/verify used
 * directly (toTrustMaterial + Verifier, as any sigstore-js client would), provenant's own
 * verifyAttestation, and sigstore-python's CLI (`sigstore verify identity` with a trust config
 * for the test instance, offline).
 */
const WHEEL = Buffer.from('the wheel bytes the statement is about');
const WHEEL_NAME = 'datadog_x-1.0.0-py3-none-any.whl';
const STATEMENT = new TextEncoder().encode(
  `${JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: WHEEL_NAME, digest: { sha256: createHash('sha256').update(WHEEL).digest('hex') } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} })}\n`,
);
const SAN = `https://github.com/${RUN.workflowRef}`;

function policyFor(s: SigstoreInstance, over: Partial<DefaultPolicyOptions> = {}) {
  return defaultPolicy({ attestationKeys: [], identities: [releaseIdentity(s)], ...over });
}

for (const tsa of [false, true]) {
  test(`keyless bundle${tsa ? ' with an RFC 3161 timestamp' : ''}: v0.3, and @sigstore/verify accepts it offline on its own`, async (t) => {
    const s = await startSigstore(t);
    const { bundle, bytes } = await signAttestationKeyless(STATEMENT, keylessConfig(s, RUN, { tsa }));
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.verificationMaterial.certificate, 'the leaf certificate is the verification material');
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(bundle.verificationMaterial.tlogEntries[0]!.kindVersion?.kind, 'dsse');
    assert.equal(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.length ?? 0, tsa ? 1 : 0);
    const parsed = bundleFromJSON(json(bytes));
    assertBundleLatest(parsed);
    // Straight sigstore-js: the trusted root from the instance's CA, Rekor key, CT log and TSA.
    const trust = toTrustMaterial(TrustedRoot.fromJSON(s.trustedRoot));
    // With a TSA, two verified times are required: the SET's integrated time AND the timestamp.
    const signer = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: tsa ? 2 : 1 }).verify(toSignedEntity(parsed), { subjectAlternativeName: SAN, extensions: { issuer: s.issuer } });
    assert.equal(signer.identity?.subjectAlternativeName, SAN);
    // And provenant's verifier, against the same root, through the policy.
    const v = await verifyAttestation(bytes, policyFor(s), { sigstoreTrustedRoot: async () => s.trustedRootBytes });
    assert.deepEqual(Buffer.from(v.payload), Buffer.from(STATEMENT));
    assert.equal(v.keyless?.certificate.extensions.sourceRepositoryDigest, RUN.sha);
    assert.equal(v.keyless?.certificate.extensions.buildConfigUri, SAN);
  });

  test(`sigstore-python verifies the keyless bundle${tsa ? ' (with TSA)' : ''} offline with a trust config for the test instance, and refuses another identity`, async (t) => {
    const s = await startSigstore(t);
    const dir = await tempDir(t);
    const { bytes } = await signAttestationKeyless(STATEMENT, keylessConfig(s, RUN, { tsa }));
    const [bundle, config, wheel] = [path.join(dir, 'b.sigstore.json'), path.join(dir, 'trust-config.json'), path.join(dir, WHEEL_NAME)];
    await writeFile(bundle, bytes);
    await writeFile(config, JSON.stringify(s.clientTrustConfig()));
    await writeFile(wheel, WHEEL);
    const verify = (identity: string, issuer: string) =>
      python(['-m', 'sigstore', '--trust-config', config, 'verify', 'identity', '--offline', '--bundle', bundle, '--cert-identity', identity, '--cert-oidc-issuer', issuer, wheel]);
    const ok = await verify(SAN, s.issuer);
    assert.match(ok.stderr, /OK: /);
    for (const [identity, issuer] of [[`${SAN}x`, s.issuer], [SAN, s.otherIssuer]] as const) {
      await assert.rejects(verify(identity, issuer), (e: { stderr?: string }) => /FAIL|[Ii]dentity|issuer/.test(e.stderr ?? ''));
    }
    // The subject binding: another file than the one the statement names is refused too.
    await writeFile(wheel, Buffer.concat([WHEEL, Buffer.from('x')]));
    await assert.rejects(verify(SAN, s.issuer), (e: { stderr?: string }) => /FAIL/.test(e.stderr ?? ''));
  });
}

test('unanchored-pattern pitfall: @sigstore/verify\'s own SAN regex accepts repo-evil for "org/repo"; the policy\'s anchored patterns do not', async (t) => {
  const s = await startSigstore(t);
  const evil = { ...RUN, repository: 'org/repo-evil', workflowRef: 'org/repo-evil/.github/workflows/release.yml@refs/heads/main' };
  const { bytes } = await signAttestationKeyless(STATEMENT, keylessConfig(s, evil));
  const trust = toTrustMaterial(TrustedRoot.fromJSON(s.trustedRoot));
  // The pitfall, as a regex-based check has it: a prefix without anchoring matches the look-alike.
  const signer = new Verifier(trust).verify(toSignedEntity(bundleFromJSON(json(bytes))), { subjectAlternativeName: 'https://github.com/org/repo' });
  assert.equal(signer.identity?.subjectAlternativeName, 'https://github.com/org/repo-evil/.github/workflows/release.yml@refs/heads/main');
  // provenant: neither the exact prefix, nor the directory pattern, nor the workflow pattern matches.
  for (const subject of ['https://github.com/org/repo', 'https://github.com/org/repo/', 'https://github.com/org/repo/*', 'https://github.com/org/repo/.github/workflows/release.yml@*']) {
    await expectCode(verifyAttestation(bytes, policyFor(s, { identities: [{ issuer: s.issuer, subject }] }), { sigstoreTrustedRoot: async () => s.trustedRootBytes }), 'E_ATTESTATION_SAN');
  }
  // …while the pattern does accept the real repository's workflow.
  const real = await signAttestationKeyless(STATEMENT, keylessConfig(s, RUN));
  const v = await verifyAttestation(real.bytes, policyFor(s, { identities: [{ issuer: s.issuer, subject: 'https://github.com/org/repo/*' }] }), { sigstoreTrustedRoot: async () => s.trustedRootBytes });
  assert.equal(v.keyless?.certificate.subject, SAN);
});

test('identity policy: extensions, projects, thresholds, and policies without identities', async (t) => {
  const s = await startSigstore(t);
  const { bytes } = await signAttestationKeyless(STATEMENT, keylessConfig(s));
  const root = { sigstoreTrustedRoot: async () => s.trustedRootBytes };
  const id = releaseIdentity(s);
  const verify = (over: Partial<DefaultPolicyOptions>, project?: string) => verifyAttestation(bytes, policyFor(s, over), { ...root, project });
  // Each Fulcio extension the identity names must be present and match its pattern.
  await verify({ identities: [{ ...id, extensions: { sourceRepositoryRef: 'refs/heads/main', sourceRepositoryDigest: RUN.sha, buildConfigUri: `${SAN.split('@')[0]}@*` } }] });
  await expectCode(verify({ identities: [{ ...id, extensions: { sourceRepositoryRef: 'refs/tags/*' } }] }), 'E_ATTESTATION_CERT_EXTENSION');
  await expectCode(verify({ identities: [{ ...id, extensions: { runnerEnvironment: 'self-hosted' } }] }), 'E_ATTESTATION_CERT_EXTENSION');
  // Limited to projects: another project is refused, a listed one accepted.
  await verify({ identities: [{ ...id, projects: ['datadog-*'] }] }, 'datadog-postgres');
  await expectCode(verify({ identities: [{ ...id, projects: ['datadog-*'] }] }, 'evil-postgres'), 'E_ATTESTATION_IDENTITY_PROJECT');
  // One keyless signature cannot meet a threshold of 2 keys.
  const [a, b] = [testSigner('ecdsa'), testSigner('ed25519')];
  await expectCode(verify({ attestationKeys: [a, b], threshold: 2 }), 'E_ATTESTATION_THRESHOLD');
  // No identities: a certificate is never trusted, keyed policies are unchanged.
  await expectCode(verifyAttestation(bytes, defaultPolicy({ attestationKeys: [a] }), root), 'E_ATTESTATION_KEY_UNTRUSTED');
  // The synchronous keyed-only API refuses it rather than skipping the Sigstore checks.
  assert.throws(() => verifyAttestationBundle(bytes, policyFor(s)), (e: unknown) => e instanceof ProvenantError && e.code === 'E_ATTESTATION_KEY_UNTRUSTED');
});

test('a timestamp @sigstore/verify cannot parse (GeneralizedTime ".12") is a refusal with a code, not an internal error', async (t) => {
  const s = await startSigstore(t);
  s.setTsaMillis(120);
  const { bytes } = await signAttestationKeyless(STATEMENT, keylessConfig(s, RUN, { tsa: true }));
  await expectCode(verifyAttestation(bytes, policyFor(s), { sigstoreTrustedRoot: async () => s.trustedRootBytes }), 'E_ATTESTATION_MALFORMED');
});

test('trusted root mismatches: another CT log → E_ATTESTATION_SCT; another Rekor key → E_ATTESTATION_TLOG_SET; another TSA → E_ATTESTATION_TIMESTAMP', async (t) => {
  const s = await startSigstore(t);
  const other = await startSigstore(t);
  const { bytes } = await signAttestationKeyless(STATEMENT, keylessConfig(s));
  const withRoot = (root: Record<string, unknown>) => verifyAttestation(bytes, policyFor(s), { sigstoreTrustedRoot: async () => bytesOf(root) });
  await expectCode(withRoot({ ...s.trustedRoot, ctlogs: other.trustedRoot.ctlogs }), 'E_ATTESTATION_SCT');
  await expectCode(withRoot({ ...s.trustedRoot, tlogs: other.trustedRoot.tlogs }), 'E_ATTESTATION_TLOG_SET');
  // A timestamp from a TSA the trusted root does not list.
  const stamped = await signAttestationKeyless(STATEMENT, keylessConfig(s, RUN, { tsa: true }));
  await expectCode(verifyAttestation(stamped.bytes, policyFor(s), { sigstoreTrustedRoot: async () => bytesOf({ ...s.trustedRoot, timestampAuthorities: other.trustedRoot.timestampAuthorities }) }), 'E_ATTESTATION_TIMESTAMP');
  // A tampered statement: the log entry no longer records this payload.
  const b = json(bytes) as { dsseEnvelope: { payload: string } };
  b.dsseEnvelope.payload = Buffer.from(new TextDecoder().decode(STATEMENT).replace('datadog_x', 'datadog_y')).toString('base64');
  await expectCode(verifyAttestation(bytesOf(b), policyFor(s), { sigstoreTrustedRoot: async () => s.trustedRootBytes }), 'E_ATTESTATION_TLOG_BODY');
  // A log entry without its inclusion proof or checkpoint (a SET alone is only a promise) is not a v0.3 bundle.
  for (const strip of [(p: { checkpoint?: unknown }) => delete p.checkpoint, undefined]) {
    const c = json(bytes) as { verificationMaterial: { tlogEntries: { inclusionProof?: { checkpoint?: unknown } }[] } };
    const entry = c.verificationMaterial.tlogEntries[0]!;
    if (strip) strip(entry.inclusionProof!);
    else delete entry.inclusionProof;
    await expectCode(verifyAttestation(bytesOf(c), policyFor(s), { sigstoreTrustedRoot: async () => s.trustedRootBytes }), 'E_ATTESTATION_MALFORMED');
  }
});
