/**
 * PEP 440 version specifiers (`>=3.9,<4`): parse, print the way `packaging.specifiers.SpecifierSet`
 * prints them (sorted, comma-joined, no spaces), and test membership for the wheel tag. Pure.
 */
import { compareParsed, formatVersion, parseVersion } from '../formats/pep440.ts';
import type { Version } from '../formats/pep440.ts';
import { codePointCompare } from '../util/code-point-order.ts';

export type SpecifierOp = '===' | '==' | '!=' | '~=' | '<=' | '>=' | '<' | '>';

export interface Specifier {
  op: SpecifierOp;
  /** As written (whitespace removed). */
  version: string;
}

const SPEC_RE = /^\s*(===|==|!=|~=|<=|>=|<|>)\s*(\S+?)\s*$/;

/** Parses one specifier; a string error message when it is invalid. */
export function parseSpecifier(text: string): Specifier | string {
  const m = SPEC_RE.exec(text);
  if (!m) return `invalid specifier ${JSON.stringify(text.trim())}`;
  const op = m[1] as SpecifierOp;
  const version = m[2]!;
  if (op === '===') return /^[^\s;)]+$/.test(version) ? { op, version } : `invalid specifier ${JSON.stringify(text.trim())}`;
  const wildcard = version.endsWith('.*');
  const base = wildcard ? version.slice(0, -2) : version;
  const parsed = parseVersion(base);
  const bad = `invalid version ${JSON.stringify(version)} in specifier ${JSON.stringify(text.trim())}`;
  if (!parsed || /\s/.test(base)) return bad;
  if (wildcard && (op !== '==' && op !== '!=')) return bad;
  if (wildcard && parsed.local) return bad;
  if ((op === '~=' || op === '<=' || op === '>=' || op === '<' || op === '>') && parsed.local) return bad;
  if (op === '~=' && parsed.release.length < 2) return bad;
  return { op, version };
}

/** A comma-separated specifier list; `[]` for an empty string. Returns an error message when invalid. */
export function parseSpecifierSet(text: string): Specifier[] | string {
  if (text.trim() === '') return [];
  const specs: Specifier[] = [];
  for (const part of text.split(',')) {
    const s = parseSpecifier(part);
    if (typeof s === 'string') return s;
    specs.push(s);
  }
  return specs;
}

/** `SpecifierSet.__str__`: unique `op+version` strings in code-point order joined by `,`. */
export function formatSpecifierSet(specs: readonly Specifier[]): string {
  return [...new Set(specs.map((s) => `${s.op}${s.version}`))].sort(codePointCompare).join(',');
}

function publicOf(v: Version): Version {
  return { ...v, local: undefined };
}

function prefixMatches(candidate: Version, prefix: Version): boolean {
  if (candidate.epoch !== prefix.epoch) return false;
  const n = prefix.release.length;
  for (let i = 0; i < n; i++) if ((candidate.release[i] ?? 0n) !== prefix.release[i]) return false;
  return true;
}

const parsedSpecVersions = new WeakMap<Specifier, Version>();

function specVersion(spec: Specifier): Version {
  let v = parsedSpecVersions.get(spec);
  if (!v) {
    v = parseVersion(spec.version.endsWith('.*') ? spec.version.slice(0, -2) : spec.version)!;
    parsedSpecVersions.set(spec, v);
  }
  return v;
}

function matches(candidate: Version, spec: Specifier): boolean {
  const wildcard = spec.version.endsWith('.*');
  const v = specVersion(spec);
  switch (spec.op) {
    case '==':
      return wildcard ? prefixMatches(candidate, v) : compareParsed(v.local ? candidate : publicOf(candidate), v) === 0;
    case '!=':
      return !matches(candidate, { op: '==', version: spec.version });
    case '~=': {
      const prefix = { ...v, release: v.release.slice(0, -1), pre: undefined, post: undefined, dev: undefined };
      return compareParsed(candidate, v) >= 0 && prefixMatches(candidate, prefix);
    }
    case '<=':
      return compareParsed(publicOf(candidate), v) <= 0;
    case '>=':
      return compareParsed(publicOf(candidate), v) >= 0;
    case '<':
      return compareParsed(candidate, v) < 0;
    case '>':
      return compareParsed(publicOf(candidate), v) > 0;
    case '===':
      throw new TypeError('=== compares text, not versions');
  }
}

/** Whether a final-release version satisfies every specifier (pre-releases are never asked about here). */
export function specifierSetContains(specs: readonly Specifier[], version: string | Version): boolean {
  const candidate = typeof version === 'string' ? parseVersion(version) : version;
  // `===` compares the text as given (packaging: a string item is not normalised first).
  const text = (typeof version === 'string' ? version : formatVersion(version)).toLowerCase();
  return specs.every((s) => (s.op === '===' ? text === s.version.toLowerCase() : candidate !== undefined && matches(candidate, s)));
}
