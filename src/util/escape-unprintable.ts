/**
 * Text from a file someone else wrote, made safe to show a person: every character outside
 * printable ASCII as `\u{…}`. Terminal escapes, line breaks, bidi overrides, zero-width and
 * look-alike characters would otherwise let that text hide or fake what is printed around it.
 */
export function escapeUnprintable(s: string): string {
  return s.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
