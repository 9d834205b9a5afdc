/**
 * PEP 508 dependency specifiers: parsed, then printed exactly as hatchling writes them into
 * METADATA (packaging's `str(Requirement)` after hatchling's normalisation, double quotes turned
 * into single quotes). Pure.
 */
import { normalizeProjectName } from '../formats/pep503.ts';
import { formatSpecifierSet, parseSpecifierSet } from './specifier.ts';
import type { Specifier } from './specifier.ts';

export type MarkerNode = MarkerItem | MarkerList;
export interface MarkerItem {
  kind: 'item';
  lhs: MarkerOperand;
  op: string;
  rhs: MarkerOperand;
}
/** Operands alternate with `and` / `or`: [node, 'and', node, 'or', node…]. */
export interface MarkerList {
  kind: 'list';
  parts: (MarkerNode | 'and' | 'or')[];
}
export type MarkerOperand = { kind: 'variable'; name: string } | { kind: 'value'; value: string };

export interface Requirement {
  name: string;
  extras: string[];
  specifiers: Specifier[];
  url: string | undefined;
  marker: MarkerList | undefined;
}

export class RequirementSyntaxError extends Error {}

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const VARIABLE_RE =
  /^(?:python_version|python_full_version|os[._]name|sys[._]platform|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)|python_implementation|implementation_(?:name|version)|extras?|dependency_groups)(?![A-Za-z0-9_])/;
const OP_RE = /^(?:===|==|~=|!=|<=|>=|<|>)/;

class Cursor {
  pos = 0;
  readonly src: string;
  constructor(src: string) {
    this.src = src;
  }
  get rest(): string {
    return this.src.slice(this.pos);
  }
  ws(): void {
    while (this.src[this.pos] === ' ' || this.src[this.pos] === '\t') this.pos++;
  }
  eat(re: RegExp): string | undefined {
    const m = re.exec(this.rest);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  peek(s: string): boolean {
    return this.rest.startsWith(s);
  }
  fail(what: string): never {
    throw new RequirementSyntaxError(`${what} at column ${this.pos + 1} of ${JSON.stringify(this.src)}`);
  }
}

function parseOperand(c: Cursor): MarkerOperand {
  const v = c.eat(VARIABLE_RE);
  if (v !== undefined) {
    const name = v.replace('.', '_');
    return { kind: 'variable', name: name === 'python_implementation' ? 'platform_python_implementation' : name };
  }
  const q = c.eat(/^(?:'[^']*'|"[^"]*")/);
  if (q !== undefined) return { kind: 'value', value: q.slice(1, -1) };
  return c.fail('expected a marker variable or quoted string');
}

function parseMarkerOp(c: Cursor): string {
  const op = c.eat(OP_RE) ?? c.eat(/^in\b/) ?? (c.eat(/^not[ \t]+in\b/) && 'not in');
  if (!op) return c.fail('expected a marker operator');
  return op;
}

function parseAtom(c: Cursor, depth: number): MarkerNode {
  c.ws();
  let node: MarkerNode;
  if (c.peek('(')) {
    if (depth > 100) c.fail('marker nested too deeply');
    c.pos++;
    node = parseMarkerList(c, depth + 1);
    c.ws();
    if (!c.peek(')')) c.fail('expected ")"');
    c.pos++;
  } else {
    const lhs = parseOperand(c);
    c.ws();
    const op = parseMarkerOp(c);
    c.ws();
    const rhs = parseOperand(c);
    node = { kind: 'item', lhs, op, rhs };
  }
  c.ws();
  return node;
}

function parseMarkerList(c: Cursor, depth: number): MarkerList {
  const parts: MarkerList['parts'] = [parseAtom(c, depth)];
  for (;;) {
    const b = c.eat(/^(?:and|or)\b/);
    if (!b) break;
    parts.push(b as 'and' | 'or', parseAtom(c, depth));
  }
  return { kind: 'list', parts };
}

function normalizeExtraValues(node: MarkerNode): MarkerNode {
  if (node.kind === 'list') return { kind: 'list', parts: node.parts.map((p) => (typeof p === 'string' ? p : normalizeExtraValues(p))) };
  const { lhs, rhs } = node;
  if (lhs.kind === 'variable' && lhs.name === 'extra' && rhs.kind === 'value')
    return { ...node, rhs: { kind: 'value', value: normalizeProjectName(rhs.value) } };
  if (rhs.kind === 'variable' && (rhs.name === 'extra' || rhs.name === 'extras' || rhs.name === 'dependency_groups') && lhs.kind === 'value')
    return { ...node, lhs: { kind: 'value', value: normalizeProjectName(lhs.value) } };
  return node;
}

export function parseRequirement(text: string): Requirement {
  const c = new Cursor(text);
  c.ws();
  const name = c.eat(NAME_RE) ?? c.fail('expected a package name');
  c.ws();
  const extras: string[] = [];
  if (c.peek('[')) {
    c.pos++;
    c.ws();
    if (!c.peek(']')) {
      for (;;) {
        c.ws();
        extras.push(c.eat(NAME_RE) ?? c.fail('expected an extra name'));
        c.ws();
        if (c.peek(',')) {
          c.pos++;
          continue;
        }
        break;
      }
    }
    if (!c.peek(']')) c.fail('expected "]"');
    c.pos++;
    c.ws();
  }
  let url: string | undefined;
  let specifiers: Specifier[] = [];
  if (c.peek('@')) {
    c.pos++;
    c.ws();
    url = c.eat(/^\S+/) ?? c.fail('expected a URL');
    const before = c.pos;
    c.ws();
    if (c.pos < c.src.length && (c.pos === before || !c.peek(';'))) c.fail('expected a semicolon after URL and whitespace');
  } else {
    const paren = c.peek('(');
    if (paren) c.pos++;
    const list = c.eat(paren ? /^[^)]*/ : /^[^;]*/) ?? '';
    if (paren) {
      if (!c.peek(')')) c.fail('expected ")"');
      c.pos++;
    }
    if (list.trim() !== '') {
      const parsed = parseSpecifierSet(list);
      if (typeof parsed === 'string') throw new RequirementSyntaxError(`${parsed} in ${JSON.stringify(text)}`);
      specifiers = parsed;
    }
    c.ws();
  }
  let marker: MarkerList | undefined;
  if (c.peek(';')) {
    c.pos++;
    marker = normalizeExtraValues(parseMarkerList(c, 0)) as MarkerList;
  }
  c.ws();
  if (c.pos !== c.src.length) c.fail('unexpected text');
  return { name, extras, specifiers, url, marker };
}

function formatOperand(o: MarkerOperand): string {
  if (o.kind === 'variable') return o.name;
  return o.value.includes('"') ? `'${o.value}'` : `"${o.value}"`;
}

function formatMarker(node: MarkerNode | 'and' | 'or', first: boolean): string {
  if (typeof node === 'string') return node;
  if (node.kind === 'item') return `${formatOperand(node.lhs)} ${node.op} ${formatOperand(node.rhs)}`;
  // A group of one is printed without its parentheses, as packaging does.
  if (node.parts.length === 1) return formatMarker(node.parts[0]!, first);
  const inner = node.parts.map((p) => formatMarker(p, false)).join(' ');
  return first ? inner : `(${inner})`;
}

/** packaging's `str(Requirement)`. */
export function formatRequirement(r: Requirement): string {
  let s = r.name;
  if (r.extras.length > 0) s += `[${[...new Set(r.extras)].sort().join(',')}]`;
  if (r.specifiers.length > 0) s += formatSpecifierSet(r.specifiers);
  if (r.url !== undefined) {
    s += ` @ ${r.url}`;
    if (r.marker) s += ' ';
  }
  if (r.marker) s += `; ${formatMarker(r.marker, true)}`;
  return s;
}

/**
 * hatchling's normalisation: PEP 503 name and extras, specifiers lower-cased, then printed with
 * single quotes (so the string can be pasted into TOML unescaped).
 */
export function normalizeRequirement(r: Requirement): Requirement {
  const specText = formatSpecifierSet(r.specifiers).toLowerCase();
  const specs = parseSpecifierSet(specText);
  return {
    ...r,
    name: normalizeProjectName(r.name),
    extras: r.extras.map(normalizeProjectName),
    specifiers: typeof specs === 'string' ? r.specifiers : specs,
  };
}

export function formatDependency(r: Requirement): string {
  return formatRequirement(r).replaceAll('"', "'");
}
