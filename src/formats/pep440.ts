/**
 * PEP 440 versions: parse, normalise, compare. Pure, no I/O.
 * The downloader picks "the newest version" with `compareVersions` and `isPrerelease`;
 * the builder names wheels with `normalizeVersion` (what `packaging.version.Version` prints).
 */

// The PEP 440 appendix pattern, anchored and case-insensitive.
const VERSION_RE =
  /^\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\.[0-9]+)*)(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?)(?:\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

export type PreLabel = 'a' | 'b' | 'rc';

export interface Version {
  epoch: number;
  release: number[];
  pre: [PreLabel, number] | undefined;
  post: number | undefined;
  dev: number | undefined;
  /** Local segments: numbers where the segment is all digits, lower-cased strings otherwise. */
  local: (number | string)[] | undefined;
}

const PRE_LABELS: Record<string, PreLabel> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

/** Parses a version; `undefined` when it is not PEP 440. */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION_RE.exec(text);
  const g = m?.groups;
  if (!g) return undefined;
  const numbers = [g.epoch, ...g.release!.split('.'), g.pre_n, g.post_n1, g.post_n2, g.dev_n, ...(g.local?.split(/[-_.]/).filter((s) => /^[0-9]+$/.test(s)) ?? [])];
  // A number past 2^53 does not survive as a JS number (1.99999999999999999999 would equal
  // 1.99999999999999999998 and print as 2e+20): such versions are refused, never misordered.
  if (numbers.some((s) => s !== undefined && !Number.isSafeInteger(Number(s)))) return undefined;
  const num = (s: string | undefined) => (s === undefined ? 0 : Number.parseInt(s, 10));
  const pre = g.pre_l === undefined ? undefined : ([PRE_LABELS[g.pre_l.toLowerCase()]!, num(g.pre_n)] as [PreLabel, number]);
  const post = g.post === undefined ? undefined : num(g.post_n1 ?? g.post_n2);
  const dev = g.dev === undefined ? undefined : num(g.dev_n);
  const local = g.local?.split(/[-_.]/).map((s) => (/^[0-9]+$/.test(s) ? Number.parseInt(s, 10) : s.toLowerCase()));
  return { epoch: num(g.epoch), release: g.release!.split('.').map((s) => Number.parseInt(s, 10)), pre, post, dev, local };
}

export function isValidVersion(text: string): boolean {
  return parseVersion(text) !== undefined;
}

/** The canonical string, e.g. `1.0.0-RC1` → `1.0.0rc1`, `v1.01` → `1.1`. */
export function formatVersion(v: Version): string {
  let s = v.epoch !== 0 ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre) s += `${v.pre[0]}${v.pre[1]}`;
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
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

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpRelease(a: number[], b: number[]): number {
  // Trailing zeros do not count: 1.0 == 1.0.0.
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmpNum(a[i] ?? 0, b[i] ?? 0);
    if (c !== 0) return c;
  }
  return 0;
}

const PRE_RANK: Record<PreLabel, number> = { a: 0, b: 1, rc: 2 };

// Sort keys follow PEP 440: X.devN < X.aN < X.bN < X.rcN < X < X.postN.devM < X.postN, each with
// its own dev ordering, and any local version sorts after the same public version.
function preKey(v: Version): [number, number] {
  if (v.pre === undefined && v.post === undefined && v.dev !== undefined) return [-1, 0];
  if (v.pre === undefined) return [3, 0];
  return [PRE_RANK[v.pre[0]], v.pre[1]];
}

function cmpLocal(a: Version['local'], b: Version['local']): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
    if (typeof x === 'number' && typeof y === 'number') {
      const c = cmpNum(x, y);
      if (c !== 0) return c;
    } else if (typeof x === 'number') return 1; // numeric segments sort after alphanumeric ones
    else if (typeof y === 'number') return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Total order of PEP 440: negative when a < b, 0 when equal (1.0 == 1.0.0), positive when a > b. */
export function compareParsed(a: Version, b: Version): number {
  let c = cmpNum(a.epoch, b.epoch);
  if (c === 0) c = cmpRelease(a.release, b.release);
  if (c === 0) {
    const [pa, na] = preKey(a);
    const [pb, nb] = preKey(b);
    c = cmpNum(pa, pb) || cmpNum(na, nb);
  }
  if (c === 0) c = cmpNum(a.post ?? -1, b.post ?? -1);
  if (c === 0) c = cmpNum(a.dev ?? Number.POSITIVE_INFINITY, b.dev ?? Number.POSITIVE_INFINITY);
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
