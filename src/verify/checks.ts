import { ProvenantError, type ErrorDetails } from '../errors.ts';

/**
 * The downloader's checks, in the order they run (ARCHITECTURE.md, "Downloader checks").
 * The names are stable: they appear in -v logs, in --json output and in error messages.
 */
export const CHECKS = [
  'tuf refresh',
  'pointer target',
  'pointer schema',
  'wheel length',
  'wheel sha256',
  'attestation length and digest',
  'attestation signature',
  'statement types',
  'subject',
  'provenance policy',
] as const;
export type CheckName = (typeof CHECKS)[number];

/** The fix of a failed check unless the check knows a more precise one. */
export const DO_NOT_INSTALL_HINT = 'do not install it: the repository serves something other than what was published; tell its publisher';

/** A failed check: exit class 'verification', the check named in the message. */
export function checkFailed(
  check: CheckName,
  code: string,
  message: string,
  details: Omit<ErrorDetails, 'exitClass' | 'hint'> & { hint?: string } = {},
): ProvenantError {
  return new ProvenantError(code, `${check}: ${message}`, { exitClass: 'verification', ...details, hint: details.hint ?? DO_NOT_INSTALL_HINT });
}
