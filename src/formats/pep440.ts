/**
 * PEP 440 versions: parse, normalise, compare, exactly as Python's `packaging.version` does. Pure.
 * The downloader picks "the newest version" with `compareVersions` and `isPrerelease`; the
 * builder names wheels with `normalizeVersion` (what `str(packaging.version.Version(...))` prints).
 *
 * The grammar is @renovatebot/pep440's `VERSION_PATTERN` (packaging's regex). The rest of that
 * library cannot be used, as test/wheel/pep440.test.ts ("where @renovatebot/pep440 falls short")
 * shows against packaging: it turns every number into a JS `Number`, so `1.9007199254740993`
 * normalises to `…992` and compares equal to it, and a 300-digit segment prints as `1.1e+300`;
 * it reads local segments such as `1e5` or `Infinity` as numbers (`1.0+1e5` → `1.0+100000`);
 * and its `<`/`>` specifier rules are simplified (`1.0.post2` is not `>1.0.post1` for it).
 * So numbers here are exact BigInts and the normalisation and ordering are our own.
 */
import { VERSION_PATTERN } from '@renovatebot/pep440/lib/version.js';

/**
 * Python's `\s` (str.isspace): JS's `\s` without U+FEFF, plus U+001C–U+001F and U+0085.
 * packaging strips it around a version.
 */
const PY_SPACE = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const VERSION_RE = new RegExp(`^${PY_SPACE}*(?:${VERSION_PATTERN})${PY_SPACE}*$`, 'i');

/**
 * Python's int() refuses decimal strings longer than this (sys.int_info.default_max_str_digits,
 * leading zeros included), so packaging raises on such a version and hatchling cannot build it:
 * not a version here either.
 */
const MAX_DIGITS = 4300;

export type PreLabel = 'a' | 'b' | 'rc';

export interface Version {
  epoch: bigint;
  release: bigint[];
  pre: [PreLabel, bigint] | undefined;
  post: bigint | undefined;
  dev: bigint | undefined;
  /** Local segments: numbers where the segment is all digits, lower-cased strings otherwise. */
  local: (bigint | string)[] | undefined;
}

const PRE_LABELS: Record<string, PreLabel> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

/** Parses a version; `undefined` when it is not PEP 440. */
export function parseVersion(text: string): Version | undefined {
  const g = VERSION_RE.exec(text)?.groups;
  if (!g) return undefined;
  const parts = [g.epoch, g.release, g.pre_n, g.post_n1, g.post_n2, g.dev_n, g.local].flatMap((s) => s?.split(/[._-]/) ?? []);
  if (parts.some((d) => d.length > MAX_DIGITS && /^[0-9]+$/.test(d))) return undefined;
  const num = (s: string | undefined) => (s === undefined ? 0n : BigInt(s));
  const pre = g.pre_l === undefined ? undefined : ([PRE_LABELS[g.pre_l.toLowerCase()]!, num(g.pre_n)] as [PreLabel, bigint]);
  const post = g.post === undefined ? undefined : num(g.post_n1 ?? g.post_n2);
  const dev = g.dev === undefined ? undefined : num(g.dev_n);
  const local = g.local?.split(/[-_.]/).map((s) => (/^[0-9]+$/.test(s) ? BigInt(s) : s.toLowerCase()));
  return { epoch: num(g.epoch), release: g.release!.split('.').map(BigInt), pre, post, dev, local };
}

export function isValidVersion(text: string): boolean {
  return parseVersion(text) !== undefined;
}

/** The canonical string, e.g. `1.0.0-RC1` → `1.0.0rc1`, `v1.01` → `1.1`. */
export function formatVersion(v: Version): string {
  let s = v.epoch !== 0n ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre) s += `${v.pre[0]}${v.pre[1]}`;
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
}

/**
 * One string per PEP 440 equality class (`1.0`, `1.0.0`, `v1`, `1.00` → `1`): the canonical form
 * without the release's trailing zeros, the only thing equal versions still differ in once parsed.
 */
export function equalityKey(v: Version): string {
  const release = [...v.release];
  while (release.length > 1 && release.at(-1) === 0n) release.pop();
  return formatVersion({ ...v, release });
}

/** Normalised form of a version string; throws TypeError when it is not PEP 440. */
export function normalizeVersion(text: string): string {
  const v = parseVersion(text);
  if (!v) throw new TypeError(`not a PEP 440 version: ${JSON.stringify(text)}`);
  return formatVersion(v);
}

/** Pre-releases and developmental releases (what pip skips unless asked). */
export function isPrerelease(v: Version | string): boolean {
  const parsed = typeof v === 'string' ? parseVersion(v) : v;
  if (!parsed) throw new TypeError(`not a PEP 440 version: ${JSON.stringify(v)}`);
  return parsed.pre !== undefined || parsed.dev !== undefined;
}

export function isPostRelease(v: Version): boolean {
  return v.post !== undefined;
}

function cmp<T extends bigint | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpRelease(a: bigint[], b: bigint[]): number {
  // Trailing zeros do not count: 1.0 == 1.0.0.
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmp(a[i] ?? 0n, b[i] ?? 0n);
    if (c !== 0) return c;
  }
  return 0;
}

const PRE_RANK: Record<PreLabel, number> = { a: 0, b: 1, rc: 2 };

// Sort keys follow packaging's _cmpkey: X.devN < X.aN < X.bN < X.rcN < X < X.postN.devM < X.postN,
// each with its own dev ordering, and any local version sorts after the same public version.
function preKey(v: Version): [number, bigint] {
  if (v.pre === undefined && v.post === undefined && v.dev !== undefined) return [-1, 0n];
  if (v.pre === undefined) return [3, 0n];
  return [PRE_RANK[v.pre[0]], v.pre[1]];
}

function cmpLocal(a: Version['local'], b: Version['local']): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      const c = cmp(x, y);
      if (c !== 0) return c;
    } else if (typeof x === 'bigint') return 1; // numeric segments sort after alphanumeric ones
    else if (typeof y === 'bigint') return -1;
    else if (x !== y) return x < y ? -1 : 1; // ASCII only: code units are code points
  }
  return 0;
}

/** Total order of PEP 440: negative when a < b, 0 when equal (1.0 == 1.0.0), positive when a > b. */
export function compareParsed(a: Version, b: Version): number {
  let c = cmp(a.epoch, b.epoch);
  if (c === 0) c = cmpRelease(a.release, b.release);
  if (c === 0) {
    const [pa, na] = preKey(a);
    const [pb, nb] = preKey(b);
    c = cmp(pa, pb) || cmp(na, nb);
  }
  // No post sorts before any post; no dev after any dev.
  if (c === 0) c = cmp(a.post === undefined ? 0 : 1, b.post === undefined ? 0 : 1) || cmp(a.post ?? 0n, b.post ?? 0n);
  if (c === 0) c = cmp(a.dev === undefined ? 1 : 0, b.dev === undefined ? 1 : 0) || cmp(a.dev ?? 0n, b.dev ?? 0n);
  if (c === 0) c = cmpLocal(a.local, b.local);
  return c;
}

/** Compares two version strings; throws TypeError when either is not PEP 440. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa) throw new TypeError(`not a PEP 440 version: ${JSON.stringify(a)}`);
  if (!pb) throw new TypeError(`not a PEP 440 version: ${JSON.stringify(b)}`);
  return compareParsed(pa, pb);
}

/**
 * The newest of some version strings, skipping invalid ones, and pre-releases unless
 * `includePrereleases` or nothing else exists (pip's rule). `undefined` for an empty list.
 */
export function newestVersion(versions: Iterable<string>, opts: { includePrereleases?: boolean } = {}): string | undefined {
  const parsed = [...versions].flatMap((s) => {
    const v = parseVersion(s);
    return v ? [{ s, v }] : [];
  });
  const finals = opts.includePrereleases ? parsed : parsed.filter((p) => !isPrerelease(p.v));
  const pool = finals.length > 0 ? finals : parsed;
  let best: { s: string; v: Version } | undefined;
  for (const p of pool) if (!best || compareParsed(p.v, best.v) > 0) best = p;
  return best?.s;
}
