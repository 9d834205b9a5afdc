/**
 * The one gate for every file the build reads from an integration (pyproject.toml, the version
 * file, readme, license files, package files, and the .gitignore/.hgignore found above it): it
 * must be a regular file whose real path lies inside its tree. Symlinks are followed while they
 * stay inside, as hatchling follows them; one resolving outside (`README.md -> /proc/self/environ`,
 * `-> ../secret`), to a FIFO, device, socket or directory, or to nothing is refused before a byte
 * is read, so nothing from outside the tree can reach METADATA or the wheel. The file actually
 * opened is checked again (a directory swapped for a symlink mid-build), and a file with several
 * hard links is refused: a link made to a file outside looks like any file inside.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync } from 'node:fs';
import { isWithin, openedPath } from '../util/real-path.ts';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';

export interface FileRead {
  data: Buffer;
  /** st_mode of the file read (after following symlinks). */
  mode: number;
}

/** A directory whose files the build may read, and where errors about them point. */
export interface InputTree {
  root: string;
  /** The root's real path, resolved on first use (most builds meet no symlink). */
  realRoot(): string;
  /** The file an error names when the input has no file of its own (pyproject.toml). */
  configFile: string;
}

export interface InputRef {
  /** What the file is, for messages: `readme file`, `package file`, … */
  what: string;
  /** The path relative to the tree's root, as configured or found. */
  rel: string;
  /** The setting that made the build read it; undefined: errors name the input file itself (pyproject.toml, .gitignore). */
  field: string | undefined;
  /** The file `field` is written in, when not the tree's configFile (a setting from hatch.toml). */
  fieldFile?: string;
  /**
   * true when the caller knows every directory above the file is inside the tree and no symlink
   * (the walk, a name in the root): then only the file itself could lead out, and opening it
   * with O_NOFOLLOW tells, so no realpath is needed unless it is a symlink. false: resolve first.
   */
  parentInside: boolean;
  /** true: the caller listed the file, so nothing there means it vanished: refused too. */
  required?: boolean;
}

export function inputTree(root: string, configFile: string): InputTree {
  let real: string | undefined;
  return { root, configFile, realRoot: () => (real ??= realpathSync.native(root)) };
}

const S_IFMT = 0o170000;
const KINDS: Record<number, string> = {
  0o010000: 'a FIFO (named pipe)',
  0o020000: 'a character device',
  0o040000: 'a directory',
  0o060000: 'a block device',
  0o140000: 'a socket',
};
const S_IFREG = 0o100000;
// O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; O_NOCTTY: a tty never becomes
// ours; O_NOFOLLOW: the path opened is the one checked (a symlink swapped in since is refused).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0) | (constants.O_NOFOLLOW ?? 0);
/** Without O_NOFOLLOW (Windows) a symlink would open silently: every path is resolved first. */
const NOFOLLOW = constants.O_NOFOLLOW !== undefined;

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** A path that names nothing: absent, through a file, or too long for any file system to hold. */
function namesNothing(e: unknown): boolean {
  const code = errnoOf(e);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG';
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if (namesNothing(e)) return undefined;
    throw e;
  }
}

function where(tree: InputTree, ref: InputRef): { file: string; field: string | undefined } {
  return ref.field === undefined ? { file: path.join(tree.root, ref.rel), field: undefined } : { file: ref.fieldFile ?? tree.configFile, field: ref.field };
}

function outside(tree: InputTree, ref: InputRef, real: string): ProvenantError {
  return new ProvenantError('E_PATH_ESCAPES', `${ref.what} ${JSON.stringify(ref.rel)} resolves to ${real}, outside ${tree.root}`, {
    exitClass: 'input', ...where(tree, ref),
    hint: 'replace the symlink with the file itself (the build reads only files inside the integration), or fix the path',
  });
}

function notFile(tree: InputTree, ref: InputRef, kind: string, cause?: unknown): ProvenantError {
  return new ProvenantError('E_BUILD_INPUT_NOT_FILE', `${ref.what} ${JSON.stringify(ref.rel)} is ${kind}, not a regular file`, {
    exitClass: 'input', ...where(tree, ref), cause,
    hint: 'replace it with a regular file inside the integration, or remove it (or exclude it)',
  });
}

function hardLinked(tree: InputTree, ref: InputRef, links: number): ProvenantError {
  return new ProvenantError('E_BUILD_INPUT_HARDLINK', `${ref.what} ${JSON.stringify(ref.rel)} has ${links} hard links: its other names may be outside ${tree.root}`, {
    exitClass: 'input', ...where(tree, ref),
    hint: 'replace it with a copy of its own (git never makes hard links: a fresh checkout has none), or remove it (or exclude it)',
  });
}

function missing(tree: InputTree, ref: InputRef): undefined {
  if (ref.required) throw notFile(tree, ref, 'gone (removed while the build ran)');
  return undefined;
}

/**
 * The file's bytes and mode, or `undefined` when nothing is at the path (each caller reports a
 * missing file its own way). Throws E_PATH_ESCAPES when it resolves outside the tree and
 * E_BUILD_INPUT_NOT_FILE when it is not a regular file or a symlink to nothing.
 */
export function readInput(tree: InputTree, abs: string, ref: InputRef): FileRead | undefined {
  let target = abs;
  if (!ref.parentInside || !NOFOLLOW) {
    try {
      target = realpathSync.native(abs);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ELOOP') throw notFile(tree, ref, 'a symlink loop', e);
      if (!namesNothing(e)) throw e;
      if (lstatOrUndefined(abs) === undefined) return missing(tree, ref);
      throw notFile(tree, ref, 'a symlink to nothing', e);
    }
    if (!isWithin(tree.realRoot(), target)) throw outside(tree, ref, target);
  }
  let fd: number;
  try {
    fd = openSync(target, OPEN_FLAGS);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT') return missing(tree, ref);
    // A symlink (O_NOFOLLOW): resolve it and check where it leads, as for any other path.
    if (code === 'ELOOP' && ref.parentInside) return readInput(tree, abs, { ...ref, parentInside: false });
    if (code === 'ELOOP') throw notFile(tree, ref, 'a symlink (it was replaced while the build ran)', e);
    if (code === 'ENXIO') throw notFile(tree, ref, 'a socket or a device without a driver', e);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if ((st.mode & S_IFMT) !== S_IFREG) throw notFile(tree, ref, KINDS[st.mode & S_IFMT] ?? 'of an unknown kind');
    // The checks above looked at paths; what counts is the file this descriptor reads.
    const real = openedPath(fd, target, st);
    if (real === undefined) throw notFile(tree, ref, 'a path that changed while the build ran');
    if (!isWithin(tree.realRoot(), real)) throw outside(tree, ref, real);
    if (st.nlink > 1) throw hardLinked(tree, ref, st.nlink);
    return { data: readAll(fd, st.size), mode: st.mode };
  } finally {
    closeSync(fd);
  }
}

/** As readFileSync does: exactly `size` bytes, or until EOF when the size is unknown (0). */
function readAll(fd: number, size: number): Buffer {
  if (size === 0) {
    const chunks: Buffer[] = [];
    for (let chunk = Buffer.allocUnsafe(8192), got; (got = readSync(fd, chunk, 0, chunk.length, null)) > 0; chunk = Buffer.allocUnsafe(8192)) {
      chunks.push(chunk.subarray(0, got));
    }
    return Buffer.concat(chunks);
  }
  const data = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < data.length) {
    const got = readSync(fd, data, n, data.length - n, null);
    if (got === 0) break;
    n += got;
  }
  return n === data.length ? data : data.subarray(0, n);
}

/** Bytes as Python prints them inside b'…': printable ASCII as is, the rest as \xNN. */
function escapeBytes(b: Buffer): string {
  let s = '';
  for (const byte of b) s += byte === 0x5c ? '\\\\' : byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return s;
}

/**
 * Node decodes a name that is not UTF-8 with U+FFFD in place of the bad bytes, and that name
 * then opens nothing. A wheel stores names as UTF-8 (hatchling fails on such a name too), so a
 * name the build would use is refused, naming its directory and its bytes.
 */
export function assertUtf8Name(tree: InputTree, absDir: string, name: string, field: string): void {
  if (!name.includes('\ufffd')) return;
  const raw = readdirSync(absDir, { encoding: 'buffer' }).find((b) => !isUtf8(b) && b.toString('utf8') === name);
  if (raw === undefined) return; // a real U+FFFD in a UTF-8 name
  const dir = path.relative(tree.root, absDir) || '.';
  throw new ProvenantError('E_FILE_NAME_NOT_UTF8', `${dir}/ holds a name that is not UTF-8: b'${escapeBytes(raw)}'`, {
    exitClass: 'input', file: absDir, field,
    hint: `rename it to UTF-8 (e.g. \`convmv -f latin1 -t utf8 --notest\` in ${absDir}), or exclude it from the wheel`,
  });
}
