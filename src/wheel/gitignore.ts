/**
 * gitignore-style pattern lists with the exact semantics hatchling gets from Python's
 * `pathspec.GitIgnoreSpec`, which differ from git's (and from the `ignore` npm package) in one
 * way that changes wheels: a later file-level pattern can override a match that came from a
 * parent directory (`/pkg` then `!/pkg/skip.py` leaves skip.py out of an include list).
 *
 * Each pattern becomes a regex; a match through a parent directory ("dir mark") has priority 1,
 * a match of the path itself priority 2. Walking the patterns in order, a match replaces the
 * current verdict when it is a positive directory match or its priority is at least the
 * current one. Pure.
 */

export interface CompiledPattern {
  regex: RegExp;
  /** true: a match selects the path; false: a match (`!pattern`) deselects it. */
  include: boolean;
}

export class GitignorePatternError extends Error {}

const DIR_MARK = '(?<dirmark>/)';
const DIR_MARK_OPT = `(?:${DIR_MARK}|$)`;

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** One path segment of a glob (no `/`), fnmatch-like with FNM_PATHNAME; `undefined` for an unclosed `[`. */
function translateSegment(glob: string): string | undefined {
  let out = '';
  let escape = false;
  for (let i = 0; i < glob.length; ) {
    const ch = glob[i++]!;
    if (escape) {
      escape = false;
      out += escapeRegex(ch);
    } else if (ch === '\\') escape = true;
    else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
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
      out += expr;
      i = j;
    } else out += escapeRegex(ch);
  }
  if (escape) throw new GitignorePatternError(`pattern ends with an escape character: ${JSON.stringify(glob)}`);
  return out;
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

/** Per pattern, per segment: `**`, a segment regex, or `null` for a segment git discards. */
type SegmentMatcher = '**' | RegExp | null;

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
      const re = translateSegment(seg);
      return re === undefined ? null : new RegExp(`^${seg === '*' ? '[^/]+' : re}$`, 's');
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
        if (seg === null || !seg.test(dirSegs[i]!)) {
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

  let source: string;
  if (segs.length === 1 && segs[0] === '**') source = isDirPattern ? DIR_MARK : '.';
  else if (segs.length === 2 && segs[0] === '**' && segs[1] === '*') source = '.';
  else if (segs.length === 3 && segs[0] === '**' && segs[1] === '*' && segs[2] === '**') source = isDirPattern ? DIR_MARK : '/';
  else {
    const parts: string[] = [];
    let needSlash = false;
    const end = segs.length - 1;
    for (const [i, seg] of segs.entries()) {
      if (seg === '**') {
        if (i === 0) parts.push('^(?:.+/)?');
        else if (i < end) {
          parts.push('(?:/.+)?');
          needSlash = true;
        } else parts.push(isDirPattern ? DIR_MARK : '/');
      } else {
        if (i === 0) parts.push('^');
        if (needSlash) parts.push('/');
        if (seg === '*') parts.push('[^/]+');
        else {
          const t = translateSegment(seg);
          if (t === undefined) return undefined;
          parts.push(t);
        }
        if (i === end) parts.push(DIR_MARK_OPT);
        needSlash = true;
      }
    }
    source = parts.join('');
  }
  return { regex: new RegExp(source, 's'), include };
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
        const m = p.regex.exec(file);
        if (!m) continue;
        const dirMark = m.groups?.dirmark !== undefined;
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
