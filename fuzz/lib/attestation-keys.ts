/**
 * This run's attestation keys (ECDSA P-256 and Ed25519, made at start, never written), the
 * policy that trusts them, and the one invariant every attestation target checks: an envelope
 * verifies only if one of these keys signed exactly its PAE(payloadType, payload).
 */
import { createHash } from 'node:crypto';
import { preAuthEncoding } from '../../src/formats/dsse.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { generatePrivateKey, keyObjectSigner } from '../../src/signers/key-file.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { fill, jsonEscaped, latin1, pending } from './placeholders.ts';

export const ATTESTATION_KEYS: Readonly<Record<string, Signer>> = {
  attestation: keyObjectSigner(generatePrivateKey('ecdsa')),
  'attestation-ed25519': keyObjectSigner(generatePrivateKey('ed25519')),
};

/** Trusts both keys, one signature needed; builders, sources and refs as `repo init` writes them. */
export const POLICY = defaultPolicy({ attestationKeys: Object.values(ATTESTATION_KEYS) });

export function keyValues(keys: Readonly<Record<string, Signer>> = ATTESTATION_KEYS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, k] of Object.entries(keys)) {
    out[`keyid:${name}`] = k.keyId;
    out[`public:${name}`] = jsonEscaped(k.publicKey.keyval.public);
  }
  return out;
}

const signedPae = new Set<string>();
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Fills key ids and public keys, then signs `@@sig:<key>@@` over the PAE of the envelope found
 * in the document (a bundle's `dsseEnvelope`, or the document itself when it is an envelope).
 */
export async function fillAttestation(bytes: Uint8Array): Promise<Buffer> {
  let text = fill(latin1.text(bytes), keyValues());
  const sigs = pending(text, 'sig:');
  if (sigs.length === 0) return latin1.bytes(text);
  let pae: Uint8Array;
  try {
    const doc = JSON.parse(latin1.bytes(text).toString('utf8')) as Record<string, unknown>;
    const env = (doc.dsseEnvelope ?? doc) as { payloadType: unknown; payload: unknown };
    if (typeof env.payloadType !== 'string' || typeof env.payload !== 'string') return latin1.bytes(text);
    pae = preAuthEncoding(env.payloadType, Buffer.from(env.payload, 'base64'));
  } catch {
    return latin1.bytes(text);
  }
  const values: Record<string, string> = {};
  for (const name of sigs) {
    const key = ATTESTATION_KEYS[name.slice('sig:'.length)];
    if (!key) continue;
    values[name] = Buffer.from(await key.sign(pae)).toString('base64');
    signedPae.add(digest(pae));
  }
  text = fill(text, values);
  return latin1.bytes(text);
}

/** Throws (not a ProvenantError: a finding) when an accepted envelope was never signed by this run's keys. */
export function assertSignedByThisRun(payloadType: string, payload: Uint8Array): void {
  if (!signedPae.has(digest(preAuthEncoding(payloadType, payload)))) {
    throw new Error(`SIGNED PART CHANGED BUT VERIFIED: an envelope (payloadType ${JSON.stringify(payloadType)}, ${payload.length} payload bytes) was accepted that no key of this run signed`);
  }
}
