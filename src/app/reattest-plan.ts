import type { TargetFile, Targets } from '@tufjs/models';
import { checkReattestedPointer } from '../formats/reattested-pointer.ts';
import type { Storage } from '../storage/storage.ts';
import { readTarget } from './release-trust.ts';

/**
 * Which of `files` a re-attestation replaces in `bin` (publish's planning step with
 * `reattest`): a pointer already published with these bytes changes nothing; otherwise the
 * published pointer, read at its consistent-snapshot name and checked against the bin's pin, may
 * differ from the new one only in its attestation. binWithReattested then checks the bin entry.
 */
export async function reattestedTargets(storage: Storage, bin: Targets, files: readonly { target: TargetFile; pointer: Uint8Array }[], layout: 'datadog-v2' | undefined): Promise<TargetFile[]> {
  const out: TargetFile[] = [];
  for (const { target, pointer } of files) {
    const existing = bin.targets[target.path];
    if (existing && existing.length === target.length && existing.hashes.sha256 === target.hashes.sha256) continue;
    if (existing) checkReattestedPointer((await readTarget(storage, bin.targets, target.path, layout))!, pointer, target.path);
    out.push(target);
  }
  return out;
}

