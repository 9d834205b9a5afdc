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
const MIN_TIMESTAMP = 315532800; // 1980-01-01T00:00:00Z, the earliest time a DOS date holds

/** DOS date and time of an epoch second, in UTC, clamped to 1980 like hatchling does. */
export function dosDateTime(epochSeconds: number): { date: number; time: number } {
  const d = new Date(Math.max(epochSeconds, MIN_TIMESTAMP) * 1000);
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
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;

  for (const e of entries) {
    const name = encoder.encode(e.name);
    const flags = isAscii(e.name) ? 0 : UTF8_NAME;
    const compressed = deflateLikeZlib(e.data);
    const crc = crc32(e.data) >>> 0;
    if (e.data.length >= 0xffffffff || compressed.length >= 0xffffffff || offset >= 0xffffffff) {
      throw new RangeError(`zip entry ${e.name} needs zip64, which the wheel builder does not write`);
    }

    const local = new Uint8Array(30 + name.length + compressed.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint8(4, VERSION);
    lv.setUint8(5, 0);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, DEFLATED, true);
    lv.setUint16(10, time, true);
    lv.setUint16(12, date, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, compressed.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true);
    local.set(name, 30);
    local.set(compressed, 30 + name.length);

    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint8(4, VERSION);
    cv.setUint8(5, MADE_ON_UNIX);
    cv.setUint8(6, VERSION);
    cv.setUint8(7, 0);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, DEFLATED, true);
    cv.setUint16(12, time, true);
    cv.setUint16(14, date, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, compressed.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    // extra length, comment length, disk number, internal attributes: all zero
    cv.setUint32(38, ((e.mode & 0xffff) << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);

    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }

  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);

  const out = new Uint8Array(offset + centralSize + end.length);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
