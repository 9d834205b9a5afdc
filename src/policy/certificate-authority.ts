import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { IdentitySchema } from './identity.ts';

/**
 * An organization's X.509 certificate authority the attestation policy trusts for signing
 * certificates (docs/policy.md "Organizational PKI"), with the signers it may vouch for.
 *
 * The identities sit inside their CA on purpose: an organization's CA can write any value into
 * any extension, so the "issuer" a PKI certificate is matched on is the CA entry that verified
 * it (its `name`), never a value read from the certificate. Subject (SAN) patterns, extensions
 * and projects follow the keyless identity rules (src/policy/identity.ts).
 */
const pem = z
  .string()
  .regex(/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/, 'one PEM certificate')
  // Read now, so a policy with an unreadable certificate is refused when it is published or loaded, not at a download.
  .refine(readable, 'not a readable X.509 certificate');

function readable(text: string): boolean {
  try {
    new X509Certificate(text);
    return true;
  } catch {
    return false;
  }
}

export const CertificateAuthoritySchema = z
  .object({
    /** A stable label (e.g. `example-corp-codesigning`); errors and verified results name it. */
    name: z.string().min(1),
    /** The trust anchor (PEM). Its own signature and validity are not what makes it trusted: the policy is. */
    root: pem,
    /** Intermediate CAs (PEM) a leaf may chain through. Only these: certificates a bundle carries are not used. */
    intermediates: z.array(pem).optional(),
    /** Signers this CA vouches for: the keyless identity rules without `issuer`. */
    identities: z.array(IdentitySchema.omit({ issuer: true })).min(1),
  })
  .strict();
export type CertificateAuthority = z.infer<typeof CertificateAuthoritySchema>;
