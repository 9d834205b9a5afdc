import { SIMPLE_DIR, wheelKey } from '../formats/layout.ts';

/**
 * Where the simple index's objects live. The JSON file beside each HTML page is the index's
 * state (read, changed, compare-and-swapped); the HTML is rendered from it.
 */
export const ROOT_PAGE_KEY = `${SIMPLE_DIR}/index.html`;
export const ROOT_JSON_KEY = `${SIMPLE_DIR}/index.json`;

/** `project` must already be PEP 503-normalised: it is a URL path segment. */
export function projectPageKey(project: string): string {
  return `${SIMPLE_DIR}/${project}/index.html`;
}

export function projectJsonKey(project: string): string {
  return `${SIMPLE_DIR}/${project}/index.json`;
}

/** PEP 658: the wheel's METADATA file, served at the wheel's URL plus `.metadata`. */
export function wheelMetadataKey(project: string, wheelFile: string): string {
  return `${wheelKey(project, wheelFile)}.metadata`;
}

export const SIMPLE_JSON_CONTENT_TYPE = 'application/vnd.pypi.simple.v1+json';
export const SIMPLE_HTML_CONTENT_TYPE = 'application/vnd.pypi.simple.v1+html';
export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';
/** The API version these pages implement: PEP 691 JSON plus PEP 700's `versions`, `size`, `upload-time`. */
export const API_VERSION = '1.1';
