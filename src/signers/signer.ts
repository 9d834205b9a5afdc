/**
 * Anything that can sign: a key file, a PKCS#11 token or AWS KMS (key-ref.ts names them,
 * open-signer.ts opens them). Async so remote signers fit; the private key never leaves the signer.
 */
export type KeyType = 'ed25519' | 'ecdsa';
export type SignatureScheme = 'ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384';

/** The TUF public key object (spec §4.2), as it appears in root and targets metadata. */
export interface PublicKeyInfo {
  keytype: KeyType;
  scheme: SignatureScheme;
  keyval: { public: string };
}

export interface Signer {
  /** TUF key id: hex sha256 of the canonical JSON of `publicKey`. */
  readonly keyId: string;
  readonly publicKey: PublicKeyInfo;
  /** The public key as SPKI PEM, for verifiers outside TUF (DSSE, Sigstore bundles). */
  readonly publicKeyPem: string;
  /** Signs `data` as the scheme defines (ed25519: raw; ecdsa: sha256/sha384 by curve, then a DER signature). */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** Releases a device session or client (PKCS#11, KMS); file keys hold nothing. Idempotent. */
  close?(): Promise<void>;
}
