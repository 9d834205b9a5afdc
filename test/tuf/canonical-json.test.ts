// canonical-json.ts against python-tuf's encoder (securesystemslib.formats.encode_canonical), and
// the inputs where @tufjs/canonical-json alone would differ from it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalize } from '@tufjs/canonical-json';
import { canonicalJson, canonicalJsonBytes } from '../../src/formats/canonical-json.ts';
import { python } from '../helpers/peers.ts';

async function pythonCanonical(values: unknown[]): Promise<string[]> {
  const script = 'import json, sys\nfrom securesystemslib.formats import encode_canonical\nprint(json.dumps([encode_canonical(v) for v in json.loads(sys.argv[1])]))';
  const { stdout } = await python(['-c', script, JSON.stringify(values)]);
  return JSON.parse(stdout) as string[];
}

test('the same bytes as python-tuf for TUF-shaped documents, escapes and non-ASCII keys', async () => {
  const values: unknown[] = [
    { signed: { _type: 'targets', version: 3, expires: '2030-01-01T00:00:00Z', targets: { 'pointers/a/x.pointer': { length: 12, hashes: { sha256: 'ab' } } } } },
    { b: [1, 'x"y\\z', true, false, null, -5, 0], a: { 'ü': 'ß', ' ': '\n\t\u0001' }, '': [] },
    { 'é': 1, e: 2, E: 3, '\u00ff': 4, '\uffff': 5, '\ue000': 6 },
    Number.MAX_SAFE_INTEGER,
    ['😀', { '😀': '😀' }],
  ];
  const py = await pythonCanonical(values);
  assert.deepEqual(values.map((v) => canonicalJson(v)), py);
  assert.deepEqual(values.map((v) => canonicalize(v)), py, 'the library agrees on these');
  assert.deepEqual(canonicalJsonBytes(values[1]), new TextEncoder().encode(py[1]));
});

test('keys past U+FFFF are sorted by code point as Python does (the library sorts by UTF-16 unit)', async () => {
  // U+FF01 < U+1F600 by code point, but its UTF-16 unit 0xFF01 > the surrogate 0xD83D.
  const value = { '\uff01': 1, '😀': 2, a: { '\uffff': 3, '𐀀': 4, z: 5 } };
  const [py] = await pythonCanonical([value]);
  assert.equal(canonicalJson(value), py);
  assert.notEqual(canonicalize(value), py, 'if the library now agrees, drop inCodePointOrder');
});

test('numbers JSON cannot carry exactly, lone surrogates and non-plain objects are refused', async () => {
  // Python prints 10**21 as all its digits; the library writes `1e+21`.
  const { stdout } = await python(['-c', 'from securesystemslib.formats import encode_canonical\nprint(encode_canonical(10**21))']);
  assert.equal(stdout.trim(), '1000000000000000000000');
  assert.equal(canonicalize(1e21), '1e+21');
  for (const bad of [1e21, 2 ** 53, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 10n, '\ud800', { '\udfff': 1 }, new Date(0), () => 1, Symbol('s')]) {
    assert.throws(() => canonicalJson(bad), TypeError, String(typeof bad === 'symbol' ? 'symbol' : bad));
  }
});

test('undefined members are dropped, as in the JSON document written to disk', () => {
  const value = { a: 1, b: undefined, c: [{ d: undefined, e: 'x' }] };
  assert.equal(canonicalJson(value), '{"a":1,"c":[{"e":"x"}]}');
  assert.equal(canonicalJson(value), canonicalJson(JSON.parse(JSON.stringify(value))));
  assert.throws(() => canonicalize(value), TypeError, 'the library alone cannot encode it');
});
