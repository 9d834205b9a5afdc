import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What the last verified download of a request fetched, kept beside the trusted metadata so
 * the next run can start those requests while TUF is still refreshing. A hint is never trusted:
 * each object it names is used only if the freshly verified metadata pins exactly the same
 * URL, length and digest, and is then checked like any download. A missing, stale or garbled
 * hints file only costs the time it would have saved.
 */
export interface Pin {
  url: string;
  length: number;
  sha256: string;
}

export interface DownloadHint {
  /** The pointer target's consistent URL and TUF-pinned length. */
  pointer: Pin;
  /** The attestation policy target's consistent URL and TUF-pinned length. */
  policy: Pin;
  /** The attestation as the pointer pinned it. */
  attestation: Pin;
}

// Not `.json`: tuf-js keeps every role as `<role>.json` in the same directory.
const FILE = 'download-hints.cache';
/** Hints kept per repository: the most recently used requests. */
const MAX_HINTS = 64;

type HintFile = { version: 1; hints: Record<string, DownloadHint> };

/** The hint key of a request: the project and the version asked for (or which newest). */
export function hintKey(project: string, version: string | undefined, pre: boolean): string {
  return `${project} ${version ?? (pre ? 'newest-pre' : 'newest')}`;
}

export async function readHints(stateDir: string): Promise<Record<string, DownloadHint>> {
  try {
    const parsed = JSON.parse(await readFile(path.join(stateDir, FILE), 'utf8')) as Partial<HintFile>;
    return parsed.version === 1 && parsed.hints && typeof parsed.hints === 'object' ? parsed.hints : {};
  } catch {
    return {};
  }
}

/**
 * A hint only if every URL in it is inside the repository and every pin well formed: the hints
 * file must not be able to send requests anywhere else.
 */
export function usableHint(hint: unknown, repositoryUrl: string): DownloadHint | undefined {
  const h = hint as Partial<DownloadHint> | undefined;
  const pin = (p: unknown): p is Pin => {
    const x = p as Partial<Pin> | undefined;
    return (
      typeof x?.url === 'string' &&
      x.url.startsWith(repositoryUrl) &&
      !/[?#]/.test(x.url) &&
      Number.isSafeInteger(x.length) &&
      (x.length ?? -1) >= 0 &&
      typeof x.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(x.sha256)
    );
  };
  return h && pin(h.pointer) && pin(h.policy) && pin(h.attestation) ? (h as DownloadHint) : undefined;
}

/**
 * Records `hint` for `key` when it differs from what is there (most downloads repeat one).
 * Written to a temp file and renamed, without fsync: losing it in a crash loses only time.
 */
export async function recordHint(stateDir: string, known: Record<string, DownloadHint>, key: string, hint: DownloadHint): Promise<void> {
  if (JSON.stringify(known[key]) === JSON.stringify(hint)) return;
  const hints: Record<string, DownloadHint> = { ...known };
  delete hints[key];
  hints[key] = hint;
  const keys = Object.keys(hints);
  for (const old of keys.slice(0, Math.max(0, keys.length - MAX_HINTS))) delete hints[old];
  const file = path.join(stateDir, FILE);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify({ version: 1, hints } satisfies HintFile));
    await rename(tmp, file);
  } catch {
    await rm(tmp, { force: true });
  }
}
