import type { RebuildResult } from '../../src/app/rebuild.ts';
import type { RebuiltRelease } from '../../src/verify/rebuilds-check.ts';

/** One release of datadog-postgres and a byte-identical rebuild of it: what a rebuilder's VSA is about. */
export const WHEEL = 'datadog_postgres-23.2.0-py3-none-any.whl';
export const WHEEL_SHA = 'a'.repeat(64);
export const ATTESTATION_SHA = 'b'.repeat(64);
export const release: RebuiltRelease = { project: 'datadog-postgres', version: '23.2.0', wheelFileName: WHEEL, sha256: WHEEL_SHA, attestationSha256: ATTESTATION_SHA };

export function matched(over: Partial<RebuildResult> = {}): RebuildResult {
  return {
    project: 'datadog-postgres',
    version: '23.2.0',
    match: true,
    commit: 'c'.repeat(40),
    path: 'integrations/postgres',
    sourceDateEpoch: 1700000000,
    published: { fileName: WHEEL, sha256: WHEEL_SHA, uri: `https://packages.example.com/simple/datadog-postgres/${WHEEL}` },
    attestation: { uri: 'https://packages.example.com/attestations/datadog-postgres/a.sigstore.json', sha256: ATTESTATION_SHA },
    rebuilt: { fileName: WHEEL, sha256: WHEEL_SHA },
    differences: [],
    ...over,
  };
}
