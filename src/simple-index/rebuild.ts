import { silentReporter, type Reporter } from '../reporter.ts';
import { isProvenantError, ProvenantError } from '../errors.ts';
import { SIMPLE_DIR } from '../formats/layout.ts';
import { normalizeVersion, isValidVersion } from '../formats/pep440.ts';
import { normalizeProjectName, parseWheelFileName } from '../formats/pep503.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { sha256Hex } from '../util/hash.ts';
import { coreMetadataField, type IndexEntry } from './entry.ts';
import { renderProjectHtml, renderRootHtml } from './html.ts';
import { ROOT_JSON_KEY, ROOT_PAGE_KEY, projectJsonKey, projectPageKey } from './layout.ts';
import { addFilesToProject, addProjectsToRoot } from './merge.ts';
import { emptyProjectDoc, emptyRootDoc, parseProjectDoc, parseRootDoc, serializeDoc, type ProjectDoc, type RootDoc } from './model.ts';
import { backoff, sameBytes, syncHtml } from './state-store.ts';

export interface RebuildIndexOptions {
  /** Upload time for files the old state does not know. */
  now?: () => Date;
  maxAttempts?: number;
}

export interface RebuildIndexResult {
  /** Projects listed on the rebuilt root page. */
  projects: string[];
  files: number;
  written: string[];
  /** Wheels left out, with why (e.g. no `.metadata` beside them). */
  skipped: { key: string; reason: string }[];
}

/**
 * Regenerates every index page from the wheels and `.metadata` files in storage: the repair for
 * a lost or corrupt state file, and the way to adopt a directory of wheels. Upload times and
 * unknown keys of files the old state already listed (same name and sha256) are kept; files whose
 * wheel is gone are dropped.
 *
 * Safe beside running publishers: each project's state is read *before* its objects are listed
 * (a publisher writes its wheel before its index entry, so anything the state lists was already
 * there to be listed), and written back by compare-and-swap, starting over on a conflict.
 */
export async function rebuildIndex(storage: Storage, reporter: Reporter = silentReporter, opts: RebuildIndexOptions = {}): Promise<RebuildIndexResult> {
  const now = (opts.now ?? (() => new Date()))();
  const maxAttempts = opts.maxAttempts ?? 30;
  const hashes = new Map<string, { sha256: string; size: number; bytes?: Uint8Array }>();
  const written: string[] = [];
  const skipped: { key: string; reason: string }[] = [];
  let files = 0;

  const dirs = projectDirs(await storage.list(`${SIMPLE_DIR}/`));
  const listed: string[] = [];
  for (const dir of dirs) {
    const project = normalizeProjectName(dir);
    const jsonKey = projectJsonKey(dir);
    for (let attempt = 1; ; attempt++) {
      const current = await storage.get(jsonKey);
      const old = current ? tolerantParse(() => parseProjectDoc(current.bytes, jsonKey)) : undefined;
      const found = await wheelEntries(storage, dir, project, hashes);
      if (attempt === 1) skipped.push(...found.skipped);
      const doc = rebuiltProject(project, found.entries, old, now);
      const bytes = serializeDoc(doc);
      let etag = current?.etag;
      if (!current || !sameBytes(current.bytes, bytes)) {
        try {
          etag = await storage.putIfMatch(jsonKey, bytes, objectPropsFor(jsonKey), current?.etag);
          written.push(jsonKey);
        } catch (e) {
          if (!(isProvenantError(e) && e.code === 'E_CAS_CONFLICT') || attempt >= maxAttempts) throw contended(e, jsonKey, attempt);
          await backoff(attempt);
          continue;
        }
      }
      if (await syncHtml(storage, jsonKey, projectPageKey(dir), { doc, etag }, parseProjectDoc, renderProjectHtml, maxAttempts)) {
        written.push(projectPageKey(dir));
      }
      if (doc.files.length > 0) listed.push(project);
      files += doc.files.length;
      reporter.debug(`index rebuild: ${project}: ${doc.files.length} file(s)`);
      break;
    }
  }

  for (let attempt = 1; ; attempt++) {
    const current = await storage.get(ROOT_JSON_KEY);
    const old = current ? tolerantParse(() => parseRootDoc(current.bytes, ROOT_JSON_KEY)) : undefined;
    const doc: RootDoc = { ...(old ?? emptyRootDoc()), projects: addProjectsToRoot(emptyRootDoc(), listed).doc.projects };
    const bytes = serializeDoc(doc);
    let etag = current?.etag;
    if (!current || !sameBytes(current.bytes, bytes)) {
      try {
        etag = await storage.putIfMatch(ROOT_JSON_KEY, bytes, objectPropsFor(ROOT_JSON_KEY), current?.etag);
        written.push(ROOT_JSON_KEY);
      } catch (e) {
        if (!(isProvenantError(e) && e.code === 'E_CAS_CONFLICT') || attempt >= maxAttempts) throw contended(e, ROOT_JSON_KEY, attempt);
        await backoff(attempt);
        continue;
      }
    }
    if (await syncHtml(storage, ROOT_JSON_KEY, ROOT_PAGE_KEY, { doc, etag }, parseRootDoc, renderRootHtml, maxAttempts)) written.push(ROOT_PAGE_KEY);
    break;
  }
  for (const s of skipped) reporter.warn(`index rebuild: skipped ${s.key}: ${s.reason}`);
  return { projects: listed.sort(), files, written, skipped };
}

/** `simple/<dir>/…` directories that hold wheels or a state file. */
function projectDirs(keys: string[]): string[] {
  const dirs = new Set<string>();
  for (const k of keys) {
    const parts = k.split('/');
    if (parts.length === 3 && (parts[2]?.endsWith('.whl') || parts[2] === 'index.json')) dirs.add(parts[1] as string);
  }
  return [...dirs].sort();
}

async function wheelEntries(
  storage: Storage,
  dir: string,
  project: string,
  hashes: Map<string, { sha256: string; size: number }>,
): Promise<{ entries: IndexEntry[]; skipped: { key: string; reason: string }[] }> {
  const keys = new Set(await storage.list(`${SIMPLE_DIR}/${dir}/`));
  const entries: IndexEntry[] = [];
  const skipped: { key: string; reason: string }[] = [];
  for (const key of [...keys].sort()) {
    const fileName = key.slice(`${SIMPLE_DIR}/${dir}/`.length);
    if (!fileName.endsWith('.whl') || fileName.includes('/')) continue;
    const parsed = parseWheelFileName(fileName);
    if (!parsed || normalizeProjectName(parsed.name) !== project) {
      skipped.push({ key, reason: `not a wheel file name of project ${project}` });
      continue;
    }
    if (!keys.has(`${key}.metadata`)) {
      skipped.push({ key, reason: 'no PEP 658 .metadata file beside it (publish writes both)' });
      continue;
    }
    const wheel = await hashOf(storage, key, hashes);
    const metadata = await storage.get(`${key}.metadata`);
    if (!wheel || !metadata) continue; // removed while we listed
    entries.push({
      project,
      version: isValidVersion(parsed.version) ? normalizeVersion(parsed.version) : parsed.version,
      fileName,
      sha256: wheel.sha256,
      size: wheel.size,
      metadataSha256: sha256Hex(metadata.bytes),
      requiresPython: coreMetadataField(metadata.bytes, 'Requires-Python'),
    });
  }
  return { entries, skipped };
}

// Wheels are immutable, so a retry need not hash them again.
async function hashOf(storage: Storage, key: string, cache: Map<string, { sha256: string; size: number }>) {
  const hit = cache.get(key);
  if (hit) return hit;
  const obj = await storage.get(key);
  if (!obj) return undefined;
  const h = { sha256: sha256Hex(obj.bytes), size: obj.bytes.byteLength };
  cache.set(key, h);
  return h;
}

function rebuiltProject(project: string, entries: IndexEntry[], old: ProjectDoc | undefined, now: Date): ProjectDoc {
  const base = { ...(old ?? emptyProjectDoc(project)), name: project, files: [], versions: [] };
  const fresh = addFilesToProject(base, entries, now).doc;
  // For a file still there with the same bytes, keep what only the old state knew (upload time,
  // yanked, keys from newer writers); everything derivable from the objects is taken afresh.
  const files = fresh.files.map((f) => {
    const was = old?.files.find((o) => o.filename === f.filename && o.hashes.sha256 === f.hashes.sha256);
    if (!was) return f;
    const { 'upload-time': _t, yanked: _y, ...facts } = f;
    return { ...f, ...was, ...facts };
  });
  return { ...fresh, files };
}

function tolerantParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (isProvenantError(e) && e.code === 'E_INDEX_CORRUPT') return undefined;
    throw e;
  }
}

function contended(e: unknown, key: string, attempt: number): unknown {
  if (!(isProvenantError(e) && e.code === 'E_CAS_CONFLICT')) return e;
  return new ProvenantError('E_INDEX_CONTENDED', `gave up rebuilding ${key} after ${attempt} compare-and-swap conflicts`, {
    exitClass: 'conflict',
    file: key,
    hint: 'other publishers kept changing the index; run the rebuild again',
    cause: e,
  });
}
