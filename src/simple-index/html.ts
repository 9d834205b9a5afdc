import { API_VERSION } from './layout.ts';
import type { ProjectDoc, RootDoc, SimpleFile } from './model.ts';

/**
 * PEP 503 HTML pages rendered from the PEP 691 JSON state. Every link is relative, so the same
 * files work under any base URL (a local `provenant serve`, an S3 website endpoint, a CDN path).
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    `    <meta name="pypi:repository-version" content="${API_VERSION}">`,
    `    <title>${escapeHtml(title)}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapeHtml(title)}</h1>`,
    ...body.map((line) => `    ${line}`),
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderRootHtml(doc: RootDoc): string {
  // Root entries hold normalised names, which are also the project directories.
  const links = doc.projects.map((p) => `<a href="${escapeHtml(encodeURIComponent(p.name))}/">${escapeHtml(p.name)}</a><br>`);
  return page('Simple index', links);
}

export function renderProjectHtml(doc: ProjectDoc): string {
  return page(`Links for ${doc.name}`, doc.files.map(fileAnchor));
}

function fileAnchor(f: SimpleFile): string {
  const attrs = [`href="${escapeHtml(`${f.url}#sha256=${f.hashes.sha256}`)}"`];
  if (f['requires-python'] !== undefined) attrs.push(`data-requires-python="${escapeHtml(f['requires-python'])}"`);
  const metadata = metadataAttr(f['core-metadata'] ?? f['dist-info-metadata']);
  if (metadata !== undefined) {
    // PEP 714 renamed the attribute; older pips (< 23.3) only read the PEP 658 name.
    attrs.push(`data-core-metadata="${escapeHtml(metadata)}"`, `data-dist-info-metadata="${escapeHtml(metadata)}"`);
  }
  if (f.yanked !== undefined && f.yanked !== false) {
    attrs.push(f.yanked === true ? 'data-yanked=""' : `data-yanked="${escapeHtml(f.yanked)}"`);
  }
  return `<a ${attrs.join(' ')}>${escapeHtml(f.filename)}</a><br>`;
}

function metadataAttr(value: SimpleFile['core-metadata']): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 'true';
  return `sha256=${value.sha256}`;
}
