/**
 * The builder's only I/O: reads pyproject.toml, the version file, readme and license files,
 * and walks the project tree in hatchling's order (each directory's files sorted, then its
 * subdirectories sorted, depth first, following symlinks that stay inside the project).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { createFileSelector, EXCLUDED_FILES, hgignoreGlobPatterns } from './file-selection.ts';
import type { FileSelector } from './file-selection.ts';
import type { ProjectFiles } from './project-metadata.ts';
import { parsePyprojectToml, readPyprojectConfig } from './pyproject.ts';
import type { PyprojectConfig } from './pyproject.ts';
import { codePointCompare } from './specifier.ts';
import { extractVersion } from './version-source.ts';

export interface SourceFile {
  /** Path inside the project and inside the wheel, `/`-separated. */
  relativePath: string;
  data: Uint8Array;
  /** st_mode with permissions normalised to 644/755, as hatchling stores it. */
  mode: number;
}

export interface ProjectSource {
  root: string;
  pyprojectFile: string;
  config: PyprojectConfig;
  files: ProjectFiles;
  /** Selected files in archive order. */
  sources: SourceFile[];
  /** Root-relative license files with their bytes (shipped under .dist-info/licenses/). */
  licenses: { relativePath: string; data: Uint8Array }[];
}

const DEFAULT_LICENSE_GLOBS = ['LICEN[CS]E*', 'COPYING*', 'NOTICE*', 'AUTHORS*'];

/** (st_mode | 0o644) & ~0o133, plus 0o111 when the owner may execute: hatchling's normalisation. */
export function normalizeFileMode(stMode: number): number {
  let mode = (stMode | 0o644) & ~0o133;
  if (stMode & 0o100) mode |= 0o111;
  return mode;
}

/** Python's text-mode read: UTF-8, universal newlines. */
function readText(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r\n?/g, '\n');
}

function decodeText(data: Buffer): string {
  return data.toString('utf8').replace(/\r\n?/g, '\n');
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function escapes(kind: string, p: string, file: string, field: string, hint: string): ProvenantError {
  return new ProvenantError('E_PATH_ESCAPES', `${kind} ${JSON.stringify(p)} is outside the project`, { exitClass: 'input', file, field, hint });
}

/** Resolves a configured relative path, refusing anything that leaves the project. */
function projectPath(root: string, rel: string, file: string, field: string): string {
  const abs = path.resolve(root, rel);
  if (path.isAbsolute(rel) || !isInside(root, abs)) throw escapes('path', rel, file, field, 'use a path relative to the project root, without `..`');
  return abs;
}

function fnmatchRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = segment.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replaceAll('\\', '\\\\')}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Python's glob.glob (not recursive): hidden names only match a pattern segment starting with `.`. */
export function globFiles(root: string, pattern: string, listings = new Map<string, string[]>()): string[] {
  const segments = path.posix.normalize(pattern).split('/').filter((s) => s !== '' && s !== '.');
  let current = [''];
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      const abs = path.join(root, dir);
      if (!/[*?[]/.test(seg)) {
        const candidate = dir ? `${dir}/${seg}` : seg;
        if (statSafe(path.join(root, candidate))) next.push(candidate);
        continue;
      }
      let names = listings.get(abs);
      if (!names) {
        try {
          names = readdirSync(abs);
        } catch {
          continue;
        }
        listings.set(abs, names);
      }
      const re = fnmatchRegex(seg);
      for (const n of names) {
        if (n.startsWith('.') && !seg.startsWith('.')) continue;
        if (re.test(n)) next.push(dir ? `${dir}/${n}` : n);
      }
    }
    current = last ? next : next.filter((d) => statSafe(path.join(root, d))?.isDirectory());
  }
  return current.filter((f) => statSafe(path.join(root, f))?.isFile());
}

function statSafe(p: string): Stats | undefined {
  try {
    // No exception for a missing file: the .gitignore lookup probes several per build.
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * The project root's entries, read once and shared by every lookup that would otherwise stat a
 * name in the root (hatch.toml, PKG-INFO, .gitignore, .git, license globs, the walk itself).
 */
class RootListing {
  readonly root: string;
  readonly entries: Dirent[];
  private readonly byName: Map<string, Dirent>;

  constructor(root: string) {
    this.root = root;
    this.entries = readdirSync(root, { withFileTypes: true });
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
  }

  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  exists(name: string): boolean {
    return this.byName.has(name);
  }

  /** What stat() would say: a symlink is resolved, anything else is answered from the listing. */
  isFile(name: string): boolean {
    const e = this.byName.get(name);
    if (e === undefined) return false;
    return e.isSymbolicLink() ? statSafe(path.join(this.root, name))?.isFile() === true : e.isFile();
  }

  isSymlink(name: string): boolean {
    return this.byName.get(name)?.isSymbolicLink() === true;
  }
}

/** hatchling's locate_file: walk up from the root to the first `name`, stopping at a directory holding `boundary`. */
function locateUp(listing: RootListing, name: string, boundary: string): string | undefined {
  if (listing.isFile(name)) return path.join(listing.root, name);
  if (listing.exists(boundary)) return undefined;
  let dir = listing.root;
  for (;;) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
    const candidate = path.join(dir, name);
    if (statSafe(candidate)?.isFile()) return candidate;
    if (existsSync(path.join(dir, boundary))) return undefined;
  }
}

function vcsPatterns(listing: RootListing): string[] {
  const out: string[] = [];
  const gitignore = locateUp(listing, '.gitignore', '.git');
  if (gitignore) out.push(...readText(gitignore).split(/(?<=\n)/));
  const hgignore = locateUp(listing, '.hgignore', '.hg');
  if (hgignore) out.push(...hgignoreGlobPatterns(readText(hgignore)));
  return out;
}

/** hatchling's selection when no include is configured: the package named like the project. */
function defaultInclude(listing: RootListing, rawName: string, name: string): string[] | undefined {
  const root = listing.root;
  const candidates = [...new Set([rawName, name].map((n) => n.replace(/[^\p{L}\p{N}_.]+/gu, '_')))];
  for (const c of candidates) {
    if (statSafe(path.join(root, c, '__init__.py'))?.isFile()) return [`/${c}/`];
    if (listing.isFile(`${c}.py`)) return [`/${c}.py`];
    const namespaces = listing.names().filter((d) => statSafe(path.join(root, d, c, '__init__.py'))?.isFile());
    if (namespaces.length === 1) return [`/${namespaces[0]}/`];
  }
  return undefined;
}

interface FileRead {
  data: Buffer;
  mode: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/**
 * The bytes of a file the configuration names (version file, readme, license), or `undefined`
 * when it is missing or not a regular file. O_NONBLOCK so that a FIFO in its place is refused,
 * not waited on; the bytes are kept in `reads` so the walk does not read the file again.
 */
function readNamedFile(abs: string, reads: Map<string, FileRead>): FileRead | undefined {
  const file = readFileAndMode(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  if (file === undefined || (file.mode & S_IFMT) !== S_IFREG) return undefined;
  reads.set(abs, file);
  return file;
}

/**
 * A file's bytes and the mode stat() would report, from one open(): fstat on the descriptor
 * instead of a separate stat of the path. `undefined` when the path does not resolve (a
 * dangling symlink).
 */
function readFileAndMode(abs: string, flags: number = constants.O_RDONLY): FileRead | undefined {
  let fd: number;
  try {
    fd = openSync(abs, flags);
  } catch (e) {
    // A configured path that cannot name a file (too long, through a file, a link loop) is as missing as an absent one.
    if (['ENOENT', 'ENAMETOOLONG', 'ENOTDIR', 'ELOOP'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    // As readFileSync does: exactly st.size bytes, or until EOF when the size is unknown (0).
    if (st.size === 0) {
      const chunks: Buffer[] = [];
      for (let chunk = Buffer.allocUnsafe(8192), got; (got = readSync(fd, chunk, 0, chunk.length, null)) > 0; chunk = Buffer.allocUnsafe(8192)) {
        chunks.push(chunk.subarray(0, got));
      }
      return { data: Buffer.concat(chunks), mode: st.mode };
    }
    const data = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < data.length) {
      const got = readSync(fd, data, n, data.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return { data: n === data.length ? data : data.subarray(0, n), mode: st.mode };
  } finally {
    closeSync(fd);
  }
}

/** `reads`: files this build already read (version file, readme, licenses), by absolute path. */
function walk(listing: RootListing, realRoot: () => string, selector: FileSelector, pyprojectFile: string, reads: ReadonlyMap<string, FileRead>): SourceFile[] {
  const out: SourceFile[] = [];
  const seen = new Set<string>();
  const visit = (absDir: string, relDir: string) => {
    const st = statSync(absDir);
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return; // a symlink loop: hatchling's safe_walk skips it too
    seen.add(id);
    const dirs: string[] = [];
    const files: string[] = [];
    const links = new Set<string>();
    for (const entry of relDir === '' ? listing.entries : readdirSync(absDir, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) links.add(entry.name);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSafe(path.join(absDir, entry.name))?.isDirectory());
      (isDir ? dirs : files).push(entry.name);
    }
    files.sort(codePointCompare);
    for (const name of files) {
      if (EXCLUDED_FILES.has(name)) continue;
      const rel = relDir ? `${relDir}/${name}` : name;
      if (!selector.isFileIncluded(rel)) continue;
      const abs = path.join(absDir, name);
      // Only a symlink can leave the project: its parent directory was checked on the way in.
      if (links.has(name)) {
        const real = realpathOrFail(abs, rel, pyprojectFile);
        if (!isInside(realRoot(), real)) throw escapes('symlink', rel, pyprojectFile, 'tool.hatch.build.targets.wheel.include', 'replace the symlink with the file itself, or exclude it');
      }
      const file = reads.get(abs) ?? readFileAndMode(abs);
      if (file === undefined) realpathOrFail(abs, rel, pyprojectFile); // throws the broken-symlink error
      out.push({ relativePath: rel, data: file!.data, mode: normalizeFileMode(file!.mode) });
    }
    for (const name of dirs.filter((d) => !selector.isDirectoryExcluded(d, relDir)).sort(codePointCompare)) {
      const abs = path.join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      if (!selector.mayContainIncluded(rel)) continue;
      const real = links.has(name) ? realpathOrFail(abs, rel, pyprojectFile) : undefined;
      if (real !== undefined && !isInside(realRoot(), real)) {
        // Only a problem when something below it would be shipped.
        if (selector.include === undefined || selector.include.length === 0 || selector.isFileIncluded(`${rel}/x`)) {
          throw escapes('symlink', rel, pyprojectFile, 'tool.hatch.build.targets.wheel.include', 'replace the symlinked directory with real files, or exclude it');
        }
        continue;
      }
      visit(abs, rel);
    }
  };
  visit(listing.root, '');
  return out;
}

function realpathOrFail(abs: string, rel: string, pyprojectFile: string): string {
  try {
    return realpathSync.native(abs);
  } catch (e) {
    throw new ProvenantError('E_PATH_ESCAPES', `${JSON.stringify(rel)} is a broken symlink`, {
      exitClass: 'input', file: pyprojectFile, field: 'tool.hatch.build.targets.wheel.include',
      hint: 'remove the dangling link or exclude it', cause: e,
    });
  }
}

export function readProject(projectDir: string): ProjectSource {
  const root = path.resolve(projectDir);
  const pyprojectFile = path.join(root, 'pyproject.toml');
  let text: string;
  try {
    text = readFileSync(pyprojectFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ProvenantError('E_PYPROJECT_MISSING', `no pyproject.toml in ${root}`, {
        exitClass: 'input', file: pyprojectFile,
        hint: 'run the build on an integration directory (one holding pyproject.toml), or create its pyproject.toml',
        cause: e,
      });
    }
    throw e;
  }
  const config = readPyprojectConfig(parsePyprojectToml(text, pyprojectFile), pyprojectFile);
  // hatchling would merge these into the metadata; provenant does not read them, so it refuses
  // rather than build a wheel that differs from hatchling's.
  const listing = new RootListing(root);
  for (const [name, what] of [['hatch.toml', 'a hatch.toml beside pyproject.toml'], ['PKG-INFO', 'a PKG-INFO file (an unpacked sdist)']] as const) {
    if (listing.isFile(name)) {
      throw new ProvenantError('E_PYPROJECT_FIELD', `${what} is not supported by provenant's wheel builder`, {
        exitClass: 'input', file: path.join(root, name), hint: name === 'hatch.toml' ? 'move its settings into [tool.hatch] in pyproject.toml' : 'build from the source tree, not from an unpacked sdist',
      });
    }
  }
  // Only symlinks need the resolved root, and most projects have none.
  let resolvedRoot: string | undefined;
  const realRoot = () => (resolvedRoot ??= realpathSync.native(root));
  // Each file is read once per build: what the configuration names is reused by the walk.
  const reads = new Map<string, FileRead>();
  const p = config.project;

  let rawVersion: string;
  let versionOrigin: ProjectFiles['versionOrigin'];
  if (config.versionSource) {
    const field = 'tool.hatch.version.path';
    const versionFile = projectPath(root, config.versionSource.path, pyprojectFile, field);
    const versionRead = readNamedFile(versionFile, reads);
    if (versionRead === undefined) {
      throw new ProvenantError('E_VERSION_NOT_FOUND', `version file ${config.versionSource.path} does not exist`, {
        exitClass: 'input', file: pyprojectFile, field, hint: `create ${config.versionSource.path} with \`__version__ = "1.0.0"\`, or fix the path`,
      });
    }
    let found: string | undefined;
    try {
      found = extractVersion(decodeText(versionRead.data), config.versionSource.pattern);
    } catch (e) {
      throw new ProvenantError('E_PYPROJECT_FIELD', `bad version pattern: ${(e as Error).message}`, {
        exitClass: 'input', file: pyprojectFile, field: 'tool.hatch.version.pattern', hint: 'use a regular expression with a named group `version`', cause: e,
      });
    }
    if (found === undefined) {
      throw new ProvenantError('E_VERSION_NOT_FOUND', `no version found in ${config.versionSource.path}`, {
        exitClass: 'input', file: versionFile, field: '__version__',
        hint: 'add a line like `__version__ = "1.0.0"` (or set `tool.hatch.version.pattern`)',
      });
    }
    rawVersion = found;
    versionOrigin = { file: versionFile, field: '__version__' };
  } else {
    rawVersion = p.version!;
    versionOrigin = { file: pyprojectFile, field: 'project.version' };
  }

  let readme: ProjectFiles['readme'];
  if (typeof p.readme === 'object' && (p.readme.file === undefined) === (p.readme.text === undefined)) {
    throw new ProvenantError('E_PYPROJECT_FIELD', 'the readme table needs exactly one of `file` and `text`', {
      exitClass: 'input', file: pyprojectFile, field: 'project.readme', hint: 'write readme = "README.md", or a table with either `file` or `text`',
    });
  }
  if (typeof p.readme === 'string' || (p.readme && p.readme.file !== undefined)) {
    const rel = typeof p.readme === 'string' ? p.readme : p.readme.file!;
    let contentType: string;
    if (typeof p.readme === 'string') {
      const lower = rel.toLowerCase();
      const byExt = lower.endsWith('.md') ? 'text/markdown' : lower.endsWith('.rst') ? 'text/x-rst' : lower.endsWith('.txt') ? 'text/plain' : undefined;
      if (!byExt) {
        throw new ProvenantError('E_PYPROJECT_FIELD', `cannot tell the readme's content type from its extension: ${rel}`, {
          exitClass: 'input', file: pyprojectFile, field: 'project.readme', hint: 'name it *.md, *.rst or *.txt, or use readme = {file = "...", content-type = "text/markdown"}',
        });
      }
      contentType = byExt;
    } else contentType = p.readme.file !== undefined ? p.readme['content-type'] : 'text/markdown';
    const abs = projectPath(root, rel, pyprojectFile, 'project.readme');
    const readmeRead = readNamedFile(abs, reads);
    if (readmeRead === undefined) {
      throw new ProvenantError('E_PYPROJECT_FIELD', `readme file ${rel} does not exist`, { exitClass: 'input', file: pyprojectFile, field: 'project.readme', hint: 'create it or fix the path' });
    }
    readme = { text: decodeText(readmeRead.data), contentType };
  } else if (p.readme && p.readme.text !== undefined) {
    readme = { text: p.readme.text, contentType: p.readme['content-type'] };
  }
  if (readme && !['text/markdown', 'text/x-rst', 'text/plain'].includes(readme.contentType)) {
    throw new ProvenantError('E_PYPROJECT_FIELD', `readme content-type ${readme.contentType} is not one of text/markdown, text/x-rst, text/plain`, {
      exitClass: 'input', file: pyprojectFile, field: 'project.readme.content-type', hint: 'use text/markdown, text/x-rst or text/plain',
    });
  }

  let licenseText: string | undefined;
  if (typeof p.license === 'object' && p.license.file !== undefined) {
    const abs = projectPath(root, p.license.file, pyprojectFile, 'project.license.file');
    const licenseRead = readNamedFile(abs, reads);
    if (licenseRead === undefined) {
      throw new ProvenantError('E_PYPROJECT_FIELD', `license file ${p.license.file} does not exist`, { exitClass: 'input', file: pyprojectFile, field: 'project.license.file', hint: 'create it or fix the path' });
    }
    licenseText = decodeText(licenseRead.data);
  }

  const globs = p['license-files'] ?? DEFAULT_LICENSE_GLOBS;
  const licensePaths = new Set<string>();
  const listings = new Map<string, string[]>([[root, listing.names()]]);
  globs.forEach((g, i) => {
    if (path.posix.normalize(g).split('/').includes('..') || path.isAbsolute(g)) {
      throw escapes('license-files pattern', g, pyprojectFile, `project.license-files[${i}]`, 'list license files relative to the project root');
    }
    for (const f of globFiles(root, g, listings)) licensePaths.add(f);
  });
  const licenseFiles = [...licensePaths].sort(codePointCompare);
  const licenses = licenseFiles.map((rel) => {
    const abs = path.join(root, rel);
    // A root-level name that is not a symlink is inside the project; anything else is resolved.
    if (rel.includes('/') || listing.isSymlink(rel)) {
      const real = realpathSync.native(abs);
      if (!isInside(realRoot(), real)) throw escapes('license file', rel, pyprojectFile, 'project.license-files', 'replace the symlink with the file itself');
      return { relativePath: rel, data: readFileSync(real) };
    }
    return { relativePath: rel, data: (reads.get(abs) ?? readNamedFile(abs, reads) ?? { data: readFileSync(abs) }).data };
  });

  const selector = createFileSelector({
    config: config.selection,
    vcsPatterns: config.selection.ignoreVcs ? [] : vcsPatterns(listing),
    absoluteRoot: root,
    defaultInclude: config.selection.include === undefined ? defaultInclude(listing, p.name, p.name.replace(/[-_.]+/g, '-').toLowerCase()) : undefined,
    pyprojectFile,
  });
  if (config.selection.include === undefined && selector.include === undefined) {
    throw new ProvenantError('E_PYPROJECT_FIELD', 'cannot tell which files to ship: no `include` and no package directory named like the project', {
      exitClass: 'input', file: pyprojectFile, field: 'tool.hatch.build.targets.wheel.include',
      hint: 'add [tool.hatch.build.targets.wheel] include = ["/datadog_checks/<name>"]',
    });
  }
  const sources = walk(listing, realRoot, selector, pyprojectFile, reads);

  return { root, pyprojectFile, config, files: { rawVersion, versionOrigin, readme, licenseText, licenseFiles }, sources, licenses };
}
