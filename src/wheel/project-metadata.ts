/**
 * Resolves the `[project]` table (plus the file contents it points at) into the normalised core
 * metadata hatchling would write: sorted and normalised dependencies, canonical license
 * expression, sorted classifiers/keywords/scripts, formatted author addresses. Pure.
 */
import { ProvenantError } from '../errors.ts';
import { formatVersion, parseVersion } from '../formats/pep440.ts';
import { isValidProjectName, normalizeProjectName } from '../formats/pep503.ts';
import { sortClassifiers } from './classifiers.ts';
import { canonicalizeLicenseExpression } from './license.ts';
import type { PyprojectConfig } from './pyproject.ts';
import { formatDependency, normalizeRequirement, parseRequirement, RequirementSyntaxError } from './requirement.ts';
import type { Requirement } from './requirement.ts';
import { formatSpecifierSet, parseSpecifierSet } from './specifier.ts';
import { codePointCompare } from '../util/code-point-order.ts';
import type { Specifier } from './specifier.ts';

export interface CoreMetadata {
  /** `project.name` as written. */
  rawName: string;
  /** PEP 503 normalised. */
  name: string;
  /** Normalised (file names, .dist-info). */
  version: string;
  /** As written, trimmed (the METADATA `Version:` field, as hatchling does). */
  originalVersion: string;
  summary: string;
  urls: [string, string][];
  authorNames: string[];
  authorEmails: string[];
  maintainerNames: string[];
  maintainerEmails: string[];
  /** Free-text license from a `license = {file|text}` table. */
  license: string;
  licenseExpression: string;
  licenseFiles: string[];
  keywords: string[];
  classifiers: string[];
  requiresPython: string;
  requiresPythonSpecs: Specifier[];
  dependencies: string[];
  optionalDependencies: [string, string[]][];
  readme: string;
  readmeContentType: string;
  scripts: [string, string][];
  guiScripts: [string, string][];
  entryPoints: [string, [string, string][]][];
}

/** What the I/O layer read for the resolver: texts already decoded with universal newlines. */
export interface ProjectFiles {
  rawVersion: string;
  /** Where the version came from, for error messages: a file path or `project.version`. */
  versionOrigin: { file: string; field: string };
  readme: { text: string; contentType: string } | undefined;
  licenseText: string | undefined;
  licenseFiles: string[];
}

// Python's str.splitlines() boundaries (\x1c-\x1e are the file/group/record separators).
// eslint-disable-next-line no-control-regex -- these separators are line breaks to Python
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Python's str.splitlines(). */
export function splitLines(s: string): string[] {
  if (s === '') return [];
  const parts = s.split(LINE_BREAK);
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const ADDRESS_SPECIALS = /[()<>@,:;."[\]]/;

/** `str(email.headerregistry.Address(display_name=name, addr_spec=email))`. */
export function formatAddress(name: string, email: string): string {
  if (!name) return email;
  const display = ADDRESS_SPECIALS.test(name) ? `"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : name;
  return `${display} <${email}>`;
}

function sortedEntries(map: Record<string, string> | undefined): [string, string][] {
  return Object.entries(map ?? {}).sort(([a], [b]) => codePointCompare(a, b));
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(codePointCompare);
}

export function resolveCoreMetadata(config: PyprojectConfig, files: ProjectFiles, pyprojectFile: string): CoreMetadata {
  const p = config.project;
  const fail = (field: string, message: string, hint: string) =>
    new ProvenantError('E_PYPROJECT_FIELD', message, { exitClass: 'input', file: pyprojectFile, field, hint });

  if (!isValidProjectName(p.name)) {
    throw fail('project.name', `project name ${JSON.stringify(p.name)} is not a valid PEP 508 name`, 'use ASCII letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit');
  }
  for (const key of ['import-names', 'import-namespaces']) {
    if (key in p) throw fail(`project.${key}`, `\`project.${key}\` is not supported by provenant`, `remove \`${key}\``);
  }
  const name = normalizeProjectName(p.name);

  const parsedVersion = parseVersion(files.rawVersion);
  if (!parsedVersion) {
    throw new ProvenantError('E_VERSION_INVALID', `version ${JSON.stringify(files.rawVersion)} is not a valid PEP 440 version`, {
      exitClass: 'input', file: files.versionOrigin.file, field: files.versionOrigin.field,
      hint: 'use a PEP 440 version such as 1.2.0, 1.2.0rc1 or 1.2.0.post1',
    });
  }

  let licenseExpression = '';
  let license = '';
  if (typeof p.license === 'string') {
    const r = canonicalizeLicenseExpression(p.license);
    if (!r.ok) throw fail('project.license', r.error, 'use an SPDX expression such as "BSD-3-Clause" or "MIT OR Apache-2.0"');
    licenseExpression = r.value;
  } else if (p.license !== undefined) {
    if (p.license.file !== undefined && p.license.text !== undefined) throw fail('project.license', 'both `file` and `text` are set', 'keep one of them');
    if (p.license.file === undefined && p.license.text === undefined) throw fail('project.license', 'neither `file` nor `text` is set', 'prefer an SPDX expression string: license = "BSD-3-Clause"');
    license = files.licenseText ?? p.license.text ?? '';
  }

  let requiresPythonSpecs: Specifier[] = [];
  if (p['requires-python'] !== undefined) {
    const specs = parseSpecifierSet(p['requires-python']);
    if (typeof specs === 'string') throw fail('project.requires-python', `\`requires-python\`: ${specs}`, 'use a specifier such as ">=3.9"');
    requiresPythonSpecs = specs;
  }

  const people = (list: { name?: string; email?: string }[] | undefined, field: string) => {
    const names: string[] = [];
    const emails: string[] = [];
    (list ?? []).forEach((a, i) => {
      if (a.name && a.email) emails.push(formatAddress(a.name, a.email));
      else if (a.email) emails.push(a.email);
      else if (a.name) names.push(a.name);
      else throw fail(`project.${field}[${i}]`, `entry #${i + 1} has neither \`name\` nor \`email\``, 'give a name, an email, or both');
    });
    return { names, emails };
  };
  const authors = people(p.authors, 'authors');
  const maintainers = people(p.maintainers, 'maintainers');

  const parseDep = (text: string, field: string): Requirement => {
    let r: Requirement;
    try {
      r = parseRequirement(text);
    } catch (e) {
      if (e instanceof RequirementSyntaxError) throw fail(field, `invalid dependency: ${e.message}`, 'use a PEP 508 specifier such as "requests>=2.32"');
      throw e;
    }
    if (r.url !== undefined && !config.allowDirectReferences) {
      throw fail(field, `direct reference ${JSON.stringify(text)} is not allowed`, 'set `tool.hatch.metadata.allow-direct-references = true` or depend on a released version');
    }
    return normalizeRequirement(r);
  };

  const dependencies = sortedUnique((p.dependencies ?? []).map((d, i) => formatDependency(parseDep(d, `project.dependencies[${i}]`))));

  const optional = new Map<string, Set<string>>();
  const inherited = new Map<string, Set<string>>();
  const seen = new Map<string, string>();
  for (const [option, deps] of Object.entries(p['optional-dependencies'] ?? {})) {
    const field = `project.optional-dependencies.${option}`;
    if (!isValidProjectName(option)) throw fail(field, `extra name ${JSON.stringify(option)} is not valid`, 'use ASCII letters, digits, `-`, `_`, `.`');
    const normalized = config.allowAmbiguousFeatures ? option : normalizeProjectName(option);
    if (seen.has(normalized)) throw fail(field, `extras \`${seen.get(normalized)}\` and \`${option}\` both normalise to \`${normalized}\``, 'rename one of them');
    seen.set(normalized, option);
    const entries = new Set<string>();
    deps.forEach((d, i) => {
      const r = parseDep(d, `${field}[${i}]`);
      if (r.name === name) {
        const set = inherited.get(normalized) ?? new Set<string>();
        for (const e of r.extras) set.add(e);
        inherited.set(normalized, set);
      } else entries.add(formatDependency(r));
    });
    optional.set(normalized, entries);
  }
  const resolved = new Set<string>();
  const visiting = new Set<string>();
  const resolve = (option: string) => {
    if (resolved.has(option)) return;
    if (visiting.has(option)) throw fail('project.optional-dependencies', `circular extra: ${option}`, 'remove the cycle between extras');
    visiting.add(option);
    for (const selected of inherited.get(option) ?? []) {
      resolve(selected);
      const from = optional.get(selected);
      if (!from) throw fail('project.optional-dependencies', `unknown extra \`${selected}\` referenced by \`${option}\``, 'define that extra or remove the reference');
      for (const d of from) optional.get(option)!.add(d);
    }
    resolved.add(option);
    visiting.delete(option);
  };
  for (const option of inherited.keys()) resolve(option);
  const optionalDependencies: [string, string[]][] = [...optional.entries()]
    .sort(([a], [b]) => codePointCompare(a, b))
    .map(([o, set]) => [o, sortedUnique(set)]);

  const entryPointGroups = p['entry-points'] ?? {};
  for (const [forbidden, expected] of [['console_scripts', 'scripts'], ['gui-scripts', 'gui-scripts']]) {
    if (forbidden! in entryPointGroups) throw fail(`project.entry-points.${forbidden}`, `\`${forbidden}\` must be written as \`project.${expected}\``, `move it to [project.${expected}]`);
  }
  const entryPoints: CoreMetadata['entryPoints'] = Object.keys(entryPointGroups)
    .sort(codePointCompare)
    .map((g) => [g, sortedEntries(entryPointGroups[g])] as [string, [string, string][]])
    .filter(([, eps]) => eps.length > 0);

  return {
    rawName: p.name,
    name,
    version: formatVersion(parsedVersion),
    originalVersion: files.rawVersion.trim(),
    summary: splitLines(p.description ?? '').join(' '),
    urls: Object.entries(p.urls ?? {}),
    authorNames: authors.names,
    authorEmails: authors.emails,
    maintainerNames: maintainers.names,
    maintainerEmails: maintainers.emails,
    license,
    licenseExpression,
    licenseFiles: files.licenseFiles,
    keywords: sortedUnique(p.keywords ?? []),
    classifiers: sortClassifiers(p.classifiers ?? []),
    requiresPython: formatSpecifierSet(requiresPythonSpecs),
    requiresPythonSpecs,
    dependencies,
    optionalDependencies,
    readme: files.readme?.text ?? '',
    readmeContentType: files.readme?.contentType ?? 'text/markdown',
    scripts: sortedEntries(p.scripts),
    guiScripts: sortedEntries(p['gui-scripts']),
    entryPoints,
  };
}
