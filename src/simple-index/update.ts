import { silentReporter, type Reporter } from '../reporter.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import type { Storage } from '../storage/storage.ts';
import { checkIndexEntry, type IndexEntry } from './entry.ts';
import { renderProjectHtml, renderRootHtml } from './html.ts';
import { ROOT_JSON_KEY, ROOT_PAGE_KEY, projectJsonKey, projectPageKey } from './layout.ts';
import { addFilesToProject, addProjectsToRoot } from './merge.ts';
import { emptyProjectDoc, emptyRootDoc, parseProjectDoc, parseRootDoc, type ProjectDoc, type RootDoc } from './model.ts';
import { casUpdate, syncHtml } from './state-store.ts';

export interface UpdateIndexOptions {
  /** Upload time for entries that carry none. */
  now?: () => Date;
  /** Compare-and-swap attempts per document before giving up (default 30). */
  maxAttempts?: number;
}

export interface ProjectIndexResult {
  project: string;
  added: string[];
  unchanged: string[];
}

export interface IndexUpdateResult {
  projects: ProjectIndexResult[];
  /** Projects that were new to the root page. */
  rootAdded: string[];
  /** Keys whose bytes this call changed (JSON state and HTML pages). */
  written: string[];
}

/**
 * Adds wheels to their project pages and the projects to the root page.
 *
 * Each page's PEP 691 JSON is the state: read it, add the files, compare-and-swap it on the etag
 * read, and on a conflict start over from the newer document, so concurrent publishers never
 * lose each other's entries. The HTML is derived; after writing it we re-read the JSON and
 * re-render if another publisher moved it meanwhile, so the last HTML written always matches the
 * final state. Project pages go before the root so the root never links to a missing page.
 * Adding an entry that is already there with the same sha256 writes nothing.
 */
export async function updateIndex(
  storage: Storage,
  entries: IndexEntry[],
  reporter: Reporter = silentReporter,
  opts: UpdateIndexOptions = {},
): Promise<IndexUpdateResult> {
  const now = (opts.now ?? (() => new Date()))();
  const maxAttempts = opts.maxAttempts ?? 30;
  entries.forEach(checkIndexEntry);
  const byProject = new Map<string, IndexEntry[]>();
  for (const e of entries) {
    const p = normalizeProjectName(e.project);
    byProject.set(p, [...(byProject.get(p) ?? []), e]);
  }
  const written: string[] = [];
  const projects: ProjectIndexResult[] = [];
  for (const project of [...byProject.keys()].sort()) {
    const jsonKey = projectJsonKey(project);
    const res = await casUpdate<ProjectDoc, { added: string[]; unchanged: string[] }>({
      storage,
      key: jsonKey,
      parse: parseProjectDoc,
      empty: () => emptyProjectDoc(project),
      change: (doc) => {
        const m = addFilesToProject(doc, byProject.get(project) ?? [], now);
        return { doc: m.doc, changed: m.added.length > 0, result: { added: m.added, unchanged: m.unchanged } };
      },
      maxAttempts,
      reporter,
    });
    if (res.wrote) written.push(jsonKey);
    if (await syncHtml(storage, jsonKey, projectPageKey(project), res, parseProjectDoc, renderProjectHtml, maxAttempts)) {
      written.push(projectPageKey(project));
    }
    projects.push({ project, ...res.result });
    reporter.debug(`index: ${project}: ${res.result.added.length} added, ${res.result.unchanged.length} already listed`);
  }

  const root = await casUpdate<RootDoc, string[]>({
    storage,
    key: ROOT_JSON_KEY,
    parse: parseRootDoc,
    empty: emptyRootDoc,
    change: (doc) => {
      const m = addProjectsToRoot(doc, [...byProject.keys()]);
      return { doc: m.doc, changed: m.added.length > 0, result: m.added };
    },
    maxAttempts,
    reporter,
  });
  if (root.wrote) written.push(ROOT_JSON_KEY);
  if (byProject.size > 0 && (await syncHtml(storage, ROOT_JSON_KEY, ROOT_PAGE_KEY, root, parseRootDoc, renderRootHtml, maxAttempts))) {
    written.push(ROOT_PAGE_KEY);
  }
  return { projects, rootAdded: root.result, written };
}
