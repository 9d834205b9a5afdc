/**
 * Python's `str` ordering (by code point) for JS strings. JS `<` and `Array.prototype.sort`
 * compare UTF-16 code units, which differs from it only past U+FFFF. Pure.
 */
export function codePointCompare(a: string, b: string): number {
  if (a === b) return 0;
  // Fast path: up to the first differing unit the strings agree, so when neither differing unit
  // is a surrogate the units are the code points and their order is Python's.
  const m = Math.min(a.length, b.length);
  let i = 0;
  while (i < m && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === m) {
    // One is a prefix of the other: the longer is greater, unless the cut splits a surrogate pair
    // (then the slow path decides).
    const next = (a.length > m ? a : b).charCodeAt(m);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return a.length - b.length;
  } else {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if ((x < 0xd800 || x > 0xdfff) && (y < 0xd800 || y > 0xdfff)) return x - y;
  }
  return codePointCompareSlow(a, b);
}

function codePointCompareSlow(a: string, b: string): number {
  const ai = [...a];
  const bi = [...b];
  const n = Math.min(ai.length, bi.length);
  for (let i = 0; i < n; i++) {
    const x = ai[i]!.codePointAt(0)!;
    const y = bi[i]!.codePointAt(0)!;
    if (x !== y) return x - y;
  }
  return ai.length - bi.length;
}
