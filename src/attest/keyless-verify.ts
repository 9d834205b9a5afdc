import { crypto as sigstoreCrypto, type X509Certificate } from '@sigstore/core';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, VerificationError, type KeyFinderFunc } from '@sigstore/verify';
import { FULCIO_EXTENSION_OIDS, FULCIO_EXTENSIONS, matchIdentity, type CertificateIdentity, type Identity, type IdentityMismatch } from '../policy/identity.ts';
import type { KeylessAttestationBundle } from './bundle.ts';
import { attestationError, type AttestationErrorCode } from './errors.ts';

/**
 * Offline verification of a keyless attestation (a Fulcio certificate, a Rekor entry, maybe an
 * RFC 3161 timestamp) against a Sigstore trusted root and the policy's identities. Loaded only
 * when a bundle carries a certificate (src/attest/verify.ts), so keyed downloads never pay for it.
 *
 * @sigstore/verify does the cryptography: the inclusion proof against the signed checkpoint, the
 * SET and its integrated time, the TSA timestamp, the chain to a trusted CA at those times, the
 * SCT, that the log entry's body is this envelope's signature and payload, and the signature.
 * provenant adds what it leaves to callers, fail-closed: at least one log entry (each with an
 * inclusion proof and checkpoint, as @sigstore/bundle's v0.3 validation already requires: a SET
 * alone is only a promise), the identity policy with anchored patterns (its own SAN check is an
 * unanchored regex), and a code of ours per failure.
 */
export interface VerifiedKeyless {
  payload: Uint8Array;
  payloadType: string;
  certificate: CertificateIdentity;
  /** The policy identity that accepted the certificate. */
  identity: Identity;
  /** Integrated times of the verified log entries (seconds since the epoch). */
  integratedTimes: number[];
  logIndexes: string[];
}

const noKeys: KeyFinderFunc = (hint) => {
  throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `a keyless trust root holds no public keys (asked for ${hint})` });
};

const UTF8_STRING = 12;

/** The Fulcio extensions a certificate carries (each a DER UTF8String), and its issuer and SAN. */
export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const extensions: CertificateIdentity['extensions'] = {};
  for (const name of FULCIO_EXTENSIONS) {
    const inner = cert.extension(FULCIO_EXTENSION_OIDS[name])?.valueObj.subs[0];
    if (inner && inner.tag.isUniversal() && inner.tag.number === UTF8_STRING) {
      extensions[name] = new TextDecoder('utf-8', { fatal: true }).decode(inner.value);
    }
  }
  // Certificates from before Fulcio's 1.8 carry the issuer as raw bytes in 1.1.
  const issuer = extensions.issuer ?? cert.extension('1.3.6.1.4.1.57264.1.1')?.value.toString('utf8');
  return { issuer, subject: cert.subjectAltName, extensions };
}

export function verifyKeylessBundle(
  parsed: KeylessAttestationBundle,
  trustedRoot: TrustedRoot,
  identities: readonly Identity[],
  opts: { file?: string | undefined; project?: string | undefined },
): VerifiedKeyless {
  const { file } = opts;
  const fail = (code: AttestationErrorCode, message: string, field: string, hint: string) => attestationError(code, message, { file, field, hint });
  const { bundle } = parsed;
  const entries = bundle.verificationMaterial.tlogEntries;
  if (entries.length === 0) {
    throw fail('E_ATTESTATION_TLOG_MISSING', 'keyless attestation has no transparency log entry: its signature was never made public', 'verificationMaterial.tlogEntries', 'sign with a Rekor instance configured (`provenant sign --keyless --rekor-url …`)');
  }
  const entity = toSignedEntity(bundle);
  const cert = entity.key.$case === 'certificate' ? entity.key.certificate : undefined;
  if (!cert) throw fail('E_ATTESTATION_MALFORMED', 'keyless attestation has no signing certificate', 'verificationMaterial.certificate', 'sign with `provenant sign --keyless`');
  const trust = toTrustMaterial(trustedRoot, noKeys);
  const verifier = new Verifier(trust, {
    tlogThreshold: 1,
    // A private deployment without CT logs cannot produce SCTs; the (targets-signed) trusted root says which kind this is.
    ctlogThreshold: trustedRoot.ctlogs.length > 0 ? 1 : 0,
    timestampThreshold: 1,
  });
  try {
    verifier.verify(entity);
  } catch (e) {
    if (e instanceof VerificationError) throw mapVerificationError(e, cert, entries.map((x) => Number(x.integratedTime)), file);
    // Anything else is @sigstore/verify meeting bytes it cannot parse (e.g. a timestamp whose
    // time it does not read): attacker-controlled input, so a refusal, not an internal error.
    throw attestationError('E_ATTESTATION_MALFORMED', `keyless attestation cannot be verified: ${(e as Error).message}`, {
      file,
      field: 'verificationMaterial',
      hint: 'do not install this artifact; sign it again with `provenant sign --keyless`',
      cause: e,
    });
  }

  checkProofsMatchCheckpoints(entries, file);
  const certificate = certificateIdentity(cert);
  const m = matchIdentity(identities, certificate, opts.project);
  if (!m.ok) throw identityRefusal(m.mismatch, certificate, opts);
  return {
    payload: parsed.envelope.payload,
    payloadType: parsed.envelope.payloadType,
    certificate,
    identity: m.identity,
    integratedTimes: entries.map((x) => Number(x.integratedTime)),
    logIndexes: entries.map((x) => x.logIndex),
  };
}

/**
 * An inclusion proof's `rootHash` and `treeSize` are unsigned copies of its checkpoint's.
 * @sigstore/verify proves inclusion against the signed checkpoint only, so copies that disagree
 * do not weaken that proof, but they make an inconsistent bundle whose unsigned fields a reader
 * might trust: refused.
 */
function checkProofsMatchCheckpoints(entries: KeylessAttestationBundle['bundle']['verificationMaterial']['tlogEntries'], file: string | undefined): void {
  entries.forEach((e, i) => {
    const proof = e.inclusionProof;
    if (!proof?.checkpoint) return;
    const [, size, root] = proof.checkpoint.envelope.split('\n');
    if (size !== proof.treeSize || root !== Buffer.from(proof.rootHash).toString('base64')) {
      throw attestationError('E_ATTESTATION_TLOG_CHECKPOINT', `transparency log entry ${i}: the inclusion proof's tree (size ${proof.treeSize}, root ${Buffer.from(proof.rootHash).toString('base64')}) is not its signed checkpoint's (size ${size}, root ${root})`, {
        file,
        field: `verificationMaterial.tlogEntries[${i}].inclusionProof`,
        hint: 'do not install this artifact; the bundle was altered after it was logged',
      });
    }
  });
}

/** Why no policy identity accepts a verified certificate, as our code for it. */
export function identityRefusal(mm: IdentityMismatch, certificate: CertificateIdentity, opts: { file?: string | undefined; project?: string | undefined }): Error {
  const hint = 'the policy (TUF target policy/attestation-policy.json) does not accept this signer; see docs/policy.md';
  const fail = (code: AttestationErrorCode, message: string, field: string) => attestationError(code, message, { file: opts.file, field, hint });
  switch (mm.reason) {
    case 'issuer':
      return fail('E_ATTESTATION_ISSUER', `certificate issuer ${certificate.issuer ?? '(none)'} is not allowed (allowed: ${mm.allowed.join(', ')})`, 'verificationMaterial.certificate.issuer');
    case 'subject':
      return fail('E_ATTESTATION_SAN', `certificate identity ${certificate.subject ?? '(none)'} matches no allowed identity of ${certificate.issuer} (allowed: ${mm.allowed.join(', ')})`, 'verificationMaterial.certificate.subjectAlternativeName');
    case 'project':
      return fail('E_ATTESTATION_IDENTITY_PROJECT', `identity ${certificate.subject} may not sign for project ${opts.project ?? '(unknown)'} (allowed: ${mm.allowed.join(', ')})`, 'verificationMaterial.certificate.subjectAlternativeName');
    case 'extension':
      return fail('E_ATTESTATION_CERT_EXTENSION', `certificate ${mm.extension} (${FULCIO_EXTENSION_OIDS[mm.extension]}) is ${mm.actual === undefined ? 'absent' : JSON.stringify(mm.actual)}, the policy requires ${JSON.stringify(mm.allowed)}`, `verificationMaterial.certificate.${mm.extension}`);
  }
}

/** @sigstore/verify's failure as one of our codes: each failure a user can meet has its own. */
function mapVerificationError(e: VerificationError, cert: X509Certificate, integratedTimes: number[], file: string | undefined): Error {
  const cause = (e.cause as Error | undefined)?.message;
  const detail = cause ? `${e.message}: ${cause}` : e.message;
  const err = (code: AttestationErrorCode, message: string, field: string, hint: string) => attestationError(code, `${message} (${detail})`, { file, field, hint, cause: e });
  const doNotInstall = 'do not install this artifact';
  switch (e.code) {
    case 'CERTIFICATE_ERROR': {
      if (/SCT/.test(detail)) return err('E_ATTESTATION_SCT', 'the certificate\'s signed certificate timestamp does not verify with any CT log of the trusted root', 'verificationMaterial.certificate', doNotInstall);
      const outside = integratedTimes.some((t) => !cert.validForDate(new Date(t * 1000)));
      if (outside || /expired|not valid/.test(detail)) {
        return err('E_ATTESTATION_CERT_EXPIRED', `the signing certificate (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}) was not valid when the log recorded the signature (${integratedTimes.map((t) => new Date(t * 1000).toISOString()).join(', ')})`, 'verificationMaterial.certificate', `${doNotInstall}; a signature must be logged while its short-lived certificate is valid`);
      }
      return err('E_ATTESTATION_CERT_CHAIN', 'the signing certificate does not chain to a certificate authority of the Sigstore trusted root', 'verificationMaterial.certificate', `${doNotInstall}; if it comes from a private Sigstore instance, publish that instance's trusted root (provenant repo set-trust --sigstore-trusted-root FILE)`);
    }
    case 'TLOG_ERROR':
      return err('E_ATTESTATION_TLOG_MISSING', 'the transparency log entries do not meet the threshold of 1 distinct entry', 'verificationMaterial.tlogEntries', doNotInstall);
    case 'TLOG_BODY_ERROR':
      return err('E_ATTESTATION_TLOG_BODY', 'the transparency log entry records another artifact or signature than this envelope\'s', 'verificationMaterial.tlogEntries', doNotInstall);
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return err('E_ATTESTATION_TLOG_CHECKPOINT', 'the inclusion proof does not verify against a checkpoint signed by a log of the trusted root', 'verificationMaterial.tlogEntries', doNotInstall);
    case 'TLOG_INCLUSION_PROMISE_ERROR':
      return err('E_ATTESTATION_TLOG_SET', 'the signed entry timestamp (inclusion promise) does not verify with a log of the trusted root', 'verificationMaterial.tlogEntries', doNotInstall);
    case 'TIMESTAMP_ERROR':
      return err('E_ATTESTATION_TIMESTAMP', 'no verified time for the signature (a log entry\'s SET or an RFC 3161 timestamp from a trusted TSA)', 'verificationMaterial.timestampVerificationData', doNotInstall);
    case 'SIGNATURE_ERROR':
      return err('E_ATTESTATION_SIGNATURE', 'the DSSE signature does not verify with the certificate\'s key: the statement or the signature was altered', 'dsseEnvelope.signatures[0].sig', doNotInstall);
    default:
      return err('E_ATTESTATION_MALFORMED', 'the keyless attestation cannot be verified', 'verificationMaterial', doNotInstall);
  }
}

/**
 * What a signer can check without any trusted root, before it pins a keyless bundle: the
 * envelope's signature verifies with the certificate's key, and it was logged. The downloader
 * checks everything else (verifyKeylessBundle).
 */
export function keylessSelfCheck(parsed: KeylessAttestationBundle, file?: string): { certificate: CertificateIdentity; logIndexes: string[] } {
  const cert = certificateThatSigned(parsed, file, 'the bundle was altered after signing; sign again', 'sign again with provenant sign --keyless; a keyless bundle carries its Fulcio certificate');
  const entries = parsed.bundle.verificationMaterial.tlogEntries;
  if (entries.length === 0) throw attestationError('E_ATTESTATION_TLOG_MISSING', 'the keyless signature was not logged', { file, field: 'verificationMaterial.tlogEntries', hint: 'sign again with a reachable Rekor (--rekor-url); a keyless signature must be logged' });
  return { certificate: certificateIdentity(cert), logIndexes: entries.map((e) => e.logIndex) };
}

/**
 * The bundle's signing certificate, once the envelope's signature verifies with that
 * certificate's key (keyless and organizational PKI alike): says nothing yet about who issued it.
 */
export function certificateThatSigned(parsed: KeylessAttestationBundle, file: string | undefined, alteredHint: string, noCertificateHint: string): X509Certificate {
  const entity = toSignedEntity(parsed.bundle);
  if (entity.key.$case !== 'certificate') throw attestationError('E_ATTESTATION_MALFORMED', 'the attestation has no signing certificate', { file, field: 'verificationMaterial.certificate', hint: noCertificateHint });
  const cert = entity.key.certificate;
  if (!entity.signature.verifySignature(sigstoreCrypto.createPublicKey(cert.publicKey))) {
    throw attestationError('E_ATTESTATION_SIGNATURE', "the DSSE signature does not verify with its certificate's key: the statement or the signature was altered", { file, field: 'dsseEnvelope.signatures[0].sig', hint: alteredHint });
  }
  return cert;
}
