import path from 'node:path';
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { defaultConfig } from 'tuf-js/dist/config.js';
import { ProvenantError } from '../errors.ts';
import { canonicalJson } from '../formats/canonical-json.ts';
import type { Reporter } from '../reporter.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { readRegularFile } from '../util/read-regular-file.ts';

/**
 * The downloader's trust anchor in a state directory: `root.json` (the newest root trusted, as
 * tuf-js keeps it) and `root-history/<version>.root.json`, every root version this state has
 * trusted since it was created. The history is what lets a `--root` given to a state that
 * already exists be checked against the chain the state followed.
 */
export const ROOT_FILE = 'root.json';

/** Where a host's first trusted root comes from: one story in every hint (README, docs/download.md). */
export const ROOT_SOURCE = "the root.json of the publisher's key store (keys/root.json, written by `provenant repo init`), copied to the host out of band, never fetched from the repository";
export const ROOT_HISTORY_DIR = 'root-history';

/** A root.json larger than tuf-js accepts from the network is not one, wherever it is read from. */
/** The largest root file read (tuf-js's own limit for root metadata). */
export const ROOT_MAX_BYTES = defaultConfig.rootMaxLength;

/** A root file's bytes: a regular file of at most ROOT_MAX_BYTES (a FIFO or /dev/zero is refused, not waited on). */
function readRootBytes(file: string): Promise<Buffer> {
  return readRegularFile(file, ROOT_MAX_BYTES);
}

export function rootHistoryFile(stateDir: string, version: number): string {
  return path.join(stateDir, ROOT_HISTORY_DIR, `${version}.root.json`);
}

export interface RootDocument {
  bytes: Buffer;
  version: number;
  /** The signed part in canonical JSON: two files are the same root when these are equal. */
  identity: string;
}

/** Reads a root.json and checks it is root metadata signed by its own keys. */
export async function readRootFile(file: string, field?: string): Promise<RootDocument> {
  let bytes: Buffer;
  try {
    bytes = await readRootBytes(file);
  } catch (e) {
    throw new ProvenantError('E_TUF_ROOT_INVALID', `cannot read the root file: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      ...(field ? { field } : {}),
      hint: `check the path; --root takes ${ROOT_SOURCE}`,
      cause: e,
    });
  }
  try {
    return parseRoot(bytes);
  } catch (e) {
    throw new ProvenantError('E_TUF_ROOT_INVALID', `the root file is not TUF root metadata signed by its own keys: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      ...(field ? { field } : {}),
      hint: `--root takes ${ROOT_SOURCE}`,
      cause: e,
    });
  }
}

export function parseRoot(bytes: Buffer): RootDocument {
  return parseRootMetadata(bytes).doc;
}

/** The root, signed by its own keys, as a document and as the tuf-js metadata it was read into. */
export function parseRootMetadata(bytes: Buffer): { doc: RootDocument; md: Metadata<Root> } {
  const md = Metadata.fromJSON(MetadataKind.Root, JSON.parse(bytes.toString('utf8'))) as Metadata<Root>;
  md.verifyDelegate(MetadataKind.Root, md);
  return { doc: { bytes, version: md.signed.version, identity: rootIdentity(md.signed) }, md };
}

/** What makes two root files the same root: the signed part, in canonical JSON. */
export function rootIdentity(signed: Root): string {
  return canonicalJson(signed.toJSON());
}

/**
 * Where `given` stands against the chain a state has trusted: `same` (that version was trusted
 * with exactly this content), `other` (that version was trusted with other content: another
 * repository's root, or a re-created one), `newer` (past the state's newest root; only the
 * next refresh can tell) or `unknown` (older than anything the state recorded).
 */
export async function rootInChain(given: RootDocument, stateDir: string, trusted: RootDocument, forgetCommand: string): Promise<'same' | 'other' | 'newer' | 'unknown'> {
  if (given.version > trusted.version) return 'newer';
  if (given.version === trusted.version) return given.identity === trusted.identity ? 'same' : 'other';
  let recorded: RootDocument;
  const file = rootHistoryFile(stateDir, given.version);
  try {
    recorded = parseRoot(await readRootBytes(file));
  } catch (e) {
    // Only a version the state never recorded is unknown; an unreadable or forged record fails closed.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'unknown';
    throw new ProvenantError('E_TUF_ROOT_INVALID', `the state's record of root v${given.version} is not valid root metadata: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      hint: `forget this state (\`${forgetCommand}\`) and start again from a root.json you trust (--root)`,
      cause: e,
    });
  }
  return recorded.identity === given.identity ? 'same' : 'other';
}

/**
 * A --root given to a state that already trusts a root: another root at a version the state
 * trusted is refused; one older than the state's records cannot be checked (a warning); one
 * newer is left to the refresh (TufClient).
 */
export async function checkGivenRoot(given: RootDocument & { file: string }, stateDir: string, trusted: RootDocument, forgetCommand: string, reporter: Reporter): Promise<void> {
  const where = await rootInChain(given, stateDir, trusted, forgetCommand);
  if (where === 'other') throw rootNotInChain(given, stateDir, trusted.version, forgetCommand, `the state trusted another root v${given.version}`);
  if (where === 'unknown') {
    reporter.warn(`--root ${given.file} (root v${given.version}) is older than the root v${trusted.version} trusted in ${stateDir} and not in its ${ROOT_HISTORY_DIR}/: it was not checked; the state's root is used`);
  }
}

/**
 * Records `given` as the state's first root (root.json and its history entry) without asking
 * the repository; a state that already trusts a root only has `given` checked against it (a
 * newer one cannot be, offline: a warning, and it is not recorded).
 */
export async function recordTrustedRoot(given: RootDocument & { file: string }, stateDir: string, forgetCommand: string, reporter: Reporter): Promise<void> {
  const current = await readStateRoot(stateDir);
  if (current) {
    const trusted = parseStateRoot(current, stateDir, forgetCommand);
    await checkGivenRoot(given, stateDir, trusted, forgetCommand, reporter);
    // Nothing here asks the repository, so a newer root cannot be checked against the chain: say so.
    if (given.version > trusted.version) {
      reporter.warn(`--root ${given.file} (root v${given.version}) is newer than the root v${trusted.version} trusted in ${stateDir}: not recorded (it was not checked); the next download walks the repository's root chain from v${trusted.version}`);
    }
    return;
  }
  await writeFileAtomic(rootHistoryFile(stateDir, given.version), given.bytes);
  await writeFileAtomic(path.join(stateDir, ROOT_FILE), given.bytes);
}

/** The error for a `--root` that is not in the state's chain, naming the state and how to reset it. */
export function rootNotInChain(given: { file: string; version: number }, stateDir: string, trustedVersion: number, forgetCommand: string, why: string): ProvenantError {
  return new ProvenantError(
    'E_TUF_ROOT_CONFLICT',
    `--root ${given.file} (root v${given.version}) is not in the chain of roots trusted in ${stateDir} (now at v${trustedVersion}): ${why}`,
    {
      exitClass: 'verification',
      file: given.file,
      field: '--root',
      hint: `if the repository was re-created with new keys (ask its owners; otherwise this is an attack), forget the old trust with \`${forgetCommand}\` and download again with --root; if not, drop --root`,
    },
  );
}

/** The bytes of the state's root.json, or undefined when the state has none yet. */
export async function readStateRoot(stateDir: string): Promise<Buffer | undefined> {
  const file = path.join(stateDir, ROOT_FILE);
  try {
    return await readRootBytes(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ProvenantError('E_TUF_ROOT_INVALID', `cannot read the trusted root: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      hint: `check the state directory's permissions, or forget it (\`provenant state forget <repository>\`) and start again with --root`,
      cause: e,
    });
  }
}

export function parseStateRoot(bytes: Buffer, stateDir: string, forgetCommand: string): RootDocument {
  try {
    return parseRoot(bytes);
  } catch (e) {
    throw invalidStateRoot(stateDir, forgetCommand, e);
  }
}

export function invalidStateRoot(stateDir: string, forgetCommand: string, e: unknown): ProvenantError {
  return new ProvenantError('E_TUF_ROOT_INVALID', `the trusted root in ${stateDir} is not valid TUF root metadata: ${(e as Error).message}`, {
    exitClass: 'input',
    file: path.join(stateDir, ROOT_FILE),
    hint: `forget this state (\`${forgetCommand}\`) and start again from a root.json you trust (--root)`,
    cause: e,
  });
}
