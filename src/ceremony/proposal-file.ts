import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { readRegularFile } from '../util/read-regular-file.ts';
import { parseProposal, renderProposal, type Proposal } from './proposal.ts';

/** Where proposals live unless --proposals says otherwise: a directory of the working tree, so they travel in pull requests. */
export const DEFAULT_PROPOSALS_DIR = 'proposals';

/** A proposal holds metadata for a few hundred keys at most; anything larger is not one. */
const MAX_PROPOSAL_BYTES = 8 << 20;

export async function readProposal(file: string): Promise<Proposal> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_PROPOSAL_BYTES);
  } catch (e) {
    throw new ProvenantError('E_PROPOSAL_MISSING', `cannot read the proposal: ${(e as Error).message}`, {
      exitClass: 'not-found',
      file,
      hint: 'give the proposal file `repo root propose` / `repo targets propose` wrote (default under ./proposals)',
    });
  }
  return parseProposal(bytes, file);
}

/** Temp file + rename: a reader (or a crash) never sees half a proposal. */
export async function writeProposal(file: string, p: Proposal): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, renderProposal(p));
}

/** Every `*.json` in the proposals directory, parsed; unreadable ones are reported, not fatal. */
export async function listProposals(dir: string): Promise<{ file: string; proposal?: Proposal; error?: string }[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  const out: { file: string; proposal?: Proposal; error?: string }[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      out.push({ file, proposal: await readProposal(file) });
    } catch (e) {
      out.push({ file, error: (e as Error).message });
    }
  }
  return out;
}
