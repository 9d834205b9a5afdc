import assert from 'node:assert/strict';
import { ProvenantError } from '../../../src/errors.ts';
import { signAttestationKeyless } from '../../../src/attest/sign.ts';
import { makeStatement, renderStatement } from '../../../src/provenance/statement.ts';
import type { Identity } from '../../../src/policy/identity.ts';
import type { BuildContext } from '../../../src/provenance/context.ts';
import type { KeylessSigning } from '../../../src/signers/keyless.ts';
import type { GitHubClaims, SigstoreInstance } from './sigstore.ts';

/** The GitHub Actions run that signs, as the tests' OIDC issuer describes it. */
export const RUN: GitHubClaims = {
  repository: 'org/repo',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  workflow: 'Release Integration Package',
  workflowRef: 'org/repo/.github/workflows/release.yml@refs/heads/main',
};

/** What provenant's build records for that run (src/provenance/context.ts githubContext). */
export function contextOf(run: GitHubClaims): Partial<BuildContext> {
  return {
    environment: 'github-actions',
    builderId: `https://github.com/${run.workflowRef}`,
    invocationId: `https://github.com/${run.repository}/actions/runs/${run.runId ?? '4242'}/attempts/1`,
    repository: `https://github.com/${run.repository}`,
    ref: run.ref,
    commit: run.sha,
  };
}

/** The identity a repository for org/repo's release workflow publishes in its policy. */
export function releaseIdentity(s: SigstoreInstance, over: Partial<Identity> = {}): Identity {
  return {
    issuer: s.issuer,
    subject: 'https://github.com/org/repo/.github/workflows/release.yml@refs/*',
    extensions: { sourceRepositoryUri: 'https://github.com/org/repo', runnerEnvironment: 'github-hosted' },
    ...over,
  };
}

export function keylessConfig(s: SigstoreInstance, run: GitHubClaims = RUN, o: { tsa?: boolean; issuer?: 'other' } = {}): KeylessSigning {
  const claims = s.githubClaims(run);
  return {
    fulcioUrl: s.fulcioUrl,
    rekorUrl: s.rekorUrl,
    tsaUrl: o.tsa ? s.tsaUrl : undefined,
    identityToken: async () => s.token(claims, o.issuer ? { issuer: o.issuer } : {}),
    timeoutMs: 10_000,
  };
}

/** Signs keyless: for ReleaseOptions.signStatement. */
export function keylessSign(s: SigstoreInstance, run: GitHubClaims = RUN, o: { tsa?: boolean; issuer?: 'other' } = {}) {
  return async (statement: Uint8Array) => (await signAttestationKeyless(statement, keylessConfig(s, run, o))).bytes;
}

export const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;
export const bytesOf = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The first tlog entry of a bundle (JSON form), for surgery. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON surgery
export function tlogEntry(bundle: Record<string, unknown>): any {
  return (bundle.verificationMaterial as { tlogEntries: unknown[] }).tlogEntries[0];
}

/** A statement about a wheel no test builds: something valid to sign. */
export async function otherStatementBytes(): Promise<Uint8Array> {
  return renderStatement(
    makeStatement('slsa-v1', {
      subject: { name: 'other-9.9.9-py3-none-any.whl', sha256: 'f'.repeat(64) },
      integration: 'other',
      context: { environment: 'local', builderId: 'x', invocationId: 'y', sourceTree: 'clean', notes: [] },
      sourceDateEpoch: 1580601600,
      startedOn: new Date('2026-01-01T00:00:00Z'),
      finishedOn: new Date('2026-01-01T00:00:01Z'),
    }),
  );
}

/** The promise rejects with a verification refusal of this code. */
export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ProvenantError, String(e));
    assert.equal(e.code, code, e.describe());
    assert.equal(e.exitClass, 'verification');
    return true;
  });
}
