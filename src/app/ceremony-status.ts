import { keyLabel } from '../ceremony/proposal.ts';
import { listProposals } from '../ceremony/proposal-file.ts';
import { isProvenantError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import { loadTrustedState, type TrustAnchor } from '../tuf/trusted-state.ts';
import { checkProposal, describeThreshold, isPublished } from './ceremony-check.ts';

export interface ProposalStatus {
  file: string;
  kind?: 'root' | 'targets';
  /** pending: can be signed or published; published: its metadata is the repository's; stale: made from an older base; invalid: refused (tampered, unreadable). */
  state: 'pending' | 'published' | 'stale' | 'invalid';
  /** For pending proposals, each threshold and who is missing; for the others, why. */
  detail: string[];
}

/** `repo status`'s view of the proposals directory: what still waits for signatures or publishing. */
export async function proposalStatuses(storage: Storage, anchor: TrustAnchor | undefined, dir: string): Promise<ProposalStatus[]> {
  const files = await listProposals(dir);
  if (files.length === 0) return [];
  const state = await loadTrustedState(storage, anchor);
  const out: ProposalStatus[] = [];
  for (const f of files) {
    if (!f.proposal) {
      out.push({ file: f.file, state: 'invalid', detail: [f.error ?? 'unreadable'] });
      continue;
    }
    const p = f.proposal;
    try {
      const check = await checkProposal(storage, state, p, f.file);
      const label = keyLabel((id) => p.doc.keyNames[id] ?? '');
      out.push({ file: f.file, kind: p.doc.kind, state: 'pending', detail: [...check.summary, ...check.thresholds.map((t) => describeThreshold(t, label))] });
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      if (e.code === 'E_PROPOSAL_STALE' && (await isPublished(storage, p))) out.push({ file: f.file, kind: p.doc.kind, state: 'published', detail: [] });
      else out.push({ file: f.file, kind: p.doc.kind, state: e.code === 'E_PROPOSAL_STALE' ? 'stale' : 'invalid', detail: [`${e.code}: ${e.message}`] });
    }
  }
  return out;
}
