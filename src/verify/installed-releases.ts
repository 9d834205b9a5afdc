import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { compareVersions, equalityKey, isPrerelease, isValidVersion, parseVersion } from '../formats/pep440.ts';
import { sameVersion } from '../formats/wheel-binding.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { sha256Hex } from '../util/hash.ts';
import { parseJsonDocument } from '../util/json-document.ts';
import { checkFailed } from './checks.ts';

/**
 * Which wheel this host installed for each release, kept in the repository's state directory
 * (`installed/<project>/<sha256 of the version>.json`). A published release never changes
 * (publish refuses it: E_RELEASE_IMMUTABLE), yet whoever holds the online key alone can re-sign its
 * pointer to pin another wheel that a genuine attestation binds to the same project and version:
 * a second build of it, or the wheel of a PEP 440-equal release (`1.0` and `1.0.0`). The binding
 * cannot tell those apart; this memory can, on every host that installed the release before.
 * A release is a project and a PEP 440 version, as for the binding: the key is the version's
 * equality class, so listing the pointer under another spelling (`v1.0`, `1.00`) changes nothing.
 */
const DIR = 'installed';

export interface InstalledWheel {
  fileName: string;
  sha256: string;
  length: number;
}

export interface InstalledRelease {
  /** PEP 503-normalised project name. */
  project: string;
  version: string;
  /** The pointer's TUF target path, for messages. */
  target: string;
}

const RecordSchema = z.object({
  project: z.string(),
  version: z.string(),
  target: z.string(),
  wheel: z.object({ fileName: z.string(), sha256: z.string(), length: z.number() }),
});

/** PEP 503-normalised names are `[a-z0-9-]`: safe as a directory name. */
const projectDir = (stateDir: string, project: string) => path.join(stateDir, DIR, project);

function recordFile(stateDir: string, release: InstalledRelease): string {
  const parsed = parseVersion(release.version);
  return path.join(projectDir(stateDir, release.project), `${sha256Hex(parsed ? equalityKey(parsed) : release.version)}.json`);
}

async function recorded(file: string): Promise<z.infer<typeof RecordSchema> | undefined> {
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
  });
}

const same = (a: InstalledWheel, b: InstalledWheel) => a.fileName === b.fileName && a.sha256 === b.sha256 && a.length === b.length;

/** Refuses a pointer that pins another wheel than the one this host installed for that release. */
export async function checkInstalledRelease(stateDir: string, release: InstalledRelease, wheel: InstalledWheel, forgetCommand: string): Promise<void> {
  const file = recordFile(stateDir, release);
  const before = await recorded(file);
  if (!before || same(before.wheel, wheel)) return;
  throw checkFailed(
    'pointer schema',
    'E_RELEASE_CHANGED',
    `${release.project} ${release.version} (${release.target}) now pins ${wheel.fileName} (sha256 ${wheel.sha256}), but this host installed ${before.wheel.fileName} (sha256 ${before.wheel.sha256}) for ${before.project} ${before.version}, the same release (PEP 440 equality); published releases never change`,
    {
      file,
      hint: `do not install it: someone holding the repository's online key re-signed a published pointer; tell the repository owners (to trust the repository again from scratch: ${forgetCommand})`,
    },
  );
}

/** Records the wheel a verified download installed for `release` (nothing to write when already known). */
export async function rememberInstalledRelease(stateDir: string, release: InstalledRelease, wheel: InstalledWheel): Promise<void> {
  const file = recordFile(stateDir, release);
  if (await recorded(file)) return;
  await writeFileAtomic(file, `${JSON.stringify({ ...release, wheel })}\n`);
}

/**
 * Picking the newest release: none this host installed may have vanished from above it. Releases
 * are never withdrawn (publish has no such step), so one that is gone was taken out of its bin by
 * someone holding the online key, to make hosts install an older one. Pre-releases count only for
 * a host that takes them (`pre`), as in picking.
 */
export async function checkNoneWithdrawn(stateDir: string, project: string, listed: readonly string[], picked: string, pre: boolean, forgetCommand: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(projectDir(stateDir, project));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(projectDir(stateDir, project), name);
    const rec = await recorded(file);
    if (!rec || !isValidVersion(rec.version) || compareVersions(rec.version, picked) <= 0 || (!pre && isPrerelease(rec.version))) continue;
    if (listed.some((v) => sameVersion(v, rec.version))) continue;
    throw checkFailed('pointer target', 'E_RELEASE_WITHDRAWN', `${project} ${rec.version}, which this host installed, is no longer published; the newest left is ${picked}`, {
      file,
      hint: `do not install the older one: releases are never withdrawn, so someone holding the repository's online key took it out; tell the repository owners (name --version to install an older release on purpose; to trust the repository again from scratch: ${forgetCommand})`,
    });
  }
}
