import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { fsyncPath } from '../util/atomic-write.ts';
import { codePointCompare } from '../util/code-point-order.ts';

/** Fixed header fields: the same files always give the same archive bytes. */
const FIXED = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0), type: 'file' as const };

/**
 * Writes `files` (repository key → bytes) as a plain POSIX tar (ustar, pax headers for long
 * names) in code-point order of their keys, with fixed owners, modes and mtimes: the same files
 * give the same bytes. `tmp` is created (it must not exist) and fsynced; the caller checks it
 * and renames it into place. On failure it is removed.
 */
export async function writeDeterministicTar(tmp: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  try {
    const tar = pack();
    const written = pipeline(tar, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    for (const key of [...files.keys()].sort(codePointCompare)) {
      const bytes = files.get(key)!;
      await new Promise<void>((resolve, reject) => tar.entry({ ...FIXED, name: key, size: bytes.byteLength }, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (e) => (e ? reject(e) : resolve())));
    }
    tar.finalize();
    await written;
    await fsyncPath(tmp);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
