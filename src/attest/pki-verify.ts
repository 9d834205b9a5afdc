import { X509Certificate as NodeX509 } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { toSignedEntity } from '@sigstore/verify';
import type { CertificateAuthority } from '../policy/certificate-authority.ts';
import { matchIdentity, type CertificateIdentity, type Identity } from '../policy/identity.ts';
import type { KeylessAttestationBundle } from './bundle.ts';
import { attestationError } from './errors.ts';
import { certificateIdentity, certificateThatSigned, identityRefusal } from './keyless-verify.ts';

/**
 * Verification of an attestation signed with a certificate from an organization's own X.509 CA
 * (the policy's `certificateAuthorities`, docs/policy.md "Organizational PKI"), offline.
 *
 * The model is classic PKI, not Sigstore: the leaf must chain, through intermediates the POLICY
 * lists (never ones the bundle carries), to a root the policy lists; every certificate on the
 * path must be valid at verification time (there is no transparency log or timestamp authority
 * to vouch for an earlier signing time, so an expired leaf fails even for an old signature); the
 * CAs must be CAs; the leaf must be for code signing (extended key usage id-kp-codeSigning) and
 * not itself a CA. Transparency log entries are not required and not checked (the policy names
 * no log for an organization's CA); revoking a CA means publishing a policy without it.
 */
export const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
/** RFC 5280 nameConstraints: not evaluated here (node:crypto's chain checks ignore them), so refused. */
const NAME_CONSTRAINTS = '2.5.29.30';

export interface VerifiedPki {
  certificate: CertificateIdentity;
  identity: Identity;
  /** The policy CA the leaf chained to. */
  authority: string;
}

interface Loaded {
  ca: CertificateAuthority;
  root: NodeX509;
  intermediates: NodeX509[];
}

const PATH_LIMIT = 8;

/** The certificate path leaf → … → root through `ca`, or undefined when the leaf does not reach its root. */
function chainTo(leaf: NodeX509, { root, intermediates }: Loaded): NodeX509[] | undefined {
  const path = [leaf];
  for (let cur = leaf; path.length <= PATH_LIMIT; ) {
    if (cur.checkIssued(root) && cur.verify(root.publicKey)) return [...path, root];
    const next = intermediates.find((i) => !path.includes(i) && cur.checkIssued(i) && cur.verify(i.publicKey));
    if (!next) return undefined;
    path.push(next);
    cur = next;
  }
  return undefined;
}

/**
 * The policy CA the bundle's certificate chains to, with its path; undefined when it chains to
 * none (the caller then tries Sigstore, or refuses).
 */
export function pkiChain(parsed: KeylessAttestationBundle, authorities: readonly CertificateAuthority[]): { ca: CertificateAuthority; path: NodeX509[] } | undefined {
  const entity = toSignedEntity(parsed.bundle);
  if (entity.key.$case !== 'certificate') return undefined;
  const leaf = new NodeX509(entity.key.certificate.root.toDER());
  for (const ca of authorities) {
    const loaded: Loaded = { ca, root: new NodeX509(ca.root), intermediates: (ca.intermediates ?? []).map((p) => new NodeX509(p)) };
    const path = chainTo(leaf, loaded);
    if (path) return { ca, path };
  }
  return undefined;
}

export function verifyPkiBundle(
  parsed: KeylessAttestationBundle,
  chain: { ca: CertificateAuthority; path: NodeX509[] },
  opts: { file?: string | undefined; project?: string | undefined; now?: Date },
): VerifiedPki {
  const { file } = opts;
  const now = opts.now ?? new Date();
  const { ca, path } = chain;
  const leaf = path[0]!;
  const field = 'verificationMaterial.certificate';
  for (const cert of path) {
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      throw attestationError('E_ATTESTATION_CERT_EXPIRED', `certificate ${cert.subject.replaceAll('\n', ', ')} of CA ${ca.name} is valid ${cert.validFrom} to ${cert.validTo}, not now (${now.toISOString()})`, {
        file,
        field,
        hint: 'do not install this artifact; an organizational certificate must be valid when the attestation is verified: sign again with a current certificate',
      });
    }
  }
  const notCa = path.slice(1).find((c) => !c.ca);
  if (notCa || leaf.ca) {
    throw attestationError('E_ATTESTATION_CERT_CHAIN', `certificate ${(notCa ?? leaf).subject.replaceAll('\n', ', ')} ${notCa ? 'issues certificates but is not a CA' : 'is a CA, not a signing certificate'} (CA ${ca.name})`, {
      file,
      field,
      hint: 'do not install this artifact; the organization\'s CA must issue signing certificates from CA certificates (basicConstraints CA:TRUE) only',
    });
  }
  // A CA limited to some names would otherwise vouch for any SAN (an attack3 finding): fail closed.
  const constrained = path.find((c) => SigstoreX509.parse(c.raw).extension(NAME_CONSTRAINTS) !== undefined);
  if (constrained) {
    throw attestationError('E_ATTESTATION_CERT_CHAIN', `certificate ${constrained.subject.replaceAll('\n', ', ')} of CA ${ca.name} has name constraints, which provenant does not evaluate`, {
      file,
      field,
      hint: 'do not install this artifact; list a CA without name constraints in the policy, and limit its signers with the identities\' subject patterns instead',
    });
  }
  if (!(leaf.keyUsage ?? []).includes(CODE_SIGNING_EKU)) {
    throw attestationError('E_ATTESTATION_CERT_USAGE', `the signing certificate's extended key usage is ${JSON.stringify(leaf.keyUsage ?? [])}, not code signing (${CODE_SIGNING_EKU})`, {
      file,
      field,
      hint: 'issue the signing certificate with extendedKeyUsage = codeSigning',
    });
  }
  const cert = certificateThatSigned(parsed, file, 'do not install this artifact', 'do not install this artifact');
  const certificate = { ...certificateIdentity(cert), issuer: ca.name };
  const m = matchIdentity(ca.identities.map((i) => ({ ...i, issuer: ca.name })), certificate, opts.project);
  if (!m.ok) throw identityRefusal(m.mismatch, certificate, opts);
  return { certificate, identity: m.identity, authority: ca.name };
}
