import { ProvenantError } from '../errors.ts';
import { readZipDirectory, readZipEntry, ZipReadError } from '../wheel/zip-read.ts';

/**
 * The exact bytes of `<name>-<version>.dist-info/METADATA` inside a wheel, for the PEP 658
 * `.metadata` file.
 */
export function readWheelMetadata(wheel: Uint8Array, file: string): Uint8Array {
  const bad = (why: string) =>
    new ProvenantError('E_WHEEL_INVALID', `cannot read METADATA from the wheel: ${why}`, {
      file,
      hint: 'rebuild the wheel with `provenant build`',
    });
  try {
    const entry = readZipDirectory(wheel).find((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
    if (entry === undefined) throw bad('no .dist-info/METADATA entry');
    return readZipEntry(wheel, entry);
  } catch (e) {
    if (e instanceof ZipReadError) throw bad(e.message);
    throw e;
  }
}
