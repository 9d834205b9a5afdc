import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { sha256Hex } from '../util/hash.ts';
import { parseJsonDocument } from '../util/json-document.ts';
import { checkFailed } from './checks.ts';

/**
 * Which wheel this host installed for each release, kept in the repository's state directory
 * (`installed/<sha256 of the pointer target path>.json`). A published release never changes
 * (publish refuses it: E_RELEASE_IMMUTABLE), yet whoever holds the online key alone can re-sign its
 * pointer to pin another wheel that a genuine attestation binds to the same project and version:
 * a second build of it, or the wheel of a PEP 440-equal release (`1.0` and `1.0.0`). The binding
 * cannot tell those apart; this memory can, on every host that installed the release before.
 */
const DIR = 'installed';

export interface InstalledWheel {
  fileName: string;
  sha256: string;
  length: number;
}

const RecordSchema = z.object({
  target: z.string(),
  wheel: z.object({ fileName: z.string(), sha256: z.string(), length: z.number() }),
});

function recordFile(stateDir: string, targetPath: string): string {
  return path.join(stateDir, DIR, `${sha256Hex(targetPath)}.json`);
}

async function recorded(file: string): Promise<InstalledWheel | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseJsonDocument(RecordSchema, bytes, {
    code: 'E_STATE_INVALID',
    what: 'the record of an installed release',
    file,
    hint: `delete ${file} (this host then no longer notices if that release is switched)`,
  }).wheel;
}

const same = (a: InstalledWheel, b: InstalledWheel) => a.fileName === b.fileName && a.sha256 === b.sha256 && a.length === b.length;

/** Refuses a pointer that pins another wheel than the one this host installed for `targetPath`. */
export async function checkInstalledRelease(stateDir: string, targetPath: string, wheel: InstalledWheel): Promise<void> {
  const file = recordFile(stateDir, targetPath);
  const before = await recorded(file);
  if (!before || same(before, wheel)) return;
  throw checkFailed(
    'pointer schema',
    'E_RELEASE_CHANGED',
    `${targetPath} now pins ${wheel.fileName} (sha256 ${wheel.sha256}), but this host installed ${before.fileName} (sha256 ${before.sha256}) for that release; published releases never change`,
    {
      file,
      hint: 'do not install it: someone holding the repository\'s online key re-signed a published pointer; tell the repository owners (to trust the repository again from scratch, delete its state directory)',
    },
  );
}

/** Records the wheel a verified download installed for `targetPath` (nothing to write when already known). */
export async function rememberInstalledRelease(stateDir: string, targetPath: string, wheel: InstalledWheel): Promise<void> {
  const file = recordFile(stateDir, targetPath);
  if (await recorded(file)) return;
  await writeFileAtomic(file, `${JSON.stringify({ target: targetPath, wheel })}\n`);
}
