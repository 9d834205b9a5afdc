import type { KeyObject } from 'node:crypto';

/**
 * What makes two public keys one key: their public parameters (JWK crv, x, y), not their bytes.
 * One key has many spellings (PEM or hex, line breaks, a compressed or uncompressed P-256 point),
 * each with its own key id, and a single holder listing one key twice must never count twice
 * toward a threshold (attestation, approvals, rebuilders, root and targets ceremonies).
 */
export function keyIdentity(key: KeyObject): string {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return JSON.stringify([kty, crv, x, y ?? null]);
}
