/**
 * The builder's only I/O: reads pyproject.toml, the version file, readme and license files,
 * and walks the project tree in hatchling's order (each directory's files sorted, then its
 * subdirectories sorted, depth first, following symlinks that stay inside the project).
 * Every file is read through input-file.ts's readInput: regular files inside the tree only.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { createFileSelector, EXCLUDED_FILES, hgignoreGlobPatterns } from './file-selection.ts';
import { assertUtf8Name, inputTree, readInput } from './input-file.ts';
import { isWithin } from '../util/real-path.ts';
import type { FileRead, InputRef, InputTree } from './input-file.ts';
import type { FileSelector } from './file-selection.ts';
import type { ProjectFiles } from './project-metadata.ts';
import { settingAt } from './hatch-config.ts';
import type { HatchToml } from './hatch-config.ts';
import { parseConfigToml, readPyprojectConfig } from './pyproject.ts';
import type { PyprojectConfig } from './pyproject.ts';
import { codePointCompare } from '../util/code-point-order.ts';
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
function decodeText(data: Buffer): string {
  return data.toString('utf8').replace(/\r\n?/g, '\n');
}

function escapes(kind: string, p: string, file: string, field: string, hint: string): ProvenantError {
  return new ProvenantError('E_PATH_ESCAPES', `${kind} ${JSON.stringify(p)} is outside the project`, { exitClass: 'input', file, field, hint });
}

/** Resolves a configured relative path, refusing anything that leaves the project. */
function projectPath(root: string, rel: string, file: string, field: string): string {
  const abs = path.resolve(root, rel);
  if (path.isAbsolute(rel) || !isWithin(root, abs)) throw escapes('path', rel, file, field, 'use a path relative to the project root, without `..`');
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

/**
 * Python's glob.glob (not recursive): hidden names only match a pattern segment starting with `.`.
 * `checkName` sees each matching name with its directory before it is used.
 */
export function globFiles(root: string, pattern: string, listings = new Map<string, string[]>(), checkName?: (absDir: string, name: string) => void): string[] {
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
        if (!re.test(n)) continue;
        checkName?.(abs, n);
        next.push(dir ? `${dir}/${n}` : n);
      }
    }
    current = last ? next : next.filter((d) => statSafe(path.join(root, d))?.isDirectory());
  }
  return current.filter((f) => statSafe(path.join(root, f))?.isFile());
}

function lstatSafe(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
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

  /** A real directory, not a symlink to one. */
  isDirectory(name: string): boolean {
    return this.byName.get(name)?.isDirectory() === true;
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

/**
 * The nearest .gitignore / .hgignore, as hatchling finds them: often above the integration (the
 * repository's), so each is held to the input rule within the directory it was found in.
 */
function readVcsFile(listing: RootListing, name: string, boundary: string, pyprojectFile: string): string | undefined {
  const found = locateUp(listing, name, boundary);
  if (found === undefined) return undefined;
  const dir = path.dirname(found);
  const ref = { what: name, rel: name, field: undefined, parentInside: true };
  const read = readInput(inputTree(dir, pyprojectFile), found, ref);
  return read === undefined ? undefined : decodeText(read.data);
}

function vcsPatterns(listing: RootListing, pyprojectFile: string): string[] {
  const out: string[] = [];
  const gitignore = readVcsFile(listing, '.gitignore', '.git', pyprojectFile);
  if (gitignore !== undefined) out.push(...gitignore.split(/(?<=\n)/));
  const hgignore = readVcsFile(listing, '.hgignore', '.hg', pyprojectFile);
  if (hgignore !== undefined) out.push(...hgignoreGlobPatterns(hgignore));
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

/**
 * Whether every directory on a root-relative path is a real directory (no symlink), so the
 * path cannot leave the tree above its last name. The root's own entries come from the listing.
 */
function parentsAreRealDirs(listing: RootListing, rel: string): boolean {
  const parts = rel.split('/');
  if (parts.length === 1) return true;
  if (!listing.isDirectory(parts[0]!)) return false;
  for (let i = 2; i < parts.length; i++) {
    const st = lstatSafe(path.join(listing.root, ...parts.slice(0, i)));
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/**
 * A file the configuration names (version file, readme, license): its bytes through the input
 * gate, kept in `reads` so the walk does not read it again; `undefined` when it is missing.
 */
function readNamedFile(tree: InputTree, listing: RootListing, rel: string, ref: Omit<InputRef, 'rel' | 'parentInside'>, reads: Map<string, FileRead>): FileRead | undefined {
  const abs = path.join(tree.root, rel);
  const cached = reads.get(abs);
  if (cached) return cached;
  const file = readInput(tree, abs, { ...ref, rel, parentInside: parentsAreRealDirs(listing, rel) });
  if (file) reads.set(abs, file);
  return file;
}

/**
 * `reads`: files this build already read (version file, readme, licenses), by absolute path;
 * `at`: the include setting errors about shipped files name.
 */
function walk(listing: RootListing, tree: InputTree, selector: FileSelector, reads: ReadonlyMap<string, FileRead>, at: { file: string; field: string }): SourceFile[] {
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
      assertUtf8Name(tree, absDir, name, at.field);
      const abs = path.join(absDir, name);
      // Only a symlink can leave the project: its parent directory was checked on the way in.
      const file = reads.get(abs) ?? readInput(tree, abs, { what: 'package file', rel, field: at.field, fieldFile: at.file, parentInside: true, required: true })!;
      out.push({ relativePath: rel, data: file.data, mode: normalizeFileMode(file.mode) });
    }
    for (const name of dirs.filter((d) => !selector.isDirectoryExcluded(d, relDir)).sort(codePointCompare)) {
      const abs = path.join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      if (!selector.mayContainIncluded(rel)) continue;
      assertUtf8Name(tree, absDir, name, at.field);
      const real = links.has(name) ? realpathSync.native(abs) : undefined;
      if (real !== undefined && !isWithin(tree.realRoot(), real)) {
        // Only a problem when something below it would be shipped.
        if (selector.include === undefined || selector.include.length === 0 || selector.isFileIncluded(`${rel}/x`)) {
          throw escapes('symlink', rel, at.file, at.field, 'replace the symlinked directory with real files, or exclude it');
        }
        continue;
      }
      visit(abs, rel);
    }
  };
  visit(listing.root, '');
  return out;
}

export function readProject(projectDir: string): ProjectSource {
  const root = path.resolve(projectDir);
  const pyprojectFile = path.join(root, 'pyproject.toml');
  const missing = (cause?: unknown) => new ProvenantError('E_PYPROJECT_MISSING', `no pyproject.toml in ${root}`, {
    exitClass: 'input', file: pyprojectFile,
    hint: 'run the build on an integration directory (one holding pyproject.toml), or create its pyproject.toml',
    cause,
  });
  let listing: RootListing;
  try {
    listing = new RootListing(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw missing(e);
    throw e;
  }
  const tree = inputTree(root, pyprojectFile);
  // Each file is read once per build: what the configuration names is reused by the walk.
  const reads = new Map<string, FileRead>();
  const pyproject = readNamedFile(tree, listing, 'pyproject.toml', { what: 'pyproject.toml', field: undefined }, reads);
  if (pyproject === undefined) throw missing();
  const pyprojectDoc = parseConfigToml(pyproject.data.toString('utf8'), pyprojectFile);
  // hatchling merges a hatch.toml beside pyproject.toml into [tool.hatch] (hatch-config.ts).
  let hatchToml: HatchToml | undefined;
  if (listing.isFile('hatch.toml')) {
    const file = path.join(root, 'hatch.toml');
    const read = readNamedFile(tree, listing, 'hatch.toml', { what: 'hatch.toml', field: undefined, required: true }, reads)!;
    hatchToml = { doc: parseConfigToml(read.data.toString('utf8'), file), file };
  }
  const config = readPyprojectConfig(pyprojectDoc, pyprojectFile, hatchToml);
  // hatchling would merge this into the metadata; provenant does not read it, so it refuses
  // rather than build a wheel that differs from hatchling's.
  if (listing.isFile('PKG-INFO')) {
    throw new ProvenantError('E_PYPROJECT_FIELD', 'a PKG-INFO file (an unpacked sdist) is not supported by provenant\'s wheel builder', {
      exitClass: 'input', file: path.join(root, 'PKG-INFO'), hint: 'build from the source tree, not from an unpacked sdist',
    });
  }
  const p = config.project;
  /** A configured path: lexically inside the project, then read through the input gate. */
  const configured = (rel: string, what: string, at: { file: string; field: string }) =>
    readNamedFile(tree, listing, path.relative(root, projectPath(root, rel, at.file, at.field)), { what, field: at.field, fieldFile: at.file }, reads);
  const inPyproject = (field: string) => ({ file: pyprojectFile, field });

  let rawVersion: string;
  let versionOrigin: ProjectFiles['versionOrigin'];
  if (config.versionSource) {
    const at = settingAt(config.hatchOrigins, 'version', 'path');
    const versionFile = path.join(root, config.versionSource.path);
    const versionRead = configured(config.versionSource.path, 'version file', at);
    if (versionRead === undefined) {
      throw new ProvenantError('E_VERSION_NOT_FOUND', `version file ${config.versionSource.path} does not exist`, {
        exitClass: 'input', ...at, hint: `create ${config.versionSource.path} with \`__version__ = "1.0.0"\`, or fix the path`,
      });
    }
    let found: string | undefined;
    try {
      found = extractVersion(decodeText(versionRead.data), config.versionSource.pattern);
    } catch (e) {
      throw new ProvenantError('E_PYPROJECT_FIELD', `bad version pattern: ${(e as Error).message}`, {
        exitClass: 'input', ...settingAt(config.hatchOrigins, 'version', 'pattern'), hint: 'use a regular expression with a named group `version`', cause: e,
      });
    }
    if (found === undefined) {
      throw new ProvenantError('E_VERSION_NOT_FOUND', `no version found in ${config.versionSource.path}`, {
        exitClass: 'input', file: versionFile, field: '__version__',
        hint: `add a line like \`__version__ = "1.0.0"\` (or set \`${settingAt(config.hatchOrigins, 'version', 'pattern').field}\`)`,
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
    const readmeRead = configured(rel, 'readme file', inPyproject('project.readme'));
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
    const licenseRead = configured(p.license.file, 'license file', inPyproject('project.license.file'));
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
    for (const f of globFiles(root, g, listings, (dir, name) => assertUtf8Name(tree, dir, name, 'project.license-files'))) licensePaths.add(f);
  });
  const licenseFiles = [...licensePaths].sort(codePointCompare);
  const licenses = licenseFiles.map((rel) => {
    const ref = { what: 'license file', field: 'project.license-files', required: true };
    return { relativePath: rel, data: readNamedFile(tree, listing, rel, ref, reads)!.data };
  });

  const selector = createFileSelector({
    config: config.selection,
    vcsPatterns: config.selection.ignoreVcs ? [] : vcsPatterns(listing, pyprojectFile),
    absoluteRoot: root,
    defaultInclude: config.selection.include === undefined ? defaultInclude(listing, p.name, p.name.replace(/[-_.]+/g, '-').toLowerCase()) : undefined,
    pyprojectFile,
  });
  if (config.selection.include === undefined && selector.include === undefined) {
    throw new ProvenantError('E_PYPROJECT_FIELD', 'cannot tell which files to ship: no `include` and no package directory named like the project', {
      exitClass: 'input', file: config.selection.where.file, field: config.selection.where.include,
      hint: 'add [tool.hatch.build.targets.wheel] include = ["/datadog_checks/<name>"]',
    });
  }
  const sources = walk(listing, tree, selector, reads, { file: config.selection.where.file, field: config.selection.where.include });

  return { root, pyprojectFile, config, files: { rawVersion, versionOrigin, readme, licenseText, licenseFiles }, sources, licenses };
}
