import { z } from 'zod';
import { matchesPattern } from './pattern.ts';

/**
 * Keyless (Sigstore) signers the attestation policy accepts: who the Fulcio certificate says
 * signed, and from which build. Every value is a policy pattern (src/policy/pattern.ts): matched
 * against the WHOLE value, `*` the only wildcard. Regular expressions are not accepted on
 * purpose: an unanchored regex such as `https://github.com/org/repo` also matches
 * `https://github.com/org/repo-evil/...` (the pitfall @sigstore/verify's own SAN check has).
 */

/**
 * Fulcio certificate extensions (OIDs 1.3.6.1.4.1.57264.1.*, docs/policy.md) a policy can
 * constrain, by their names in Fulcio's OID registry, camel-cased.
 */
export const FULCIO_EXTENSION_OIDS = {
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationUri: '1.3.6.1.4.1.57264.1.21',
} as const;
export type FulcioExtension = keyof typeof FULCIO_EXTENSION_OIDS;
export const FULCIO_EXTENSIONS = Object.keys(FULCIO_EXTENSION_OIDS) as FulcioExtension[];

const pattern = z.string().min(1);

export const IdentitySchema = z
  .object({
    /** The OIDC issuer (Fulcio extension 1.8), compared exactly: e.g. https://token.actions.githubusercontent.com. */
    issuer: z.string().min(1),
    /** The certificate's SAN (for GitHub: the workflow that signed, `https://github.com/ORG/REPO/.github/workflows/F.yml@REF`). */
    subject: pattern,
    /** Fulcio extensions the certificate must carry, each matching its pattern. */
    extensions: z.partialRecord(z.enum(FULCIO_EXTENSIONS as [FulcioExtension, ...FulcioExtension[]]), pattern).optional(),
    /** Projects (PEP 503 normalized names, patterns) this identity may sign for; absent = every project. */
    // A pattern in another spelling (`Datadog_Postgres`) would never match the normalized name: refused.
    projects: z
      .array(pattern.refine((p) => p === p.toLowerCase() && !/[_.]|--/.test(p), { message: 'not a PEP 503 normalized project name or pattern (lower case, - only)' }))
      .min(1)
      .optional(),
  })
  .strict();
export type Identity = z.infer<typeof IdentitySchema>;

/** What a verified Fulcio certificate says about its signer. */
export interface CertificateIdentity {
  issuer: string | undefined;
  subject: string | undefined;
  /** Only the extensions the certificate carries. */
  extensions: Partial<Record<FulcioExtension, string>>;
}

export type IdentityMismatch =
  | { reason: 'issuer'; allowed: string[] }
  | { reason: 'subject'; allowed: string[] }
  | { reason: 'extension'; extension: FulcioExtension; allowed: string; actual: string | undefined }
  | { reason: 'project'; allowed: string[] };

/**
 * The first policy identity that accepts this certificate for `project`, or why none does: the
 * most specific failure among the identities that got furthest (issuer, then subject, then the
 * project, then extensions), so the error names what to fix.
 */
export function matchIdentity(
  identities: readonly Identity[],
  cert: CertificateIdentity,
  project: string | undefined,
): { ok: true; identity: Identity } | { ok: false; mismatch: IdentityMismatch } {
  const byIssuer = identities.filter((i) => cert.issuer !== undefined && i.issuer === cert.issuer);
  if (byIssuer.length === 0) return { ok: false, mismatch: { reason: 'issuer', allowed: unique(identities.map((i) => i.issuer)) } };
  const bySubject = byIssuer.filter((i) => cert.subject !== undefined && matchesPattern(i.subject, cert.subject));
  if (bySubject.length === 0) return { ok: false, mismatch: { reason: 'subject', allowed: unique(byIssuer.map((i) => i.subject)) } };
  const byProject = bySubject.filter((i) => i.projects === undefined || (project !== undefined && i.projects.some((p) => matchesPattern(p, project))));
  if (byProject.length === 0) return { ok: false, mismatch: { reason: 'project', allowed: unique(bySubject.flatMap((i) => i.projects ?? [])) } };
  let first: IdentityMismatch | undefined;
  for (const identity of byProject) {
    const bad = Object.entries(identity.extensions ?? {}).find(([name, p]) => {
      const actual = cert.extensions[name as FulcioExtension];
      return actual === undefined || !matchesPattern(p, actual);
    });
    if (!bad) return { ok: true, identity };
    const extension = bad[0] as FulcioExtension;
    first ??= { reason: 'extension', extension, allowed: bad[1], actual: cert.extensions[extension] };
  }
  return { ok: false, mismatch: first! };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
