import type { CertificateIdentity, FulcioExtension } from '../policy/identity.ts';
import type { ProvenanceFacts } from '../provenance/parse.ts';
import { normalizeRepositoryUrl } from '../provenance/source-uri.ts';
import { checkFailed } from './checks.ts';

/**
 * A keyless attestation's certificate and its statement must tell the same story: Fulcio
 * wrote what the CI run really was (from the OIDC token), the statement is what the build
 * claims. Each fact the certificate carries must be the statement's too, or the signer could
 * attest a build of another commit, repository, ref or workflow than the one it ran.
 */
const PAIRS: { extension: FulcioExtension; field: string; what: string; of: (f: ProvenanceFacts) => string | undefined; norm?: (v: string) => string }[] = [
  { extension: 'sourceRepositoryDigest', field: 'commit', what: 'commit', of: (f) => f.commit, norm: (v) => v.toLowerCase() },
  { extension: 'sourceRepositoryUri', field: 'sourceRepository', what: 'source repository', of: (f) => f.sourceRepository, norm: normalizeRepositoryUrl },
  { extension: 'sourceRepositoryRef', field: 'ref', what: 'ref', of: (f) => f.ref },
  // GitHub's builder id is the workflow ref (GITHUB_WORKFLOW_REF), which Fulcio records as the build config URI.
  { extension: 'buildConfigUri', field: 'builder.id', what: 'builder (workflow)', of: (f) => f.builderId },
];

export function checkCertificateMatchesStatement(cert: CertificateIdentity, facts: ProvenanceFacts, file: string): void {
  for (const p of PAIRS) {
    const certified = cert.extensions[p.extension];
    if (certified === undefined) continue;
    const claimed = p.of(facts);
    const norm = p.norm ?? ((v: string) => v);
    if (claimed === undefined || norm(claimed) !== norm(certified)) {
      throw checkFailed('provenance policy', 'E_PROVENANCE_CERT_MISMATCH', `the statement's ${p.what} is ${claimed ?? '(none recorded)'}, but its signing certificate says ${certified}`, {
        file,
        field: p.field,
        hint: 'the statement claims another build than the CI run that signed it; do not install this wheel',
      });
    }
  }
}
