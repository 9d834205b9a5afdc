/**
 * OLPC canonical JSON, the form TUF signs and hashes key ids over. Pure.
 *
 * The bytes are @tufjs/canonical-json's (what tuf-js verifies with). This module checks the
 * value first, because the library takes inputs that python-tuf's `encode_canonical` would
 * write differently or that JSON on disk cannot carry (test/tuf/canonical-json.test.ts shows each):
 *  - integers beyond 2^53 have already lost digits as JS numbers, and the library prints 1e21 as
 *    `1e+21` where Python prints every digit: only safe integers are accepted;
 *  - a lone surrogate has no UTF-8 form (TextEncoder would write U+FFFD, Python refuses): refused;
 *  - an `undefined` member crashes the library; JSON.stringify drops it, so it is dropped here too
 *    (the signed bytes then match the document written to disk).
 * One place the library's output itself differs from Python's: it sorts keys by UTF-16 code unit
 * and Python by code point, which disagree for keys with characters past U+FFFF. Such objects
 * are written here in code-point order; everything else goes through the library.
 */
import { canonicalize } from '@tufjs/canonical-json';
import { codePointCompare } from '../util/code-point-order.ts';

const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkString(s: string): void {
  if (LONE_SURROGATE.test(s)) throw new TypeError(`canonical JSON cannot encode a string with a lone surrogate: ${JSON.stringify(s)}`);
}

/** A plain copy without `undefined` members; `astral` is set when some object's key order needs code points. */
function plainCopy(value: unknown, state: { astral: boolean }): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    checkString(value);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON allows only integers up to 2^53, got ${value}`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => plainCopy(v, state));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError('canonical JSON encodes plain objects only');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      checkString(k);
      if (SURROGATE.test(k)) state.astral = true;
      out[k] = plainCopy(v, state);
    }
    return out;
  }
  throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
}

/** Objects in Python's key order (code points), leaves and strings by the library. */
function inCodePointOrder(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inCodePointOrder).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const members = Object.keys(obj).sort(codePointCompare).map((k) => `${canonicalize(k)}:${inCodePointOrder(obj[k])}`);
    return `{${members.join(',')}}`;
  }
  return canonicalize(value);
}

export function canonicalJson(value: unknown): string {
  const state = { astral: false };
  const plain = plainCopy(value, state);
  return state.astral ? inCodePointOrder(plain) : canonicalize(plain);
}

export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
