/**
 * Byte-level mutations, as data: a fuzz case is "corpus entry + list of operations", so the
 * same case can be generated in one thread and applied in another (after a signed seed has been
 * re-signed there), printed, saved and replayed. Pure.
 */
export type ByteOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; token: number }
  | { op: 'splice'; at: number; other: number; from: number; len: number }
  | { op: 'repeat'; at: number; len: number; times: number };

/**
 * What a parser's authors tend to forget: boundaries of numbers, encodings, nesting, keys that
 * mean something to JavaScript objects, line and field separators.
 */
export const TOKENS: readonly string[] = [
  '\u0000', '\uFEFF', '\u202E', '\u200B', '\uD800', '\uFFFD', '\u00A0', '\u2028', '\r\n', '\r', '\n\n', '\t', ' ',
  '-1', '0', '-0', '1e309', '9007199254740993', '99999999999999999999999', '1.5', '0x10', 'NaN', 'Infinity',
  'null', 'true', '[]', '{}', '""', '"', "'", '\\', '\\u0000', '%2e%2e', '%2F', '../', '..', '/', '//', '*', '**', '!', '#', '[', ']', ':', ',', '=', '-', '.', '+',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '&a', '*a', '<<: *a', '!!binary', '---', '...', '? ', '|', '>',
  'é', 'İ', 'ﬁ', '１', '٣', '𝟘', '😀', 'ß',
  'Content-Length: 0', 'Transfer-Encoding: chunked', 'HTTP/1.1 200 OK', '0\r\n\r\n',
];

const enc = new TextEncoder();
const TOKEN_BYTES = TOKENS.map((t) => enc.encode(t));

function clampAt(at: number, length: number): number {
  return length === 0 ? 0 : at % (length + 1);
}

/** Applies one operation; `others` are the corpus entries a splice may take bytes from. */
export function applyByteOp(data: Uint8Array, op: ByteOp, others: readonly Uint8Array[]): Uint8Array {
  const at = clampAt(op.at, data.length);
  switch (op.op) {
    case 'flip': {
      if (data.length === 0) return data;
      const out = Uint8Array.from(data);
      const i = op.at % data.length;
      out[i] = out[i]! ^ (1 << (op.bit % 8));
      return out;
    }
    case 'set': {
      if (data.length === 0) return Uint8Array.of(op.byte & 0xff);
      const out = Uint8Array.from(data);
      out[op.at % data.length] = op.byte & 0xff;
      return out;
    }
    case 'truncate':
      return data.subarray(0, at);
    case 'delete':
      return concat(data.subarray(0, at), data.subarray(Math.min(data.length, at + 1 + (op.len % 64))));
    case 'insert':
      return concat(data.subarray(0, at), TOKEN_BYTES[op.token % TOKEN_BYTES.length]!, data.subarray(at));
    case 'splice': {
      const other = others.length > 0 ? others[op.other % others.length]! : data;
      const from = clampAt(op.from, other.length);
      const piece = other.subarray(from, from + 1 + (op.len % 256));
      return concat(data.subarray(0, at), piece, data.subarray(at));
    }
    case 'repeat': {
      // Growth is bounded (≤ 16 KiB added): big enough to cross any limit a parser sets on
      // these small documents, small enough to keep a case fast.
      const piece = data.subarray(at, at + 1 + (op.len % 64));
      const times = 1 + (op.times % 256);
      const parts: Uint8Array[] = [data.subarray(0, at)];
      for (let i = 0; i < times; i++) parts.push(piece);
      parts.push(data.subarray(at));
      return concat(...parts);
    }
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
