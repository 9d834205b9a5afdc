/**
 * Trove classifiers in hatchling's order. hatchling sorts by the position in the
 * trove-classifiers list, and that list is in "natural" order (text runs compared as text,
 * digit runs as numbers), so the natural sort reproduces it without shipping the list.
 * `Private ::` classifiers come first, in the order they were written. Pure.
 */
import { codePointCompare } from '../util/code-point-order.ts';

type Key = [string, number][];

function naturalKey(value: string): Key {
  // Mirrors Python's re.findall(r"(\D*)(\d*)"), including its final empty match.
  const key: Key = [];
  const re = /(\D*)(\d*)/g;
  for (;;) {
    const start = re.lastIndex;
    const m = re.exec(value);
    if (!m) break;
    key.push([m[1]!, m[2] ? Number.parseInt(m[2], 10) : -1]);
    if (m[0] === '') {
      if (start >= value.length) break;
      re.lastIndex++;
    }
  }
  return key;
}

function compareKeys(a: Key, b: Key): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = codePointCompare(a[i]![0], b[i]![0]) || a[i]![1] - b[i]![1];
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export function isPrivateClassifier(c: string): boolean {
  return c.toLowerCase().startsWith('private ::');
}

export function sortClassifiers(classifiers: readonly string[]): string[] {
  const unique = [...new Set(classifiers)];
  const priv = unique.filter(isPrivateClassifier);
  const pub = unique.filter((c) => !isPrivateClassifier(c));
  // Keys computed once per classifier, not per comparison; the sort is stable, like Python's.
  const keyed = pub.map((c) => ({ c, key: naturalKey(c) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return [...priv, ...keyed.map((k) => k.c)];
}
