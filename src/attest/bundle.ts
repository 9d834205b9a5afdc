import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, type Bundle, type SerializedBundle } from '@sigstore/bundle';
import { parseEnvelope, serializeEnvelope, type DsseEnvelope } from '../formats/dsse.ts';
import { attestationError } from './errors.ts';

/**
 * The signed attestation file: a Sigstore bundle v0.3 (protobuf-specs `Bundle`, JSON form)
 * whose content is a DSSE envelope around the in-toto statement, and whose verification
 * material is only a public key HINT. The key itself is never in the bundle: verifiers take
 * it from the attestation policy.
 */
export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface ParsedAttestationBundle {
  /** `verificationMaterial.publicKey.hint` ('' when absent). */
  hint: string;
  envelope: DsseEnvelope;
  /**
   * One standard Sigstore bundle per DSSE signature (DSSE: "multiple signatures are equivalent
   * to separate envelopes with individual signatures"), each already validated by
   * @sigstore/bundle, with `publicKey.hint` set to the key that signature names. Transparency
   * log entries and timestamps are dropped: provenant's trust is the policy's keys, it holds no
   * log or TSA keys to check them against, so they could only be ignored or fail.
   */
  perSignature: { keyid: string; bundle: Bundle }[];
}

const TOP_LEVEL = ['mediaType', 'verificationMaterial', 'dsseEnvelope', 'messageSignature'];
const MATERIAL = ['publicKey', 'certificate', 'x509CertificateChain', 'tlogEntries', 'timestampVerificationData'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads bundle bytes strictly; throws E_ATTESTATION_MALFORMED / E_ATTESTATION_KEY_UNTRUSTED. */
export function parseAttestationBundle(bytes: Uint8Array, file?: string): ParsedAttestationBundle {
  const malformed = (message: string, field?: string) =>
    attestationError('E_ATTESTATION_MALFORMED', `attestation bundle ${message}`, {
      file,
      ...(field === undefined ? {} : { field }),
      hint: 'the attestation must be a Sigstore bundle v0.3 with a DSSE envelope, as `provenant sign` writes it',
    });
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw malformed(`is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw malformed('is not a JSON object');
  for (const k of Object.keys(raw)) if (!TOP_LEVEL.includes(k)) throw malformed(`has an unknown field "${k}"`, k);
  if (raw.mediaType !== BUNDLE_MEDIA_TYPE) {
    throw malformed(`has media type ${JSON.stringify(raw.mediaType)}, expected ${BUNDLE_MEDIA_TYPE}`, 'mediaType');
  }
  if (raw.messageSignature !== undefined || raw.dsseEnvelope === undefined) {
    throw malformed('does not hold a DSSE envelope (dsseEnvelope)', 'dsseEnvelope');
  }
  const vm = raw.verificationMaterial;
  if (!isObject(vm)) throw malformed('has no verificationMaterial', 'verificationMaterial');
  for (const k of Object.keys(vm)) {
    if (!MATERIAL.includes(k)) throw malformed(`has an unknown field "${k}"`, `verificationMaterial.${k}`);
  }
  if (vm.certificate !== undefined || vm.x509CertificateChain !== undefined) {
    const field = vm.certificate !== undefined ? 'verificationMaterial.certificate' : 'verificationMaterial.x509CertificateChain';
    throw attestationError('E_ATTESTATION_KEY_UNTRUSTED', 'attestation bundle carries a certificate; only keys listed in the attestation policy are trusted', {
      file,
      field,
      hint: 'sign with a key the policy lists (`provenant sign`), or add the signer to the policy (docs/policy.md)',
    });
  }
  if (!isObject(vm.publicKey)) throw malformed('has no verificationMaterial.publicKey', 'verificationMaterial.publicKey');
  for (const k of Object.keys(vm.publicKey)) {
    if (k !== 'hint') throw malformed(`has an unknown field "${k}"`, `verificationMaterial.publicKey.${k}`);
  }
  const hint = vm.publicKey.hint ?? '';
  if (typeof hint !== 'string') throw malformed('publicKey.hint is not a string', 'verificationMaterial.publicKey.hint');
  // protobuf JSON may omit an empty repeated field; present, it must be an array.
  if (vm.tlogEntries !== undefined && !Array.isArray(vm.tlogEntries)) {
    throw malformed('verificationMaterial.tlogEntries is not an array', 'verificationMaterial.tlogEntries');
  }

  const envelope = parseEnvelope(raw.dsseEnvelope, { file, field: 'dsseEnvelope' });
  const perSignature = envelope.signatures.map((sig, i) => {
    const keyid = sig.keyid || hint;
    const single: DsseEnvelope = { ...envelope, signatures: [{ keyid, sig: sig.sig }] };
    const json = {
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: { ...vm, publicKey: { hint: keyid } },
      dsseEnvelope: serializeEnvelope(single),
    };
    let bundle: Bundle;
    try {
      bundle = bundleFromJSON(json);
    } catch (e) {
      const fields = (e as { fields?: string[] }).fields;
      throw malformed(`is not a valid Sigstore bundle (${fields?.join(', ') ?? (e as Error).message})`, `dsseEnvelope.signatures[${i}]`);
    }
    bundle.verificationMaterial.tlogEntries = [];
    bundle.verificationMaterial.timestampVerificationData = undefined;
    return { keyid, bundle };
  });
  return { hint, envelope, perSignature };
}

/** The JSON text written to disk: two-space indented, newline-terminated (the pointer pins these bytes). */
export function renderBundle(bundle: SerializedBundle): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(bundle, null, 2)}\n`);
}
