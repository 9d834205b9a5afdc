import { isProvenantError } from '../errors.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { metadataKey } from '../tuf/sign.ts';
import { trustAnchorOf, type SignerSource } from '../tuf/signer-source.ts';
import type { TrustAnchor } from '../tuf/trusted-state.ts';
import { collectStatusFacts, type CollectOptions } from './collect.ts';
import { contentDigestOf, renderStatusPages, type HtmlOptions, type RenderedPage } from './html.ts';
import { STATUS_DIR, projectPageKey } from './layout.ts';
import { buildStatusModel, type StatusModel } from './model.ts';

/** Reads, verifies and arranges: the status model of a repository as it stands now. */
export async function statusModel(storage: Storage, opts: CollectOptions & { now?: () => Date }): Promise<StatusModel> {
  const facts = await collectStatusFacts(storage, opts);
  return buildStatusModel(facts, (opts.now ?? (() => new Date()))());
}

export interface UpdatePagesOptions {
  anchor?: TrustAnchor | undefined;
  /** Projects whose page is rewritten (those just published); projects without a page get one too. */
  projects: readonly string[];
  now?: () => Date;
  html?: HtmlOptions;
  /** Regenerations when another publisher commits meanwhile (default 3). */
  maxAttempts?: number;
}

/**
 * Keeps the repository's status pages current after a commit: the overview and the pages of the
 * given projects (plus any project that has none yet), each written only when its content changed
 * (the generation time aside), project pages before the overview that links to them. If
 * timestamp.json moved while the pages were made (a concurrent publisher), they are made again from
 * the newer state, so the last pages written describe the newest commit.
 */
export async function updateStatusPages(storage: Storage, opts: UpdatePagesOptions, reporter: Reporter = silentReporter): Promise<{ written: string[] }> {
  const wanted = new Set(opts.projects.map(normalizeProjectName));
  const withPage = new Set((await storage.list(`${STATUS_DIR}/`)).filter((k) => k.endsWith('.html')));
  const written = new Set<string>();
  const attempts = opts.maxAttempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const model = await statusModel(storage, {
      anchor: opts.anchor,
      details: (all) => all.filter((p) => wanted.has(p) || !withPage.has(projectPageKey(p))),
      ...(opts.now ? { now: opts.now } : {}),
    });
    for (const key of await writeChangedPages(storage, renderStatusPages(model, opts.html))) written.add(key);
    const version = model.roles.find((r) => r.role === 'timestamp')?.version;
    const current = await timestampVersion(storage);
    if (current === undefined || String(current) === version || attempt >= attempts) break;
    reporter.debug(`status pages: timestamp moved from version ${version} to ${current} while they were made; making them again`);
  }
  return { written: [...written] };
}

/** Writes each page whose content differs from the stored one; the overview (first) goes last. */
export async function writeChangedPages(storage: Storage, pages: readonly RenderedPage[]): Promise<string[]> {
  const written: string[] = [];
  for (const page of [...pages.slice(1), ...pages.slice(0, 1)]) {
    const existing = await storage.get(page.key);
    if (existing && contentDigestOf(new TextDecoder().decode(existing.bytes)) === page.contentDigest) continue;
    await storage.put(page.key, new TextEncoder().encode(page.html), objectPropsFor(page.key));
    written.push(page.key);
  }
  return written;
}

/** timestamp.json's version as stored, unverified: only a signal that a commit happened. */
async function timestampVersion(storage: Storage): Promise<number | undefined> {
  const obj = await storage.get(metadataKey('timestamp'));
  if (!obj) return undefined;
  try {
    const v = (JSON.parse(new TextDecoder().decode(obj.bytes)) as { signed?: { version?: unknown } }).signed?.version;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface StatusPagesOutcome {
  written: string[];
  /** Set when the pages could not be updated; the commit before them stands. */
  warning?: { code: 'E_PUBLISH_STATUS_PAGE'; message: string; hint: string };
}

/**
 * updateStatusPages after a commit (publish, refresh), trusting what the signer source trusts.
 * The commit already stands, so a failure here is a warning with a code, never an error: the
 * pages are a view, and the same command run again brings them up to date.
 */
export async function keepStatusPages(
  storage: Storage,
  source: SignerSource,
  opts: Omit<UpdatePagesOptions, 'anchor'>,
  reporter: Reporter = silentReporter,
): Promise<StatusPagesOutcome> {
  try {
    const res = await updateStatusPages(storage, { ...opts, anchor: await trustAnchorOf(source) }, reporter);
    reporter.debug(`status pages: ${res.written.length > 0 ? `wrote ${res.written.join(', ')}` : 'unchanged'}`);
    return res;
  } catch (e) {
    const warning = {
      code: 'E_PUBLISH_STATUS_PAGE' as const,
      message: `the commit stands, but the status pages could not be updated: ${isProvenantError(e) ? e.describe() : (e as Error).message}`,
      hint: 'run the same command again: it changes no TUF metadata and rewrites the pages',
    };
    reporter.warn(`${warning.code}: ${warning.message} — fix: ${warning.hint}`);
    return { written: [], warning };
  }
}
