import { METADATA_DIR, SIMPLE_DIR } from '../formats/layout.ts';
import type { ObjectProps } from './storage.ts';

/**
 * Content-Type and Cache-Control for each kind of repository object, so a bucket (or a directory
 * behind a web server) is servable as is. Shared by every backend and every writer (publish, index),
 * which keeps a CDN's view of the repository consistent whoever wrote an object.
 *
 * Caching follows the publish protocol: objects whose bytes can never change under their name
 * (consistent-snapshot metadata and targets, wheels, attestations) may be cached forever; the
 * commit point (timestamp.json) and the index pages, which move with every release, only briefly,
 * so a client sees a new release within a minute and never a stale commit point for long.
 */
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
export const CACHE_SHORT = 'public, max-age=60, must-revalidate';

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  simpleJson: 'application/vnd.pypi.simple.v1+json',
  json: 'application/json',
  wheel: 'application/octet-stream',
  coreMetadata: 'text/plain; charset=utf-8',
  yaml: 'application/yaml',
  binary: 'application/octet-stream',
} as const;

// `<sha256>.<name>`: a consistent-snapshot target, named by its own digest.
const HASH_PREFIXED = /^[0-9a-f]{64}\./;
// `N.<role>.json`: versioned (consistent-snapshot) TUF metadata.
const VERSIONED_METADATA = /^[1-9][0-9]*\.[^/]+\.json$/;

export function objectPropsFor(key: string): ObjectProps {
  const slash = key.lastIndexOf('/');
  const dir = key.slice(0, slash + 1);
  const name = key.slice(slash + 1);
  const immutable =
    HASH_PREFIXED.test(name) ||
    (dir === `${METADATA_DIR}/` && VERSIONED_METADATA.test(name)) ||
    name.endsWith('.whl') ||
    name.endsWith('.whl.metadata') ||
    key.startsWith('attestations/') ||
    key.startsWith('pointers/');
  return { contentType: contentTypeFor(key, name), cacheControl: immutable ? CACHE_IMMUTABLE : CACHE_SHORT };
}

function contentTypeFor(key: string, name: string): string {
  if (name.endsWith('.whl')) return CONTENT_TYPES.wheel;
  if (name.endsWith('.whl.metadata')) return CONTENT_TYPES.coreMetadata;
  if (name.endsWith('.html')) return CONTENT_TYPES.html;
  if (name.endsWith('.json')) return key.startsWith(`${SIMPLE_DIR}/`) ? CONTENT_TYPES.simpleJson : CONTENT_TYPES.json;
  if (name.endsWith('.pointer') || name.endsWith('.yaml') || name.endsWith('.yml')) return CONTENT_TYPES.yaml;
  return CONTENT_TYPES.binary;
}
