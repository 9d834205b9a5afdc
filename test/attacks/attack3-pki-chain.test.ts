import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { verifyAttestation } from '../../src/attest/verify.ts';
import type { CertificateAuthority } from '../../src/policy/certificate-authority.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { expectCode } from '../keyless/helpers/keyless.ts';
import { tempDir } from '../helpers/peers.ts';
import { makePki, pkiBundle } from '../pki/helpers/ca.ts';

const run = promisify(execFile);

/**
 * Attack (capacity B): the holder of a leaf from the organization's CA (openssl-made) tries
 * what the CA did not grant: the "any" extended key usage instead of code signing, and an
 * intermediate the policy does not list carried in the bundle (v0.3 `x509CertificateChain`,
 * or next to the certificate). All refused by the existing code; these tests keep it so.
 */
const SAN = 'https://ci.example.com/org/repo/release';
const STATEMENT = new TextEncoder().encode('{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x-1.0.0-py3-none-any.whl","digest":{"sha256":"' + 'ab'.repeat(32) + '"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}\n');
const noSigstore = { sigstoreTrustedRoot: () => Promise.reject(new Error('a PKI bundle must not need the Sigstore trusted root')) };

test('attack3 B: EKU anyExtendedKeyUsage is not code signing; an intermediate carried in the bundle does not make a chain', async (t) => {
  const pki = await makePki(t);
  const ca = (over: Partial<CertificateAuthority> = {}): CertificateAuthority => ({ name: 'example-corp', root: pki.root, intermediates: [pki.intermediate], identities: [{ subject: SAN }], ...over });
  const verify = (bytes: Uint8Array, c: CertificateAuthority) => verifyAttestation(bytes, defaultPolicy({ attestationKeys: [], certificateAuthorities: [c] }), noSigstore);
  const leaf = await pki.issue({ san: SAN });
  await verify(pkiBundle(STATEMENT, leaf), ca());
  const any = await pki.issue({ san: SAN, profile: 'leaf_any_eku' });
  assert.deepEqual(new X509Certificate(any.pem).keyUsage, ['2.5.29.37.0']);
  await expectCode(verify(pkiBundle(STATEMENT, any), ca()), 'E_ATTESTATION_CERT_USAGE');

  // The policy lists the root only; the bundle brings the intermediate along.
  const rootOnly = ca({ intermediates: [] });
  const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');
  const asChain = JSON.parse(new TextDecoder().decode(pkiBundle(STATEMENT, leaf))) as { verificationMaterial: Record<string, unknown> };
  delete asChain.verificationMaterial.certificate;
  asChain.verificationMaterial.x509CertificateChain = { certificates: [{ rawBytes: der(leaf.pem) }, { rawBytes: der(pki.intermediate) }] };
  // A v0.3 bundle carries one certificate, never a chain: not even a bundle.
  await expectCode(verify(new TextEncoder().encode(JSON.stringify(asChain)), rootOnly), 'E_ATTESTATION_MALFORMED');
  await expectCode(verify(pkiBundle(STATEMENT, leaf), rootOnly), 'E_ATTESTATION_CERT_CHAIN');
});

test('attack3 B: an intermediate constrained to .team-a.example issues a leaf for another team\'s SAN: refused, as name constraints are not evaluated', async (t) => {
  const pki = await makePki(t, 'Example Corp', { nameConstraints: true });
  const other = 'https://ci.team-b.example/org/repo/release';
  const ca: CertificateAuthority = { name: 'example-corp', root: pki.root, intermediates: [pki.intermediate], identities: [{ subject: 'https://*' }] };
  const verify = (bytes: Uint8Array) => verifyAttestation(bytes, defaultPolicy({ attestationKeys: [], certificateAuthorities: [ca] }), noSigstore);
  const leaf = await pki.issue({ san: other });
  // openssl, which evaluates name constraints, refuses the path: the SAN is outside the permitted subtree.
  const dir = await tempDir(t);
  await Promise.all([['root.pem', pki.root], ['int.pem', pki.intermediate], ['leaf.pem', leaf.pem]].map(async ([n, pem]) => writeFile(path.join(dir, n!), pem!)));
  await assert.rejects(run('openssl', ['verify', '-CAfile', path.join(dir, 'root.pem'), '-untrusted', path.join(dir, 'int.pem'), path.join(dir, 'leaf.pem')]), /permitted subtree violation/);
  await expectCode(verify(pkiBundle(STATEMENT, leaf)), 'E_ATTESTATION_CERT_CHAIN');
  await assert.rejects(verify(pkiBundle(STATEMENT, leaf)), /has name constraints/);
});
