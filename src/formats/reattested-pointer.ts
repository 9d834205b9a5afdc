import { isDeepStrictEqual } from 'node:util';
import { ProvenantError } from '../errors.ts';
import { parsePointer } from './pointer.ts';

/**
 * Re-attesting a release (docs/attestation-keys.md) is the one change a published pointer may
 * undergo: its attestation reference (uri, digest, length). Everything else, the project, version,
 * wheel uri, digest, length and any other key, must be exactly what was published, so a
 * re-attestation can never move a release to other bytes.
 */
export function checkReattestedPointer(published: Uint8Array, next: Uint8Array, file: string): void {
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  const { attestation: _a, ...before } = parsePointer(decode(published), `${file} (published)`);
  const { attestation: _b, ...after } = parsePointer(decode(next), file);
  if (isDeepStrictEqual(before, after)) return;
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !isDeepStrictEqual(before[k], after[k]));
  throw new ProvenantError('E_RELEASE_IMMUTABLE', `re-attesting ${before.name} ${before.version} would change ${changed.map((k) => `pointer.${k}`).join(', ')}; only the attestation may change`, {
    exitClass: 'conflict',
    file,
    field: `pointer.${changed[0] ?? 'attestation'}`,
    hint: 're-attestation signs the same statement about the same wheel; publish a new version for other bytes',
  });
}
