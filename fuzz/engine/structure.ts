/**
 * Structure-aware mutations of valid documents, field by field: a document is parsed into a
 * tree (JSON, YAML, TOML), lines (gitignore, versions, names) or an HTTP message, one node is
 * picked, changed, and the document written back. Kinds: drop, duplicate (duplicate keys
 * included), retype, grow, unicode, and prototype keys (`__proto__`, `constructor`, …).
 * A document that does not parse is returned unchanged (byte-level mutations cover it). Pure.
 */
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export type Format = 'json' | 'yaml' | 'toml' | 'lines' | 'http';
export const STRUCT_KINDS = ['drop', 'duplicate', 'retype', 'grow', 'unicode', 'proto'] as const;
export type StructKind = (typeof STRUCT_KINDS)[number];
export interface StructOp {
  op: 'struct';
  kind: StructKind;
  /** Which node, in document order (modulo the node count). */
  node: number;
  /** Picks among the variants of the kind (which type, how much growth, which key…). */
  arg: number;
}

/** A JSON-like tree that keeps key order, duplicate keys and a number's exact text. */
type Tree =
  | { t: 'obj'; entries: [string, Tree][] }
  | { t: 'arr'; items: Tree[] }
  | { t: 'str'; v: string }
  | { t: 'num'; raw: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'];
const UNICODE = ['\u0000', '\uFEFF', '\u202E', '\u200B', '\uD800', '\uDC00', 'é', 'e\u0301', 'İ', 'ﬁ', '１', '٣', '😀', '\u2028', '\u0085', 'а' /* Cyrillic a */];
const NUMBERS = ['-1', '0', '-0', '1.0', '1e309', '-1e309', '9007199254740993', '18446744073709551616', '0.1', '1E2', '123456789012345678901234567890'];
const MAX_GROWTH = 16 * 1024;
const MAX_OUTPUT = 256 * 1024;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function applyStructOp(data: Uint8Array, op: StructOp, format: Format): Uint8Array {
  let text: string;
  try {
    text = dec.decode(data);
  } catch {
    return data;
  }
  let out: string | undefined;
  try {
    out = format === 'lines' ? mutateLines(text, op) : format === 'http' ? mutateHttp(text, op) : mutateTree(text, op, format);
  } catch {
    out = undefined; // a writer that cannot write the mutant (too deep for it): keep the document
  }
  // A mutant larger than a document could plausibly grow is not worth its parse time.
  return out === undefined || out.length > MAX_OUTPUT ? data : enc.encode(out);
}

// ---- trees (JSON, YAML, TOML) ----

function toTree(v: unknown): Tree {
  if (v === null || v === undefined) return { t: 'null' };
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'number' || typeof v === 'bigint') return { t: 'num', raw: String(v) };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (Array.isArray(v)) return { t: 'arr', items: v.map(toTree) };
  if (v instanceof Date) return { t: 'str', v: v.toISOString() };
  if (typeof v === 'object') return { t: 'obj', entries: Object.keys(v).map((k) => [k, toTree((v as Record<string, unknown>)[k])]) };
  return { t: 'str', v: String(v) };
}

/** JSON text; duplicate keys are written as they are (JSON allows them, parsers differ). */
function writeJson(n: Tree): string {
  switch (n.t) {
    case 'obj':
      return `{${n.entries.map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`).join(',')}}`;
    case 'arr':
      return `[${n.items.map(writeJson).join(',')}]`;
    case 'str':
      return JSON.stringify(n.v);
    case 'num':
      return n.raw;
    case 'bool':
      return String(n.v);
    case 'null':
      return 'null';
  }
}

/** A plain value; an own `__proto__` key stays an own property (defineProperty, not assignment). */
function toValue(n: Tree): unknown {
  switch (n.t) {
    case 'obj': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of n.entries) Object.defineProperty(o, k, { value: toValue(v), enumerable: true, writable: true, configurable: true });
      return o;
    }
    case 'arr':
      return n.items.map(toValue);
    case 'str':
      return n.v;
    case 'num': {
      const x = Number(n.raw);
      return Number.isSafeInteger(x) || !/^-?\d+$/.test(n.raw) ? x : BigInt(n.raw);
    }
    case 'bool':
      return n.v;
    case 'null':
      return null;
  }
}

function depth(n: Tree): number {
  if (n.t === 'obj') return 1 + Math.max(0, ...n.entries.map(([, v]) => depth(v)));
  if (n.t === 'arr') return 1 + Math.max(0, ...n.items.map(depth));
  return 0;
}

function hasDuplicateKeys(n: Tree): boolean {
  if (n.t === 'obj') return new Set(n.entries.map(([k]) => k)).size !== n.entries.length || n.entries.some(([, v]) => hasDuplicateKeys(v));
  if (n.t === 'arr') return n.items.some(hasDuplicateKeys);
  return false;
}

function parseTree(text: string, format: Format): Tree | undefined {
  try {
    if (format === 'json') return toTree(JSON.parse(text));
    if (format === 'yaml') return toTree(parseYaml(text));
    return toTree(parseToml(text));
  } catch {
    return undefined;
  }
}

function writeTree(n: Tree, format: Format): string {
  if (format === 'json') return writeJson(n);
  // JSON is YAML (1.2), and the only way to keep duplicate keys through a YAML writer.
  // Whatever the YAML or TOML writer cannot write (a null in TOML, nesting too deep) is written as JSON: the parser's error paths.
  try {
    // Block YAML indents each level: deep nesting is written as flow (JSON) to stay linear in size.
    if (format === 'yaml') return hasDuplicateKeys(n) || depth(n) > 32 ? writeJson(n) : stringifyYaml(toValue(n), { lineWidth: 0 });
    return stringifyToml(toValue(n) as Record<string, unknown>);
  } catch {
    return writeJson(n);
  }
}

interface Slot {
  get(): Tree;
  set(n: Tree): void;
  /** Removes the node from its parent; undefined for the root. */
  remove?: () => void;
  /** Inserts a copy next to it (same key for an object entry). */
  duplicate?: () => void;
  /** The object this node is an entry of, with its index. */
  owner?: { obj: Extract<Tree, { t: 'obj' }>; index: number };
}

function slots(root: { v: Tree }): Slot[] {
  const out: Slot[] = [];
  const visit = (get: () => Tree, set: (n: Tree) => void, extra: Partial<Slot>) => {
    out.push({ get, set, ...extra });
    const n = get();
    if (n.t === 'obj') {
      n.entries.forEach((e, i) =>
        visit(() => e[1], (v) => (e[1] = v), {
          remove: () => n.entries.splice(n.entries.indexOf(e), 1),
          duplicate: () => n.entries.splice(n.entries.indexOf(e) + 1, 0, [e[0], clone(e[1])]),
          owner: { obj: n, index: i },
        }),
      );
    } else if (n.t === 'arr') {
      n.items.forEach((_, i) =>
        visit(() => n.items[i]!, (v) => (n.items[i] = v), {
          remove: () => n.items.splice(i, 1),
          duplicate: () => n.items.splice(i + 1, 0, clone(n.items[i]!)),
        }),
      );
    }
  };
  visit(() => root.v, (v) => (root.v = v), {});
  return out;
}

function clone(n: Tree): Tree {
  return structuredClone(n);
}

function size(n: Tree): number {
  return writeJson(n).length;
}

function retyped(n: Tree, arg: number): Tree {
  const text = n.t === 'str' ? n.v : n.t === 'num' ? n.raw : writeJson(n);
  const variants: Tree[] = [
    { t: 'str', v: text },
    { t: 'num', raw: NUMBERS[arg % NUMBERS.length]! },
    { t: 'bool', v: arg % 2 === 0 },
    { t: 'null' },
    { t: 'arr', items: [clone(n)] },
    { t: 'obj', entries: [['value', clone(n)]] },
    { t: 'str', v: '' },
    { t: 'arr', items: [] },
    { t: 'obj', entries: [] },
  ];
  if (n.t === 'str' && /^-?\d+(\.\d+)?$/.test(n.v)) variants.push({ t: 'num', raw: n.v });
  return variants[Math.floor(arg / NUMBERS.length) % variants.length]!;
}

function grown(n: Tree, arg: number): Tree {
  const times = 2 ** (1 + (arg % 12));
  switch (n.t) {
    case 'str':
      return { t: 'str', v: n.v.repeat(Math.max(1, Math.min(times, Math.floor(MAX_GROWTH / Math.max(1, n.v.length))))) || 'x'.repeat(times) };
    case 'num':
      return { t: 'num', raw: arg % 2 === 0 ? `${n.raw.replace(/^-/, '')}${'9'.repeat(Math.min(times, 400))}` : `1e${times}` };
    case 'arr': {
      if (n.items.length === 0) return { t: 'arr', items: Array.from({ length: Math.min(times, 4096) }, () => ({ t: 'num', raw: '0' }) as Tree) };
      const each = size(n) / n.items.length + 1;
      const count = Math.max(1, Math.min(times, Math.floor(MAX_GROWTH / each)));
      return { t: 'arr', items: Array.from({ length: count }, (_, i) => clone(n.items[i % n.items.length]!)) };
    }
    case 'obj': {
      const each = size(n) / Math.max(1, n.entries.length) + 1;
      const count = Math.max(1, Math.min(times, Math.floor(MAX_GROWTH / each)));
      const extra: [string, Tree][] = Array.from({ length: count }, (_, i) => [`k${i}`, n.entries.length ? clone(n.entries[i % n.entries.length]![1]) : { t: 'null' }]);
      return { t: 'obj', entries: [...n.entries, ...extra] };
    }
    default: {
      // Deep nesting: recursion in parsers and canonicalisers.
      let v: Tree = n;
      for (let i = 0; i < 10 + (arg % 2000); i++) v = arg % 2 ? { t: 'arr', items: [v] } : { t: 'obj', entries: [['a', v]] };
      return v;
    }
  }
}

function withUnicode(s: string, arg: number): string {
  const u = UNICODE[arg % UNICODE.length]!;
  const at = s.length === 0 ? 0 : Math.floor(arg / UNICODE.length) % (s.length + 1);
  return s.slice(0, at) + u + s.slice(at);
}

function mutateTree(text: string, op: StructOp, format: Format): string | undefined {
  if (format === 'toml' && op.kind === 'duplicate') return mutateLines(text, op); // TOML keys: duplicate a line
  const tree = parseTree(text, format);
  if (!tree) return undefined;
  const root = { v: tree };
  const all = slots(root);
  const slot = all[op.node % all.length]!;
  const n = slot.get();
  switch (op.kind) {
    case 'drop':
      if (slot.remove) slot.remove();
      else slot.set({ t: 'obj', entries: [] });
      break;
    case 'duplicate':
      if (slot.duplicate) slot.duplicate();
      else slot.set({ t: 'arr', items: [n, clone(n)] });
      break;
    case 'retype':
      slot.set(retyped(n, op.arg));
      break;
    case 'grow':
      slot.set(grown(n, op.arg));
      break;
    case 'unicode':
      if (n.t === 'str') slot.set({ t: 'str', v: withUnicode(n.v, op.arg) });
      else if (slot.owner) slot.owner.obj.entries[slot.owner.index]![0] = withUnicode(slot.owner.obj.entries[slot.owner.index]![0], op.arg);
      else if (n.t === 'num') slot.set({ t: 'str', v: withUnicode(n.raw, op.arg) });
      else slot.set({ t: 'str', v: withUnicode('', op.arg) });
      break;
    case 'proto': {
      const key = PROTO_KEYS[op.arg % PROTO_KEYS.length]!;
      const value: Tree = [clone(n), { t: 'obj', entries: [] } as Tree, { t: 'str', v: 'x' } as Tree, { t: 'obj', entries: [['polluted', { t: 'bool', v: true }]] } as Tree][Math.floor(op.arg / PROTO_KEYS.length) % 4]!;
      if (slot.owner && op.arg % 3 === 0) slot.owner.obj.entries[slot.owner.index]![0] = key; // rename the entry
      else if (n.t === 'obj') n.entries.splice(op.arg % (n.entries.length + 1), 0, [key, value]);
      else if (n.t === 'arr') n.items.push({ t: 'obj', entries: [[key, value]] });
      else if (slot.owner) slot.owner.obj.entries.splice(slot.owner.index, 0, [key, value]);
      else slot.set({ t: 'obj', entries: [[key, clone(n)]] });
      break;
    }
  }
  return writeTree(root.v, format);
}

// ---- lines ----

function mutateLines(text: string, op: StructOp): string {
  const lines = text.split('\n');
  const i = op.node % lines.length;
  const line = lines[i]!;
  switch (op.kind) {
    case 'drop':
      lines.splice(i, 1);
      break;
    case 'duplicate':
      lines.splice(i, 0, ...Array.from({ length: 1 + (op.arg % 4) }, () => line));
      break;
    case 'retype':
      lines[i] = [...NUMBERS, '', ' ', '\t', '#', '!', '/', '\\', 'true', 'null', '[', '[]', '{}', '"', "'", '='][op.arg % 27]!;
      break;
    case 'grow': {
      const times = 2 ** (1 + (op.arg % 12));
      if (op.arg % 2 === 0) lines[i] = line.repeat(Math.max(1, Math.min(times, Math.floor(MAX_GROWTH / Math.max(1, line.length)))));
      else lines.splice(i, 0, ...Array.from({ length: Math.min(times, 2048) }, () => line));
      break;
    }
    case 'unicode':
      lines[i] = withUnicode(line, op.arg);
      break;
    case 'proto':
      lines.splice(i, 0, PROTO_KEYS[op.arg % PROTO_KEYS.length]!);
      break;
  }
  return lines.join('\n');
}

// ---- HTTP messages ----

const HEADER_VALUES = ['0', '-1', '', ' ', '18446744073709551616', '1e3', '0x10', 'abc', 'chunked', 'gzip, chunked', 'chunked, chunked', '100, 200', '\u00e9', '1\r\nX-Injected: 1'];

function mutateHttp(text: string, op: StructOp): string | undefined {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const head = text.slice(0, split).split('\r\n');
  let body = text.slice(split + 4);
  // Nodes: the status line, each header, the body.
  const i = op.node % (head.length + 1);
  if (i === head.length) {
    if (op.kind === 'drop') body = '';
    else if (op.kind === 'grow' || op.kind === 'duplicate') body = body.repeat(Math.max(1, Math.min(2 ** (1 + (op.arg % 12)), Math.floor(MAX_GROWTH / Math.max(1, body.length)))));
    else if (op.kind === 'unicode') body = withUnicode(body, op.arg);
    else body = HEADER_VALUES[op.arg % HEADER_VALUES.length]!;
  } else {
    const line = head[i]!;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).trim();
    switch (op.kind) {
      case 'drop':
        head.splice(i, 1);
        break;
      case 'duplicate':
        head.splice(i, 0, op.arg % 2 ? line : `${name}: ${HEADER_VALUES[op.arg % HEADER_VALUES.length]}`);
        break;
      case 'retype':
        head[i] = i === 0 ? ['HTTP/1.1 999 X', 'HTTP/1.1 200', 'HTTP/1.0 200 OK', 'HTTP/2 200 OK', 'HTTP/1.1 -1 X', 'ICY 200 OK', 'HTTP/1.1 302 Found', 'HTTP/1.1 503 Busy'][op.arg % 8]! : `${name}: ${HEADER_VALUES[op.arg % HEADER_VALUES.length]}`;
        break;
      case 'grow':
        if (op.arg % 2) head.splice(i, 0, ...Array.from({ length: Math.min(2 ** (1 + (op.arg % 10)), 2048) }, (_, k) => `X-Grow-${k}: ${value}`));
        else head[i] = `${name}: ${value.repeat(Math.max(1, Math.min(2 ** (1 + (op.arg % 12)), Math.floor(MAX_GROWTH / Math.max(1, value.length)))))}`;
        break;
      case 'unicode':
        head[i] = withUnicode(line, op.arg);
        break;
      case 'proto':
        head.splice(i + 1, 0, `${PROTO_KEYS[op.arg % PROTO_KEYS.length]}: ${value || 'x'}`);
        break;
    }
  }
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
