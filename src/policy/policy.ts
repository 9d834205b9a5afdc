import { z } from 'zod';
import { ProvenantError } from '../errors.ts';

/**
 * The attestation policy: which keys may sign provenance and which builds are acceptable.
 * It is published as a TUF target (POLICY_TARGET), so changing it needs the targets role; the
 * downloader takes keys only from here, never from the bundle it is checking.
 */
const PublicKeySchema = z.object({
  keytype: z.enum(['ed25519', 'ecdsa']),
  scheme: z.enum(['ed25519', 'ecdsa-sha2-nistp256']),
  keyval: z.object({ public: z.string().min(1) }),
});

export const PolicySchema = z.object({
  policyVersion: z.literal(1),
  attestation: z.object({
    /** keyid (TUF-style: sha256 of the canonical public key object) → public key. */
    keys: z.record(z.string().regex(/^[0-9a-f]{64}$/), PublicKeySchema),
    /** How many distinct policy keys must have signed the DSSE envelope. */
    threshold: z.number().int().min(1),
  }),
  provenance: z.object({
    /** Allowed `runDetails.builder.id` (v1) / `builder.id` (v0.2); `*` matches any run of characters. */
    builders: z.array(z.string().min(1)).min(1),
    /** Allowed source repositories (URIs, `*` wildcards); empty means any. */
    sourceRepositories: z.array(z.string().min(1)),
    /** Allowed git refs (`*` wildcards); empty means any. */
    refs: z.array(z.string().min(1)),
  }),
  /** Whether `download --unsafe-disable-verification` is allowed at all. */
  allowUnsafeDisableVerification: z.boolean(),
});

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyKey = z.infer<typeof PublicKeySchema>;

export function renderPolicy(p: Policy): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(PolicySchema.parse(p), null, 2)}\n`);
}

export function parsePolicy(bytes: Uint8Array, file: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ProvenantError('E_POLICY_INVALID', `policy is not valid JSON: ${(e as Error).message}`, { file });
  }
  const r = PolicySchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ProvenantError('E_POLICY_INVALID', `policy is invalid: ${issue.message}`, {
      file,
      field: issue.path.join('.'),
      hint: 'see docs/policy.md for the schema',
    });
  }
  return r.data;
}
