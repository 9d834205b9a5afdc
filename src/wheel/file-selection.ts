/**
 * Which project files go into the wheel, decided the way hatchling decides (gitignore-style
 * patterns with pathspec's semantics, see gitignore.ts):
 *   - directories named like `__pycache__`, `.git`, `.venv`, `.tox`… are never entered;
 *   - `.DS_Store` and `.git` files are never shipped;
 *   - a file ships when no exclude pattern matches it and (with `include` set) an include
 *     pattern does. Exclude patterns are `*.py[cdo]`, `/dist`, then the nearest `.gitignore`
 *     (and `.hgignore` glob section) unless `ignore-vcs`, then the project's `exclude`.
 * Pure: the walker (project-reader.ts) asks; nothing here touches the disk.
 */
import { ProvenantError } from '../errors.ts';
import { compileDirectoryFilter, compileGitignorePatterns, gitignoreSpec, GitignorePatternError } from './gitignore.ts';
import type { CompiledPattern } from './gitignore.ts';
import type { FileSelectionConfig } from './pyproject.ts';

/** hatchling's EXCLUDED_DIRECTORIES. */
export const EXCLUDED_DIRECTORIES: ReadonlySet<string> = new Set([
  '__pycache__', '.venv', '.git', '.hg', '.hatch', '.tox', '.nox', '.ruff_cache', '.pytest_cache', '.mypy_cache', '.pixi',
]);
/** hatchling's EXCLUDED_FILES. */
export const EXCLUDED_FILES: ReadonlySet<string> = new Set(['.DS_Store', '.git']);
/** hatchling's default_global_exclude(), already sorted. */
export const DEFAULT_EXCLUDES = ['*.py[cdo]', '/dist'];
const DEFAULT_EXCLUDE_PATTERNS = compileGitignorePatterns(DEFAULT_EXCLUDES);

export interface FileSelector {
  isDirectoryExcluded(name: string, relativeDir: string): boolean;
  isFileIncluded(relativePath: string): boolean;
  /** false when no file below this directory can be included: the walk may skip it (output unchanged). */
  mayContainIncluded(relativeDir: string): boolean;
  /** The include patterns in effect (for error messages and docs), `undefined` = everything. */
  readonly include: readonly string[] | undefined;
}

export interface SelectionInputs {
  config: FileSelectionConfig;
  /** Lines of the nearest .gitignore and the glob part of .hgignore, when found. */
  vcsPatterns: readonly string[];
  /** The absolute project root, used for hatchling's "is the root itself ignored by VCS?" check. */
  absoluteRoot: string;
  /** Include patterns used when `include` is not configured (hatchling's package heuristics). */
  defaultInclude: readonly string[] | undefined;
  pyprojectFile: string;
}

/** An include pattern with a `..` segment would reach outside the project: refuse it. */
export function assertPatternsStayInside(patterns: readonly string[], field: string, file: string): void {
  patterns.forEach((p, i) => {
    const body = p.startsWith('!') ? p.slice(1) : p;
    if (body.split('/').includes('..')) {
      throw new ProvenantError('E_PATH_ESCAPES', `include pattern ${JSON.stringify(p)} points outside the project`, {
        exitClass: 'input', file, field: `${field}[${i}]`,
        hint: 'patterns are relative to the project root; remove the `..` segment (a wheel can only ship files inside the project)',
      });
    }
  });
}

/** Lines of an .hgignore that sit under `syntax: glob`. */
export function hgignoreGlobPatterns(text: string): string[] {
  const out: string[] = [];
  let glob = false;
  for (const line of text.split('\n')) {
    const exact = line.trim();
    if (exact === 'syntax: glob') glob = true;
    else if (exact.startsWith('syntax: ')) glob = false;
    else if (glob) out.push(line);
  }
  return out;
}

function compile(patterns: readonly string[], field: string, file: string): CompiledPattern[] {
  try {
    return compileGitignorePatterns(patterns);
  } catch (e) {
    if (!(e instanceof GitignorePatternError)) throw e;
    throw new ProvenantError('E_PYPROJECT_FIELD', `invalid pattern: ${e.message}`, { exitClass: 'input', file, field, hint: 'fix or remove the pattern (gitignore syntax)', cause: e });
  }
}

export function createFileSelector(inputs: SelectionInputs): FileSelector {
  const { config } = inputs;
  const include = config.include ?? inputs.defaultInclude;
  const { where } = config;
  assertPatternsStayInside(include ?? [], where.include, where.file);

  let vcs = config.ignoreVcs || inputs.vcsPatterns.length === 0 ? [] : compile(inputs.vcsPatterns, '.gitignore', inputs.pyprojectFile);
  // hatchling drops the VCS patterns when they would ignore the project root itself.
  if (vcs.length > 0 && gitignoreSpec(vcs).matches(inputs.absoluteRoot)) vcs = [];

  const includeSpec = include && include.length > 0 ? gitignoreSpec(compile(include, where.include, where.file)) : undefined;
  const includeDirs = includeSpec && include ? compileDirectoryFilter(include) : undefined;
  const excludeSpec = gitignoreSpec([...DEFAULT_EXCLUDE_PATTERNS, ...vcs, ...compile(config.exclude, where.exclude, where.file)]);

  return {
    include,
    isDirectoryExcluded(name, relativeDir) {
      if (EXCLUDED_DIRECTORIES.has(name)) return true;
      const rel = relativeDir ? `${relativeDir}/${name}` : name;
      return config.skipExcludedDirs && excludeSpec.matches(`${rel}/`);
    },
    mayContainIncluded(relativeDir) {
      return includeDirs === undefined || includeDirs(relativeDir);
    },
    isFileIncluded(relativePath) {
      if (excludeSpec.matches(relativePath)) return false;
      return includeSpec === undefined || includeSpec.matches(relativePath);
    },
  };
}
