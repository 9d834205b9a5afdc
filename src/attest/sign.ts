import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, InternalError, RekorWitness, TSAWitness, type Signer as SigstoreSigner, type Witness } from '@sigstore/sign';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { preAuthEncoding } from '../formats/dsse.ts';
import type { KeylessSigning } from '../signers/keyless.ts';
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

/**
 * Keyless: Fulcio certifies an ephemeral P-256 key for the OIDC token's identity, the DSSE
 * envelope is signed with it, Rekor logs it (a `dsse` entry, whose inclusion proof, checkpoint
 * and SET go into the bundle) and, when configured, a TSA timestamps the signature. The result
 * is a standard Sigstore bundle v0.3 with the leaf certificate as its verification material.
 */
export async function signAttestationKeyless(statement: Uint8Array, cfg: KeylessSigning): Promise<SignedAttestation> {
  const fetchOptions = { timeout: cfg.timeoutMs, retry: 2 };
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: cfg.rekorUrl, entryType: 'dsse', fetchOnConflict: true, ...fetchOptions })];
  if (cfg.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: cfg.tsaUrl, ...fetchOptions }));
  const signer = new FulcioSigner({ fulcioBaseURL: cfg.fulcioUrl, identityProvider: { getToken: cfg.identityToken }, ...fetchOptions });
  const builder = new DSSEBundleBuilder({ signer, witnesses });
  const artifact = { data: Buffer.from(statement.buffer, statement.byteOffset, statement.byteLength), type: IN_TOTO_PAYLOAD_TYPE };
  let bundle: SerializedBundle;
  try {
    bundle = bundleToJSON(await builder.create(artifact));
  } catch (e) {
    throw keylessSigningError(e, cfg);
  }
  const full = withExplicitDefaults(bundle);
  return { bundle: full, bytes: renderBundle(full) };
}

/**
 * protobuf's JSON form omits fields at their default value: an inclusion proof for the first
 * leaf loses `logIndex: "0"`, one for a single-leaf tree its `hashes: []`. sigstore-python
 * (4.5) refuses such bundles as malformed, so they are written out in full.
 */
function withExplicitDefaults(bundle: SerializedBundle): SerializedBundle {
  const tlogEntries = bundle.verificationMaterial.tlogEntries.map((e) =>
    e.inclusionProof ? { ...e, logIndex: e.logIndex ?? '0', inclusionProof: { ...e.inclusionProof, logIndex: e.inclusionProof.logIndex ?? '0', hashes: e.inclusionProof.hashes ?? [] } } : e,
  );
  return { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries } };
}

/**
 * @sigstore/sign's failures as ours. Messages are our own: its token-parse message quotes the
 * whole token, which must not end up in a CI log.
 */
function keylessSigningError(e: unknown, cfg: KeylessSigning): Error {
  const root = e instanceof InternalError && isProvenantError(e.cause) ? e.cause : e;
  if (isProvenantError(root)) return root;
  if (!(e instanceof InternalError)) return e as Error;
  // The cause is safe to show (e.g. "JWT email not verified by issuer"); the parse error's own message is not.
  const cause = (e.cause as Error | undefined)?.message ?? (e.code === 'IDENTITY_TOKEN_PARSE_ERROR' ? undefined : e.message);
  const because = cause ? `: ${cause}` : '';
  const net = (code: string, what: string, url: string, hint: string) => new ProvenantError(code, `${what} (${url})${because}`, { exitClass: 'network', hint, cause: e });
  switch (e.code) {
    case 'IDENTITY_TOKEN_READ_ERROR':
    case 'IDENTITY_TOKEN_PARSE_ERROR':
      return new ProvenantError('E_OIDC_TOKEN', `the OIDC identity token cannot be used${because}`, {
        exitClass: 'input',
        hint: 'give a token file (--identity-token FILE) or SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`',
      });
    case 'CA_CREATE_SIGNING_CERTIFICATE_ERROR':
      return net('E_FULCIO', 'Fulcio did not issue a signing certificate', cfg.fulcioUrl, 'check --fulcio-url and that Fulcio trusts the token\'s issuer and audience (sigstore)');
    case 'TLOG_CREATE_ENTRY_ERROR':
    case 'TLOG_FETCH_ENTRY_ERROR':
      return net('E_REKOR', 'Rekor did not log the signature', cfg.rekorUrl, 'check --rekor-url; nothing was written, sign again');
    case 'TSA_CREATE_TIMESTAMP_ERROR':
      return net('E_TSA', 'the timestamp authority did not timestamp the signature', cfg.tsaUrl ?? '', 'check --tsa-url, or sign without a TSA');
    default:
      return e;
  }
}

/** The bytes the signature covers, for independent verification (docs/attestations.md). */
export function signedBytes(statement: Uint8Array): Uint8Array {
  return preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement);
}
