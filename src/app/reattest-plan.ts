import type { TargetFile, Targets } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import { consistentTargetPath } from '../formats/layout.ts';
import { checkReattestedPointer } from '../formats/reattested-pointer.ts';
import type { Storage } from '../storage/storage.ts';
import { sha256Hex } from '../util/hash.ts';

/**
 * Which of `files` a re-attestation replaces in `bin` (publish's planning step with
 * `reattest`): a pointer already published with these bytes changes nothing; otherwise the
 * published pointer, read at its consistent-snapshot name and checked against the bin's pin, may
 * differ from the new one only in its attestation. binWithReattested then checks the bin entry.
 */
export async function reattestedTargets(storage: Storage, bin: Targets, files: readonly { target: TargetFile; pointer: Uint8Array }[]): Promise<TargetFile[]> {
  const out: TargetFile[] = [];
  for (const { target, pointer } of files) {
    const existing = bin.targets[target.path];
    if (existing && existing.length === target.length && existing.hashes.sha256 === target.hashes.sha256) continue;
    if (existing) checkReattestedPointer(await publishedPointer(storage, existing), pointer, target.path);
    out.push(target);
  }
  return out;
}

async function publishedPointer(storage: Storage, t: TargetFile): Promise<Uint8Array> {
  const sha = t.hashes.sha256 ?? '';
  const key = consistentTargetPath(t.path, sha);
  const obj = await storage.get(key);
  if (!obj || obj.bytes.byteLength !== t.length || sha256Hex(obj.bytes) !== sha) {
    throw new ProvenantError('E_TARGET_DIGEST', `${key} in ${storage.location} is ${obj ? 'not the pointer the bin pins' : 'missing'}`, {
      exitClass: 'verification',
      file: key,
      hint: 'the repository was altered outside provenant; check it with `provenant repo status` before re-attesting',
    });
  }
  return obj.bytes;
}
