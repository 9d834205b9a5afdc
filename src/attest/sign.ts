import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer as SigstoreSigner } from '@sigstore/sign';
import { ProvenantError } from '../errors.ts';
import { preAuthEncoding } from '../formats/dsse.ts';
import type { Signer } from '../signers/signer.ts';
import { IN_TOTO_PAYLOAD_TYPE, renderBundle } from './bundle.ts';

export interface SignedAttestation {
  bundle: SerializedBundle;
  /** The file content to write and pin (renderBundle of `bundle`). */
  bytes: Uint8Array;
}

/**
 * @sigstore/sign's DSSE builder does the PAE and the bundle assembly; our Signer only sees the
 * PAE bytes. The result is checked against the signer's own public key before it is used, so a
 * misconfigured remote signer (wrong key, wrong curve) fails here, not at every downloader.
 */
function sigstoreSigner(signer: Signer): SigstoreSigner {
  const publicKey = createPublicKey(signer.publicKeyPem);
  return {
    async sign(data: Buffer) {
      const signature = Buffer.from(await signer.sign(data));
      if (!cryptoVerify(undefined, data, publicKey, signature)) {
        throw new ProvenantError('E_SIGNER_MISMATCH', `signer ${signer.keyId} produced a signature its own public key does not verify`, {
          exitClass: 'input',
          hint: 'check that the attestation key file (or HSM/KMS key) matches its public key',
        });
      }
      return { signature, key: { $case: 'publicKey', publicKey: signer.publicKeyPem, hint: signer.keyId } };
    },
  };
}

/**
 * Wraps the EXACT statement bytes in a DSSE envelope (payloadType application/vnd.in-toto+json)
 * and signs its PAE with each signer. With one signer the result is a standard Sigstore bundle
 * v0.3 (it passes @sigstore/bundle's validation, which requires exactly one signature). With
 * several (a policy threshold above 1) the envelope carries one signature per signer, as DSSE
 * allows; provenant verifies each as its own bundle, but generic Sigstore clients reject it.
 */
export async function signAttestation(statement: Uint8Array, signers: readonly Signer[]): Promise<SignedAttestation> {
  if (signers.length === 0) {
    throw new ProvenantError('E_SIGNER_MISSING', 'no attestation signer given', { exitClass: 'usage', hint: 'pass --keys DIR or --key FILE' });
  }
  const ids = new Set(signers.map((s) => s.keyId));
  if (ids.size !== signers.length) {
    throw new ProvenantError('E_SIGNER_DUPLICATE', 'the same attestation key was given twice', { exitClass: 'usage', hint: 'each key counts once toward the threshold; give distinct keys' });
  }
  const artifact = { data: Buffer.from(statement.buffer, statement.byteOffset, statement.byteLength), type: IN_TOTO_PAYLOAD_TYPE };
  const bundles = [];
  for (const signer of signers) {
    const builder = new DSSEBundleBuilder({ signer: sigstoreSigner(signer), witnesses: [] });
    bundles.push(bundleToJSON(await builder.create(artifact)));
  }
  const first = bundles[0]!;
  if (!first.dsseEnvelope) throw new Error('DSSEBundleBuilder returned a bundle without a DSSE envelope');
  // protobuf JSON omits empty repeated fields; the v0.3 layout is written out in full
  // (`tlogEntries: []` says plainly: no transparency log), and the empty timestamp data dropped.
  const bundle: SerializedBundle = {
    mediaType: first.mediaType,
    verificationMaterial: {
      publicKey: { hint: signers[0]!.keyId },
      certificate: undefined,
      x509CertificateChain: undefined,
      tlogEntries: [],
      timestampVerificationData: undefined,
    },
    messageSignature: undefined,
    dsseEnvelope: { ...first.dsseEnvelope, signatures: bundles.flatMap((b) => b.dsseEnvelope?.signatures ?? []) },
  };
  return { bundle, bytes: renderBundle(bundle) };
}

/** The bytes the signature covers, for independent verification (docs/attestations.md). */
export function signedBytes(statement: Uint8Array): Uint8Array {
  return preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement);
}
