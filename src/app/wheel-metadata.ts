import { inflateRawSync } from 'node:zlib';
import { ProvenantError } from '../errors.ts';

/**
 * The exact bytes of `<name>-<version>.dist-info/METADATA` inside a wheel, for the PEP 658
 * `.metadata` file. Reads the zip's central directory (stored or deflated entries; no zip64,
 * which wheels of this size never need).
 */
export function readWheelMetadata(wheel: Uint8Array, file: string): Uint8Array {
  const buf = Buffer.from(wheel.buffer, wheel.byteOffset, wheel.byteLength);
  const bad = (why: string) =>
    new ProvenantError('E_WHEEL_INVALID', `cannot read METADATA from the wheel: ${why}`, {
      file,
      hint: 'rebuild the wheel with `provenant build`',
    });
  // End of central directory: 22 bytes plus a comment of at most 64 KiB.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw bad('corrupt central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (!/^[^/]+\.dist-info\/METADATA$/.test(name)) continue;
    if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw bad(`corrupt local header for ${name}`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const data = buf.subarray(start, start + compressedSize);
    if (method === 0) return new Uint8Array(data);
    if (method === 8) return new Uint8Array(inflateRawSync(data));
    throw bad(`${name} uses unsupported compression method ${method}`);
  }
  throw bad('no .dist-info/METADATA entry');
}
