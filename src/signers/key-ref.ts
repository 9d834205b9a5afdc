import { isAbsolute, join as joinPath } from 'node:path';
import { ProvenantError } from '../errors.ts';

/**
 * Key references, as cosign spells them: a file path, a `pkcs11:` URI (RFC 7512) or
 * `awskms://[host[:port]]/<key id | alias/NAME | key or alias ARN>`. Pure: parsing only; the
 * adapters (key-file.ts, pkcs11.ts, aws-kms.ts) open what a reference names.
 */
export type KeyRef = FileKeyRef | Pkcs11KeyRef | AwsKmsKeyRef;

export interface FileKeyRef {
  kind: 'file';
  path: string;
}

/** The RFC 7512 attributes provenant uses to find a token, a private key and its PIN. */
export interface Pkcs11KeyRef {
  kind: 'pkcs11';
  /** The URI as written (with any pin-value): what keys.json records and messages redact. */
  uri: string;
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  libraryManufacturer?: string;
  libraryDescription?: string;
  libraryVersion?: string;
  slotId?: number;
  slotDescription?: string;
  slotManufacturer?: string;
  /** CKA_LABEL of the key. */
  object?: string;
  /** CKA_ID of the key (raw bytes). */
  id?: Uint8Array;
  /** The PKCS#11 module (shared library) to load. */
  modulePath?: string;
  /** Where the PIN is: a file path or a `file:` URI. */
  pinSource?: string;
  pinValue?: string;
}

export interface AwsKmsKeyRef {
  kind: 'awskms';
  uri: string;
  /** `host[:port]` from the URI: the KMS endpoint, reached over https (as cosign does). */
  endpoint?: string;
  /** What KMS calls the KeyId: a key id, `alias/NAME`, or a key or alias ARN. */
  keyId: string;
  /** The region an ARN names. */
  region?: string;
}

const PATH_ATTRIBUTES = [
  'token',
  'manufacturer',
  'serial',
  'model',
  'library-manufacturer',
  'library-description',
  'library-version',
  'slot-id',
  'slot-description',
  'slot-manufacturer',
  'object',
  'id',
  'type',
];
const QUERY_ATTRIBUTES = ['module-path', 'pin-source', 'pin-value'];

// KMS key identifiers (docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id),
// the same forms sigstore's awskms provider accepts; multi-Region keys start with `mrk-`.
const KEY_UUID = '(?:mrk-[0-9a-f]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';
const ALIAS = 'alias/[A-Za-z0-9/_-]+';
const ARN = 'arn:aws(?:-us-gov|-cn)?:kms:([a-z0-9-]+):\\d{12}:';
const KMS_KEY_FORMS = [new RegExp(`^${KEY_UUID}$`), new RegExp(`^${ALIAS}$`), new RegExp(`^${ARN}(?:key/${KEY_UUID}|${ALIAS})$`)];
const KMS_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const URI_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

const FORMS_HINT =
  'a key reference is a file path, pkcs11:token=T;object=K?module-path=/path/module.so (RFC 7512), or awskms:///<key id|alias/NAME|ARN> (awskms://host:port/… for another endpoint); see docs/keys.md';

export function parseKeyRef(text: string, field = '--key'): KeyRef {
  const bad = (why: string) => new ProvenantError('E_KEYREF_INVALID', `invalid key reference ${JSON.stringify(redactPin(text))}: ${why}`, { exitClass: 'usage', field, hint: FORMS_HINT });
  if (text.trim() === '') throw bad('it is empty');
  if (text.startsWith('pkcs11:')) return parsePkcs11(text, bad);
  const scheme = URI_SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'awskms') return parseAwsKms(text, bad);
  if (scheme !== undefined) throw bad(`${scheme}:// keys are not supported (file paths, pkcs11: and awskms:// are)`);
  return { kind: 'file', path: text };
}

function parsePkcs11(text: string, bad: (why: string) => ProvenantError): Pkcs11KeyRef {
  const body = text.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const attrs = new Map<string, string>();
  let id: Uint8Array | undefined;
  const take = (part: string, sep: string, known: readonly string[], where: string) => {
    let previous = '';
    for (const attr of part === '' ? [] : part.split(sep)) {
      const eq = attr.indexOf('=');
      // A PIN holding a raw & or ; splits in two: its second half must not be echoed as an attribute.
      if (eq <= 0 && isPinValueName(previous)) throw bad(`the value of "${previous}" holds a raw "${sep}"; percent-encode it (${sep === '&' ? '%26' : '%3B'})`);
      if (eq <= 0) throw bad(`"${attr}" in the ${where} is not name=value`);
      previous = attr.slice(0, eq);
      const name = attr.slice(0, eq);
      const raw = attr.slice(eq + 1);
      if (!known.includes(name)) throw bad(`unknown ${where} attribute "${name}" (RFC 7512; supported: ${known.join(', ')})`);
      if (attrs.has(name)) throw bad(`attribute "${name}" appears twice`);
      if (name === 'id') id = percentBytes(raw, bad);
      attrs.set(name, name === 'id' ? raw : percentText(raw, name, bad));
    }
  };
  take(q < 0 ? body : body.slice(0, q), ';', PATH_ATTRIBUTES, 'path');
  take(q < 0 ? '' : body.slice(q + 1), '&', QUERY_ATTRIBUTES, 'query');
  const type = attrs.get('type');
  if (type !== undefined && type !== 'private') throw bad(`type=${type}: the reference must name a private key (type=private, or no type)`);
  const slotId = attrs.get('slot-id');
  if (slotId !== undefined && !/^\d+$/.test(slotId)) throw bad(`slot-id must be a decimal number, not "${slotId}"`);
  if (attrs.has('pin-source') && attrs.has('pin-value')) throw bad('pin-source and pin-value are exclusive');
  if (!attrs.has('object') && id === undefined) throw bad('name the key with object=<label> or id=<%-encoded CKA_ID>');
  return {
    kind: 'pkcs11',
    uri: text,
    token: attrs.get('token'),
    manufacturer: attrs.get('manufacturer'),
    serial: attrs.get('serial'),
    model: attrs.get('model'),
    libraryManufacturer: attrs.get('library-manufacturer'),
    libraryDescription: attrs.get('library-description'),
    libraryVersion: attrs.get('library-version'),
    slotId: slotId === undefined ? undefined : Number(slotId),
    slotDescription: attrs.get('slot-description'),
    slotManufacturer: attrs.get('slot-manufacturer'),
    object: attrs.get('object'),
    id,
    modulePath: attrs.get('module-path'),
    pinSource: attrs.get('pin-source'),
    pinValue: attrs.get('pin-value'),
  };
}

function parseAwsKms(text: string, bad: (why: string) => ProvenantError): AwsKmsKeyRef {
  const rest = text.slice('awskms://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('no key after the endpoint: awskms://[host:port]/<key>');
  const endpoint = rest.slice(0, slash);
  const keyId = rest.slice(slash + 1);
  if (endpoint !== '' && !KMS_HOST.test(endpoint)) throw bad(`"${endpoint}" is not host[:port]`);
  const form = KMS_KEY_FORMS.map((re) => re.exec(keyId)).find((m) => m !== null);
  if (!form) throw bad(`"${keyId}" is not a KMS key id, alias/NAME, or key or alias ARN`);
  return { kind: 'awskms', uri: text, keyId, ...(endpoint ? { endpoint } : {}), ...(form[1] ? { region: form[1] } : {}) };
}

function percentText(raw: string, name: string, bad: (why: string) => ProvenantError): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw bad(`the value of "${name}" is not valid percent-encoded UTF-8`);
  }
}

/** CKA_ID is bytes: RFC 7512 percent-encodes each (`id=%01%a2`); plain characters stand for themselves. */
function percentBytes(raw: string, bad: (why: string) => ProvenantError): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw bad(`"%${hex}" in id is not a percent-encoded byte`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(...new TextEncoder().encode(raw[i]!));
    }
  }
  if (out.length === 0) throw bad('id is empty');
  return new Uint8Array(out);
}

/**
 * The reference with its relative paths (a file, a pin-source) made absolute against `cwd`, for
 * recording in keys.json, where a relative path would be read against the key store instead.
 */
export function anchorKeyRef(text: string, cwd: string, field = '--key'): string {
  const ref = parseKeyRef(text, field);
  if (ref.kind === 'file') return isAbsolute(ref.path) ? text : joinPath(cwd, ref.path);
  if (ref.kind !== 'pkcs11' || ref.pinSource === undefined || ref.pinSource.startsWith('file:') || isAbsolute(ref.pinSource)) return text;
  const absolute = encodeURIComponent(joinPath(cwd, ref.pinSource)).replace(/%2F/g, '/');
  return text.replace(/([?&]pin-source=)[^&]*/, (_m, attr: string) => `${attr}${absolute}`);
}

/** The reference for messages and logs: a pin-value never appears. */
export function describeKeyRef(ref: KeyRef): string {
  return ref.kind === 'file' ? ref.path : ref.kind === 'pkcs11' ? redactPin(ref.uri) : ref.uri;
}

/**
 * Every attribute that is, or is spelt like, pin-value has its value hidden: in the query or
 * (misplaced) in the path, in any case, percent-encoded, as the first attribute. A reference
 * that does not parse is echoed in its error, and a PIN written in the wrong place is still a PIN.
 */
function redactPin(text: string): string {
  // A value runs on over separators not followed by name= (a PIN with a raw & or ; in it).
  return text.replace(/([:;?&])([^:;?&=]*)=([^;?&]*(?:[;&][^;?&=]*(?=[;?&]|$))*)/g, (all, sep: string, name: string) => (isPinValueName(name) ? `${sep}${name}=***` : all));
}

function isPinValueName(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // judged as written
  }
  return /^\s*pin[-_ ]?value\s*$/i.test(decoded);
}

/**
 * keys.json holds public data only: a PIN written into a reference would end up on disk and in
 * backups of the key store, so such references are refused there (use pin-source or the
 * environment, docs/keys.md).
 */
export function assertNoSecret(ref: KeyRef, field: string): void {
  if (ref.kind === 'pkcs11' && ref.pinValue !== undefined) {
    throw new ProvenantError('E_KEYREF_SECRET', `the key reference ${describeKeyRef(ref)} carries its PIN (pin-value), which would be stored in keys.json`, {
      exitClass: 'usage',
      field,
      hint: 'drop pin-value and give the PIN with pin-source=/path/to/pin-file or PROVENANT_PKCS11_PIN (docs/keys.md)',
    });
  }
}
