import { createHash, randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { readAll, type Fetcher } from '../net/fetcher.ts';
import { sha256Hex } from '../util/hash.ts';
import { checkFailed } from './checks.ts';
import { collectYoungGarbage } from './young-garbage.ts';

const WRITE_BATCH = 1 << 20;
/** Network buffers freed every this many bytes of wheel (young-garbage.ts): caps peak memory. */
const COLLECT_EVERY = 8 << 20;

export interface Pinned {
  url: string;
  length: number;
  sha256: string;
}

/**
 * Wheel length, then sha256: streams the wheel into a hidden temp file in `dir` (the
 * destination's file system, so the final move is a rename), hashing as it goes, with the
 * pinned length as a hard cap — the read stops at the first byte past it. Returns the temp
 * file's path; removes it on any failure.
 */
export async function downloadPinnedWheel(fetcher: Fetcher, pin: Pinned, dir: string, fileName: string, onProgress?: (bytes: number) => void): Promise<string> {
  const tmp = path.join(dir, `.${fileName}.${randomBytes(6).toString('hex')}.part`);
  const fh = await open(tmp, 'wx', 0o644);
  let ok = false;
  try {
    const hash = createHash('sha256');
    let total = 0;
    // Network chunks are small (64 KiB); writing them in batches of up to 1 MiB keeps the
    // number of file-system calls down while memory stays bounded.
    let batch: Uint8Array[] = [];
    let batched = 0;
    let collectAt = COLLECT_EVERY;
    const flush = async () => {
      if (batched === 0) return;
      await fh.writev(batch);
      batch = [];
      batched = 0;
    };
    try {
      const body = await fetcher.open(pin.url, { maxLength: pin.length });
      for await (const chunk of body.chunks) {
        total += chunk.length;
        hash.update(chunk);
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) await flush();
        if (total >= collectAt && batched === 0) {
          collectYoungGarbage();
          collectAt = total + COLLECT_EVERY;
        }
        onProgress?.(total);
      }
      await flush();
    } catch (e) {
      if (e instanceof ProvenantError && e.code === 'E_LENGTH_EXCEEDED') {
        throw checkFailed('wheel length', 'E_WHEEL_LENGTH', `the server sent more than the ${pin.length} bytes the pointer pins; reading stopped there`, { file: pin.url });
      }
      throw e;
    }
    if (total !== pin.length) {
      throw checkFailed('wheel length', 'E_WHEEL_LENGTH', `got ${total} bytes, the pointer pins ${pin.length}`, { file: pin.url });
    }
    const actual = hash.digest('hex');
    if (actual !== pin.sha256) {
      throw checkFailed('wheel sha256', 'E_WHEEL_DIGEST', `sha256 is ${actual}, the pointer pins ${pin.sha256}`, {
        file: pin.url,
        hint: 'the wheel was altered after it was published; do not install it',
      });
    }
    // No fsync: the file is a download anyone can repeat, and rename already keeps readers
    // from seeing it partial; syncing every wheel would cost more than the rest of the checks.
    ok = true;
    return tmp;
  } finally {
    await fh.close();
    if (!ok) await rm(tmp, { force: true });
  }
}

/** Attestations are small JSON documents; a pointer claiming more than this is refused before reading. */
export const MAX_ATTESTATION_BYTES = 16 * 1024 * 1024;

/** Attestation length and digest, read whole (it is small) with the pinned length as the cap. */
export async function downloadPinnedAttestation(fetcher: Fetcher, pin: Pinned): Promise<Uint8Array> {
  const check = 'attestation length and digest';
  if (pin.length > MAX_ATTESTATION_BYTES) {
    throw checkFailed(check, 'E_ATTESTATION_LENGTH', `the pointer pins ${pin.length} bytes, over the ${MAX_ATTESTATION_BYTES}-byte limit for attestations`, { file: pin.url });
  }
  let bytes: Buffer;
  try {
    bytes = await readAll(fetcher, pin.url, pin.length);
  } catch (e) {
    if (e instanceof ProvenantError && e.code === 'E_LENGTH_EXCEEDED') {
      throw checkFailed(check, 'E_ATTESTATION_LENGTH', `the server sent more than the ${pin.length} bytes the pointer pins`, { file: pin.url });
    }
    throw e;
  }
  if (bytes.length !== pin.length) throw checkFailed(check, 'E_ATTESTATION_LENGTH', `got ${bytes.length} bytes, the pointer pins ${pin.length}`, { file: pin.url });
  const actual = sha256Hex(bytes);
  if (actual !== pin.sha256) {
    throw checkFailed(check, 'E_ATTESTATION_DIGEST', `sha256 is ${actual}, the pointer pins ${pin.sha256}`, {
      file: pin.url,
      hint: 'the attestation was altered after it was published; do not install this wheel',
    });
  }
  return bytes;
}
