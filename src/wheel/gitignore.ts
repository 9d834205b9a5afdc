/**
 * gitignore-style pattern lists with the exact semantics hatchling gets from Python's
 * `pathspec.GitIgnoreSpec`, which differ from git's (and from the `ignore` npm package) in one
 * way that changes wheels: a later file-level pattern can override a match that came from a
 * parent directory (`/pkg` then `!/pkg/skip.py` leaves skip.py out of an include list).
 *
 * Each pattern is matched segment by segment as pathspec's regex would match it (same result,
 * same choice among several ways to match), with memoisation instead of backtracking: as one
 * regex, three `**` segments took minutes on a deep path. A match through a parent directory
 * ("dir mark") has priority 1, a match of the path itself priority 2. Walking the patterns in order, a match replaces the
 * current verdict when it is a positive directory match or its priority is at least the
 * current one. Pure.
 */

export interface CompiledPattern {
  /** undefined: no match; else whether it matched through a parent directory (a "dir mark"). */
  match(path: string): { dirMark: boolean } | undefined;
  /** true: a match selects the path; false: a match (`!pattern`) deselects it. */
  include: boolean;
}

export class GitignorePatternError extends Error {}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * One path segment of a glob (no `/`), fnmatch-like with FNM_PATHNAME, as the regex sources of
 * the fixed-width pieces between its runs of `*`; `undefined` for an unclosed `[`.
 */
function translateSegment(glob: string): string[] | undefined {
  const pieces = [''];
  let escape = false;
  for (let i = 0; i < glob.length; ) {
    const ch = glob[i++]!;
    if (escape) {
      escape = false;
      pieces[pieces.length - 1] += escapeRegex(ch);
    } else if (ch === '\\') escape = true;
    else if (ch === '*') {
      if (pieces[pieces.length - 1] !== '' || pieces.length === 1) pieces.push('');
    } else if (ch === '?') pieces[pieces.length - 1] += '[^/]';
    else if (ch === '[') {
      let j = i;
      if (j < glob.length && (glob[j] === '!' || glob[j] === '^')) j++;
      if (j < glob.length && glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) return undefined; // git discards patterns with broken ranges
      j++;
      let expr = '[';
      if (glob[i] === '!' || glob[i] === '^') {
        expr += '^';
        i++;
      }
      expr += glob.slice(i, j).replaceAll('\\', '\\\\');
      pieces[pieces.length - 1] += expr;
      i = j;
    } else pieces[pieces.length - 1] += escapeRegex(ch);
  }
  if (escape) throw new GitignorePatternError(`pattern ends with an escape character: ${JSON.stringify(glob)}`);
  return pieces;
}

type SegmentTest = (segment: string) => boolean;

/**
 * A segment glob as a matcher that cannot backtrack: the pieces between `*` each match a fixed
 * number of characters, so the leftmost place for each middle piece is always a right one
 * (the classic wildcard algorithm, O(length × pattern)). A regex of the whole glob took time
 * exponential in its `*` count on a long name. `undefined` when a piece is not a valid class
 * (a range like `[z-a]`): git matches nothing with it.
 */
function segmentTest(glob: string): SegmentTest | undefined {
  const pieces = translateSegment(glob);
  if (pieces === undefined) return undefined;
  let res: RegExp[];
  try {
    res = pieces.map((p, i) => new RegExp(i === pieces.length - 1 ? `(?:${p})$` : p, 'sy'));
  } catch {
    return undefined;
  }
  const nonEmpty = glob === '*';
  if (res.length === 1) return (s) => ((res[0]!.lastIndex = 0), res[0]!.test(s));
  return (s) => {
    if (nonEmpty && s.length === 0) return false;
    const first = res[0]!;
    first.lastIndex = 0;
    if (!first.test(s)) return false;
    let pos = first.lastIndex;
    for (let k = 1; k < res.length; k++) {
      const re = res[k]!;
      let found = false;
      for (let at = pos; at <= s.length && !found; at++) {
        re.lastIndex = at;
        found = re.test(s);
      }
      if (!found) return false;
      pos = re.lastIndex;
    }
    return true;
  };
}

/**
 * Pattern segments after gitignore normalisation: a leading `/` anchors; a single segment
 * (optionally dir-only) floats at any depth (`**` in front); a trailing `/` becomes `**`.
 */
function normalizeSegments(p: string, line: string): { segs: string[]; isDirPattern: boolean } {
  const segs = p.split('/');
  const isDirPattern = segs[segs.length - 1] === '';
  if (segs[0] === '') segs.shift();
  else if (segs.length === 1 || (segs.length === 2 && segs[1] === '')) {
    if (segs[0] !== '**') segs.unshift('**');
  }
  if (segs.length === 0) throw new GitignorePatternError(`pattern normalises to nothing: ${JSON.stringify(line)}`);
  if (segs[segs.length - 1] === '') segs[segs.length - 1] = '**';
  for (let i = segs.length - 1; i > 0; i--) if (segs[i - 1] === '**' && segs[i] === '**') segs.splice(i, 1);
  return { segs, isDirPattern };
}

/** Per pattern, per segment: `**`, a segment test, or `null` for a segment git discards. */
type SegmentMatcher = '**' | SegmentTest | null;

/**
 * Whether some path below a directory could match one of these (positive) patterns, with the
 * patterns compiled once. Used to skip walking directories an include list can never reach;
 * answers `true` whenever unsure.
 */
export function compileDirectoryFilter(lines: readonly string[]): (dir: string) => boolean {
  const patterns: SegmentMatcher[][] = [];
  for (const line of lines) {
    const p = line.endsWith('\\ ') ? line : line.trimEnd();
    if (p === '' || p.startsWith('#') || p === '/' || p.startsWith('!')) continue;
    patterns.push(normalizeSegments(p, line).segs.map((seg) => {
      if (seg === '**') return '**';
      return segmentTest(seg) ?? null;
    }));
  }
  return (dir) => {
    const dirSegs = dir.split('/').filter(Boolean);
    for (const segs of patterns) {
      let possible = true;
      for (let i = 0; i < segs.length && i < dirSegs.length; i++) {
        const seg = segs[i]!;
        if (seg === '**') return true;
        // null: a pattern git discards matches nothing
        if (seg === null || !seg(dirSegs[i]!)) {
          possible = false;
          break;
        }
      }
      if (possible) return true;
    }
    return false;
  };
}

export function directoryMayContainMatches(lines: readonly string[], dir: string): boolean {
  return compileDirectoryFilter(lines)(dir);
}

/** Compiles one line; `undefined` for blank lines, comments, `/` and patterns git ignores. */
export function compileGitignorePattern(line: string): CompiledPattern | undefined {
  let p = line.endsWith('\\ ') ? line : line.trimEnd();
  if (p === '' || p.startsWith('#') || p === '/') return undefined;
  let include = true;
  if (p.startsWith('!')) {
    include = false;
    p = p.slice(1);
  }
  const { segs, isDirPattern } = normalizeSegments(p, line);
  const found = { dirMark: isDirPattern };
  // pathspec's shortcuts: `**` (anything, or anything below a directory), `**/*`, `**/*/**`.
  const last = segs.length - 1;
  if ((last === 0 && segs[0] === '**') || (last === 2 && segs[0] === '**' && segs[1] === '*' && segs[2] === '**')) {
    const belowOnly = isDirPattern || last === 2;
    return { include, match: (path) => (belowOnly ? (path.includes('/') ? found : undefined) : path.length > 0 ? { dirMark: false } : undefined) };
  }
  if (last === 1 && segs[0] === '**' && segs[1] === '*') return { include, match: (path) => (path.length > 0 ? { dirMark: false } : undefined) };

  const tests: (SegmentTest | '**')[] = [];
  for (const seg of segs) {
    if (seg === '**') tests.push('**');
    else {
      const t = segmentTest(seg);
      if (t === undefined) return undefined;
      tests.push(t);
    }
  }
  return { include, match: (path) => matchSegments(tests, path.split('/'), isDirPattern) };
}

/**
 * The first match pathspec's regex would find, by segments: a leading `**` is `^(?:.+/)?`, a
 * middle one `(?:/.+)?/`, both greedy (most segments first); a trailing one needs a `/` after
 * what came before (a match through a directory when the pattern is one); a last plain segment
 * ends the path, or is a directory of it (dir mark, tried first). Computed token by token from
 * the end, O(tokens × segments): a greedy `**` takes the deepest place the rest matches from.
 */
function matchSegments(tests: readonly (SegmentTest | '**')[], parts: readonly string[], isDirPattern: boolean): { dirMark: boolean } | undefined {
  const n = parts.length;
  type Row = ({ dirMark: boolean } | undefined)[];
  let next: Row = [];
  for (let i = tests.length - 1; i >= 0; i--) {
    const t = tests[i]!;
    const row: Row = new Array(n + 1);
    if (t === '**' && i === tests.length - 1) {
      for (let j = 0; j < n; j++) row[j] = { dirMark: isDirPattern };
    } else if (t === '**') {
      // The deepest segment the rest matches from; `.+` must take a character, so skipping
      // exactly one empty segment is not a way to get there.
      let deepest = -1;
      for (let j = n - 1; j >= 0 && deepest < 0; j--) if (next[j]) deepest = j;
      for (let j = 0; j <= n; j++) {
        const skip = deepest >= j + 2 || (deepest === j + 1 && parts[j]!.length > 0);
        row[j] = skip ? next[deepest] : next[j];
      }
    } else {
      const last = i === tests.length - 1;
      for (let j = 0; j < n; j++) if (t(parts[j]!)) row[j] = last ? { dirMark: j < n - 1 } : next[j + 1];
    }
    next = row;
  }
  return next[0];
}

export interface GitignoreSpec {
  matches(path: string): boolean;
}

/** Compiles lines (e.g. of a .gitignore), dropping blanks, comments and patterns git ignores. */
export function compileGitignorePatterns(lines: readonly string[]): CompiledPattern[] {
  return lines.map(compileGitignorePattern).filter((p): p is CompiledPattern => p !== undefined);
}

/** A list of patterns (e.g. the lines of a .gitignore) matched as `pathspec.GitIgnoreSpec` matches them. */
export function compileGitignoreSpec(lines: readonly string[]): GitignoreSpec {
  return gitignoreSpec(compileGitignorePatterns(lines));
}

/** The matcher over already compiled patterns, in order. */
export function gitignoreSpec(patterns: readonly CompiledPattern[]): GitignoreSpec {
  return {
    matches(path: string): boolean {
      const file = path.replace(/^\/+/, '');
      let verdict = false;
      let priority = 0;
      for (const p of patterns) {
        const m = p.match(file);
        if (!m) continue;
        const dirMark = m.dirMark;
        const prio = dirMark ? 1 : 2;
        if ((p.include && dirMark) || prio >= priority) {
          verdict = p.include;
          priority = prio;
        }
      }
      return verdict;
    },
  };
}
