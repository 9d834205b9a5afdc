import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, type Bundle, type SerializedBundle } from '@sigstore/bundle';
import { parseEnvelope, serializeEnvelope, type DsseEnvelope } from '../formats/dsse.ts';
import { attestationError } from './errors.ts';

/**
 * The signed attestation file: a Sigstore bundle v0.3 (protobuf-specs `Bundle`, JSON form)
 * whose content is a DSSE envelope around the in-toto statement. Keyed, its verification
 * material is only a public key HINT (verifiers take the key from the attestation policy);
 * keyless, a Fulcio certificate with its Rekor entries (checked against the Sigstore trusted
 * root and the policy's identities).
 */
export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * A keyed bundle: verification material is only a public key HINT; the key itself is never in
 * the bundle, verifiers take it from the attestation policy.
 */
export interface KeyedAttestationBundle {
  kind: 'keyed';
  /** `verificationMaterial.publicKey.hint` ('' when absent). */
  hint: string;
  envelope: DsseEnvelope;
  /**
   * One standard Sigstore bundle per DSSE signature (DSSE: "multiple signatures are equivalent
   * to separate envelopes with individual signatures"), each already validated by
   * @sigstore/bundle, with `publicKey.hint` set to the key that signature names. Transparency
   * log entries and timestamps are dropped: a keyed signature's trust is the policy's key, so
   * they could only be ignored or fail.
   */
  perSignature: { keyid: string; bundle: Bundle }[];
}

/**
 * A keyless bundle: a Fulcio certificate, its Rekor entries and timestamps, one DSSE signature.
 * Nothing in it is trusted until checked against the Sigstore trusted root and the policy's
 * identities (src/attest/keyless-verify.ts).
 */
export interface KeylessAttestationBundle {
  kind: 'keyless';
  envelope: DsseEnvelope;
  /** Validated by @sigstore/bundle (v0.3, one signature), tlog entries and timestamps kept. */
  bundle: Bundle;
  /** Whether the bundle also names a public key hint (refused: one signer, one kind of material). */
  alsoHint: boolean;
}

export type ParsedAttestationBundle = KeyedAttestationBundle | KeylessAttestationBundle;

const TOP_LEVEL = ['mediaType', 'verificationMaterial', 'dsseEnvelope', 'messageSignature'];
const MATERIAL = ['publicKey', 'certificate', 'x509CertificateChain', 'tlogEntries', 'timestampVerificationData'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads bundle bytes strictly; throws E_ATTESTATION_MALFORMED / E_ATTESTATION_MEDIA_TYPE, and
 * E_ATTESTATION_KEY_UNTRUSTED for a certificate unless `acceptCertificate` (the policy lists
 * keyless identities): a certificate is then not even read.
 */
export function parseAttestationBundle(bytes: Uint8Array, file?: string, opts: { acceptCertificate?: boolean } = {}): ParsedAttestationBundle {
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
    throw attestationError('E_ATTESTATION_MEDIA_TYPE', `attestation bundle has media type ${JSON.stringify(raw.mediaType)}; only ${BUNDLE_MEDIA_TYPE} is supported`, {
      file,
      field: 'mediaType',
      hint: 'sign the statement again with `provenant sign` (it writes Sigstore bundles v0.3)',
    });
  }
  if (raw.messageSignature !== undefined || raw.dsseEnvelope === undefined) {
    throw malformed('does not hold a DSSE envelope (dsseEnvelope)', 'dsseEnvelope');
  }
  const vm = raw.verificationMaterial;
  if (!isObject(vm)) throw malformed('has no verificationMaterial', 'verificationMaterial');
  for (const k of Object.keys(vm)) {
    if (!MATERIAL.includes(k)) throw malformed(`has an unknown field "${k}"`, `verificationMaterial.${k}`);
  }
  // protobuf JSON may omit an empty repeated field; present, it must be an array.
  if (vm.tlogEntries !== undefined && !Array.isArray(vm.tlogEntries)) {
    throw malformed('verificationMaterial.tlogEntries is not an array', 'verificationMaterial.tlogEntries');
  }
  if (vm.certificate !== undefined || vm.x509CertificateChain !== undefined) {
    if (opts.acceptCertificate) return parseKeyless(raw, vm, file, malformed);
    throw attestationError('E_ATTESTATION_KEY_UNTRUSTED', 'attestation bundle carries a certificate, and the attestation policy lists no keyless identity: only its keys are trusted', {
      file,
      field: vm.certificate !== undefined ? 'verificationMaterial.certificate' : 'verificationMaterial.x509CertificateChain',
      hint: 'sign with a key the policy lists (`provenant sign`), or publish a policy with `attestation.identities` (docs/policy.md)',
    });
  }
  if (!isObject(vm.publicKey)) throw malformed('has no verificationMaterial.publicKey', 'verificationMaterial.publicKey');
  for (const k of Object.keys(vm.publicKey)) {
    if (k !== 'hint') throw malformed(`has an unknown field "${k}"`, `verificationMaterial.publicKey.${k}`);
  }
  const hint = vm.publicKey.hint ?? '';
  if (typeof hint !== 'string') throw malformed('publicKey.hint is not a string', 'verificationMaterial.publicKey.hint');

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
  return { kind: 'keyed', hint, envelope, perSignature };
}

function parseKeyless(
  raw: Record<string, unknown>,
  vm: Record<string, unknown>,
  file: string | undefined,
  malformed: (message: string, field?: string) => Error,
): KeylessAttestationBundle {
  const envelope = parseEnvelope(raw.dsseEnvelope, { file, field: 'dsseEnvelope' });
  if (envelope.signatures.length !== 1) {
    throw malformed(`has ${envelope.signatures.length} DSSE signatures; a keyless bundle carries exactly one (its certificate's)`, 'dsseEnvelope.signatures');
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(raw);
  } catch (e) {
    const fields = (e as { fields?: string[] }).fields;
    throw malformed(`is not a valid Sigstore bundle (${fields?.join(', ') ?? (e as Error).message})`, 'verificationMaterial');
  }
  return { kind: 'keyless', envelope, bundle, alsoHint: vm.publicKey !== undefined };
}

/** The JSON text written to disk: two-space indented, newline-terminated (the pointer pins these bytes). */
export function renderBundle(bundle: SerializedBundle): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(bundle, null, 2)}\n`);
}
