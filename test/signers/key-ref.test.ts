import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { curveOfEcParams, derFromRawSignature, ecPointBytes, publicKeyFromPoint } from '../../src/signers/ec-encoding.ts';
import { anchorKeyRef, assertNoSecret, describeKeyRef, parseKeyRef } from '../../src/signers/key-ref.ts';

const UUID = '1234abcd-12ab-34cd-56ef-1234567890ab';

test('awskms:// references in the forms cosign accepts: key id, alias, key ARN, alias ARN, each with or without an endpoint', () => {
  const cases: [string, { endpoint?: string; keyId: string; region?: string }][] = [
    [`awskms:///${UUID}`, { keyId: UUID }],
    [`awskms://localhost:4566/${UUID}`, { endpoint: 'localhost:4566', keyId: UUID }],
    ['awskms:///mrk-1234abcd12ab34cd56ef1234567890ab', { keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' }],
    [`awskms:///arn:aws:kms:us-east-2:111122223333:key/${UUID}`, { keyId: `arn:aws:kms:us-east-2:111122223333:key/${UUID}`, region: 'us-east-2' }],
    [`awskms://kms.eu-north-1.amazonaws.com/arn:aws:kms:eu-north-1:111122223333:key/${UUID}`, { endpoint: 'kms.eu-north-1.amazonaws.com', keyId: `arn:aws:kms:eu-north-1:111122223333:key/${UUID}`, region: 'eu-north-1' }],
    ['awskms:///alias/ExampleAlias', { keyId: 'alias/ExampleAlias' }],
    ['awskms://127.0.0.1:5000/alias/team/release_key-1', { endpoint: '127.0.0.1:5000', keyId: 'alias/team/release_key-1' }],
    ['awskms:///arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ExampleAlias', { keyId: 'arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ExampleAlias', region: 'us-gov-west-1' }],
  ];
  for (const [text, want] of cases) {
    const r = parseKeyRef(text);
    assert.equal(r.kind, 'awskms', text);
    if (r.kind !== 'awskms') continue;
    assert.deepEqual({ endpoint: r.endpoint, keyId: r.keyId, region: r.region }, { endpoint: undefined, region: undefined, ...want }, text);
    assert.equal(describeKeyRef(r), text);
  }
});

test('pkcs11: URIs (RFC 7512): path and query attributes, percent-encoding, CKA_ID as bytes; the PIN never shows in messages', () => {
  const r = parseKeyRef('pkcs11:token=My%20Token;serial=DECC0401648;slot-id=3;object=online;id=%01%a2z;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634');
  assert.equal(r.kind, 'pkcs11');
  if (r.kind !== 'pkcs11') return;
  assert.equal(r.token, 'My Token');
  assert.equal(r.serial, 'DECC0401648');
  assert.equal(r.slotId, 3);
  assert.equal(r.object, 'online');
  assert.deepEqual([...r.id!], [0x01, 0xa2, 0x7a]);
  assert.equal(r.modulePath, '/usr/lib/softhsm/libsofthsm2.so');
  assert.equal(r.pinValue, '12&34');
  assert.equal(describeKeyRef(r), 'pkcs11:token=My%20Token;serial=DECC0401648;slot-id=3;object=online;id=%01%a2z;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=***');
  assert.throws(() => assertNoSecret(r, 'keys.online.ref'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_KEYREF_SECRET' && !e.describe().includes('12%2634'));
  const withSource = parseKeyRef('pkcs11:object=k?pin-source=file:///run/secrets/pin');
  assertNoSecret(withSource, 'keys.k.ref');
  assert.equal(withSource.kind === 'pkcs11' && withSource.pinSource, 'file:///run/secrets/pin');
});

test('anything without a scheme is a file path; bad references are E_KEYREF_INVALID (usage) naming the problem, never the PIN', () => {
  assert.deepEqual(parseKeyRef('keys/online.pem'), { kind: 'file', path: 'keys/online.pem' });
  assert.deepEqual(parseKeyRef('/abs/dir:with:colons.pem'), { kind: 'file', path: '/abs/dir:with:colons.pem' });
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k', /gcpkms:\/\/ keys are not supported/],
    ['awskms://', /no key after the endpoint/],
    ['awskms:///not-a-key', /not a KMS key id/],
    ['awskms://bad host/alias/x', /not host\[:port\]/],
    ['pkcs11:token=t', /name the key with object=/],
    ['pkcs11:object=a;object=b', /appears twice/],
    ['pkcs11:object=a;colour=red', /unknown path attribute "colour"/],
    ['pkcs11:object=a?module-name=softhsm2', /unknown query attribute "module-name"/],
    ['pkcs11:object=a;type=public', /must name a private key/],
    ['pkcs11:object=a;slot-id=x1', /slot-id must be a decimal/],
    ['pkcs11:id=%zz', /not a percent-encoded byte/],
    ['pkcs11:object=%E0%A4', /not valid percent-encoded UTF-8/],
    ['pkcs11:object=a?pin-source=f&pin-value=secret-pin', /exclusive/],
  ];
  for (const [text, why] of bad) {
    assert.throws(
      () => parseKeyRef(text, '--online-key'),
      (e: unknown) => e instanceof ProvenantError && e.code === 'E_KEYREF_INVALID' && e.exitClass === 'usage' && e.field === '--online-key' && why.test(e.message) && !e.message.includes('secret-pin'),
      text,
    );
  }
});

test('anchorKeyRef: relative file paths and pin-sources become absolute for keys.json; everything else is kept as written', () => {
  assert.equal(anchorKeyRef('keys/a.pem', '/work'), '/work/keys/a.pem');
  assert.equal(anchorKeyRef('/etc/a.pem', '/work'), '/etc/a.pem');
  assert.equal(anchorKeyRef('pkcs11:token=t;object=k?module-path=/m.so&pin-source=secrets/my%20pin', '/work'), 'pkcs11:token=t;object=k?module-path=/m.so&pin-source=/work/secrets/my%20pin');
  assert.equal(anchorKeyRef('pkcs11:token=t;object=k?pin-source=file:///run/pin', '/work'), 'pkcs11:token=t;object=k?pin-source=file:///run/pin');
  assert.equal(anchorKeyRef('awskms:///alias/x', '/work'), 'awskms:///alias/x');
});

test('EC encodings from a token: curve from CKA_EC_PARAMS, point from CKA_EC_POINT (wrapped or bare), r||s to DER that node verifies', () => {
  assert.equal(curveOfEcParams(Buffer.from('06082a8648ce3d030107', 'hex')), 'P-256');
  assert.equal(curveOfEcParams(Buffer.from('06052b81040022', 'hex')), 'P-384');
  assert.equal(curveOfEcParams(Buffer.from('130c656477617264733235353139', 'hex')), 'Ed25519');
  assert.equal(curveOfEcParams(Buffer.from('06052b8104000a', 'hex')), undefined, 'secp256k1 is not supported');
  for (const [namedCurve, curve] of [['P-256', 'P-256'], ['P-384', 'P-384']] as const) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const wrapped = Buffer.concat([Buffer.of(4, point.length), point]);
    assert.ok(publicKeyFromPoint(curve, ecPointBytes(wrapped, curve)!).equals(publicKey));
    assert.ok(publicKeyFromPoint(curve, ecPointBytes(point, curve)!).equals(publicKey));
    assert.equal(ecPointBytes(point.subarray(1), curve), undefined);
    const hash = curve === 'P-256' ? 'sha256' : 'sha384';
    // Enough signatures that r or s with a high bit (needs a 0x00 pad) and with leading zero bytes occur.
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = cryptoSign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.ok(cryptoVerify(hash, data, publicKey, derFromRawSignature(raw)), `signature ${i} on ${curve}`);
    }
  }
  const ed = generateKeyPairSync('ed25519').publicKey;
  const raw = Buffer.from(ed.export({ format: 'jwk' }).x!, 'base64url');
  assert.ok(publicKeyFromPoint('Ed25519', ecPointBytes(Buffer.concat([Buffer.of(4, 32), raw]), 'Ed25519')!).equals(ed));
});
