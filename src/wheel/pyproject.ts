/**
 * pyproject.toml (and hatch.toml, see hatch-config.ts) → the typed subset of PEP 621 `[project]`
 * and hatch's build settings the wheel builder understands. Pure: text in, config out, ProvenantError (file, field, hint) on anything wrong or
 * anything that would make provenant's wheel differ from hatchling's without saying so.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { assertImplemented, fieldError, issuePath, mergeHatchTables, settingAt } from './hatch-config.ts';
import type { HatchTableName, HatchTables, HatchToml } from './hatch-config.ts';

const str = z.string();
const strList = z.array(z.string());
const strMap = z.record(z.string(), z.string());
const person = z.strictObject({ name: str.optional(), email: str.optional() });

const projectSchema = z.looseObject({
  name: str,
  version: str.optional(),
  dynamic: strList.optional(),
  description: str.optional(),
  readme: z
    .union([
      str,
      z.strictObject({ file: str.optional(), text: str.optional(), 'content-type': str, charset: str.optional() }),
    ])
    .optional(),
  'requires-python': str.optional(),
  license: z.union([str, z.strictObject({ file: str.optional(), text: str.optional() })]).optional(),
  'license-files': strList.optional(),
  authors: z.array(person).optional(),
  maintainers: z.array(person).optional(),
  keywords: strList.optional(),
  classifiers: strList.optional(),
  urls: strMap.optional(),
  scripts: strMap.optional(),
  'gui-scripts': strMap.optional(),
  'entry-points': z.record(z.string(), strMap).optional(),
  dependencies: strList.optional(),
  'optional-dependencies': z.record(z.string(), strList).optional(),
});

const pyprojectSchema = z.looseObject({
  project: projectSchema,
  tool: z.looseObject({ hatch: z.record(z.string(), z.unknown()).optional() }).optional(),
});

export type ProjectTable = z.infer<typeof projectSchema>;

export interface FileSelectionConfig {
  /** gitignore-style patterns; `undefined` means "not set" (hatchling's default selection applies). */
  include: string[] | undefined;
  exclude: string[];
  ignoreVcs: boolean;
  skipExcludedDirs: boolean;
  /** The file and field names the patterns were read from, for errors. */
  where: { file: string; include: string; exclude: string };
}

export interface PyprojectConfig {
  project: ProjectTable;
  versionSource: { path: string; pattern: string | undefined } | undefined;
  /** Where each hatch table came from: pyproject.toml's [tool.hatch] or hatch.toml. */
  hatchOrigins: HatchTables['origins'];
  allowDirectReferences: boolean;
  allowAmbiguousFeatures: boolean;
  selection: FileSelectionConfig;
  coreMetadataVersion: '2.4' | '2.5';
}

export function parseConfigToml(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ProvenantError('E_PYPROJECT_INVALID', `invalid TOML at line ${e.line}, column ${e.column}: ${reason}`, {
        exitClass: 'input',
        file,
        field: `line ${e.line}`,
        hint: 'fix the TOML syntax on that line (a TOML linter such as `taplo check` shows the spot)',
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Validates the parsed pyproject.toml (and the hatch.toml beside it, when there is one) and pulls
 * out what the builder needs.
 */
export function readPyprojectConfig(doc: Record<string, unknown>, file: string, hatchToml?: HatchToml): PyprojectConfig {
  if (doc.project === undefined) {
    throw fieldError(file, 'project', 'the [project] table is missing', 'add a PEP 621 [project] table with at least `name` and a version');
  }
  const parsed = pyprojectSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issuePath(issue.path);
    throw fieldError(file, field, `\`${field}\`: ${issue.message}`, 'see https://packaging.python.org/en/latest/specifications/pyproject-toml/ for the field\'s type');
  }
  const { project } = parsed.data;
  const hatch = mergeHatchTables(parsed.data.tool?.hatch, file, hatchToml);
  assertImplemented(hatch);
  const at = (tableName: HatchTableName, rest: string) => settingAt(hatch.origins, tableName, rest);
  const build = hatch.build;
  const wheel = build.targets?.wheel ?? {};

  const dynamic = project.dynamic ?? [];
  const otherDynamic = dynamic.filter((f) => f !== 'version');
  if (otherDynamic.length > 0) {
    throw fieldError(file, 'project.dynamic', `dynamic fields other than \`version\` are not supported: ${otherDynamic.join(', ')}`, 'write those fields statically in [project]');
  }
  if (project.version !== undefined && dynamic.includes('version')) {
    throw fieldError(file, 'project.version', '`version` is both set and listed in `project.dynamic`', 'remove one of them');
  }
  if (project.version === undefined && !dynamic.includes('version')) {
    throw new ProvenantError('E_VERSION_NOT_FOUND', 'no version: `project.version` is not set and `version` is not in `project.dynamic`', {
      exitClass: 'input', file, field: 'project.version',
      hint: 'add `dynamic = ["version"]` and `[tool.hatch.version] path = "<package>/__about__.py"`, or set `project.version`',
    });
  }

  let versionSource: PyprojectConfig['versionSource'];
  if (project.version === undefined) {
    const v = hatch.version;
    if (v.source !== undefined && v.source !== 'regex') {
      const w = at('version', 'source');
      throw fieldError(w.file, w.field, `version source \`${v.source}\` is not supported`, 'use the default regex source: `[tool.hatch.version] path = "<package>/__about__.py"`');
    }
    if (!v.path) {
      const w = at('version', 'path');
      throw new ProvenantError('E_VERSION_NOT_FOUND', `the version is dynamic but \`${w.field}\` is not set`, {
        exitClass: 'input', ...w,
        hint: 'add `[tool.hatch.version] path = "<package>/__about__.py"` pointing at a file with `__version__ = "X.Y.Z"`',
      });
    }
    versionSource = { path: v.path, pattern: v.pattern };
  }

  const cmv = wheel['core-metadata-version'] ?? '2.5';
  if (cmv !== '2.4' && cmv !== '2.5') {
    const w = at('build', 'targets.wheel.core-metadata-version');
    throw fieldError(w.file, w.field, `core metadata version ${cmv} is not supported`, 'use "2.4" or "2.5" (hatchling 1.33\'s default), or remove the setting');
  }

  // hatchling takes each option from the wheel target when set there, else from the build table.
  const pick = <K extends 'include' | 'exclude' | 'ignore-vcs' | 'skip-excluded-dirs'>(k: K) => (k in wheel ? wheel[k] : build[k]);
  const fieldOf = (k: 'include' | 'exclude') => at('build', k in wheel || !(k in build) ? `targets.wheel.${k}` : k).field;
  const selection: FileSelectionConfig = {
    include: pick('include'),
    exclude: pick('exclude') ?? [],
    ignoreVcs: pick('ignore-vcs') ?? false,
    skipExcludedDirs: pick('skip-excluded-dirs') ?? false,
    where: { file: hatch.origins.build.file, include: fieldOf('include'), exclude: fieldOf('exclude') },
  };
  for (const key of ['include', 'exclude'] as const) {
    (selection[key] ?? []).forEach((p, i) => {
      if (p === '') throw fieldError(selection.where.file, `${selection.where[key]}[${i}]`, `pattern #${i + 1} is empty`, 'remove the empty pattern');
    });
  }

  return {
    project,
    versionSource,
    hatchOrigins: hatch.origins,
    allowDirectReferences: hatch.metadata['allow-direct-references'] ?? false,
    allowAmbiguousFeatures: hatch.metadata['allow-ambiguous-features'] ?? false,
    selection,
    coreMetadataVersion: cmv,
  };
}
