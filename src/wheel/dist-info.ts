/**
 * The `.dist-info` files, each rendered exactly as hatchling 1.33 renders it: METADATA (core
 * metadata 2.4 or 2.5; identical apart from the version line while no import names are
 * declared), WHEEL, entry_points.txt and RECORD. Pure: metadata in, text out.
 */
import { hash } from 'node:crypto';
import type { CoreMetadata } from './project-metadata.ts';
import { splitLines } from './project-metadata.ts';
import { codePointCompare } from '../util/code-point-order.ts';

/**
 * The Generator line. provenant writes the line hatchling writes because byte-identity with
 * hatchling's wheel is the point (anyone can rebuild with hatchling and compare digests);
 * the provenance attestation, not this line, says which tool actually built the wheel.
 */
export const DEFAULT_GENERATOR = 'hatchling 1.33.0';

export function renderMetadata(m: CoreMetadata, metadataVersion: '2.4' | '2.5'): string {
  let s = `Metadata-Version: ${metadataVersion}\nName: ${m.rawName}\nVersion: ${m.originalVersion}\n`;
  if (m.summary) s += `Summary: ${m.summary}\n`;
  for (const [label, url] of m.urls) s += `Project-URL: ${label}, ${url}\n`;
  if (m.authorNames.length > 0) s += `Author: ${m.authorNames.join(', ')}\n`;
  if (m.authorEmails.length > 0) s += `Author-email: ${m.authorEmails.join(', ')}\n`;
  if (m.maintainerNames.length > 0) s += `Maintainer: ${m.maintainerNames.join(', ')}\n`;
  if (m.maintainerEmails.length > 0) s += `Maintainer-email: ${m.maintainerEmails.join(', ')}\n`;
  if (m.license) {
    // Continuation lines are indented by len("License: ") - 1 spaces.
    s += 'License: ';
    splitLines(m.license).forEach((line, i) => (s += i === 0 ? `${line}\n` : `        ${line}\n`));
  }
  if (m.licenseExpression) s += `License-Expression: ${m.licenseExpression}\n`;
  for (const f of m.licenseFiles) s += `License-File: ${f}\n`;
  if (m.keywords.length > 0) s += `Keywords: ${m.keywords.join(',')}\n`;
  for (const c of m.classifiers) s += `Classifier: ${c}\n`;
  if (m.requiresPython) s += `Requires-Python: ${m.requiresPython}\n`;
  for (const d of m.dependencies) s += `Requires-Dist: ${d}\n`;
  for (const [extra, deps] of m.optionalDependencies) {
    s += `Provides-Extra: ${extra}\n`;
    const quoted = pythonRepr(extra);
    for (const dep of deps) {
      const semi = dep.indexOf(';');
      if (semi >= 0) s += `Requires-Dist: ${dep.slice(0, semi)}; (${dep.slice(semi + 1).trim()}) and extra == ${quoted}\n`;
      else if (dep.includes('@ ')) s += `Requires-Dist: ${dep} ; extra == ${quoted}\n`;
      else s += `Requires-Dist: ${dep}; extra == ${quoted}\n`;
    }
  }
  if (m.readme) s += `Description-Content-Type: ${m.readmeContentType}\n\n${m.readme}`;
  return s;
}

/** Python's repr() of a str, for the names that reach it (ASCII, no backslashes). */
function pythonRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replaceAll("'", "\\'")}'`;
}

/** `py2.py3-none-any` → its tag set, sorted, as packaging.tags.parse_tag + sorted() give. */
export function expandTag(tag: string): string[] {
  const [py, abi, plat] = tag.split('-') as [string, string, string];
  const out: string[] = [];
  for (const a of py.split('.')) for (const b of abi.split('.')) for (const c of plat.split('.')) out.push(`${a}-${b}-${c}`);
  return [...new Set(out)].sort(codePointCompare);
}

export function renderWheelFile(tag: string, generator = DEFAULT_GENERATOR): string {
  let s = `Wheel-Version: 1.0\nGenerator: ${generator}\nRoot-Is-Purelib: true\n`;
  for (const t of expandTag(tag)) s += `Tag: ${t}\n`;
  return s;
}

/** entry_points.txt, or '' when the project declares none (then the file is not written). */
export function renderEntryPoints(m: CoreMetadata): string {
  let s = '';
  if (m.scripts.length > 0) s += `\n[console_scripts]\n${m.scripts.map(([n, r]) => `${n} = ${r}\n`).join('')}`;
  if (m.guiScripts.length > 0) s += `\n[gui_scripts]\n${m.guiScripts.map(([n, r]) => `${n} = ${r}\n`).join('')}`;
  for (const [group, eps] of m.entryPoints) s += `\n[${group}]\n${eps.map(([n, r]) => `${n} = ${r}\n`).join('')}`;
  return s.replace(/^\s+/, '');
}

export interface RecordRow {
  path: string;
  /** `sha256=<urlsafe b64, no padding>` or '' for RECORD itself. */
  hash: string;
  size: string;
}

/** PEP 376/427 RECORD hash of some bytes: urlsafe base64 of the sha256, padding stripped. */
export function recordHash(data: Uint8Array): string {
  return `sha256=${hash('sha256', data, 'base64url')}`;
}

function csvField(v: string): string {
  // Python's csv.writer with QUOTE_MINIMAL: quote when the delimiter, quote char or a line break appears.
  return /[,"\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function renderRecord(rows: readonly RecordRow[]): string {
  return rows.map((r) => `${csvField(r.path)},${csvField(r.hash)},${csvField(r.size)}\n`).join('');
}
