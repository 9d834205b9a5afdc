import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

// O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (which would hang past any
// deadline); O_NOCTTY: a terminal never becomes ours. Neither changes how a regular file reads.
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Reads a small file the user named (a --root, a CA bundle) or one kept in a state directory:
 * it must be a regular file of at most `maxBytes`. A FIFO, `/dev/zero` or a multi-gigabyte file
 * is refused before a byte is read, so neither a hang nor unbounded memory can follow from a
 * path. Errors keep their errno code (ENOENT, EACCES); the others say what the path is.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const fh = await open(file, FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${file} is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) throw new Error(`${file} is ${st.size} bytes, over the ${maxBytes}-byte limit for it`);
    // The size at open is what is read: a file growing meanwhile cannot push past the limit.
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}
