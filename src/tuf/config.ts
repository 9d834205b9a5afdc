import { ProvenantError } from '../errors.ts';
import { parseJsonDocument } from '../util/json-document.ts';
import { z } from 'zod';

/**
 * The repository's settings, `provenant-repository.json` (docs/repository.md): thresholds, expiry
 * periods, the hashed-bin layout and the key ids of each role; never key material or passphrases.
 * The authoritative copy lives in the key store, beside its root.json: expiry periods change what
 * gets signed, so they must not come from a file anyone able to write to the bucket can edit. The
 * repository holds a public copy that must agree with it. The signed root and targets metadata stay
 * the authority on trust: the loader refuses settings that disagree with them.
 */
export const CONFIG_KEY = 'provenant-repository.json';
export const SPEC_VERSION = '1.0.31';
export const TOP_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TopRole = (typeof TOP_ROLES)[number];
/** Roles the repository signs: the four top-level roles and the hashed bins (one setting for all bins). */
export const SIGNING_ROLES = ['root', 'targets', 'bins', 'snapshot', 'timestamp'] as const;
export type SigningRole = (typeof SIGNING_ROLES)[number];

const KeyId = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex TUF key id');
export const DurationSchema = z.string().regex(/^[1-9][0-9]*[smhd]$/, 'must be a duration like 365d, 12h, 30m or 90s');

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

export function durationSeconds(d: string): number {
  const unit = d.slice(-1) as keyof typeof UNIT_SECONDS;
  return Number(d.slice(0, -1)) * UNIT_SECONDS[unit];
}

/**
 * The longest validity provenant signs for each role, whatever the settings say: a stolen online
 * key or a rolled-back repository is bounded by these, so the short-lived roles stay short.
 */
export const MAX_EXPIRY: Readonly<Record<SigningRole, string>> = {
  root: '1825d',
  targets: '730d',
  bins: '90d',
  snapshot: '30d',
  timestamp: '7d',
};

const roleConfigSchema = (role: SigningRole) =>
  z
    .object({
      threshold: z.number().int().min(1),
      /** How long a newly signed version of this role stays valid (at most MAX_EXPIRY[role]). */
      expires: DurationSchema.refine((d) => durationSeconds(d) <= durationSeconds(MAX_EXPIRY[role]), {
        message: `longer than the ${role} limit of ${MAX_EXPIRY[role]}`,
      }),
      keyids: z.array(KeyId).min(1),
    })
    .refine((r) => r.threshold <= r.keyids.length, { message: 'threshold is larger than the number of keys', path: ['threshold'] });

export const RepositoryConfigSchema = z.object({
  configVersion: z.literal(1),
  specVersion: z.string().regex(/^1\.0\.\d+$/),
  /** Always true: versioned metadata and hash-prefixed targets are what makes publishing crash-safe. */
  consistentSnapshot: z.literal(true),
  /**
   * Absent: provenant's layout (pointers in succinct hashed bins). `datadog-v2`: Datadog's
   * downloader's layout (docs/datadog-v2.md): one delegated role, `wheelsmith`, signed with the
   * keys of `roles.bins`; `bins.count` and `bins.namePrefix` are then unused.
   */
  layout: z.literal('datadog-v2').optional(),
  bins: z.object({
    /** Number of succinct hashed bins (TAP 15): a power of two from 2 to 65536. */
    count: z
      .number()
      .int()
      .min(2)
      .max(65536)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
    namePrefix: z.string().regex(/^[a-z][a-z0-9]*$/),
  }),
  roles: z.object({
    root: roleConfigSchema('root'),
    targets: roleConfigSchema('targets'),
    bins: roleConfigSchema('bins'),
    snapshot: roleConfigSchema('snapshot'),
    timestamp: roleConfigSchema('timestamp'),
  }),
  /** The keys the published attestation policy trusts (their private halves sign DSSE envelopes). */
  attestation: z.object({ keyids: z.array(KeyId).min(1), threshold: z.number().int().min(1) }),
});

export type RepositoryConfig = z.infer<typeof RepositoryConfigSchema>;
export type RoleConfig = RepositoryConfig['roles']['root'];

export const DEFAULT_EXPIRY: Readonly<Record<SigningRole, string>> = {
  root: '365d',
  targets: '365d',
  bins: '30d',
  snapshot: '7d',
  timestamp: '1d',
};
export const DEFAULT_BIN_COUNT = 256;
export const DEFAULT_BIN_PREFIX = 'bins';

export function parseConfig(bytes: Uint8Array, file: string): RepositoryConfig {
  return parseJsonDocument(RepositoryConfigSchema, bytes, {
    code: 'E_REPO_CONFIG',
    what: 'repository config',
    file,
    hint: 'see docs/repository.md for the format of provenant-repository.json and the expiry limits',
  });
}

export function renderConfig(config: RepositoryConfig): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(RepositoryConfigSchema.parse(config), null, 2)}\n`);
}

/**
 * Refuses to sign `role` valid until `expires` when that is further from `now` than the role's
 * limit: the check every signature goes through, whatever computed the date.
 */
export function checkExpiry(role: SigningRole, expires: string, now: Date): void {
  const seconds = (Date.parse(expires) - now.getTime()) / 1000;
  if (!(seconds <= durationSeconds(MAX_EXPIRY[role]))) {
    throw new ProvenantError('E_EXPIRY_TOO_LONG', `refusing to sign ${role} metadata valid until ${expires}: longer than the ${role} limit of ${MAX_EXPIRY[role]}`, {
      exitClass: 'input',
      field: `roles.${role}.expires`,
      hint: `set roles.${role}.expires to at most ${MAX_EXPIRY[role]} in the key store's provenant-repository.json (docs/repository.md)`,
    });
  }
}

/** TUF `expires`: UTC, whole seconds, `Z` suffix (spec §4.2). */
export function expiresAt(now: Date, duration: string): string {
  return tufTime(new Date(Math.floor(now.getTime() / 1000) * 1000 + durationSeconds(duration) * 1000));
}

export function tufTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** log2 of a power-of-two bin count: the succinct-roles `bit_length`. */
export function binBitLength(count: number): number {
  return Math.log2(count);
}
