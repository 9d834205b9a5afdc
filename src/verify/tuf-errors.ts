import { ProvenantError, isProvenantError } from '../errors.ts';
import {
  BadVersionError,
  DownloadHTTPError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
} from 'tuf-js/dist/error.js';

/**
 * tuf-js errors as ProvenantErrors with stable codes. tuf-js wraps failures while loading
 * snapshot and targets into a RuntimeError whose message embeds the original; when one of the
 * errors our fetcher threw is named there, that (network or length) error is the real cause.
 */
export function fromTufError(e: unknown, fetcherThrown: readonly Error[], repositoryUrl: string): ProvenantError {
  if (isProvenantError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  for (const t of [...fetcherThrown].reverse()) {
    if (t !== e && message.includes(t.message) && isProvenantError(t)) return t;
  }
  const where = { file: `${repositoryUrl}metadata/` };
  if (e instanceof ExpiredMetadataError || /expired/i.test(message)) {
    return new ProvenantError('E_TUF_EXPIRED', `TUF metadata is expired (freeze attack or an unmaintained repository): ${message}`, {
      exitClass: 'verification',
      ...where,
      hint: 'the repository must re-sign its metadata (`provenant repo refresh`); do not install until it does',
      cause: e,
    });
  }
  // tuf-js's BadVersionError, possibly flattened into a RuntimeError message: tell a version
  // going backwards (rollback) from a file that is not the version its referrer names (mix-and-match).
  if (/less than current version|Expected version \d+, got/i.test(message)) {
    return new ProvenantError('E_TUF_ROLLBACK', `TUF metadata went back in version (rollback attack): ${message}`, {
      exitClass: 'verification',
      ...where,
      hint: 'the server offers older metadata than this machine already trusts; do not install from it',
      cause: e,
    });
  }
  if (e instanceof BadVersionError || /version \d+ of .* does not match|version doesn't match/i.test(message)) {
    return new ProvenantError('E_TUF_MIX_AND_MATCH', `TUF metadata is not the version its referrer pins (mix-and-match attack): ${message}`, {
      exitClass: 'verification',
      ...where,
      hint: 'the server mixes metadata from different publishes; do not install from it',
      cause: e,
    });
  }
  if (e instanceof DownloadHTTPError && e.statusCode === 404) {
    return new ProvenantError('E_TUF_NO_REPOSITORY', `no TUF metadata at ${repositoryUrl}: ${message}`, {
      exitClass: 'not-found',
      ...where,
      hint: 'check --repository: it must be the root of a provenant repository (the directory holding metadata/)',
      cause: e,
    });
  }
  if (e instanceof DownloadLengthMismatchError) {
    return new ProvenantError('E_LENGTH_EXCEEDED', `TUF metadata larger than allowed: ${message}`, {
      exitClass: 'verification',
      ...where,
      hint: 'the server sends endless or oversized metadata; do not install from it',
      cause: e,
    });
  }
  return new ProvenantError('E_TUF_METADATA', `TUF metadata did not verify: ${message}`, {
    exitClass: 'verification',
    ...where,
    hint: 'the repository metadata is tampered with, mixed from different publishes, or signed by keys the trusted root does not list',
    cause: e,
  });
}
