import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The few DER shapes a PKCS#11 token hands over for an elliptic-curve key: CKA_EC_PARAMS (the
 * curve), CKA_EC_POINT (the public point) and the raw r||s signature of CKM_ECDSA, which TUF
 * (securesystemslib, tuf-js) and DSSE verifiers expect DER-encoded. Pure.
 */
export type DeviceCurve = 'P-256' | 'P-384' | 'Ed25519';

const POINT_LENGTH: Readonly<Record<DeviceCurve, number>> = { 'P-256': 65, 'P-384': 97, Ed25519: 32 };

// CKA_EC_PARAMS is DER: a namedCurve OID, or for Edwards curves (PKCS#11 3.0) also the
// PrintableString "edwards25519", which is what OpenSC's pkcs11-tool writes.
const EC_PARAMS: readonly [string, DeviceCurve][] = [
  ['06082a8648ce3d030107', 'P-256'], // 1.2.840.10045.3.1.7 prime256v1
  ['06052b81040022', 'P-384'], // 1.3.132.0.34 secp384r1
  ['06032b6570', 'Ed25519'], // 1.3.101.112 id-Ed25519 (RFC 8410)
  ['06092b06010401da470f01', 'Ed25519'], // 1.3.6.1.4.1.11591.15.1 (GnuPG's Ed25519 OID)
  ['130c656477617264733235353139', 'Ed25519'], // PrintableString "edwards25519"
];

export function curveOfEcParams(params: Uint8Array): DeviceCurve | undefined {
  const hex = Buffer.from(params).toString('hex');
  return EC_PARAMS.find(([der]) => der === hex)?.[1];
}

/**
 * The public point from CKA_EC_POINT. The standard wraps it in a DER OCTET STRING; some tokens
 * return it bare. Undefined when it is neither, for this curve.
 */
export function ecPointBytes(ecPoint: Uint8Array, curve: DeviceCurve): Uint8Array | undefined {
  const n = POINT_LENGTH[curve];
  if (ecPoint.length === n + 2 && ecPoint[0] === 0x04 && ecPoint[1] === n) return ecPoint.subarray(2);
  if (ecPoint.length === n + 3 && ecPoint[0] === 0x04 && ecPoint[1] === 0x81 && ecPoint[2] === n) return ecPoint.subarray(3);
  if (ecPoint.length === n && (curve === 'Ed25519' || ecPoint[0] === 0x04)) return ecPoint;
  return undefined;
}

/** A public KeyObject from the curve and the point (uncompressed 04||X||Y, or the 32-byte Ed25519 key). */
export function publicKeyFromPoint(curve: DeviceCurve, point: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  if (curve === 'Ed25519') return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(point) }, format: 'jwk' });
  const half = (point.length - 1) / 2;
  return createPublicKey({ key: { kty: 'EC', crv: curve, x: b64(point.subarray(1, 1 + half)), y: b64(point.subarray(1 + half)) }, format: 'jwk' });
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` from the fixed-size r||s of CKM_ECDSA (PKCS#11 §2.3.1). */
export function derFromRawSignature(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error(`an ECDSA r||s signature has an even, non-zero length, not ${raw.length}`);
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const v = bytes.subarray(i);
    // A set high bit would read as negative: DER INTEGERs are two's complement.
    const body = v[0]! & 0x80 ? Buffer.concat([Buffer.of(0), v]) : Buffer.from(v);
    return Buffer.concat([Buffer.of(0x02), derLength(body.length), body]);
  };
  const half = raw.length / 2;
  const content = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  return new Uint8Array(Buffer.concat([Buffer.of(0x30), derLength(content.length), content]));
}

function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.of(n) : Buffer.of(0x81, n);
}
