import { Metadata, Signature, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import { canonicalJsonBytes } from '../formats/canonical-json.ts';
import { METADATA_DIR } from '../formats/layout.ts';
import type { Signer } from '../signers/signer.ts';

/** Signing and serialising TUF metadata; the only place signatures are made. */
export type Signed = Root | Targets | Snapshot | Timestamp;

/**
 * Signs the canonical form of `signed` with every signer (async: keys may be remote). The
 * caller hands over at least the role's threshold of signers the role trusts.
 */
export async function signMetadata<T extends Signed>(signed: T, signers: readonly Signer[], role: string): Promise<Metadata<T>> {
  if (signers.length === 0) {
    throw new ProvenantError('E_KEY_MISSING', `no signing key for role ${role}`, { field: role, hint: 'see docs/keys.md' });
  }
  const bytes = canonicalJsonBytes(signed.toJSON());
  const signatures: Record<string, Signature> = {};
  for (const s of signers) {
    signatures[s.keyId] = new Signature({ keyID: s.keyId, sig: Buffer.from(await s.sign(bytes)).toString('hex') });
  }
  return new Metadata(signed, signatures);
}

/** Compact JSON: bins are rewritten on every release, so bytes matter more than looks. */
export function serializeMetadata(md: Metadata<Signed>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(md.toJSON()));
}

/** Storage key of a role's metadata: `metadata/N.<role>.json`, or `metadata/timestamp.json`. */
export function metadataKey(role: string, version?: number): string {
  return version === undefined ? `${METADATA_DIR}/${role}.json` : `${METADATA_DIR}/${version}.${role}.json`;
}
