import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { verifyAttestation } from '../../src/attest/verify.ts';
import { publicGoodTrustedRoot } from '../../src/attest/sigstore-root.ts';
import type { Identity } from '../../src/policy/identity.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { bytesOf, expectCode, json } from './helpers/keyless.ts';

/**
 * A real bundle signed on public-good Sigstore by a GitHub Actions workflow (see
 * test/fixtures/sigstore-public/README.md), verified offline against the production trusted root
 * `repo init --sigstore-trusted-root public-good` installs: no network, no test instance.
 */
const FIXTURE = new URL('../fixtures/sigstore-public/conformance-intoto-dsse.sigstore.json', import.meta.url);
const MESSAGE_SIGNATURE = new URL('../fixtures/sigstore-public/conformance-message-signature.sigstore.json', import.meta.url);
const ARTIFACT = new URL('../fixtures/sigstore-public/a.txt', import.meta.url);
const NPM = new URL('../fixtures/sigstore-public/npm-sigstore-3.1.0.sigstore.json', import.meta.url);
const NPM_SAN = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
const SAN = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const REAL: Identity = { issuer: ISSUER, subject: SAN };
const root = { sigstoreTrustedRoot: publicGoodTrustedRoot };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Bundle = any;
const verify = (bytes: Uint8Array, identity: Identity = REAL) => verifyAttestation(bytes, defaultPolicy({ attestationKeys: [], identities: [identity] }), root);

async function tampered(edit: (b: Bundle) => void): Promise<Uint8Array> {
  const b = json(await readFile(FIXTURE)) as Bundle;
  edit(b);
  return bytesOf(b);
}

test('a real GitHub-Actions-signed DSSE/in-toto bundle verifies offline against the production trusted root', async () => {
  const bytes = await readFile(FIXTURE);
  const v = await verify(bytes);
  assert.equal(v.payloadType, 'application/vnd.in-toto+json');
  const statement = JSON.parse(new TextDecoder().decode(v.payload)) as { predicateType: string; subject: { name: string }[] };
  assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(statement.subject[0]!.name, 'a.txt');
  assert.equal((statement.subject[0] as { digest?: { sha256?: string } }).digest?.sha256, createHash('sha256').update(await readFile(ARTIFACT)).digest('hex'));
  assert.equal(v.keyless?.certificate.subject, SAN);
  assert.equal(v.keyless?.certificate.issuer, ISSUER);
  assert.deepEqual(v.keyless?.integratedTimes, [1734374576]);
  // The Fulcio extensions GitHub's token put in the certificate, usable by the policy.
  const ext = v.keyless!.certificate.extensions;
  assert.equal(ext.sourceRepositoryUri, 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon');
  assert.equal(ext.sourceRepositoryRef, 'refs/heads/main');
  assert.equal(ext.runnerEnvironment, 'github-hosted');
  await verify(bytes, { ...REAL, subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/*', extensions: { sourceRepositoryRef: 'refs/heads/main', sourceRepositoryDigest: ext.sourceRepositoryDigest! } });
});

test('the real bundle is refused with the policy naming another signer', async () => {
  const bytes = await readFile(FIXTURE);
  await expectCode(verify(bytes, { ...REAL, subject: SAN.replace('@refs/heads/main', '@refs/heads/release') }), 'E_ATTESTATION_SAN');
  await expectCode(verify(bytes, { ...REAL, subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon' }), 'E_ATTESTATION_SAN');
  await expectCode(verify(bytes, { ...REAL, issuer: 'https://accounts.google.com' }), 'E_ATTESTATION_ISSUER');
  await expectCode(verify(bytes, { ...REAL, extensions: { sourceRepositoryRef: 'refs/tags/*' } }), 'E_ATTESTATION_CERT_EXTENSION');
});

test('tampered variants of the real bundle are refused, each with its code', async () => {
  // One byte of the statement flipped: the log entry no longer records this envelope.
  await expectCode(verify(await tampered((b) => {
    const p = Buffer.from(b.dsseEnvelope.payload, 'base64');
    p[p.length - 2] = p[p.length - 2]! ^ 1;
    b.dsseEnvelope.payload = p.toString('base64');
  })), 'E_ATTESTATION_TLOG_BODY');
  // The signature flipped: the log entry's body names another signature.
  await expectCode(verify(await tampered((b) => {
    const s = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
    s[s.length - 1] = s[s.length - 1]! ^ 1;
    b.dsseEnvelope.signatures[0].sig = s.toString('base64');
  })), 'E_ATTESTATION_TLOG_BODY');
  // The tlog entry's body changed to match nothing: the SET (Rekor's signature over the body) is checked first.
  await expectCode(verify(await tampered((b) => {
    const e = b.verificationMaterial.tlogEntries[0];
    const body = JSON.parse(Buffer.from(e.canonicalizedBody, 'base64').toString()) as Bundle;
    body.spec.envelopeHash.value = '0'.repeat(64);
    e.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
  })), 'E_ATTESTATION_TLOG_SET');
  // The checkpoint altered (another root hash): its signature no longer verifies with Rekor's key.
  await expectCode(verify(await tampered((b) => {
    const proof = b.verificationMaterial.tlogEntries[0].inclusionProof;
    const lines = (proof.checkpoint.envelope as string).split('\n');
    lines[2] = Buffer.alloc(32, 7).toString('base64');
    proof.checkpoint.envelope = lines.join('\n');
  })), 'E_ATTESTATION_TLOG_CHECKPOINT');
  // The inclusion proof altered (a sibling hash): it no longer reaches the checkpoint's root.
  await expectCode(verify(await tampered((b) => {
    const proof = b.verificationMaterial.tlogEntries[0].inclusionProof;
    proof.hashes[0] = Buffer.alloc(32, 9).toString('base64');
  })), 'E_ATTESTATION_TLOG_CHECKPOINT');
  // The proof's unsigned copies of the checkpoint's tree disagree with it: an inconsistent bundle.
  for (const edit of [(p: Bundle) => void (p.rootHash = Buffer.alloc(32, 3).toString('base64')), (p: Bundle) => void (p.treeSize = String(Number(p.treeSize) + 1))]) {
    await expectCode(verify(await tampered((b) => edit(b.verificationMaterial.tlogEntries[0].inclusionProof))), 'E_ATTESTATION_TLOG_CHECKPOINT');
  }
  // The SET altered: the integrated time is no longer promised by Rekor.
  await expectCode(verify(await tampered((b) => {
    const e = b.verificationMaterial.tlogEntries[0];
    e.integratedTime = String(Number(e.integratedTime) + 1);
  })), 'E_ATTESTATION_TLOG_SET');
  // No log entry at all.
  await expectCode(verify(await tampered((b) => {
    b.verificationMaterial.tlogEntries = [];
  })), 'E_ATTESTATION_TLOG_MISSING');
});

test('a real message-signature bundle (not DSSE) verifies with @sigstore/verify against the same root, and provenant refuses it as no attestation', async () => {
  const bytes = await readFile(MESSAGE_SIGNATURE);
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(new TextDecoder().decode(await publicGoodTrustedRoot()))));
  const entity = toSignedEntity(bundleFromJSON(json(bytes)), await readFile(ARTIFACT));
  const signer = new Verifier(trust).verify(entity, { subjectAlternativeName: SAN, extensions: { issuer: ISSUER } });
  assert.equal(signer.identity?.subjectAlternativeName, SAN);
  await expectCode(verify(bytes), 'E_ATTESTATION_MALFORMED');
});

test('a real project\'s provenance (npm sigstore@3.1.0, bundle v0.2, intoto entry): @sigstore/verify accepts it, provenant refuses v0.2, and its v0.3 form verifies through the policy', async () => {
  const bytes = await readFile(NPM);
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(new TextDecoder().decode(await publicGoodTrustedRoot()))));
  const signer = new Verifier(trust).verify(toSignedEntity(bundleFromJSON(json(bytes))), { subjectAlternativeName: NPM_SAN, extensions: { issuer: ISSUER } });
  assert.equal(signer.identity?.subjectAlternativeName, NPM_SAN);
  const npm: Identity = { issuer: ISSUER, subject: NPM_SAN };
  await expectCode(verify(bytes, npm), 'E_ATTESTATION_MEDIA_TYPE');
  // The same signed material in a v0.3 container (media type and certificate field are not signed).
  const v03 = (edit?: (b: Bundle) => void) => {
    const b = json(bytes) as Bundle;
    b.mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    b.verificationMaterial.certificate = b.verificationMaterial.x509CertificateChain.certificates[0];
    delete b.verificationMaterial.x509CertificateChain;
    edit?.(b);
    return bytesOf(b);
  };
  const v = await verify(v03(), { ...npm, extensions: { sourceRepositoryUri: 'https://github.com/sigstore/sigstore-js', sourceRepositoryDigest: '06cd267cbdc2eeaa04294995622db9f6ad2fa7cf', runnerEnvironment: 'github-hosted' } });
  assert.deepEqual(v.keyless?.logIndexes, ['168704762']);
  assert.equal((JSON.parse(new TextDecoder().decode(v.payload)) as { subject: { name: string }[] }).subject[0]!.name, 'pkg:npm/sigstore@3.1.0');
  await expectCode(verify(v03(), { ...npm, subject: 'https://github.com/sigstore/sigstore-js/.github/workflows/*@refs/tags/*' }), 'E_ATTESTATION_SAN');
  await expectCode(verify(v03((b) => {
    const p = Buffer.from(b.dsseEnvelope.payload, 'base64');
    p[10] = p[10]! ^ 1;
    b.dsseEnvelope.payload = p.toString('base64');
  }), npm), 'E_ATTESTATION_TLOG_BODY');
  await expectCode(verify(v03((b) => {
    b.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = Buffer.alloc(32, 1).toString('base64');
  }), npm), 'E_ATTESTATION_TLOG_CHECKPOINT');
});
