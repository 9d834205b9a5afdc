/**
 * pyproject.toml → the typed subset of PEP 621 `[project]` and `[tool.hatch]` the wheel builder
 * understands. Pure: text in, config out, ProvenantError (file, field, hint) on anything wrong or
 * anything that would make provenant's wheel differ from hatchling's without saying so.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';

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

const selectionSchema = {
  include: strList.optional(),
  exclude: strList.optional(),
  'ignore-vcs': z.boolean().optional(),
  'skip-excluded-dirs': z.boolean().optional(),
};

const wheelTargetSchema = z.looseObject({ ...selectionSchema, 'core-metadata-version': str.optional() });
const buildSchema = z.looseObject({ ...selectionSchema, targets: z.looseObject({ wheel: wheelTargetSchema.optional() }).optional() });

const hatchSchema = z.looseObject({
  version: z.looseObject({ path: str.optional(), pattern: str.optional(), source: str.optional() }).optional(),
  metadata: z.looseObject({ 'allow-direct-references': z.boolean().optional(), 'allow-ambiguous-features': z.boolean().optional() }).optional(),
  build: buildSchema.optional(),
});

const pyprojectSchema = z.looseObject({
  project: projectSchema,
  tool: z.looseObject({ hatch: hatchSchema.optional() }).optional(),
});

export type ProjectTable = z.infer<typeof projectSchema>;

export interface FileSelectionConfig {
  /** gitignore-style patterns; `undefined` means "not set" (hatchling's default selection applies). */
  include: string[] | undefined;
  exclude: string[];
  ignoreVcs: boolean;
  skipExcludedDirs: boolean;
}

export interface PyprojectConfig {
  project: ProjectTable;
  versionSource: { path: string; pattern: string | undefined } | undefined;
  allowDirectReferences: boolean;
  allowAmbiguousFeatures: boolean;
  selection: FileSelectionConfig;
  coreMetadataVersion: '2.4' | '2.5';
}

/**
 * hatchling options that change what goes into the wheel and that provenant does not implement:
 * refusing them is better than building a wheel that silently differs from hatchling's.
 */
const UNSUPPORTED_BUILD_KEYS = [
  'packages', 'only-include', 'sources', 'force-include', 'shared-data', 'shared-scripts', 'extra-metadata',
  'artifacts', 'hooks', 'only-packages', 'bypass-selection', 'sbom-files', 'macos-max-compat',
];

function fieldError(file: string, field: string, message: string, hint: string): ProvenantError {
  return new ProvenantError('E_PYPROJECT_FIELD', message, { exitClass: 'input', file, field, hint });
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

export function parsePyprojectToml(text: string, file: string): Record<string, unknown> {
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

/** Validates the parsed document and pulls out what the builder needs. */
export function readPyprojectConfig(doc: Record<string, unknown>, file: string): PyprojectConfig {
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
  const hatch = parsed.data.tool?.hatch ?? {};
  const build = hatch.build ?? {};
  const wheel = build.targets?.wheel ?? {};

  for (const [table, where] of [[build, 'tool.hatch.build'], [wheel, 'tool.hatch.build.targets.wheel']] as const) {
    for (const key of UNSUPPORTED_BUILD_KEYS) {
      if (key in table) {
        throw fieldError(file, `${where}.${key}`, `\`${where}.${key}\` is not supported by provenant's wheel builder`, 'select files with `include` / `exclude` in [tool.hatch.build.targets.wheel], or build this project with hatchling');
      }
    }
  }
  if ((hatch as Record<string, unknown>)['metadata'] && 'hooks' in (hatch.metadata as Record<string, unknown>)) {
    throw fieldError(file, 'tool.hatch.metadata.hooks', 'metadata hooks are not supported by provenant', 'write the metadata statically in [project]');
  }
  if (wheel['reproducible'] === false || build['reproducible'] === false) {
    throw fieldError(file, 'tool.hatch.build.targets.wheel.reproducible', 'provenant only builds reproducible wheels', 'remove `reproducible = false`');
  }
  if (wheel['strict-naming'] === false || build['strict-naming'] === false) {
    throw fieldError(file, 'tool.hatch.build.targets.wheel.strict-naming', '`strict-naming = false` is not supported', 'remove `strict-naming = false`');
  }

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
    if (v?.source !== undefined && v.source !== 'regex') {
      throw fieldError(file, 'tool.hatch.version.source', `version source \`${v.source}\` is not supported`, 'use the default regex source: `[tool.hatch.version] path = "<package>/__about__.py"`');
    }
    if (!v?.path) {
      throw new ProvenantError('E_VERSION_NOT_FOUND', 'the version is dynamic but `tool.hatch.version.path` is not set', {
        exitClass: 'input', file, field: 'tool.hatch.version.path',
        hint: 'add `[tool.hatch.version] path = "<package>/__about__.py"` pointing at a file with `__version__ = "X.Y.Z"`',
      });
    }
    versionSource = { path: v.path, pattern: v.pattern };
  }

  const cmv = wheel['core-metadata-version'] ?? '2.5';
  if (cmv !== '2.4' && cmv !== '2.5') {
    throw fieldError(file, 'tool.hatch.build.targets.wheel.core-metadata-version', `core metadata version ${cmv} is not supported`, 'use "2.4" or "2.5" (hatchling 1.33\'s default), or remove the setting');
  }

  // hatchling takes each option from the wheel target when set there, else from tool.hatch.build.
  const pick = <K extends keyof typeof selectionSchema>(k: K) => (k in wheel ? wheel[k] : build[k]);
  const selection: FileSelectionConfig = {
    include: pick('include') as string[] | undefined,
    exclude: (pick('exclude') as string[] | undefined) ?? [],
    ignoreVcs: (pick('ignore-vcs') as boolean | undefined) ?? false,
    skipExcludedDirs: (pick('skip-excluded-dirs') as boolean | undefined) ?? false,
  };
  for (const [key, list] of [['include', selection.include ?? []], ['exclude', selection.exclude]] as const) {
    list.forEach((p, i) => {
      if (p === '') throw fieldError(file, `tool.hatch.build.targets.wheel.${key}[${i}]`, `pattern #${i + 1} is empty`, 'remove the empty pattern');
    });
  }

  return {
    project,
    versionSource,
    allowDirectReferences: hatch.metadata?.['allow-direct-references'] ?? false,
    allowAmbiguousFeatures: hatch.metadata?.['allow-ambiguous-features'] ?? false,
    selection,
    coreMetadataVersion: cmv,
  };
}
