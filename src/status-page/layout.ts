/**
 * Where the status pages live in a repository. Pages link to each other and to repository
 * objects by relative URLs naming files (never a bare directory), so the same bytes work from an
 * S3 REST or website endpoint, CloudFront with or without the index rewrite, `provenant serve`,
 * and file:// — none of them needs to map `dir/` to `dir/index.html` here.
 */
export const OVERVIEW_PAGE_KEY = 'index.html';
export const STATUS_DIR = 'status';

/** `project` must be PEP 503-normalised: it becomes a file name. */
export function projectPageKey(project: string): string {
  return `${STATUS_DIR}/${project}.html`;
}

/** A relative URL from the page at `fromKey` to the object at `toKey` (both repository keys). */
export function relativeHref(fromKey: string, toKey: string): string {
  const depth = fromKey.split('/').length - 1;
  return '../'.repeat(depth) + toKey.split('/').map(encodeURIComponent).join('/');
}
