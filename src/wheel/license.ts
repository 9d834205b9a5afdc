/**
 * SPDX license expressions (PEP 639): syntax check and canonical spelling, printed the way
 * packaging's `canonicalize_license_expression` prints them (operators upper-case, known IDs in
 * their SPDX case, parentheses tight). Pure.
 *
 * provenant carries a table of the commonly used SPDX identifiers, not the whole list: an ID
 * outside it is kept as written (hatchling would canonicalise its case or reject it if unknown).
 */

const COMMON_IDS = [
  '0BSD', 'AFL-3.0', 'AGPL-3.0-only', 'AGPL-3.0-or-later', 'Apache-1.1', 'Apache-2.0', 'Artistic-2.0',
  'BlueOak-1.0.0', 'BSD-1-Clause', 'BSD-2-Clause', 'BSD-3-Clause', 'BSD-3-Clause-Clear', 'BSD-4-Clause', 'BSL-1.0',
  'CC-BY-4.0', 'CC-BY-SA-4.0', 'CC0-1.0', 'CDDL-1.0', 'EPL-1.0', 'EPL-2.0', 'EUPL-1.2',
  'GPL-1.0-only', 'GPL-1.0-or-later', 'GPL-2.0', 'GPL-2.0+', 'GPL-2.0-only', 'GPL-2.0-or-later', 'GPL-3.0', 'GPL-3.0+',
  'GPL-3.0-only', 'GPL-3.0-or-later', 'HPND', 'ISC', 'LGPL-2.0-only', 'LGPL-2.0-or-later', 'LGPL-2.1', 'LGPL-2.1+',
  'LGPL-2.1-only', 'LGPL-2.1-or-later', 'LGPL-3.0', 'LGPL-3.0+', 'LGPL-3.0-only', 'LGPL-3.0-or-later', 'MIT', 'MIT-0',
  'MPL-1.1', 'MPL-2.0', 'MPL-2.0-no-copyleft-exception', 'MS-PL', 'NCSA', 'OFL-1.1', 'OpenSSL', 'PostgreSQL',
  'PSF-2.0', 'Python-2.0', 'Python-2.0.1', 'Ruby', 'Unlicense', 'UPL-1.0', 'W3C', 'WTFPL', 'X11', 'Zlib', 'ZPL-2.1',
];
const COMMON_EXCEPTIONS = [
  'Autoconf-exception-3.0', 'Bison-exception-2.2', 'Classpath-exception-2.0', 'GCC-exception-3.1',
  'LLVM-exception', 'OpenJDK-assembly-exception-1.0', 'Qt-LGPL-exception-1.1',
];
const CANONICAL = new Map([...COMMON_IDS, ...COMMON_EXCEPTIONS].map((id) => [id.toLowerCase(), id]));
const ID_RE = /^[A-Za-z0-9.-]+\+?$/;
const OPERATORS = new Set(['and', 'or', 'with']);

/** The canonical expression, or an error message saying what is wrong with it. */
export function canonicalizeLicenseExpression(raw: string): { ok: true; value: string } | { ok: false; error: string } {
  const tokens = raw.replaceAll('(', ' ( ').replaceAll(')', ' ) ').split(/\s+/).filter(Boolean);
  const invalid = { ok: false as const, error: `invalid license expression ${JSON.stringify(raw)}` };
  if (tokens.length === 0) return invalid;

  // Grammar: expr := term (('AND'|'OR') term)* ; term := '(' expr ')' | id ('WITH' exception)?
  let i = 0;
  let depth = 0;
  let expectOperand = true;
  const out: string[] = [];
  const refs = new Map<string, string>();
  while (i < tokens.length) {
    const t = tokens[i]!;
    const lower = t.toLowerCase();
    if (expectOperand) {
      if (t === '(') {
        depth++;
        out.push('(');
      } else if (t === ')' || OPERATORS.has(lower) || !ID_RE.test(t)) {
        return invalid;
      } else {
        out.push(canonicalId(t, refs));
        if (tokens[i + 1]?.toLowerCase() === 'with') {
          const exc = tokens[i + 2];
          if (exc === undefined || exc === '(' || exc === ')' || OPERATORS.has(exc.toLowerCase()) || !ID_RE.test(exc)) return invalid;
          out.push('WITH', CANONICAL.get(exc.toLowerCase()) ?? exc);
          i += 2;
        }
        expectOperand = false;
      }
    } else if (t === ')') {
      if (depth === 0) return invalid;
      depth--;
      out.push(')');
    } else if (lower === 'and' || lower === 'or') {
      out.push(lower.toUpperCase());
      expectOperand = true;
    } else {
      return invalid;
    }
    i++;
  }
  if (expectOperand || depth !== 0) return invalid;
  return { ok: true, value: out.join(' ').replaceAll('( ', '(').replaceAll(' )', ')') };
}

function canonicalId(token: string, refs: Map<string, string>): string {
  const lower = token.toLowerCase();
  if (lower.startsWith('licenseref-') || lower.startsWith('documentref-')) {
    // LicenseRef- ids compare case-insensitively: every spelling takes the first one seen.
    const prefix = lower.startsWith('licenseref-') ? 'LicenseRef-' : 'DocumentRef-';
    if (!refs.has(lower)) refs.set(lower, prefix + token.slice(prefix.length));
    return refs.get(lower)!;
  }
  return CANONICAL.get(lower) ?? token;
}
