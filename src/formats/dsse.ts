import { ProvenantError } from '../errors.ts';

/**
 * DSSE, the Dead Simple Signing Envelope (github.com/secure-systems-lab/dsse, protocol.md and
 * envelope.md). Pure: no keys, no I/O. A signature covers PAE(payloadType, payload), never the
 * payload alone, so a signature made for one payload type cannot be replayed as another.
 */
export interface DsseSignature {
  /** Unauthenticated hint naming the key; it may narrow which keys to try, never widen trust. */
  keyid: string;
  sig: Uint8Array;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: DsseSignature[];
}

/** The JSON envelope of envelope.md (also the `dsseEnvelope` of a Sigstore bundle). */
export interface SerializedDsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { keyid?: string; sig: string }[];
}

const utf8 = new TextEncoder();

/**
 * Pre-Authentication Encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN being
 * the ASCII decimal BYTE length (not the character count: they differ for non-ASCII types).
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  const head = utf8.encode(`DSSEv1 ${type.length} `);
  const mid = utf8.encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(payload, head.length + type.length + mid.length);
  return out;
}

/** Standard base64 with padding: what Sigstore's protobuf JSON writes. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes base64 strictly. DSSE verifiers must accept the standard and the URL-safe alphabet;
 * Node's own decoder silently skips characters it does not know, so anything that does not
 * re-encode to the same text (stray characters, bad padding, non-zero trailing bits) is refused.
 * Returns undefined when `text` is not base64.
 */
export function fromBase64Strict(text: string): Uint8Array | undefined {
  const urlSafe = !STANDARD.test(text);
  if (urlSafe && !URL_SAFE.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (text.length !== unpadded.length && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, urlSafe ? 'base64url' : 'base64');
  const again = bytes.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '');
  if (again !== unpadded) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function serializeEnvelope(env: DsseEnvelope): SerializedDsseEnvelope {
  return {
    payload: toBase64(env.payload),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => ({ sig: toBase64(s.sig), keyid: s.keyid })),
  };
}

function malformed(message: string, field: string, file: string | undefined): ProvenantError {
  return new ProvenantError('E_ATTESTATION_MALFORMED', `DSSE envelope ${message}`, {
    exitClass: 'verification',
    file,
    field,
    hint: 'the attestation is not a DSSE envelope provenant can read; re-run `provenant sign` to produce it again',
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], field: string, file?: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw malformed(`has an unknown field "${k}"`, field ? `${field}.${k}` : k, file);
  }
}

/**
 * Parses the JSON envelope strictly: exactly the fields of envelope.md, a non-empty payload
 * type, base64 that round-trips, at least one signature. `field` prefixes error paths (e.g.
 * `dsseEnvelope` inside a bundle).
 */
export function parseEnvelope(value: unknown, opts: { file?: string; field?: string } = {}): DsseEnvelope {
  const base = opts.field ?? '';
  const at = (f: string) => (base ? `${base}.${f}` : f);
  if (!isObject(value)) throw malformed('is not a JSON object', base, opts.file);
  rejectUnknownKeys(value, ['payload', 'payloadType', 'signatures'], base, opts.file);
  const { payload, payloadType, signatures } = value;
  if (typeof payloadType !== 'string' || payloadType.length === 0) {
    throw malformed('has no payloadType', at('payloadType'), opts.file);
  }
  if (typeof payload !== 'string') throw malformed('has no payload', at('payload'), opts.file);
  const body = fromBase64Strict(payload);
  if (body === undefined) throw malformed('payload is not valid base64', at('payload'), opts.file);
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw malformed('has no signatures', at('signatures'), opts.file);
  }
  const sigs = signatures.map((s: unknown, i): DsseSignature => {
    const f = at(`signatures[${i}]`);
    if (!isObject(s)) throw malformed('signature is not an object', f, opts.file);
    rejectUnknownKeys(s, ['sig', 'keyid'], f, opts.file);
    if (s.keyid !== undefined && typeof s.keyid !== 'string') throw malformed('keyid is not a string', `${f}.keyid`, opts.file);
    if (typeof s.sig !== 'string' || s.sig.length === 0) throw malformed('signature has no sig', `${f}.sig`, opts.file);
    const sig = fromBase64Strict(s.sig);
    if (sig === undefined) throw malformed('sig is not valid base64', `${f}.sig`, opts.file);
    return { keyid: s.keyid ?? '', sig };
  });
  return { payloadType, payload: body, signatures: sigs };
}
