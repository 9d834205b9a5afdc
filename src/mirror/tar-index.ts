import { ProvenantError } from '../errors.ts';

/**
 * Indexes a POSIX tar (ustar, with pax `x` headers and GNU `L` long names) without extracting
 * it: each regular file's name, data offset and size, so a bundle is read in place, entry by
 * entry. Written here rather than taken from tar-stream or node-tar because both only stream
 * entries in order and expose no data offsets, which reading a bundle in place needs; and every
 * refusal below (links, devices, `..`, duplicates, truncation) is ours to decide anyway.
 *
 * Anything that is not a plain file at a plain relative path is refused, naming the entry:
 * nothing in a bundle may point elsewhere, and nothing is ever written from it.
 */
export interface TarEntry {
  name: string;
  /** Byte offset of the entry's data in the archive. */
  offset: number;
  size: number;
}

/** Reads exactly `length` bytes at `position`, or fewer at the end of the archive. */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

const BLOCK = 512;
/** A pax header or GNU long name this large is not a name: refused rather than buffered. */
const MAX_EXTENDED_HEADER = 1 << 20;

export async function indexTar(read: ReadAt, archiveSize: number, archive: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  let pos = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (;;) {
    if (pos + BLOCK > archiveSize) throw truncated(archive, pos === 0 ? 'the archive is empty' : 'it ends without the end-of-archive blocks', undefined);
    const header = await read(pos, BLOCK);
    if (header.every((b) => b === 0)) return entries;
    checkChecksum(header, archive, pos);
    const type = String.fromCharCode(header[156]!);
    let size = parseNumber(header.subarray(124, 136), archive, pos, 'size');
    const rawName = ustarName(header);
    if (pax.size !== undefined) size = Number(pax.size);
    if (!Number.isSafeInteger(size) || size < 0) throw headerError(archive, `entry at byte ${pos} has an invalid size`, rawName);
    const dataOffset = pos + BLOCK;
    const name = pax.path ?? longName ?? rawName;
    if (dataOffset + size > archiveSize) throw truncated(archive, `its data ends ${dataOffset + size - archiveSize} bytes past the end of the archive`, name);
    const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      if (size > MAX_EXTENDED_HEADER) throw headerError(archive, `extended header of ${size} bytes`, rawName);
      const data = await read(dataOffset, size);
      if (type === 'x') pax = parsePax(data, archive, pos);
      else longName = new TextDecoder().decode(data).replace(/\0+$/, '');
      pos = next;
      continue;
    }
    pax = {};
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') {
      const key = safeName(name, archive);
      if (entries.has(key)) throw entryError('E_MIRROR_ENTRY_DUPLICATE', archive, key, 'appears twice in the archive', 'a bundle names each file once; write it again with `provenant mirror export`');
      entries.set(key, { name: key, offset: dataOffset, size });
    } else if (type === '5') {
      // `tar -C dir .` writes the archive root itself as `./`.
      if (!/^(\.\/?)+$/.test(name)) safeName(name.replace(/\/+$/, ''), archive);
    } else if (type === '1' || type === '2') {
      throw entryError('E_MIRROR_ENTRY_LINK', archive, name, `is a ${type === '1' ? 'hard' : 'symbolic'} link`, 'a bundle holds plain files only; links could point outside it');
    } else if (type === '3' || type === '4' || type === '6') {
      throw entryError('E_MIRROR_ENTRY_DEVICE', archive, name, `is a ${type === '6' ? 'FIFO' : 'device'}`, 'a bundle holds plain files only');
    } else {
      throw entryError('E_MIRROR_ENTRY_TYPE', archive, name, `has tar entry type ${JSON.stringify(type)}, which a bundle never holds`, 'a bundle holds plain files only (and directories)');
    }
    pos = next;
  }
}

/** A relative path of plain segments; a leading `./` (as `tar -C dir .` writes) is dropped. */
function safeName(name: string, archive: string): string {
  const key = name.replace(/^(\.\/)+/, '');
  const bad = (why: string) => entryError('E_MIRROR_ENTRY_PATH', archive, name, why, 'a bundle holds relative paths inside the repository only; do not use this archive');
  if (key === '' || key.startsWith('/')) throw bad('is an absolute or empty path');
  if (key.includes('\\') || [...key].some((c) => c.charCodeAt(0) < 0x20)) throw bad('has a backslash or a control character');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) throw bad('has an empty, . or .. segment');
  return key;
}

function ustarName(h: Uint8Array): string {
  const name = cString(h.subarray(0, 100));
  const magic = cString(h.subarray(257, 263));
  const prefix = magic.startsWith('ustar') ? cString(h.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** Octal (NUL/space terminated), or base-256 (high bit set) as GNU tar writes large sizes. */
function parseNumber(field: Uint8Array, archive: string, pos: number, what: string): number {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  const text = cString(field).trim();
  if (!/^[0-7]*$/.test(text)) throw headerError(archive, `the header at byte ${pos} has a malformed ${what} field`, undefined);
  return text === '' ? 0 : parseInt(text, 8);
}

function checkChecksum(h: Uint8Array, archive: string, pos: number): void {
  const stored = parseNumber(h.subarray(148, 156), archive, pos, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (sum !== stored) throw headerError(archive, `the header at byte ${pos} fails its checksum (not a tar, or corrupted)`, ustarName(h) || undefined);
}

/** pax records: `<length> <key>=<value>\n`. Only `path` and `size` matter to an index. */
function parsePax(data: Uint8Array, archive: string, pos: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = space < 0 ? NaN : Number(new TextDecoder().decode(data.subarray(i, space)));
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) throw headerError(archive, `the pax header at byte ${pos} is malformed`, undefined);
    const record = new TextDecoder().decode(data.subarray(space + 1, i + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  if (out.size !== undefined && !/^[0-9]+$/.test(out.size)) throw headerError(archive, `the pax header at byte ${pos} has a malformed size`, undefined);
  return out;
}

function truncated(archive: string, why: string, entry: string | undefined): ProvenantError {
  return new ProvenantError('E_MIRROR_TRUNCATED', `${archive} is truncated: ${entry ? `entry ${entry}: ` : ''}${why}`, {
    exitClass: 'verification',
    file: entry ?? archive,
    hint: 'copy the bundle again (compare its size and sha256 with the exporter\'s)',
  });
}

function headerError(archive: string, why: string, entry: string | undefined): ProvenantError {
  return new ProvenantError('E_MIRROR_HEADER', `${archive}: ${why}`, { exitClass: 'verification', file: entry ?? archive, hint: 'the bundle is not a POSIX tar or it is corrupted; export it again' });
}

function entryError(code: string, archive: string, entry: string, why: string, hint: string): ProvenantError {
  return new ProvenantError(code, `${archive}: entry ${JSON.stringify(entry)} ${why}; the bundle is refused`, { exitClass: 'verification', file: entry, hint });
}
