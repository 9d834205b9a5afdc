import { Metadata, MetadataKind, type Key, type Root, type TargetFile, type Targets } from '@tufjs/models';
import { getPublicKey } from '@tufjs/models/dist/utils/key.js';
import { keyIdentity } from '../util/key-identity.ts';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { canonicalJsonBytes } from '../formats/canonical-json.ts';
import { durationSeconds, MAX_EXPIRY, tufTime } from '../tuf/config.ts';
import { parseJsonDocument } from '../util/json-document.ts';
import { escapeUnprintable } from '../util/escape-unprintable.ts';
import { sha256Hex } from '../util/hash.ts';

/**
 * A ceremony proposal (docs/ceremony.md): the next root and/or top-level targets metadata, the
 * signatures collected so far, and the base it was made from, as one plain JSON file that can
 * travel through a pull request. Pure: no I/O, no signing. Like a tuf-on-ci signing event, the
 * file is the whole state of the ceremony; unlike one, it needs no git branch.
 *
 * Nothing in it is trusted as written: the summary is recomputed from the metadata and must match,
 * every signature must verify over the metadata, and the base must still be the repository's.
 */
export const PROPOSAL_FORMAT = 1;

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex characters');

const SignedPartSchema = z.object({
  signed: z.record(z.string(), z.unknown()),
  signatures: z.array(z.object({ keyid: Hex64, sig: z.string().regex(/^[0-9a-f]+$/, 'must be hex') })),
});

const BaseSchema = z.object({ version: z.number().int().min(1), sha256: Hex64 });

export const ProposalSchema = z
  .object({
    provenantProposal: z.literal(PROPOSAL_FORMAT),
    kind: z.enum(['root', 'targets']),
    created: z.string(),
    /** The repository's root and targets when the proposal was made: a proposal on another base is stale. */
    base: z.object({ root: BaseSchema, targets: BaseSchema }),
    root: SignedPartSchema.optional(),
    targets: SignedPartSchema.optional(),
    /** Bytes (base64) of the targets the new targets metadata lists that are not yet in the repository. */
    targetFiles: z.record(z.string(), z.string()).default({}),
    /** Key id → the proposer's key store name, for messages only. */
    keyNames: z.record(z.string(), z.string()).default({}),
    /** What changes, one line each: recomputed from the metadata on every read and compared. */
    summary: z.array(z.string()),
  })
  .refine((p) => p.root !== undefined || p.targets !== undefined, { message: 'a proposal holds new root and/or targets metadata', path: ['root'] });

export type ProposalDocument = z.infer<typeof ProposalSchema>;
export type ProposalPart = 'root' | 'targets';

/** A proposal with its metadata parsed (tuf-js models: the same parser the clients use). */
export interface Proposal {
  doc: ProposalDocument;
  root?: Metadata<Root>;
  targets?: Metadata<Targets>;
}

export function parseProposal(bytes: Uint8Array, file: string): Proposal {
  const doc = parseJsonDocument(ProposalSchema, bytes, {
    code: 'E_PROPOSAL_INVALID',
    what: 'proposal',
    file,
    hint: 'a proposal is written by `provenant repo root propose` / `repo targets propose` (docs/ceremony.md); ask its author for the file again',
  });
  const part = <T extends Root | Targets>(kind: MetadataKind.Root | MetadataKind.Targets, p: ProposalDocument['root']): Metadata<T> | undefined => {
    if (!p) return undefined;
    try {
      return (Metadata.fromJSON as (k: MetadataKind, d: unknown) => unknown)(kind, { signed: p.signed, signatures: p.signatures }) as Metadata<T>;
    } catch (e) {
      throw new ProvenantError('E_PROPOSAL_INVALID', `proposal's ${kind} metadata does not parse: ${(e as Error).message}`, { file, field: kind, hint: 'ask its author to propose again' });
    }
  };
  const root = part<Root>(MetadataKind.Root, doc.root);
  const targets = part<Targets>(MetadataKind.Targets, doc.targets);
  return { doc, ...(root ? { root } : {}), ...(targets ? { targets } : {}) };
}

/** The file's JSON: stable key order and a newline, so a pull request shows a readable diff. */
export function renderProposal(p: Proposal): Uint8Array {
  const doc: ProposalDocument = {
    ...p.doc,
    ...(p.root ? { root: metadataPart(p.root) } : {}),
    ...(p.targets ? { targets: metadataPart(p.targets) } : {}),
  };
  return new TextEncoder().encode(`${JSON.stringify(ProposalSchema.parse(doc), null, 2)}\n`);
}

function metadataPart(md: Metadata<Root | Targets>): { signed: Record<string, unknown>; signatures: { keyid: string; sig: string }[] } {
  const json = md.toJSON() as { signed: Record<string, unknown>; signatures: { keyid: string; sig: string }[] };
  return { signed: json.signed, signatures: json.signatures };
}

/** The bytes a holder signs for a part: the canonical JSON of its `signed`, as every TUF client verifies it. */
export function signedBytes(md: Metadata<Root | Targets>): Uint8Array {
  return canonicalJsonBytes(md.signed.toJSON());
}

export function baseOf(bytes: Uint8Array, version: number): { version: number; sha256: string } {
  return { version, sha256: sha256Hex(bytes) };
}

type KeyNames = (keyid: string) => string;

const short = (id: string) => `${id.slice(0, 12)}…`;
export const keyLabel = (names: KeyNames) => (id: string) => {
  const n = names(id);
  return n ? `${short(id)} (${escapeUnprintable(n)})` : short(id);
};

/**
 * What a proposal changes, one readable line each: keys added and removed and thresholds per role,
 * the bin delegation's keys, expiry, and targets added, changed or removed.
 */
export function summarize(base: { root: Root; targets: Targets }, next: { root?: Root | undefined; targets?: Targets | undefined }, names: KeyNames): string[] {
  const label = keyLabel(names);
  const out: string[] = [];
  if (next.root) {
    out.push(`root: version ${base.root.version} -> ${next.root.version}, expires ${escapeUnprintable(next.root.expires)}`);
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      const a = base.root.roles[role];
      const b = next.root.roles[role];
      out.push(...roleChanges(`${role} role`, a?.keyIDs ?? [], a?.threshold ?? 0, b?.keyIDs ?? [], b?.threshold ?? 0, label));
    }
  }
  if (next.targets) {
    out.push(`targets: version ${base.targets.version} -> ${next.targets.version}, expires ${escapeUnprintable(next.targets.expires)}`);
    const a = base.targets.delegations?.succinctRoles;
    const b = next.targets.delegations?.succinctRoles;
    out.push(...roleChanges('bins delegation', a?.keyIDs ?? [], a?.threshold ?? 0, b?.keyIDs ?? [], b?.threshold ?? 0, label));
    for (const p of [...new Set([...Object.keys(base.targets.targets), ...Object.keys(next.targets.targets)])].sort()) {
      const x = base.targets.targets[p];
      const y = next.targets.targets[p];
      const shown = escapeUnprintable(p);
      if (!x && y) out.push(`target added: ${shown} (sha256 ${y.hashes.sha256}, ${y.length} bytes)`);
      else if (x && !y) out.push(`target removed: ${shown}`);
      // Any difference at all (another hash, custom data), not only sha256 and length: hosts read all of it.
      else if (x && y && !x.equals(y)) out.push(`target changed: ${shown} (sha256 ${x.hashes.sha256} -> ${y.hashes.sha256}${x.hashes.sha256 === y.hashes.sha256 ? `, entry ${canonicalTarget(x)} -> ${canonicalTarget(y)}` : ''})`);
    }
  }
  return out;
}

const canonicalTarget = (t: TargetFile) => escapeUnprintable(new TextDecoder().decode(canonicalJsonBytes(t.toJSON())));

function roleChanges(what: string, a: readonly string[], ta: number, b: readonly string[], tb: number, label: (id: string) => string): string[] {
  const out: string[] = [];
  for (const k of b.filter((x) => !a.includes(x))) out.push(`${what}: key added ${label(k)}`);
  for (const k of a.filter((x) => !b.includes(x))) out.push(`${what}: key removed ${label(k)}`);
  if (ta !== tb) out.push(`${what}: threshold ${ta} -> ${tb}`);
  return out;
}

/** One threshold a part must meet: a role of a root, the keys it names, and who signed validly. */
export interface ThresholdStatus {
  part: ProposalPart;
  /** e.g. `root role of the current root (v3)`. */
  of: string;
  threshold: number;
  keyids: string[];
  signed: string[];
  missing: string[];
  met: boolean;
}

/**
 * The thresholds publishing needs (TUF spec §5.3.4 for root: the current root's root role AND the
 * new root's; targets: the targets role of the root it will be published under), with the valid
 * signatures of each. A signature that does not verify (the metadata changed after it was made, or
 * bytes were edited) is E_PROPOSAL_TAMPERED: a holder never signs, and nobody publishes, on top of it.
 */
export function thresholds(p: Proposal, current: Root, file: string): ThresholdStatus[] {
  const out: ThresholdStatus[] = [];
  const check = (part: ProposalPart, md: Metadata<Root | Targets>, root: Root, role: string, of: string) => {
    const r = root.roles[role];
    const keyids = r?.keyIDs ?? [];
    // Distinct keys, not ids: one key listed twice (in a root made elsewhere) signs once.
    const seen = new Set<string>();
    const signed = keyids.filter((k) => {
      if (!verifies(root, k, md)) return false;
      const m = keyMaterial(root.keys[k]!) ?? k;
      return !seen.has(m) && Boolean(seen.add(m));
    });
    out.push({ part, of, threshold: r?.threshold ?? 1, keyids, signed, missing: keyids.filter((k) => !signed.includes(k)), met: signed.length >= (r?.threshold ?? 1) });
  };
  if (p.root) {
    check('root', p.root, current, 'root', `root role of the current root (v${current.version})`);
    check('root', p.root, p.root.signed, 'root', `root role of the new root (v${p.root.signed.version})`);
  }
  const under = p.root?.signed ?? current;
  if (p.targets) check('targets', p.targets, under, 'targets', `targets role of root v${under.version}`);
  // Every signature present must be one of these keys' and verify: anything else was edited in.
  for (const [part, md] of [['root', p.root], ['targets', p.targets]] as const) {
    if (!md) continue;
    const roots = part === 'root' ? [current, md.signed as Root] : [under];
    for (const keyid of Object.keys(md.signatures)) {
      if (!roots.some((r) => (r.roles[part]?.keyIDs ?? []).includes(keyid) && verifies(r, keyid, md))) {
        throw new ProvenantError('E_PROPOSAL_TAMPERED', `the ${part} signature by ${short(keyid)} does not verify over the proposal's ${part} metadata: the metadata changed after it was signed, or the signature was edited`, {
          exitClass: 'verification',
          file,
          field: `${part}.signatures`,
          hint: 'do not use this file: take the proposal as its author wrote it (or propose again) and collect the signatures anew',
        });
      }
    }
  }
  return out;
}

function verifies(root: Root, keyid: string, md: Metadata<Root | Targets>): boolean {
  const key = root.keys[keyid];
  if (!key || !md.signatures[keyid]) return false;
  try {
    key.verifySignature(md as never);
    return true;
  } catch {
    return false;
  }
}

/** The key ids that may sign `part`: for root, the root role of the current and of the new root. */
export function eligibleKeys(p: Proposal, current: Root, part: ProposalPart): string[] {
  if (part === 'root') return [...new Set([...(current.roles.root?.keyIDs ?? []), ...(p.root?.signed.roles.root?.keyIDs ?? [])])];
  return [...((p.root?.signed ?? current).roles.targets?.keyIDs ?? [])];
}

/** Checks the file's summary is what its metadata says (an edited summary would mislead the holders who read it). */
export function checkSummary(p: Proposal, computed: string[], file: string): void {
  if (JSON.stringify(p.doc.summary) === JSON.stringify(computed)) return;
  throw new ProvenantError('E_PROPOSAL_TAMPERED', 'the proposal\'s summary does not describe its metadata (edited after it was proposed)', {
    exitClass: 'verification',
    file,
    field: 'summary',
    hint: `what the metadata actually changes: ${computed.join('; ')}. Do not sign it: ask its author to propose again`,
  });
}

/**
 * What a proposal may change, and nothing else: root's keys, roles, version and expiry; targets'
 * own targets, the bin delegation's keys and threshold, version and expiry. Anything else (the
 * bin layout, consistent snapshots, the spec version, a key listed under another key's id, a key
 * no role uses, a threshold no set of keys can meet, new targets keys without targets signed by
 * them) is something `propose` never writes, the summary would not show, and clients or the
 * settings could not follow: refused before anyone signs it.
 */
export function shapeProblems(base: { root: Root; targets: Targets }, next: { root?: Root | undefined; targets?: Targets | undefined }, keyIdOf: (key: { keytype: string; scheme: string; keyval: Record<string, string> }) => string): string[] {
  const out: string[] = [];
  const others = (a: Record<string, unknown>, b: Record<string, unknown>, allowed: string[], what: string) => {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!allowed.includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push(`${what}.${k} changed`);
    }
  };
  if (next.root) {
    const a = base.root.toJSON() as Record<string, unknown>;
    const b = next.root.toJSON() as Record<string, unknown>;
    others(a, b, ['version', 'expires', 'keys', 'roles'], 'root');
    const used = new Set<string>();
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      const r = next.root.roles[role];
      if (!r) {
        out.push(`root.roles.${role} missing`);
        continue;
      }
      r.keyIDs.forEach((k) => used.add(k));
      if (r.threshold < 1 || r.threshold > r.keyIDs.length) out.push(`root.roles.${role}: threshold ${r.threshold} with ${r.keyIDs.length} key(s)`);
      for (const k of r.keyIDs) if (!next.root.keys[k]) out.push(`root.roles.${role}: key ${short(k)} is not in root.keys`);
    }
    if (Object.keys(next.root.roles).length !== 4) out.push('root.roles: other roles than root, targets, snapshot, timestamp');
    for (const [id, key] of Object.entries(next.root.keys)) {
      if (!used.has(id)) out.push(`root.keys: ${short(id)} is used by no role`);
      if (keyIdOf({ keytype: key.keyType, scheme: key.scheme, keyval: key.keyVal }) !== id) out.push(`root.keys: ${short(id)} is not that key's id`);
    }
    out.push(...sameKeyTwice(next.root.keys, 'root.keys'));
    const ta = base.root.roles.targets;
    const tb = next.root.roles.targets;
    const targetsKeysChange = JSON.stringify([...(ta?.keyIDs ?? [])].sort()) !== JSON.stringify([...(tb?.keyIDs ?? [])].sort()) || ta?.threshold !== tb?.threshold;
    if (targetsKeysChange && !next.targets) out.push('root changes the targets keys, but holds no targets for them to sign');
  }
  if (next.targets) {
    const a = base.targets.toJSON() as Record<string, unknown>;
    const b = next.targets.toJSON() as Record<string, unknown>;
    others(a, b, ['version', 'expires', 'targets', 'delegations'], 'targets');
    const da = (a.delegations ?? {}) as Record<string, unknown>;
    const db = (b.delegations ?? {}) as Record<string, unknown>;
    others(da, db, ['keys', 'succinct_roles'], 'targets.delegations');
    others((da.succinct_roles ?? {}) as Record<string, unknown>, (db.succinct_roles ?? {}) as Record<string, unknown>, ['keyids', 'threshold'], 'targets.delegations.succinct_roles');
    const s = next.targets.delegations?.succinctRoles;
    const keys = next.targets.delegations?.keys ?? {};
    if (s && (s.threshold < 1 || s.threshold > s.keyIDs.length)) out.push(`bins delegation: threshold ${s.threshold} with ${s.keyIDs.length} key(s)`);
    for (const k of s?.keyIDs ?? []) if (!keys[k]) out.push(`bins delegation: key ${short(k)} is not in delegations.keys`);
    for (const [id, key] of Object.entries(keys)) {
      if (!s?.keyIDs.includes(id)) out.push(`targets.delegations.keys: ${short(id)} is used by no delegation`);
      if (keyIdOf({ keytype: key.keyType, scheme: key.scheme, keyval: key.keyVal }) !== id) out.push(`targets.delegations.keys: ${short(id)} is not that key's id`);
    }
    out.push(...sameKeyTwice(keys, 'targets.delegations.keys'));
  }
  return out;
}

/**
 * Each part's expiry as propose writes it: a TUF time (whole seconds, `Z`; python-tuf reads no
 * other form, tuf-js reads many, so another form would strand python hosts on the old root) no
 * further from `now` than the role's limit (docs/repository.md), as every other signature is.
 */
export function expiryProblems(next: { root?: Root | undefined; targets?: Targets | undefined }, now: Date): string[] {
  const out: string[] = [];
  for (const [role, md] of [['root', next.root], ['targets', next.targets]] as const) {
    if (!md) continue;
    const at = Date.parse(md.expires);
    if (Number.isNaN(at) || tufTime(new Date(at)) !== md.expires) out.push(`${role}.expires ${escapeUnprintable(md.expires)} is not a TUF time (YYYY-MM-DDTHH:MM:SSZ)`);
    else if ((at - now.getTime()) / 1000 > durationSeconds(MAX_EXPIRY[role])) out.push(`${role}.expires ${md.expires} is past the ${role} limit of ${MAX_EXPIRY[role]}`);
  }
  return out;
}

/**
 * The public key itself, read by tuf-js's own parser as TUF clients read it (PEM or hex, any case
 * or line breaks), compared by its parameters (keyIdentity): one key written two ways has two key
 * ids, and clients count key ids toward a threshold.
 */
function keyMaterial(key: Key): string | undefined {
  try {
    return keyIdentity(getPublicKey({ keyType: key.keyType, scheme: key.scheme, keyVal: key.keyVal.public ?? '' }).key);
  } catch {
    return undefined;
  }
}

/** Key ids that are one key: a single holder would meet a threshold of two with them. */
function sameKeyTwice(keys: Record<string, Key>, what: string): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const [id, key] of Object.entries(keys)) {
    const m = keyMaterial(key);
    if (m === undefined) continue;
    const first = seen.get(m);
    if (first) out.push(`${what}: ${short(id)} is the same public key as ${short(first)}`);
    else seen.set(m, id);
  }
  return out;
}

/** Changing targets by ceremony edits the hashed-bin delegation, which the datadog-v2 layout does not have. */
export function targetsLayoutRefused(file?: string): ProvenantError {
  return new ProvenantError('E_REPO_LAYOUT', 'ceremonies that change targets support the default (hashed bins) layout only; this repository uses datadog-v2', {
    exitClass: 'usage',
    ...(file ? { file } : {}),
    hint: 'root ceremonies work in both layouts; change a datadog-v2 policy with `provenant repo set-trust --policy` (docs/datadog-v2.md)',
  });
}
