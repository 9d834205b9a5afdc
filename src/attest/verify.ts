import { toSignedEntity, toTrustMaterial, Verifier, VerificationError, type TrustMaterial } from '@sigstore/verify';
import type { CertificateIdentity, Identity } from '../policy/identity.ts';
import type { Policy } from '../policy/policy.ts';
import { IN_TOTO_PAYLOAD_TYPE, parseAttestationBundle, type KeyedAttestationBundle, type KeylessAttestationBundle } from './bundle.ts';
import { attestationError } from './errors.ts';
import { revokedKeys, trustedKeys, type TrustedKey } from './keys.ts';

export interface VerifiedAttestation {
  payloadType: string;
  /** The exact statement bytes the signatures cover. Content checks are the caller's (src/verify/). */
  payload: Uint8Array;
  /** Policy key ids whose signatures verified, one per distinct key (empty for a keyless bundle). */
  keyIds: string[];
  /** A keyless bundle: who the verified certificate says signed, the identity that accepted it, and the log entries. */
  keyless?: { certificate: CertificateIdentity; identity: Identity; integratedTimes: number[]; logIndexes: string[] };
  /** A certificate of an organizational CA of the policy: who it says signed, and which CA vouched (its policy name). */
  pki?: { certificate: CertificateIdentity; identity: Identity; authority: string };
}

export interface VerifyOptions {
  file?: string | undefined;
  /** The project the attestation is for (PEP 503 normalized): identities may be limited to projects. */
  project?: string | undefined;
  /**
   * The Sigstore trusted root (JSON bytes), asked for only when the bundle is keyless: the
   * downloader fetches it through TUF then, and never for keyed bundles.
   */
  sigstoreTrustedRoot?: () => Promise<Uint8Array>;
}

/** No Fulcio, Rekor, CT log or TSA: the only trust is the key the finder returns. */
const NO_SIGSTORE_INFRASTRUCTURE = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

function trustMaterialFor(key: TrustedKey): TrustMaterial {
  return toTrustMaterial(NO_SIGSTORE_INFRASTRUCTURE, (hint) => {
    if (hint !== key.keyId) throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `key not found: ${hint}` });
    return { publicKey: key.key, validFor: () => true };
  });
}

// Transparency logs and timestamps are not part of this trust model (see bundle.ts).
const verifierOptions = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

/** A bundle may carry a certificate only when the policy trusts some: keyless identities or organizational CAs. */
function acceptsCertificates(policy: Policy): boolean {
  return (policy.attestation.identities ?? []).length + (policy.attestation.certificateAuthorities ?? []).length > 0;
}

/**
 * Verifies a signed attestation against the policy, keyed or keyless. Keyed: see
 * verifyAttestationBundle. Keyless (a Fulcio certificate): only when the policy lists
 * identities; checked offline against the Sigstore trusted root (`opts.sigstoreTrustedRoot`),
 * the code for which is loaded only then.
 */
export async function verifyAttestation(bundleBytes: Uint8Array, policy: Policy, opts: VerifyOptions = {}): Promise<VerifiedAttestation> {
  const identities = policy.attestation.identities ?? [];
  const authorities = policy.attestation.certificateAuthorities ?? [];
  const parsed = parseAttestationBundle(bundleBytes, opts.file, { acceptCertificate: acceptsCertificates(policy) });
  if (parsed.kind === 'keyed') return verifyKeyed(parsed, policy, opts.file);
  checkKeylessShape(parsed, policy, opts.file);
  if (authorities.length > 0) {
    // A certificate that chains to an organizational CA of the policy is judged by that CA alone (src/attest/pki-verify.ts).
    const { pkiChain, verifyPkiBundle } = await import('./pki-verify.ts');
    const chain = pkiChain(parsed, authorities);
    if (chain) {
      const v = verifyPkiBundle(parsed, chain, opts);
      checkPayloadType(parsed.envelope.payloadType, opts.file);
      return { payloadType: parsed.envelope.payloadType, payload: parsed.envelope.payload, keyIds: [], pki: v };
    }
    if (identities.length === 0) {
      throw attestationError('E_ATTESTATION_CERT_CHAIN', `the signing certificate does not chain to any certificate authority of the policy (${authorities.map((a) => a.name).join(', ')})`, {
        file: opts.file,
        field: 'verificationMaterial.certificate',
        hint: 'do not install this artifact; if the signer\'s CA is new, publish a policy that lists it with its intermediates (docs/policy.md "Organizational PKI")',
      });
    }
  }
  if (!opts.sigstoreTrustedRoot) throw keylessUnavailable(opts.file);
  const rootBytes = await opts.sigstoreTrustedRoot();
  const [{ parseSigstoreTrustedRoot }, { verifyKeylessBundle }] = await Promise.all([import('./sigstore-root.ts'), import('./keyless-verify.ts')]);
  const v = verifyKeylessBundle(parsed, parseSigstoreTrustedRoot(rootBytes, 'Sigstore trusted root'), identities, opts);
  checkPayloadType(v.payloadType, opts.file);
  return {
    payloadType: v.payloadType,
    payload: v.payload,
    keyIds: [],
    keyless: { certificate: v.certificate, identity: v.identity, integratedTimes: v.integratedTimes, logIndexes: v.logIndexes },
  };
}

/** One signer, one kind of material, and a policy threshold one keyless signature can meet. */
function checkKeylessShape(parsed: KeylessAttestationBundle, policy: Policy, file: string | undefined): void {
  if (parsed.alsoHint) {
    throw attestationError('E_ATTESTATION_MALFORMED', 'attestation bundle carries both a certificate and a public key hint', {
      file,
      field: 'verificationMaterial.publicKey',
      hint: 'a bundle is signed either with a policy key or keyless, not both',
    });
  }
  if (policy.attestation.threshold > 1) {
    throw attestationError('E_ATTESTATION_THRESHOLD', `a keyless attestation is one signature; the policy requires ${policy.attestation.threshold} distinct keys`, {
      file,
      field: 'dsseEnvelope.signatures',
      hint: `sign with ${policy.attestation.threshold} distinct keys listed in the policy, or lower its threshold to 1`,
    });
  }
}

function keylessUnavailable(file: string | undefined) {
  return attestationError('E_ATTESTATION_KEY_UNTRUSTED', 'attestation bundle carries a certificate, and no Sigstore trusted root was given to check it against', {
    file,
    field: 'verificationMaterial.certificate',
    hint: 'verify keyless bundles with verifyAttestation and the repository\'s Sigstore trusted root (as `provenant download` does)',
  });
}

function checkPayloadType(payloadType: string, file: string | undefined): void {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw attestationError('E_ATTESTATION_PAYLOAD_TYPE', `attestation payloadType is ${JSON.stringify(payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`, {
      file,
      field: 'dsseEnvelope.payloadType',
      hint: 'the attestation must wrap an in-toto statement',
    });
  }
}

/**
 * Verifies a signed attestation against the policy. Keys come ONLY from `policy`: a
 * certificate in the bundle, or a hint naming a key the policy lacks, fails; hints merely pick
 * which policy key to try. Each DSSE signature is verified by @sigstore/verify as its own
 * bundle (its Verifier handles ed25519 and ECDSA P-256 public keys), and the policy threshold
 * is enforced here over DISTINCT keys, because a Sigstore bundle has no notion of thresholds:
 * two key ids naming the same key material count once. The payload type is checked after the
 * signatures (DSSE protocol order), so the type is only read once it is authenticated.
 * Synchronous, so keyed only: a keyless bundle needs verifyAttestation.
 */
export function verifyAttestationBundle(bundleBytes: Uint8Array, policy: Policy, opts: { file?: string } = {}): VerifiedAttestation {
  const parsed = parseAttestationBundle(bundleBytes, opts.file, { acceptCertificate: acceptsCertificates(policy) });
  if (parsed.kind === 'keyed') return verifyKeyed(parsed, policy, opts.file);
  checkKeylessShape(parsed, policy, opts.file);
  throw keylessUnavailable(opts.file);
}

function verifyKeyed(parsed: KeyedAttestationBundle, policy: Policy, file: string | undefined): VerifiedAttestation {
  const keys = trustedKeys(policy);
  const untrusted = (keyid: string, field: string) =>
    attestationError('E_ATTESTATION_KEY_UNTRUSTED', `attestation names key ${keyid}, which the attestation policy does not list`, {
      file,
      field,
      hint: 'sign with a key listed in the policy, or publish a new policy that lists this key (docs/policy.md)',
    });
  const revoked = revokedKeys(policy);
  if (parsed.hint && !keys.has(parsed.hint) && !revoked.has(parsed.hint)) throw untrusted(parsed.hint, 'verificationMaterial.publicKey.hint');

  const accepted = new Map<string, string>(); // key identity → key id
  let badSignature: { index: number; keyid: string } | undefined;
  let untrustedSignature: { index: number; keyid: string } | undefined;
  let revokedSignature: { index: number; keyid: string } | undefined;
  const verifies = (bundle: (typeof parsed.perSignature)[number]['bundle'], key: TrustedKey) => {
    const entity = toSignedEntity({ ...bundle, verificationMaterial: { ...bundle.verificationMaterial, content: { $case: 'publicKey', publicKey: { hint: key.keyId } } } });
    try {
      new Verifier(trustMaterialFor(key), verifierOptions).verify(entity);
      return true;
    } catch (e) {
      if (e instanceof VerificationError) return false;
      throw e;
    }
  };
  parsed.perSignature.forEach(({ keyid, bundle }, index) => {
    if (keyid && !keys.has(keyid)) {
      // A revoked key's signature is recognised (checked with its key) only to refuse it by name.
      const r = revoked.get(keyid);
      if (r && verifies(bundle, r)) revokedSignature ??= { index, keyid };
      else if (r) badSignature ??= { index, keyid };
      else untrustedSignature ??= { index, keyid };
      return;
    }
    // Without any hint every policy key is tried; with one, only the key it names.
    const candidates = keyid ? [keys.get(keyid)!] : [...keys.values()];
    const key = candidates.find((k) => verifies(bundle, k));
    if (key) {
      if (!accepted.has(key.identity)) accepted.set(key.identity, key.keyId);
      return;
    }
    const byRevoked = keyid ? undefined : [...revoked.values()].find((k) => verifies(bundle, k));
    if (byRevoked) revokedSignature ??= { index, keyid: byRevoked.keyId };
    else badSignature ??= { index, keyid };
  });

  const threshold = policy.attestation.threshold;
  if (accepted.size < threshold) {
    // Checked first: a revoked key is the cause to name, whatever else is wrong with the bundle.
    if (revokedSignature) {
      throw attestationError('E_ATTESTATION_KEY_REVOKED', `attestation is signed by revoked key ${revokedSignature.keyid}${accepted.size > 0 ? ` and only ${accepted.size} trusted key(s) (the policy requires ${threshold})` : ', and by no trusted key'}`, {
        file,
        field: `dsseEnvelope.signatures[${revokedSignature.index}]`,
        hint: 'do not install this wheel; the repository owners re-attest it with a trusted key (`provenant repo reattest`, docs/attestation-keys.md)',
      });
    }
    if (badSignature) {
      throw attestationError('E_ATTESTATION_SIGNATURE', `attestation signature ${badSignature.index} does not verify${badSignature.keyid ? ` with policy key ${badSignature.keyid}` : ' with any policy key'}: the statement or the signature was altered, or another key signed it`, {
        file,
        field: `dsseEnvelope.signatures[${badSignature.index}].sig`,
        hint: 'do not install this wheel; re-sign the statement with `provenant sign` if you publish it',
      });
    }
    if (untrustedSignature) throw untrusted(untrustedSignature.keyid, `dsseEnvelope.signatures[${untrustedSignature.index}].keyid`);
    throw attestationError('E_ATTESTATION_THRESHOLD', `attestation is signed by ${accepted.size} distinct policy key(s); the policy requires ${threshold}`, {
      file,
      field: 'dsseEnvelope.signatures',
      hint: `sign with ${threshold} distinct keys listed in the policy (\`provenant sign --key A --key B\`)`,
    });
  }
  checkPayloadType(parsed.envelope.payloadType, file);
  return { payloadType: parsed.envelope.payloadType, payload: parsed.envelope.payload, keyIds: [...accepted.values()] };
}
