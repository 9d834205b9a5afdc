import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';
import { fromBase64Strict, parseEnvelope, preAuthEncoding, serializeEnvelope, toBase64 } from '../../src/formats/dsse.ts';
import { ProvenantError } from '../../src/errors.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const bytes = (s: string) => new TextEncoder().encode(s);

test('PAE matches the DSSE spec test vector (protocol.md)', () => {
  assert.equal(text(preAuthEncoding('http://example.com/HelloWorld', bytes('hello world'))), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
});

test('PAE counts bytes, not characters, and handles empty parts', () => {
  assert.equal(text(preAuthEncoding('', new Uint8Array())), 'DSSEv1 0  0 ');
  // "é" is two UTF-8 bytes: LEN must be 2, not 1.
  const pae = preAuthEncoding('é', bytes('ü!'));
  assert.deepEqual([...pae], [...bytes('DSSEv1 2 é 3 ü!')]);
  // A body containing the separator cannot shift the boundary: lengths fix it.
  assert.notDeepEqual(preAuthEncoding('a 1 b', bytes('c')), preAuthEncoding('a', bytes('b 1 c')));
});

test("the spec's ECDSA P-256 signature verifies over our PAE (protocol.md test vector)", () => {
  // The spec gives the key as decimal X, Y and the signature as raw r||s.
  const b64url = (dec: string) => Buffer.from(BigInt(dec).toString(16).padStart(64, '0'), 'hex').toString('base64url');
  const key = createPublicKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: b64url('46950820868899156662930047687818585632848591499744589407958293238635476079160'),
      y: b64url('5640078356564379163099075877009565129882514886557779369047442380624545832820'),
    },
  });
  const env = parseEnvelope(
    JSON.parse(`{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}`),
  );
  assert.equal(Buffer.from(env.payload).toString(), 'hello world');
  assert.equal(env.signatures[0]!.keyid, '');
  const pae = preAuthEncoding(env.payloadType, env.payload);
  assert.ok(verify('sha256', pae, { key, dsaEncoding: 'ieee-p1363' }, env.signatures[0]!.sig));
  // And not over the bare payload: the type is part of what is signed.
  assert.ok(!verify('sha256', env.payload, { key, dsaEncoding: 'ieee-p1363' }, env.signatures[0]!.sig));
});

test('base64: standard and URL-safe accepted, anything that does not round-trip refused', () => {
  assert.deepEqual([...fromBase64Strict('+/8=')!], [0xfb, 0xff]);
  assert.deepEqual([...fromBase64Strict('-_8')!], [0xfb, 0xff]);
  assert.deepEqual([...fromBase64Strict('')!], []);
  // Bad length, misplaced padding, foreign characters, non-zero trailing bits, mixed alphabets.
  for (const bad of ['a', 'ab=c', 'ab!c', 'aGVsbG8gd29ybGR=', '+_8=', 'aGVs bG8=', 'aGVsbG8=====']) {
    assert.equal(fromBase64Strict(bad), undefined, bad);
  }
  // Unpadded base64 is still base64.
  assert.equal(Buffer.from(fromBase64Strict('aGVsbG8gd29ybGQ')!).toString(), 'hello world');
  assert.equal(toBase64(bytes('hello world')), 'aGVsbG8gd29ybGQ=');
});

test('envelope parsing is strict and round-trips', () => {
  const env = { payloadType: 't', payload: bytes('x'), signatures: [{ keyid: 'k', sig: bytes('s') }] };
  assert.deepEqual(parseEnvelope(serializeEnvelope(env)), env);
  const cases: [unknown, string][] = [
    [null, ''],
    [{ payload: 'eA==', signatures: [{ sig: 'cw==' }] }, 'payloadType'],
    [{ payload: 'eA==', payloadType: 't', signatures: [] }, 'signatures'],
    [{ payload: 'e!A=', payloadType: 't', signatures: [{ sig: 'cw==' }] }, 'payload'],
    [{ payload: 'eA==', payloadType: 't', signatures: [{ sig: '' }] }, 'signatures[0].sig'],
    [{ payload: 'eA==', payloadType: 't', signatures: [{ sig: 'cw==', keyid: 3 }] }, 'signatures[0].keyid'],
    [{ payload: 'eA==', payloadType: 't', signatures: [{ sig: 'cw==', cert: 'x' }] }, 'signatures[0].cert'],
    [{ payload: 'eA==', payloadType: 't', signatures: [{ sig: 'cw==' }], extra: 1 }, 'extra'],
  ];
  for (const [value, field] of cases) {
    assert.throws(
      () => parseEnvelope(value),
      (e: unknown) => e instanceof ProvenantError && e.code === 'E_ATTESTATION_MALFORMED' && e.field === field && e.exitClass === 'verification',
      JSON.stringify(value),
    );
  }
});
