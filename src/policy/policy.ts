import { normalizeProjectName } from '../formats/pep503.ts';
import { parseJsonDocument } from '../util/json-document.ts';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { GITHUB_BUILDER_PREFIX, LOCAL_BUILDER_ID } from '../provenance/builders.ts';
import type { PublicKeyInfo } from '../signers/signer.ts';
import { CertificateAuthoritySchema, type CertificateAuthority } from './certificate-authority.ts';
import { IdentitySchema, type Identity } from './identity.ts';

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

/**
 * k of n keys that must each have signed a statement about the exact wheel (approvals, rebuild
 * VSAs). `what` names the signers in the refusal of an unreachable threshold.
 */
const signerQuorumSchema = (what: string) =>
  z
    .object({
      /** keyid → public key of each signer; attestation keys are not implied. */
      keys: z.record(z.string().regex(/^[0-9a-f]{64}$/), PublicKeySchema),
      /** How many distinct keys must have signed a statement about the exact wheel. */
      threshold: z.number().int().min(1),
      /**
       * The projects (PEP 503 normalized) the rule applies to; absent: every project of the repository.
       * Compared verbatim with the normalized name, so another spelling would silently match nothing: refused.
       */
      projects: z.array(z.string().min(1).refine((p) => p === normalizeProjectName(p), { message: 'not a PEP 503 normalized project name (lower case, runs of -_. as one -)' })).optional(),
    })
    .refine((a) => a.threshold <= Object.keys(a.keys).length, {
      message: `${what} threshold is larger than the number of ${what} keys: no release could ever be accepted`,
      path: ['threshold'],
    });

export const PolicySchema = z.object({
  policyVersion: z.literal(1),
  attestation: z
    .object({
      /** keyid (TUF-style: sha256 of the canonical public key object) → public key. */
      keys: z.record(z.string().regex(/^[0-9a-f]{64}$/), PublicKeySchema),
      /**
       * How many distinct policy keys must have signed the DSSE envelope. A keyless bundle
       * carries exactly one signature, so it counts as one signer: it meets a threshold of 1 only.
       */
      threshold: z.number().int().min(1),
      /** Keyless (Sigstore) signers accepted, checked against the TUF-distributed Sigstore trusted root. */
      identities: z.array(IdentitySchema).optional(),
      /** Organizational X.509 CAs whose signing certificates are accepted (docs/policy.md "Organizational PKI"). */
      certificateAuthorities: z.array(CertificateAuthoritySchema).optional(),
    })
    .refine((a) => a.threshold <= Object.keys(a.keys).length || (a.threshold === 1 && (a.identities?.length ?? 0) + (a.certificateAuthorities?.length ?? 0) > 0), {
      message: 'threshold is larger than the number of keys (and no keyless identity can meet it): no attestation could ever verify',
      path: ['threshold'],
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
  /**
   * Multi-party release approval (docs/approvals.md): a release is accepted only with approvals
   * (signed statements bound to its wheel's sha256) by `threshold` distinct keys listed here.
   * Absent: no approvals needed.
   */
  approvals: signerQuorumSchema('approval').optional(),
  /**
   * Independent rebuilders (docs/rebuild.md): a release is accepted only with SLSA verification
   * summary attestations (PASSED, bound to its wheel and its attestation) by `threshold` distinct
   * keys listed here. Absent: no rebuild needed.
   */
  rebuilders: signerQuorumSchema('rebuilder').optional(),
});

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyKey = z.infer<typeof PublicKeySchema>;
/** A `keys`/`threshold`/`projects` rule: `approvals` and `rebuilders`. */
export type SignerQuorum = z.infer<ReturnType<typeof signerQuorumSchema>>;
export type ApprovalsPolicy = SignerQuorum;

export function renderPolicy(p: Policy): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(PolicySchema.parse(p), null, 2)}\n`);
}

export function parsePolicy(bytes: Uint8Array, file: string): Policy {
  return parseJsonDocument(PolicySchema, bytes, { code: 'E_POLICY_INVALID', what: 'policy', file, hint: 'see docs/policy.md for the schema' });
}

export interface DefaultPolicyOptions {
  /** The keys that may sign attestations (e.g. the `attestation` signer's keyId and publicKey). */
  attestationKeys: readonly { keyId: string; publicKey: PublicKeyInfo }[];
  /** Allowed builder ids (patterns). Default: local builds and any GitHub Actions workflow. */
  builders?: readonly string[];
  /** Allowed source repositories (patterns); default empty = any. */
  sourceRepositories?: readonly string[];
  /** Allowed git refs (patterns); default empty = any. */
  refs?: readonly string[];
  /** Keyless signers accepted (docs/policy.md); default none. */
  identities?: readonly Identity[];
  /** Organizational CAs accepted (docs/policy.md); default none. */
  certificateAuthorities?: readonly CertificateAuthority[];
  /** Distinct keys that must sign; default 1. */
  threshold?: number;
  /** Default false: the break-glass download flag is refused. */
  allowUnsafeDisableVerification?: boolean;
}

/**
 * The policy `repo init` publishes: trust exactly the given attestation keys. The default
 * builders accept local builds (`LOCAL_BUILDER_ID`) so the out-of-the-box flow works; a
 * production repository narrows `builders`, `sourceRepositories` and `refs` (docs/policy.md).
 */
export function defaultPolicy(o: DefaultPolicyOptions): Policy {
  const keys: Record<string, PolicyKey> = {};
  for (const k of o.attestationKeys) {
    const scheme = k.publicKey.scheme;
    // @sigstore/verify checks a DSSE signature of any EC key over SHA-256, so a P-384 key (whose
    // TUF scheme and KMS key spec sign SHA-384) could sign attestations nobody can verify.
    if (scheme === 'ecdsa-sha2-nistp384') {
      throw new ProvenantError('E_KEY_TYPE', `attestation key ${k.keyId.slice(0, 12)}… is ECDSA P-384; attestation keys are Ed25519 or ECDSA P-256`, {
        exitClass: 'input',
        hint: 'use a P-256 (KMS ECC_NIST_P256, token EC:prime256v1) or Ed25519 key for attestations; P-384 keys can sign TUF roles',
      });
    }
    keys[k.keyId] = { keytype: k.publicKey.keytype, scheme, keyval: { public: k.publicKey.keyval.public } };
  }
  const policy: Policy = {
    policyVersion: 1,
    attestation: { keys, threshold: o.threshold ?? 1, ...(o.identities && o.identities.length > 0 ? { identities: [...o.identities] } : {}), ...(o.certificateAuthorities && o.certificateAuthorities.length > 0 ? { certificateAuthorities: [...o.certificateAuthorities] } : {}) },
    provenance: {
      builders: [...(o.builders ?? [LOCAL_BUILDER_ID, `${GITHUB_BUILDER_PREFIX}*`])],
      sourceRepositories: [...(o.sourceRepositories ?? [])],
      refs: [...(o.refs ?? [])],
    },
    allowUnsafeDisableVerification: o.allowUnsafeDisableVerification ?? false,
  };
  const r = PolicySchema.safeParse(policy);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ProvenantError('E_POLICY_INVALID', `default policy is invalid: ${issue.message}`, {
      field: issue.path.join('.'),
      hint: 'pass at least `threshold` attestation keys (or a keyless identity), each key with a 64-hex key id, and at least one builder pattern',
    });
  }
  return r.data;
}
