/**
 * A deterministic zip writer laid out byte for byte like CPython's `zipfile` writing to a seekable
 * file (which is what hatchling does): local header with final sizes and CRC, no data descriptor,
 * no extra fields, version 2.0 made on Unix, deflated by zlib itself (WebAssembly) at its default
 * level so the compressed stream equals CPython zlib's. Pure: entries in, bytes out.
 */
import { crc32 } from 'node:zlib';
import { deflateRaw } from './zlib-deflate.ts';

export interface ZipEntry {
  /** Archive path with `/` separators. */
  name: string;
  data: Uint8Array;
  /** Unix mode bits stored in the high half of the external attributes (e.g. 0o100644 or 0o644). */
  mode: number;
}

const VERSION = 20; // 2.0: deflate
const MADE_ON_UNIX = 3;
const DEFLATED = 8;
const UTF8_NAME = 0x800;
/** 1980-01-01T00:00:00Z, the earliest time a DOS date holds: hatchling clamps earlier times to it. */
export const ZIP_MIN_EPOCH = 315532800;
/** 2107-12-31T23:59:59Z, the latest: past it CPython's zipfile (and so hatchling) fails. */
export const ZIP_MAX_EPOCH = 4354819199;

/** DOS date and time of an epoch second, in UTC, clamped to 1980 like hatchling does. */
export function dosDateTime(epochSeconds: number): { date: number; time: number } {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds > ZIP_MAX_EPOCH) throw new RangeError(`${epochSeconds} is not a whole second a zip can store (at most ${ZIP_MAX_EPOCH})`);
  const d = new Date(Math.max(epochSeconds, ZIP_MIN_EPOCH) * 1000);
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return { date, time };
}

/** Raw deflate exactly as CPython's zlib produces it (see zlib-deflate.ts). */
export function deflateLikeZlib(data: Uint8Array): Uint8Array {
  return deflateRaw(data);
}

const encoder = new TextEncoder();

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Writes entries in the given order; every entry gets the same timestamp. */
export function writeZip(entries: readonly ZipEntry[], epochSeconds: number): Uint8Array {
  const { date, time } = dosDateTime(epochSeconds);
  // First pass: compress and measure; second pass: lay everything out in one buffer.
  const names: Uint8Array[] = [];
  const compressed: Uint8Array[] = [];
  const crcs: number[] = [];
  let localSize = 0;
  let centralSize = 0;
  for (const e of entries) {
    const name = encoder.encode(e.name);
    const deflated = deflateLikeZlib(e.data);
    if (e.data.length >= 0xffffffff || deflated.length >= 0xffffffff || localSize >= 0xffffffff) {
      throw new RangeError(`zip entry ${e.name} needs zip64, which the wheel builder does not write`);
    }
    names.push(name);
    compressed.push(deflated);
    crcs.push(crc32(e.data) >>> 0);
    localSize += 30 + name.length + deflated.length;
    centralSize += 46 + name.length;
  }

  const out = new Uint8Array(localSize + centralSize + 22);
  const v = new DataView(out.buffer);
  let at = 0;
  const offsets: number[] = [];
  entries.forEach((e, i) => {
    const name = names[i]!;
    const data = compressed[i]!;
    offsets.push(at);
    v.setUint32(at, 0x04034b50, true);
    v.setUint8(at + 4, VERSION);
    v.setUint16(at + 6, isAscii(e.name) ? 0 : UTF8_NAME, true);
    v.setUint16(at + 8, DEFLATED, true);
    v.setUint16(at + 10, time, true);
    v.setUint16(at + 12, date, true);
    v.setUint32(at + 14, crcs[i]!, true);
    v.setUint32(at + 18, data.length, true);
    v.setUint32(at + 22, e.data.length, true);
    v.setUint16(at + 26, name.length, true);
    // byte 5 (version's high byte) and the extra length at 28 stay zero
    out.set(name, at + 30);
    out.set(data, at + 30 + name.length);
    at += 30 + name.length + data.length;
  });
  entries.forEach((e, i) => {
    const name = names[i]!;
    v.setUint32(at, 0x02014b50, true);
    v.setUint8(at + 4, VERSION);
    v.setUint8(at + 5, MADE_ON_UNIX);
    v.setUint8(at + 6, VERSION);
    v.setUint16(at + 8, isAscii(e.name) ? 0 : UTF8_NAME, true);
    v.setUint16(at + 10, DEFLATED, true);
    v.setUint16(at + 12, time, true);
    v.setUint16(at + 14, date, true);
    v.setUint32(at + 16, crcs[i]!, true);
    v.setUint32(at + 20, compressed[i]!.length, true);
    v.setUint32(at + 24, e.data.length, true);
    v.setUint16(at + 28, name.length, true);
    // extra length, comment length, disk number, internal attributes: all zero
    v.setUint32(at + 38, ((e.mode & 0xffff) << 16) >>> 0, true);
    v.setUint32(at + 42, offsets[i]!, true);
    out.set(name, at + 46);
    at += 46 + name.length;
  });
  v.setUint32(at, 0x06054b50, true);
  v.setUint16(at + 8, entries.length, true);
  v.setUint16(at + 10, entries.length, true);
  v.setUint32(at + 12, centralSize, true);
  v.setUint32(at + 16, localSize, true);
  return out;
}
