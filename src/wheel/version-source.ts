/**
 * hatchling's default ("regex") version source: the first `__version__ = "..."` or
 * `VERSION = '...'` line of the version file, or a custom pattern with a `version` group. Pure.
 */

/** hatchling's DEFAULT_PATTERN, in JS syntax; `m` because Python runs it with re.MULTILINE. */
export const DEFAULT_VERSION_PATTERN = /^(__version__|VERSION) *= *(['"])v?(?<version>.+?)\2/im;

/** Python regex syntax → JS: named groups and a leading inline flag group such as `(?i)`. */
export function compilePythonPattern(pattern: string): RegExp {
  let flags = 'm';
  let body = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    if (inline[1]!.includes('i')) flags += 'i';
    if (inline[1]!.includes('s')) flags += 's';
  }
  body = body.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>');
  return new RegExp(body, flags);
}

/** The raw version string, `undefined` when the pattern does not match. Throws SyntaxError on a bad pattern. */
export function extractVersion(contents: string, pattern?: string): string | undefined {
  const re = pattern ? compilePythonPattern(pattern) : DEFAULT_VERSION_PATTERN;
  const m = re.exec(contents);
  if (!m) return undefined;
  if (!m.groups || !('version' in m.groups)) throw new SyntaxError('the version pattern has no group named `version`');
  return m.groups.version;
}
