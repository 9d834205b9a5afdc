import { MetadataKind } from '@tufjs/models';
import { checkSummary, expiryProblems, shapeProblems, targetsLayoutRefused, signedBytes, summarize, thresholds, type Proposal, type ThresholdStatus } from '../ceremony/proposal.ts';
import { parseMetadata } from '../tuf/metadata-checks.ts';
import { ProvenantError } from '../errors.ts';
import { layoutOfTargets } from '../formats/datadog-v2.ts';
import { keyIdOf } from '../signers/key-file.ts';
import type { PublicKeyInfo } from '../signers/signer.ts';
import type { Storage } from '../storage/storage.ts';
import { metadataKey } from '../tuf/sign.ts';
import type { TrustedState } from '../tuf/trusted-state.ts';
import { sha256Hex } from '../util/hash.ts';

export interface ProposalCheck {
  summary: string[];
  thresholds: ThresholdStatus[];
}

/**
 * A proposal checked against the repository as it stands, before a holder signs it or anyone
 * publishes it: made from the repository's current root (and targets, when it changes them),
 * byte for byte; a summary that says what the metadata does; every signature valid.
 */
export async function checkProposal(storage: Storage, state: TrustedState, p: Proposal, file: string, now: Date = new Date()): Promise<ProposalCheck> {
  const base = p.doc.base;
  const stale = async (role: 'root' | 'targets', version: number) => {
    const want = base[role];
    const held = version === want.version ? await storage.get(metadataKey(role, version)) : undefined;
    if (held && sha256Hex(held.bytes) === want.sha256) return;
    throw new ProvenantError('E_PROPOSAL_STALE', `the proposal was made from ${role} version ${want.version}, but the repository's ${role} is now version ${version}${held ? ' with other content' : ''}`, {
      exitClass: 'conflict',
      file,
      field: `base.${role}`,
      hint: `something was published since: propose again from the current repository (\`provenant repo ${p.doc.kind} propose …\`) and collect the signatures anew`,
    });
  };
  await stale('root', state.root.signed.version);
  if (p.targets) await stale('targets', state.targets.signed.version);
  if (p.targets && layoutOfTargets(state.targets.signed) === 'datadog-v2') throw targetsLayoutRefused(file);
  const next = { root: p.root?.signed, targets: p.targets?.signed };
  const problems = [...shapeProblems({ root: state.root.signed, targets: state.targets.signed }, next, (k) => keyIdOf(k as PublicKeyInfo)), ...expiryProblems(next, now)];
  if (problems.length > 0) {
    throw new ProvenantError('E_PROPOSAL_INVALID', `the proposal changes what a ceremony may not: ${problems.join('; ')}`, {
      exitClass: 'verification',
      file,
      hint: 'do not sign it: proposals written by `provenant repo root|targets propose` change only keys, thresholds, expiry and targets; ask its author to propose again',
    });
  }
  const summary = summarize({ root: state.root.signed, targets: state.targets.signed }, { root: p.root?.signed, targets: p.targets?.signed }, (id) => p.doc.keyNames[id] ?? '');
  checkSummary(p, summary, file);
  const expect = (role: 'root' | 'targets', got: number, want: number) => {
    if (got === want) return;
    throw new ProvenantError('E_PROPOSAL_INVALID', `the proposal's ${role} is version ${got}; the next one is ${want}`, { exitClass: 'verification', file, field: `${role}.signed.version`, hint: 'propose again' });
  };
  if (p.root) expect('root', p.root.signed.version, state.root.signed.version + 1);
  if (p.targets) expect('targets', p.targets.signed.version, nextTargetsVersion(state));
  return { summary, thresholds: thresholds(p, state.root.signed, file) };
}

/** The version the writer gives the next targets: above the current one and above any leftover's (writer.ts). */
export function nextTargetsVersion(state: Pick<TrustedState, 'targets' | 'history'>): number {
  return Math.max(state.targets.signed.version, state.history.floor?.meta['targets.json'] ?? 0) + 1;
}

/** A threshold line for people: `root role of the new root (v4): 1 of 2 (missing 3fa1… (root-2))`. */
export function describeThreshold(t: ThresholdStatus, label: (id: string) => string): string {
  const missing = t.met ? '' : ` (missing ${t.threshold - t.signed.length} of: ${t.missing.map(label).join(', ')})`;
  return `${t.part}: ${t.of}: ${t.signed.length} of ${t.threshold} signed${t.met ? ', met' : missing}`;
}

/** Whether the repository holds the proposal's metadata at its version (published, by this file or a copy of it). */
export async function isPublished(storage: Storage, p: Proposal): Promise<boolean> {
  const part = p.root ? ({ role: 'root', md: p.root, kind: MetadataKind.Root } as const) : ({ role: 'targets', md: p.targets!, kind: MetadataKind.Targets } as const);
  const key = metadataKey(part.role, part.md.signed.version);
  const held = await storage.get(key);
  if (!held) return false;
  const md = parseMetadata(part.kind, held.bytes, key, storage);
  return Buffer.from(signedBytes(md)).equals(Buffer.from(signedBytes(part.md)));
}
