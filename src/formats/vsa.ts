import { z } from 'zod';
import { IN_TOTO_STATEMENT_V1, parseStatementPayload, renderStatement } from './signed-statement.ts';

/**
 * A SLSA Verification Summary Attestation v1 (https://slsa.dev/verification_summary/v1) that
 * `provenant rebuild --sign-vsa` signs on a byte-identical rebuild: the subject is the wheel, the
 * input attestation is the release's signed provenance the rebuild followed. Pure.
 */
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
/** The verification a rebuilder ran: the published wheel is byte-identical to a rebuild from the commit its provenance names. */
export const REBUILD_POLICY_URI = 'https://provenant.dev/rebuild/v1';
export const VSA_VERIFIER_ID = 'https://provenant.dev/rebuild';
/**
 * What a rebuild establishes on the SLSA build track: signed provenance exists and the artifact
 * matches it. Higher levels are properties of the build platform, which a rebuild does not assess.
 */
export const REBUILD_VERIFIED_LEVELS = ['SLSA_BUILD_LEVEL_1'] as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const VsaStatementSchema = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z.array(z.object({ name: z.string().min(1), digest: z.object({ sha256: Sha256 }) })).length(1),
  predicateType: z.literal(VSA_PREDICATE_TYPE),
  predicate: z.object({
    verifier: z.object({ id: z.string().min(1), version: z.record(z.string(), z.string()).optional() }),
    timeVerified: z.string().datetime(),
    resourceUri: z.string().min(1),
    policy: z.object({ uri: z.string().min(1), digest: z.record(z.string(), z.string()).optional() }),
    inputAttestations: z.array(z.object({ uri: z.string().min(1), digest: z.object({ sha256: Sha256 }) })).min(1),
    verificationResult: z.enum(['PASSED', 'FAILED']),
    verifiedLevels: z.array(z.string().min(1)),
    slsaVersion: z.string().regex(/^\d+\.\d+$/),
  }),
});

export type VsaStatement = z.infer<typeof VsaStatementSchema>;

export interface VsaInput {
  wheelFileName: string;
  sha256: string;
  /** Where the verified wheel is published. */
  resourceUri: string;
  /** The release's signed provenance the rebuild followed: its URI and sha256 (the pointer's pin). */
  attestation: { uri: string; sha256: string };
  timeVerified: Date;
  verifierVersion: string;
}

/** Only a match is ever summarised: a mismatch is never signed, so the result is always PASSED. */
export function rebuildVsa(i: VsaInput): VsaStatement {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: i.wheelFileName, digest: { sha256: i.sha256 } }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: VSA_VERIFIER_ID, version: { provenant: i.verifierVersion } },
      timeVerified: i.timeVerified.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      resourceUri: i.resourceUri,
      policy: { uri: REBUILD_POLICY_URI },
      inputAttestations: [{ uri: i.attestation.uri, digest: { sha256: i.attestation.sha256 } }],
      verificationResult: 'PASSED',
      verifiedLevels: [...REBUILD_VERIFIED_LEVELS],
      slsaVersion: '1.0',
    },
  };
}

export function renderVsa(s: VsaStatement): Uint8Array {
  return renderStatement(s);
}

/** The statement, or why the bytes are not a VSA. */
export function parseVsa(payload: Uint8Array): { statement: VsaStatement } | { problem: string } {
  return parseStatementPayload(VsaStatementSchema, payload, `a verification summary attestation (${VSA_PREDICATE_TYPE})`);
}
