import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyAttestation } from '../../src/attest/verify.ts';
import { ProvenantError } from '../../src/errors.ts';
import type { CertificateAuthority } from '../../src/policy/certificate-authority.ts';
import { defaultPolicy, parsePolicy, renderPolicy } from '../../src/policy/policy.ts';
import { testSigner } from '../attest/keys.ts';
import { expectCode } from '../keyless/helpers/keyless.ts';
import { caDate, makePki, pkiBundle, type Pki } from './helpers/ca.ts';

/**
 * Organizational PKI: attestations signed with certificates from the organization's own X.509
 * CA (root + intermediate made with openssl in the test), trusted by the policy's
 * `certificateAuthorities`, verified offline with no Sigstore trusted root and no log.
 */
const SAN = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const STATEMENT = new TextEncoder().encode(`${JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'datadog_x-1.0.0-py3-none-any.whl', digest: { sha256: 'ab'.repeat(32) } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} })}\n`);

function authority(pki: Pki, over: Partial<CertificateAuthority> = {}): CertificateAuthority {
  return { name: 'example-corp', root: pki.root, intermediates: [pki.intermediate], identities: [{ subject: SAN }], ...over };
}
const noSigstore = { sigstoreTrustedRoot: () => Promise.reject(new Error('a PKI bundle must not need the Sigstore trusted root')) };
const verify = (bytes: Uint8Array, cas: CertificateAuthority[], project?: string) => verifyAttestation(bytes, defaultPolicy({ attestationKeys: [], certificateAuthorities: cas }), { ...noSigstore, project });

test('a leaf issued by the intermediate, the root and intermediate in the policy: verifies offline, no log, no Sigstore root', async (t) => {
  const pki = await makePki(t);
  const leaf = await pki.issue({ san: SAN });
  const v = await verify(pkiBundle(STATEMENT, leaf), [authority(pki)]);
  assert.deepEqual(Buffer.from(v.payload), Buffer.from(STATEMENT));
  assert.equal(v.pki?.authority, 'example-corp');
  assert.equal(v.pki?.certificate.subject, SAN);
  assert.equal(v.pki?.certificate.issuer, 'example-corp');
  assert.equal(v.keyless, undefined);
  // Straight from the root as well.
  await verify(pkiBundle(STATEMENT, await pki.issue({ san: SAN, by: 'root' })), [authority(pki, { intermediates: [] })]);
  // The policy round-trips through its schema (it is published as a TUF target).
  const policy = defaultPolicy({ attestationKeys: [], certificateAuthorities: [authority(pki)] });
  assert.deepEqual(parsePolicy(renderPolicy(policy), 'policy.json'), policy);
});

test('chain: a wrong CA, a missing intermediate, a CA certificate as signer are refused', async (t) => {
  const [pki, other] = await Promise.all([makePki(t), makePki(t, 'Other Corp')]);
  const bytes = pkiBundle(STATEMENT, await pki.issue({ san: SAN }));
  await expectCode(verify(bytes, [authority(other)]), 'E_ATTESTATION_CERT_CHAIN');
  // A look-alike intermediate (same names, same key identifier, another key) issues a leaf: its
  // issuer name and authority key id point at the policy's intermediate; only signatures tell them apart.
  const twin = await makePki(t, 'Example Corp', { intermediateSki: pki.intermediateSki });
  assert.equal(twin.intermediateSki, pki.intermediateSki);
  const forged = pkiBundle(STATEMENT, await twin.issue({ san: SAN }));
  await expectCode(verify(forged, [authority(pki)]), 'E_ATTESTATION_CERT_CHAIN');
  await expectCode(verify(bytes, [authority(twin)]), 'E_ATTESTATION_CERT_CHAIN');
  // The intermediate is taken from the policy only: without it the leaf does not reach the root.
  await expectCode(verify(bytes, [authority(pki, { intermediates: [] })]), 'E_ATTESTATION_CERT_CHAIN');
  // Another organization's root with this one's intermediate: the intermediate does not chain to it.
  await expectCode(verify(bytes, [authority(other, { intermediates: [pki.intermediate] })]), 'E_ATTESTATION_CERT_CHAIN');
  await expectCode(verify(pkiBundle(STATEMENT, await pki.issue({ san: SAN, profile: 'leaf_ca' })), [authority(pki)]), 'E_ATTESTATION_CERT_CHAIN');
  // Keys only, no CA in the policy: a certificate is not even read.
  await expectCode(verifyAttestation(bytes, defaultPolicy({ attestationKeys: [testSigner('ed25519')] }), noSigstore), 'E_ATTESTATION_KEY_UNTRUSTED');
});

test('validity and usage: an expired or not-yet-valid leaf, and a leaf without the code-signing EKU, are refused', async (t) => {
  const pki = await makePki(t);
  const day = 86400_000;
  const expired = await pki.issue({ san: SAN, start: caDate(new Date(Date.now() - 3 * day)), end: caDate(new Date(Date.now() - day)) });
  await expectCode(verify(pkiBundle(STATEMENT, expired), [authority(pki)]), 'E_ATTESTATION_CERT_EXPIRED');
  const future = await pki.issue({ san: SAN, start: caDate(new Date(Date.now() + day)), end: caDate(new Date(Date.now() + 2 * day)) });
  await expectCode(verify(pkiBundle(STATEMENT, future), [authority(pki)]), 'E_ATTESTATION_CERT_EXPIRED');
  await expectCode(verify(pkiBundle(STATEMENT, await pki.issue({ san: SAN, profile: 'leaf_no_eku' })), [authority(pki)]), 'E_ATTESTATION_CERT_USAGE');
});

test('identity rules: exact and anchored SAN, the CA as issuer, projects, extensions; a tampered statement', async (t) => {
  const [pki, other] = await Promise.all([makePki(t), makePki(t, 'Other Corp')]);
  const leaf = await pki.issue({ san: SAN });
  const bytes = pkiBundle(STATEMENT, leaf);
  await verify(bytes, [authority(pki, { identities: [{ subject: 'https://github.com/org/repo/*' }] })]);
  await expectCode(verify(bytes, [authority(pki, { identities: [{ subject: SAN.replace('main', 'dev') }] })]), 'E_ATTESTATION_SAN');
  // Unanchored-pattern pitfall: org/repo-evil is not org/repo.
  const evil = pkiBundle(STATEMENT, await pki.issue({ san: 'https://github.com/org/repo-evil/.github/workflows/release.yml@refs/heads/main' }));
  for (const subject of ['https://github.com/org/repo', 'https://github.com/org/repo/*']) {
    await expectCode(verify(evil, [authority(pki, { identities: [{ subject }] })]), 'E_ATTESTATION_SAN');
  }
  // The issuer is the CA that verified the leaf: the identity listed under ANOTHER CA does not count.
  await expectCode(verify(bytes, [authority(pki, { identities: [{ subject: 'https://example.invalid/x' }] }), authority(other, { name: 'other-corp', identities: [{ subject: SAN }] })]), 'E_ATTESTATION_SAN');
  await verify(bytes, [authority(other, { name: 'other-corp' }), authority(pki)]);
  await verify(bytes, [authority(pki, { identities: [{ subject: SAN, projects: ['datadog-*'] }] })], 'datadog-x');
  await expectCode(verify(bytes, [authority(pki, { identities: [{ subject: SAN, projects: ['datadog-*'] }] })], 'evil-x'), 'E_ATTESTATION_IDENTITY_PROJECT');
  // Fulcio extensions an organizational certificate lacks cannot be satisfied.
  await expectCode(verify(bytes, [authority(pki, { identities: [{ subject: SAN, extensions: { sourceRepositoryRef: 'refs/heads/main' } }] })]), 'E_ATTESTATION_CERT_EXTENSION');
  // One byte of the statement changed: the signature no longer verifies.
  const b = JSON.parse(new TextDecoder().decode(bytes)) as { dsseEnvelope: { payload: string } };
  b.dsseEnvelope.payload = Buffer.from(new TextDecoder().decode(STATEMENT).replace('datadog_x', 'datadog_y')).toString('base64');
  await expectCode(verify(new TextEncoder().encode(JSON.stringify(b)), [authority(pki)]), 'E_ATTESTATION_SIGNATURE');
  // Signed by a key other than the certificate's.
  const stranger = await other.issue({ san: SAN });
  await expectCode(verify(pkiBundle(STATEMENT, { pem: leaf.pem, key: stranger.key }), [authority(pki)]), 'E_ATTESTATION_SIGNATURE');
});

test('policy schema: a CA entry needs a readable root certificate and at least one identity, and nothing else', async (t) => {
  const pki = await makePki(t);
  const good = defaultPolicy({ attestationKeys: [], certificateAuthorities: [authority(pki)] });
  const invalid = (edit: (ca: Record<string, unknown>) => void) => {
    const p = JSON.parse(new TextDecoder().decode(renderPolicy(good))) as { attestation: { certificateAuthorities: Record<string, unknown>[] } };
    edit(p.attestation.certificateAuthorities[0]!);
    assert.throws(() => parsePolicy(new TextEncoder().encode(JSON.stringify(p)), 'policy.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_POLICY_INVALID');
  };
  invalid((ca) => void (ca.root = 'not a certificate'));
  invalid((ca) => void (ca.root = pki.root.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA')));
  invalid((ca) => void (ca.identities = []));
  invalid((ca) => void (ca.identities = [{ issuer: 'https://token.actions.githubusercontent.com', subject: SAN }]));
  invalid((ca) => void (ca.crl = 'https://example.com/crl'));
  // CAs alone (no keys, no identities) meet a threshold of 1, and no more.
  assert.throws(() => defaultPolicy({ attestationKeys: [], certificateAuthorities: [authority(pki)], threshold: 2 }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_POLICY_INVALID');
});
