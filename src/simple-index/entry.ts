import type { BuiltWheel } from '../wheel/types.ts';
import { ProvenantError } from '../errors.ts';
import { isValidProjectName } from '../formats/pep503.ts';
import { sha256Hex } from '../util/hash.ts';

/** One published wheel as the simple index sees it. */
export interface IndexEntry {
  /** Project name in any spelling; the index stores it PEP 503-normalised. */
  project: string;
  version: string;
  /** The wheel's file name; it sits beside the project page, so this is also its relative URL. */
  fileName: string;
  /** sha256 hex of the wheel bytes. */
  sha256: string;
  size: number;
  /** sha256 hex of the exact METADATA bytes served as `<wheel>.metadata` (PEP 658). */
  metadataSha256: string;
  requiresPython?: string | undefined;
  /** When the wheel was published; defaults to the time of the index update. */
  uploadTime?: Date | undefined;
}

export function indexEntryFromWheel(wheel: BuiltWheel, uploadTime?: Date): IndexEntry {
  return {
    project: wheel.normalizedName,
    version: wheel.version,
    fileName: wheel.fileName,
    sha256: sha256Hex(wheel.bytes),
    size: wheel.bytes.byteLength,
    metadataSha256: sha256Hex(wheel.metadata),
    requiresPython: wheel.requiresPython,
    uploadTime,
  };
}

const SHA256 = /^[0-9a-f]{64}$/;
// A file name is one URL path segment beside the page: no separators, no dot-names.
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+!-]*$/;

/** Refuses entries that would put a broken or unsafe link on a page. */
export function checkIndexEntry(e: IndexEntry): void {
  const bad = (field: string, why: string) =>
    new ProvenantError('E_INDEX_ENTRY', `index entry for ${e.fileName || '(no file name)'}: ${field} ${why}`, {
      exitClass: 'input',
      field,
      hint: 'pass the values computed from the built wheel (indexEntryFromWheel)',
    });
  if (!isValidProjectName(e.project)) throw bad('project', `"${e.project}" is not a valid project name (PEP 508)`);
  if (!e.version) throw bad('version', 'is empty');
  if (!FILE_NAME.test(e.fileName)) throw bad('fileName', `"${e.fileName}" is not a plain file name`);
  if (!SHA256.test(e.sha256)) throw bad('sha256', 'must be 64 lowercase hex characters');
  if (!SHA256.test(e.metadataSha256)) throw bad('metadataSha256', 'must be 64 lowercase hex characters');
  if (!Number.isSafeInteger(e.size) || e.size < 0) throw bad('size', 'must be a non-negative integer');
  if (e.uploadTime !== undefined && Number.isNaN(e.uploadTime.getTime())) throw bad('uploadTime', 'is not a valid date');
}

/** A header of a core metadata file (RFC 822 style; only the header block, before the description). */
export function coreMetadataField(metadata: Uint8Array, field: string): string | undefined {
  const text = new TextDecoder().decode(metadata);
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const prefix = `${field.toLowerCase()}:`;
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(prefix));
  return line?.slice(prefix.length).trim();
}
