import type { SignatureFacts } from './model.ts';

/**
 * Who signed, from what the attestation verification returned (never from the bundle's own
 * claims): the policy key ids that verified, or for a keyless bundle the verified certificate's
 * identity and its transparency-log entries. The keyless fields are read defensively, as a
 * verifier may or may not report them.
 */
export function signatureFacts(verified: { keyIds: readonly string[]; keyless?: unknown }): SignatureFacts {
  const k = verified.keyless;
  if (isObject(k)) {
    const cert = isObject(k.certificate) ? k.certificate : {};
    const logIndexes = Array.isArray(k.logIndexes) ? k.logIndexes.filter((x): x is string | number => typeof x === 'string' || typeof x === 'number').map(String) : [];
    return { kind: 'keyless', subject: text(cert.subject), issuer: text(cert.issuer), logIndexes };
  }
  return { kind: 'key', keyIds: [...verified.keyIds] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
