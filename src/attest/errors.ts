import { ProvenantError } from '../errors.ts';

/**
 * Stable codes of attestation verification (docs/attestations.md). All are exit class
 * 'verification': the bundle was read, and it is not acceptable.
 */
export type AttestationErrorCode =
  | 'E_ATTESTATION_MALFORMED' // not JSON, not a v0.3 DSSE bundle, bad base64, unknown fields
  | 'E_ATTESTATION_KEY_UNTRUSTED' // a certificate, or a key (hint) the policy does not list
  | 'E_ATTESTATION_SIGNATURE' // a signature does not verify with the policy key it names
  | 'E_ATTESTATION_KEY_REVOKED' // signed by a key the policy lists as revoked, and not by enough trusted keys
  | 'E_ATTESTATION_THRESHOLD' // valid signatures, but from fewer distinct policy keys than required
  | 'E_ATTESTATION_PAYLOAD_TYPE' // signed, but not an in-toto statement
  | 'E_ATTESTATION_MEDIA_TYPE' // not a Sigstore bundle v0.3
  // Keyless (Fulcio certificate) bundles, docs/attestations.md "Keyless":
  | 'E_SIGSTORE_ROOT_MISSING' // keyless bundle, but the repository publishes no Sigstore trusted root
  | 'E_ATTESTATION_CERT_CHAIN' // the certificate does not chain to a CA of the trusted root
  | 'E_ATTESTATION_CERT_EXPIRED' // the certificate was not valid at the integrated (or TSA) time
  | 'E_ATTESTATION_SCT' // the certificate's SCT does not verify with a CT log of the trusted root
  | 'E_ATTESTATION_ISSUER' // the OIDC issuer is not one the policy's identities name
  | 'E_ATTESTATION_SAN' // the certificate's SAN matches no identity of that issuer
  | 'E_ATTESTATION_IDENTITY_PROJECT' // the identity may not sign for this project
  | 'E_ATTESTATION_CERT_EXTENSION' // a Fulcio extension the identity constrains is absent or differs
  | 'E_ATTESTATION_TLOG_MISSING' // fewer transparency log entries than the threshold (1)
  | 'E_ATTESTATION_TLOG_BODY' // the log entry is for another artifact or signature
  | 'E_ATTESTATION_TLOG_CHECKPOINT' // the inclusion proof or its signed checkpoint does not verify
  | 'E_ATTESTATION_TLOG_SET' // the signed entry timestamp (inclusion promise) does not verify
  | 'E_ATTESTATION_CERT_USAGE' // an organizational (PKI) signing certificate without the code-signing EKU
  | 'E_ATTESTATION_TIMESTAMP'; // no verified time (SET or RFC 3161), or a TSA timestamp does not verify

export function attestationError(
  code: AttestationErrorCode,
  message: string,
  details: { file?: string | undefined; field?: string; hint: string; cause?: unknown },
): ProvenantError {
  return new ProvenantError(code, message, { exitClass: 'verification', ...details });
}
