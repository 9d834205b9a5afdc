import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { assertBundleLatest, bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { PublicKeyDetails } from '@sigstore/protobuf-specs';
import { BUNDLE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from '../../src/attest/bundle.ts';
import { signAttestation, signedBytes } from '../../src/attest/sign.ts';
import { verifyAttestationBundle } from '../../src/attest/verify.ts';
import { ProvenantError } from '../../src/errors.ts';
import { preAuthEncoding, toBase64 } from '../../src/formats/dsse.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { python, tempDir } from '../helpers/peers.ts';
import { testSigner } from './keys.ts';

const STATEMENT = new TextEncoder().encode(
  // Deliberately not canonical JSON (spacing, key order): the exact bytes must be what is signed.
  '{"_type": "https://in-toto.io/Statement/v1",  "subject":[{"name":"x-1.0-py3-none-any.whl","digest":{"sha256":"00"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}\n',
);

const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const bytesOf = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function expectCode(fn: () => unknown, code: string, field?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProvenantError, String(e));
    assert.equal(e.code, code, e.describe());
    assert.equal(e.exitClass, 'verification');
    if (field !== undefined) assert.equal(e.field, field);
    return true;
  });
}

for (const type of ['ed25519', 'ecdsa'] as const) {
  test(`${type}: sign → verify round trip returns the exact statement bytes`, async () => {
    const signer = testSigner(type);
    const { bundle, bytes } = await signAttestation(STATEMENT, [signer]);
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(bundle.verificationMaterial.publicKey?.hint, signer.keyId);
    assert.deepEqual(bundle.verificationMaterial.tlogEntries, []);
    assert.equal(bundle.dsseEnvelope?.payloadType, IN_TOTO_PAYLOAD_TYPE);
    assert.equal(bundle.dsseEnvelope?.payload, toBase64(STATEMENT));
    const policy = defaultPolicy({ attestationKeys: [signer] });
    const v = verifyAttestationBundle(bytes, policy);
    assert.equal(v.payloadType, IN_TOTO_PAYLOAD_TYPE);
    assert.deepEqual(Buffer.from(v.payload), Buffer.from(STATEMENT));
    assert.deepEqual(v.keyIds, [signer.keyId]);
  });

  test(`${type}: the bundle passes @sigstore/bundle validation and verifies with @sigstore/verify on its own`, async () => {
    const signer = testSigner(type);
    const { bytes } = await signAttestation(STATEMENT, [signer]);
    const bundle = bundleFromJSON(json(bytes)); // validates (v0.3 rules) or throws
    assertBundleLatest(bundle);
    assert.equal(bundle.mediaType, BUNDLE_MEDIA_TYPE);
    // Standard @sigstore/verify usage: the public key as trust material, keyed by the hint.
    const trust = toTrustMaterial(
      { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] },
      {
        [signer.keyId]: {
          rawBytes: createPublicKey(signer.publicKeyPem).export({ type: 'spki', format: 'der' }),
          keyDetails: type === 'ed25519' ? PublicKeyDetails.PKIX_ED25519 : PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: undefined,
        },
      },
    );
    const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    const result = verifier.verify(toSignedEntity(bundle));
    assert.equal(result.key.asymmetricKeyType, type === 'ed25519' ? 'ed25519' : 'ec');
    // And a tampered payload does not.
    const tampered = json(bytes);
    tampered.dsseEnvelope.payload = toBase64(new TextEncoder().encode('{"_type":"evil"}'));
    assert.throws(() => verifier.verify(toSignedEntity(bundleFromJSON(tampered))), /signature verification failed/);
  });

  test(`${type}: Python cryptography verifies the DSSE signature over the PAE bytes`, async (t) => {
    const dir = await tempDir(t);
    const signer = testSigner(type);
    const { bytes } = await signAttestation(STATEMENT, [signer]);
    await writeFile(path.join(dir, 'bundle.json'), bytes);
    await writeFile(path.join(dir, 'key.pem'), signer.publicKeyPem);
    // Independent of our code: Python decodes the bundle, builds the PAE itself and verifies.
    const script = `
import base64, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import hashes
b = json.load(open(sys.argv[1]))
env = b["dsseEnvelope"]
payload = base64.b64decode(env["payload"], validate=True)
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
sig = base64.b64decode(env["signatures"][0]["sig"], validate=True)
key = load_pem_public_key(open(sys.argv[2], "rb").read())
def check(data):
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, data)
        else:
            key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        return True
    except Exception:
        return False
print(json.dumps({"pae": check(pae), "payload_only": check(payload), "kind": "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else key.curve.name, "statement": payload.decode()}))
`;
    const { stdout } = await python(['-c', script, path.join(dir, 'bundle.json'), path.join(dir, 'key.pem')]);
    const r = JSON.parse(stdout);
    assert.equal(r.pae, true);
    assert.equal(r.payload_only, false);
    assert.equal(r.statement, new TextDecoder().decode(STATEMENT));
    assert.equal(r.kind, type === 'ed25519' ? 'ed25519' : 'secp256r1');
    // Our PAE helper produces the bytes Python built.
    assert.deepEqual(Buffer.from(signedBytes(STATEMENT)), Buffer.from(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, STATEMENT)));
  });
}

test('negative: tampered payload → E_ATTESTATION_SIGNATURE', async () => {
  const signer = testSigner('ed25519');
  const { bytes } = await signAttestation(STATEMENT, [signer]);
  const b = json(bytes);
  const evil = new TextDecoder().decode(STATEMENT).replace('"00"', '"11"');
  b.dsseEnvelope.payload = toBase64(new TextEncoder().encode(evil));
  expectCode(() => verifyAttestationBundle(bytesOf(b), defaultPolicy({ attestationKeys: [signer] })), 'E_ATTESTATION_SIGNATURE', 'dsseEnvelope.signatures[0].sig');
});

test('negative: tampered signature (one bit) → E_ATTESTATION_SIGNATURE', async () => {
  for (const type of ['ed25519', 'ecdsa'] as const) {
    const signer = testSigner(type);
    const { bytes } = await signAttestation(STATEMENT, [signer]);
    const b = json(bytes);
    const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
    sig[sig.length - 1]! ^= 1;
    b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    expectCode(() => verifyAttestationBundle(bytesOf(b), defaultPolicy({ attestationKeys: [signer] })), 'E_ATTESTATION_SIGNATURE');
  }
});

test('negative: signed by a key the policy does not list → E_ATTESTATION_KEY_UNTRUSTED', async () => {
  const trusted = testSigner('ed25519');
  const other = testSigner('ed25519');
  const { bytes } = await signAttestation(STATEMENT, [other]);
  expectCode(() => verifyAttestationBundle(bytes, defaultPolicy({ attestationKeys: [trusted] })), 'E_ATTESTATION_KEY_UNTRUSTED', 'verificationMaterial.publicKey.hint');
});

test('negative: another key signs but claims a policy key id (hint) → E_ATTESTATION_SIGNATURE', async () => {
  const trusted = testSigner('ecdsa');
  const other = testSigner('ecdsa');
  const { bytes } = await signAttestation(STATEMENT, [other]);
  const b = json(bytes);
  b.verificationMaterial.publicKey.hint = trusted.keyId;
  b.dsseEnvelope.signatures[0].keyid = trusted.keyId;
  expectCode(() => verifyAttestationBundle(bytesOf(b), defaultPolicy({ attestationKeys: [trusted] })), 'E_ATTESTATION_SIGNATURE');
});

test('negative: a different public key hint than the policy lists → E_ATTESTATION_KEY_UNTRUSTED', async () => {
  const trusted = testSigner('ed25519');
  const { bytes } = await signAttestation(STATEMENT, [trusted]);
  const b = json(bytes);
  b.verificationMaterial.publicKey.hint = 'f'.repeat(64);
  expectCode(() => verifyAttestationBundle(bytesOf(b), defaultPolicy({ attestationKeys: [trusted] })), 'E_ATTESTATION_KEY_UNTRUSTED', 'verificationMaterial.publicKey.hint');
  // Also when only the DSSE signature's keyid names the foreign key.
  const c = json(bytes);
  c.dsseEnvelope.signatures[0].keyid = 'e'.repeat(64);
  expectCode(() => verifyAttestationBundle(bytesOf(c), defaultPolicy({ attestationKeys: [trusted] })), 'E_ATTESTATION_KEY_UNTRUSTED', 'dsseEnvelope.signatures[0].keyid');
});

test('negative: a bundle carrying its own certificate (x509 chain or single) is refused even though the signature is valid', async (t) => {
  // A self-signed certificate for the signing key, made by openssl: exactly what an attacker would embed.
  const dir = await tempDir(t);
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', '/CN=attacker', '-days', '1']);
  const { readFile } = await import('node:fs/promises');
  const keyPem = await readFile(path.join(dir, 'k.pem'), 'utf8');
  const certDer = new X509Certificate(await readFile(path.join(dir, 'c.pem'))).raw;
  const attacker = testSigner('ecdsa');
  const { createPrivateKey, sign } = await import('node:crypto');
  const pk = createPrivateKey(keyPem);
  const signer = { ...attacker, publicKeyPem: createPublicKey(pk).export({ type: 'spki', format: 'pem' }).toString(), sign: async (d: Uint8Array) => new Uint8Array(sign('sha256', d, pk)) };
  const { bytes } = await signAttestation(STATEMENT, [signer]);
  const trusted = testSigner('ecdsa');
  const policy = defaultPolicy({ attestationKeys: [trusted] });
  for (const material of [{ x509CertificateChain: { certificates: [{ rawBytes: certDer.toString('base64') }] } }, { certificate: { rawBytes: certDer.toString('base64') } }]) {
    const b = json(bytes);
    b.verificationMaterial = { ...material, tlogEntries: [] };
    expectCode(() => verifyAttestationBundle(bytesOf(b), policy), 'E_ATTESTATION_KEY_UNTRUSTED');
  }
  // Even with the certificate AND a policy key hint, the certificate is never a source of trust.
  const b = json(bytes);
  b.verificationMaterial = { certificate: { rawBytes: certDer.toString('base64') }, publicKey: { hint: trusted.keyId }, tlogEntries: [] };
  expectCode(() => verifyAttestationBundle(bytesOf(b), policy), 'E_ATTESTATION_KEY_UNTRUSTED');
});

test('negative: wrong payloadType, validly signed → E_ATTESTATION_PAYLOAD_TYPE', async () => {
  const signer = testSigner('ed25519');
  // Build a correct signature over a PAE with another payload type.
  const { bytes } = await signAttestation(STATEMENT, [signer]);
  const b = json(bytes);
  const otherType = 'application/vnd.example+json';
  b.dsseEnvelope.payloadType = otherType;
  b.dsseEnvelope.signatures[0].sig = toBase64(await signer.sign(preAuthEncoding(otherType, STATEMENT)));
  expectCode(() => verifyAttestationBundle(bytesOf(b), defaultPolicy({ attestationKeys: [signer] })), 'E_ATTESTATION_PAYLOAD_TYPE', 'dsseEnvelope.payloadType');
  // Changing the type without re-signing breaks the signature: the type is inside the PAE.
  const c = json(bytes);
  c.dsseEnvelope.payloadType = otherType;
  expectCode(() => verifyAttestationBundle(bytesOf(c), defaultPolicy({ attestationKeys: [signer] })), 'E_ATTESTATION_SIGNATURE');
});

test('threshold 2: one signature → E_ATTESTATION_THRESHOLD; two distinct keys verify; the same key twice counts once', async () => {
  const a = testSigner('ed25519');
  const b = testSigner('ecdsa');
  const policy = defaultPolicy({ attestationKeys: [a, b], threshold: 2 });
  const one = await signAttestation(STATEMENT, [a]);
  expectCode(() => verifyAttestationBundle(one.bytes, policy), 'E_ATTESTATION_THRESHOLD', 'dsseEnvelope.signatures');
  const two = await signAttestation(STATEMENT, [a, b]);
  assert.equal(two.bundle.dsseEnvelope?.signatures.length, 2);
  assert.deepEqual(verifyAttestationBundle(two.bytes, policy).keyIds.sort(), [a.keyId, b.keyId].sort());
  // Duplicate the first signature: still one distinct key.
  const dup = json(one.bytes);
  dup.dsseEnvelope.signatures.push({ ...dup.dsseEnvelope.signatures[0] });
  expectCode(() => verifyAttestationBundle(bytesOf(dup), policy), 'E_ATTESTATION_THRESHOLD');
  // The same key under a second key id in the policy still counts once.
  const alias = { ...a, keyId: 'a'.repeat(64) };
  const aliasPolicy = defaultPolicy({ attestationKeys: [a, alias], threshold: 2 });
  const both = await signAttestation(STATEMENT, [a, alias]);
  expectCode(() => verifyAttestationBundle(both.bytes, aliasPolicy), 'E_ATTESTATION_THRESHOLD');
  // A tampered second signature makes the 2-of-2 fail as a signature error.
  const bad = json(two.bytes);
  bad.dsseEnvelope.signatures[1].sig = bad.dsseEnvelope.signatures[0].sig;
  expectCode(() => verifyAttestationBundle(bytesOf(bad), policy), 'E_ATTESTATION_SIGNATURE', 'dsseEnvelope.signatures[1].sig');
});

test('no hint at all: every policy key is tried, the right one found', async () => {
  const a = testSigner('ed25519');
  const b = testSigner('ecdsa');
  const { bytes } = await signAttestation(STATEMENT, [b]);
  const j = json(bytes);
  j.verificationMaterial.publicKey.hint = '';
  j.dsseEnvelope.signatures[0].keyid = '';
  assert.deepEqual(verifyAttestationBundle(bytesOf(j), defaultPolicy({ attestationKeys: [a, b] })).keyIds, [b.keyId]);
  expectCode(() => verifyAttestationBundle(bytesOf(j), defaultPolicy({ attestationKeys: [a] })), 'E_ATTESTATION_SIGNATURE');
});

test('malformed bundles → E_ATTESTATION_MALFORMED naming the field', async () => {
  const signer = testSigner('ed25519');
  const policy = defaultPolicy({ attestationKeys: [signer] });
  const { bytes } = await signAttestation(STATEMENT, [signer]);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON surgery
  const mutate = (f: (b: any) => void) => {
    const b = json(bytes);
    f(b);
    return bytesOf(b);
  };
  const cases: [Uint8Array, string | undefined][] = [
    [new TextEncoder().encode('not json'), undefined],
    [new Uint8Array([0xff, 0xfe]), undefined],
    [mutate((b) => (b.extra = true)), 'extra'],
    [mutate((b) => delete b.dsseEnvelope), 'dsseEnvelope'],
    [mutate((b) => (b.messageSignature = { signature: 'AA==' })), 'dsseEnvelope'],
    [mutate((b) => delete b.verificationMaterial), 'verificationMaterial'],
    [mutate((b) => delete b.verificationMaterial.publicKey), 'verificationMaterial.publicKey'],
    [mutate((b) => (b.verificationMaterial.tlogEntries = {})), 'verificationMaterial.tlogEntries'],
    [mutate((b) => (b.verificationMaterial.publicKey.rawBytes = 'AA==')), 'verificationMaterial.publicKey.rawBytes'],
    [mutate((b) => (b.dsseEnvelope.payload = '')), 'dsseEnvelope.signatures[0]'],
    [mutate((b) => (b.dsseEnvelope.payload = 'not base64!')), 'dsseEnvelope.payload'],
    [mutate((b) => (b.dsseEnvelope.signatures = [])), 'dsseEnvelope.signatures'],
    [mutate((b) => (b.verificationMaterial.tlogEntries = [{ logIndex: '1' }])), 'dsseEnvelope.signatures[0]'],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => verifyAttestationBundle(input, policy, { file: 'x.sigstore.json' }),
      (e: unknown) => e instanceof ProvenantError && e.code === 'E_ATTESTATION_MALFORMED' && e.file === 'x.sigstore.json' && (field === undefined || e.field === field),
      `${new TextDecoder().decode(input).slice(0, 80)} → ${field}`,
    );
  }
});

test('negative: a bundle media type other than v0.3 → E_ATTESTATION_MEDIA_TYPE (its own code)', async () => {
  const signer = testSigner('ed25519');
  const { bytes } = await signAttestation(STATEMENT, [signer]);
  for (const mediaType of ['application/vnd.dev.sigstore.bundle+json;version=0.1', 'application/vnd.dev.sigstore.bundle.v0.4+json', undefined]) {
    const b = json(bytes);
    b.mediaType = mediaType;
    expectCode(() => verifyAttestationBundle(bytesOf(b), defaultPolicy({ attestationKeys: [signer] })), 'E_ATTESTATION_MEDIA_TYPE', 'mediaType');
  }
});

test('signing refuses a signer whose signature its own public key does not verify', async () => {
  const a = testSigner('ed25519');
  const b = testSigner('ed25519');
  await assert.rejects(signAttestation(STATEMENT, [{ ...a, sign: b.sign }]), (e: unknown) => e instanceof ProvenantError && e.code === 'E_SIGNER_MISMATCH');
  await assert.rejects(signAttestation(STATEMENT, []), (e: unknown) => e instanceof ProvenantError && e.code === 'E_SIGNER_MISSING');
  await assert.rejects(signAttestation(STATEMENT, [a, a]), (e: unknown) => e instanceof ProvenantError && e.code === 'E_SIGNER_DUPLICATE');
});
