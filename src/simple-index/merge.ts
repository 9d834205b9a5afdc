import { ProvenantError, REPORT_BUG_HINT } from '../errors.ts';
import { compareVersions, isValidVersion, normalizeVersion } from '../formats/pep440.ts';
import { normalizeProjectName, parseWheelFileName } from '../formats/pep503.ts';
import type { IndexEntry } from './entry.ts';
import type { ProjectDoc, RootDoc, SimpleFile } from './model.ts';

/**
 * Pure changes to the index state. Each returns a new document and what changed, so the caller
 * can skip the write when nothing did (republishing the same wheel is a no-op).
 */
export interface ProjectMerge {
  doc: ProjectDoc;
  added: string[];
  unchanged: string[];
}

export function addFilesToProject(doc: ProjectDoc, entries: IndexEntry[], now: Date): ProjectMerge {
  const files = [...doc.files];
  const versions = new Set(doc.versions);
  const added: string[] = [];
  const unchanged: string[] = [];
  for (const e of entries) {
    if (normalizeProjectName(e.project) !== normalizeProjectName(doc.name)) {
      throw new ProvenantError('E_INDEX_ENTRY', `${e.fileName} belongs to ${e.project}, not to the page of ${doc.name}`, { exitClass: 'internal', hint: REPORT_BUG_HINT });
    }
    const existing = files.find((f) => f.filename === e.fileName);
    if (existing) {
      if (existing.hashes.sha256 !== e.sha256) {
        throw new ProvenantError(
          'E_INDEX_CONFLICT',
          `the simple index already lists ${e.fileName} with sha256 ${existing.hashes.sha256}, not ${e.sha256}`,
          {
            exitClass: 'conflict',
            file: `simple/${doc.name}/index.json`,
            field: 'files',
            hint: 'releases are immutable: publish the change under a new version',
          },
        );
      }
      unchanged.push(e.fileName);
      continue;
    }
    files.push(fileOf(e, now));
    // Normalised like the version in the wheel's file name (hatchling keeps METADATA's spelling).
    versions.add(isValidVersion(e.version) ? normalizeVersion(e.version) : e.version);
    added.push(e.fileName);
  }
  if (added.length === 0) return { doc, added, unchanged };
  files.sort(compareFiles);
  return { doc: { ...doc, files, versions: [...versions].sort(compareVersionStrings) }, added, unchanged };
}

export function addProjectsToRoot(doc: RootDoc, projects: string[]): { doc: RootDoc; added: string[] } {
  const known = new Set(doc.projects.map((p) => normalizeProjectName(p.name)));
  const added = [...new Set(projects.map(normalizeProjectName))].filter((p) => !known.has(p)).sort(compareCodeUnits);
  if (added.length === 0) return { doc, added };
  const all = [...doc.projects, ...added.map((name) => ({ name }))];
  all.sort((a, b) => compareCodeUnits(normalizeProjectName(a.name), normalizeProjectName(b.name)));
  return { doc: { ...doc, projects: all }, added };
}

// Key order here is the order the JSON is written in: PEP 691 fields first, PEP 700's after.
function fileOf(e: IndexEntry, now: Date): SimpleFile {
  const f: SimpleFile = {
    filename: e.fileName,
    // Percent-encoded because a literal `+` (local versions) reads as a space on S3 website endpoints.
    url: encodeURIComponent(e.fileName),
    hashes: { sha256: e.sha256 },
    ...(e.requiresPython !== undefined ? { 'requires-python': e.requiresPython } : {}),
    'core-metadata': { sha256: e.metadataSha256 },
    // PEP 714's old name, for clients that predate the rename.
    'dist-info-metadata': { sha256: e.metadataSha256 },
    size: e.size,
    'upload-time': (e.uploadTime ?? now).toISOString(),
    yanked: false,
  };
  return f;
}

/** Oldest release first (PEP 440 order), then by file name, so a page reads like a changelog. */
function compareFiles(a: SimpleFile, b: SimpleFile): number {
  const va = parseWheelFileName(a.filename)?.version;
  const vb = parseWheelFileName(b.filename)?.version;
  const byVersion = va !== undefined && vb !== undefined ? compareVersionStrings(va, vb) : 0;
  return byVersion || compareNatural(a.filename, b.filename);
}

/** PEP 440 order; strings that are not PEP 440 (other tools' files) fall back to natural order. */
export function compareVersionStrings(a: string, b: string): number {
  if (isValidVersion(a) && isValidVersion(b)) return compareVersions(a, b) || compareCodeUnits(a, b);
  return compareNatural(a, b);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders `1.9` before `1.10`: digit runs compare as numbers, the rest by code unit. Stable on
 * every platform, unlike locale collation, so re-rendering never reorders a page.
 */
export function compareNatural(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i] as string;
    const y = rb[i] as string;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const n = BigInt(x) - BigInt(y);
      if (n !== 0n) return n < 0n ? -1 : 1;
      return compareCodeUnits(x, y);
    }
    return compareCodeUnits(x, y);
  }
  return ra.length - rb.length;
}
