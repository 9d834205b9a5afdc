import { ProvenantError } from '../errors.ts';

/**
 * Stable codes of attestation verification (docs/attestations.md). All are exit class
 * 'verification': the bundle was read, and it is not acceptable.
 */
export type AttestationErrorCode =
  | 'E_ATTESTATION_MALFORMED' // not JSON, not a v0.3 DSSE bundle, bad base64, unknown fields
  | 'E_ATTESTATION_KEY_UNTRUSTED' // a certificate, or a key (hint) the policy does not list
  | 'E_ATTESTATION_SIGNATURE' // a signature does not verify with the policy key it names
  | 'E_ATTESTATION_THRESHOLD' // valid signatures, but from fewer distinct policy keys than required
  | 'E_ATTESTATION_PAYLOAD_TYPE'; // signed, but not an in-toto statement

export function attestationError(
  code: AttestationErrorCode,
  message: string,
  details: { file?: string | undefined; field?: string; hint: string; cause?: unknown },
): ProvenantError {
  return new ProvenantError(code, message, { exitClass: 'verification', ...details });
}
