import { Signature } from '@tufjs/models';
import { eligibleKeys, keyLabel, signedBytes, thresholds, type ProposalPart, type ThresholdStatus } from '../ceremony/proposal.ts';
import { readProposal, writeProposal } from '../ceremony/proposal-file.ts';
import { ProvenantError } from '../errors.ts';
import { escapeUnprintable } from '../util/escape-unprintable.ts';
import { openSigner } from '../signers/open-signer.ts';
import type { Storage } from '../storage/storage.ts';
import { loadTrustedState, type TrustAnchor } from '../tuf/trusted-state.ts';
import { checkProposal, describeThreshold } from './ceremony-check.ts';

export interface SignProposalOptions {
  /** The key reference to sign with (file, pkcs11:, awskms://): opened here, on this machine. */
  key: string;
  /** Which metadata of the proposal to sign: `repo root sign` signs root, `repo targets sign` targets. */
  part: ProposalPart;
  /** The root this holder trusts (a key store's root.json); without it, the repository's 1.root.json. */
  anchor?: TrustAnchor | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Key id → name in this holder's own key store (keys.json), when there is one. Names in the
   * proposal are written by the proposer; a name this store gives otherwise, or does not know, is
   * pointed out before the holder confirms.
   */
  knownKeyNames?: Readonly<Record<string, string>>;
  /** Shown the change and the thresholds; resolves true to sign. */
  confirm(lines: string[]): Promise<boolean>;
}

/**
 * Lines for each key the proposal names that the holder's key store knows by no name or by
 * another: a proposal can call any key "alice", only its id says which key it is.
 */
export function keyNameNotes(proposed: Readonly<Record<string, string>>, known: Readonly<Record<string, string>> | undefined): string[] {
  if (!known) return [];
  const notes: string[] = [];
  for (const [id, name] of Object.entries(proposed)) {
    const mine = known[id];
    if (mine === name) continue;
    const shown = escapeUnprintable(name);
    notes.push(mine === undefined
      ? `  note: the proposal names ${id.slice(0, 12)}… "${shown}"; your key store does not know this key: compare its id with its holder's \`repo key show\``
      : `  note: the proposal names ${id.slice(0, 12)}… "${shown}"; your key store calls it "${escapeUnprintable(mine)}"`);
  }
  return notes;
}

export interface SignProposalResult {
  file: string;
  part: ProposalPart;
  keyid: string;
  thresholds: ThresholdStatus[];
  /** Whether every threshold is now met (the proposal can be published). */
  complete: boolean;
}

/**
 * Adds ONE signature to a proposal: the holder's key, if the key may sign that part (root: a key
 * of the current or the new root's root role; targets: of the targets role it is published
 * under). The proposal is checked first against the repository (stale, tampered, edited summary),
 * and the holder confirms what it changes. Written back atomically.
 */
export async function signProposal(storage: Storage, file: string, opts: SignProposalOptions): Promise<SignProposalResult> {
  const p = await readProposal(file);
  const md = p[opts.part];
  if (!md) {
    throw new ProvenantError('E_PROPOSAL_PART', `the proposal holds no ${opts.part} metadata to sign`, {
      exitClass: 'usage',
      file,
      hint: `it changes ${p.root ? 'root' : 'targets'}: use \`provenant repo ${p.root ? 'root' : 'targets'} sign\``,
    });
  }
  const state = await loadTrustedState(storage, opts.anchor);
  const check = await checkProposal(storage, state, p, file);
  const label = keyLabel((id) => p.doc.keyNames[id] ?? '');
  let keyid = '';
  const signer = await openSigner(opts.key, { env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd(), field: '--key' });
  try {
    const eligible = eligibleKeys(p, state.root.signed, opts.part);
    if (!eligible.includes(signer.keyId)) {
      throw new ProvenantError('E_PROPOSAL_KEY_NOT_IN_ROLE', `key ${signer.keyId.slice(0, 12)}… may not sign this proposal's ${opts.part}: it is not a key of the ${opts.part === 'root' ? 'current or the new root\'s root role' : 'targets role'}`, {
        exitClass: 'verification',
        field: '--key',
        hint: `keys that may sign: ${eligible.map(label).join(', ')}`,
      });
    }
    const lines = [`proposal ${file}:`, ...check.summary.map((s) => `  ${s}`), ...keyNameNotes(p.doc.keyNames, opts.knownKeyNames), ...check.thresholds.map((t) => `  ${describeThreshold(t, label)}`), `sign ${opts.part} with ${label(signer.keyId)}?`];
    if (!(await opts.confirm(lines))) {
      throw new ProvenantError('E_PROPOSAL_NOT_CONFIRMED', 'not signed: the change was not confirmed', { exitClass: 'usage', file, hint: 'answer y to sign, or pass --yes once you have read the summary' });
    }
    const sig = await signer.sign(signedBytes(md));
    keyid = signer.keyId;
    md.signatures[signer.keyId] = new Signature({ keyID: signer.keyId, sig: Buffer.from(sig).toString('hex') });
  } finally {
    await signer.close?.();
  }
  const after = thresholds(p, state.root.signed, file);
  await writeProposal(file, p);
  return { file, part: opts.part, keyid, thresholds: after, complete: after.every((t) => t.met) };
}
