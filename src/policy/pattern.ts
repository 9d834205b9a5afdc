/**
 * Policy patterns (builders, source repositories, refs). A pattern is matched against the
 * WHOLE value, case-sensitively; `*` matches any run of characters (including none, including
 * `/`); every other character, `?` `.` `[` included, matches only itself. There is no escape:
 * a literal `*` cannot be required, which no URI or git ref in practice needs.
 *
 * One exception, for `WORKFLOW@REF` values (GitHub SANs, builder ids): when a pattern with a `*`
 * contains `@`, the parts before and after its first `@` match the value's parts before and after
 * ITS first `@`, so a wildcard never crosses the `@`. Otherwise `…/workflows/*.yml@refs/heads/main`
 * would accept a run on a branch an attacker NAMED `x.yml@refs/heads/main` (a valid git ref).
 *
 * Examples: `https://github.com/DataDog/*` matches every workflow of that organisation;
 * `refs/tags/v*` matches release tags; `https://provenant.dev/builders/local@v1` only itself.
 */
export function matchesPattern(pattern: string, value: string): boolean {
  const at = pattern.indexOf('@');
  if (at < 0 || !pattern.includes('*')) return matchesWildcards(pattern, value);
  const valueAt = value.indexOf('@');
  return valueAt >= 0 && matchesWildcards(pattern.slice(0, at), value.slice(0, valueAt)) && matchesWildcards(pattern.slice(at + 1), value.slice(valueAt + 1));
}

function matchesWildcards(pattern: string, value: string): boolean {
  const parts = pattern.split('*');
  const first = parts[0]!;
  if (parts.length === 1) return value === pattern;
  const last = parts[parts.length - 1]!;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  // Greedy-free scan: each middle part is taken at its earliest position, which is optimal
  // for `*` (any later match leaves less room for the parts after it).
  let pos = first.length;
  const end = value.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const at = value.indexOf(part, pos);
    if (at < 0 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return true;
}

/** True when `value` matches one of `patterns`; an empty list allows anything (documented policy semantics). */
export function allowedBy(patterns: readonly string[], value: string): boolean {
  return patterns.length === 0 || patterns.some((p) => matchesPattern(p, value));
}
