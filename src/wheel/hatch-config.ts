/**
 * hatch's build settings: `[tool.hatch]` in pyproject.toml merged with a `hatch.toml` beside it,
 * by hatchling's rule (metadata/core.py, ProjectMetadata.hatch): a shallow update, so each
 * top-level table of hatch.toml (`[build]`, `[version]`, `[metadata]`) replaces pyproject.toml's
 * table of that name whole. Environments (`[envs.*]`, `[env.*]`) and other tables do not touch
 * the wheel and are ignored. Pure: parsed documents in, validated settings out, and every setting
 * remembers the file and the field name it was written under, so errors point at it.
 */
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';

const str = z.string();
const strList = z.array(z.string());
const table = z.record(z.string(), z.unknown());

const selectionSchema = {
  include: strList.optional(),
  exclude: strList.optional(),
  'ignore-vcs': z.boolean().optional(),
  'skip-excluded-dirs': z.boolean().optional(),
};
const wheelTargetSchema = z.looseObject({ ...selectionSchema, 'core-metadata-version': str.optional() });
const buildSchema = z.looseObject({ ...selectionSchema, targets: z.looseObject({ wheel: wheelTargetSchema.optional() }).optional() });
const versionSchema = z.looseObject({ path: str.optional(), pattern: str.optional(), source: str.optional() });
const metadataSchema = z.looseObject({ 'allow-direct-references': z.boolean().optional(), 'allow-ambiguous-features': z.boolean().optional() });

const TABLE_SCHEMAS = { version: versionSchema, metadata: metadataSchema, build: buildSchema } as const;
export type HatchTableName = keyof typeof TABLE_SCHEMAS;
const TABLE_NAMES = Object.keys(TABLE_SCHEMAS) as HatchTableName[];

/** Where a hatch table was read: its file, and the prefix its field names carry there. */
export interface SettingOrigin {
  file: string;
  /** `tool.hatch.` in pyproject.toml, nothing in hatch.toml. */
  prefix: string;
}

export interface HatchTables {
  version: z.infer<typeof versionSchema>;
  metadata: z.infer<typeof metadataSchema>;
  build: z.infer<typeof buildSchema>;
  origins: Record<HatchTableName, SettingOrigin>;
}

export interface HatchToml {
  doc: Record<string, unknown>;
  file: string;
}

export function fieldError(file: string, field: string, message: string, hint: string): ProvenantError {
  return new ProvenantError('E_PYPROJECT_FIELD', message, { exitClass: 'input', file, field, hint });
}

export function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** The file and the dotted field name of a hatch setting, as its author wrote it. */
export function settingAt(origins: HatchTables['origins'], tableName: HatchTableName, rest: string): { file: string; field: string } {
  const o = origins[tableName];
  return { file: o.file, field: `${o.prefix}${tableName}${rest ? `.${rest}` : ''}` };
}

/**
 * `[tool.hatch]` (already checked to be a table, or absent) and the optional hatch.toml, merged
 * and validated. Only the tables that shape a wheel are validated; the rest are left alone.
 */
export function mergeHatchTables(toolHatch: Record<string, unknown> | undefined, pyprojectFile: string, hatchToml: HatchToml | undefined): HatchTables {
  const inPyproject: SettingOrigin = { file: pyprojectFile, prefix: 'tool.hatch.' };
  const origins = {} as Record<HatchTableName, SettingOrigin>;
  const out = { origins } as HatchTables;
  for (const name of TABLE_NAMES) {
    const fromHatchToml = hatchToml !== undefined && name in hatchToml.doc;
    const origin = fromHatchToml ? { file: hatchToml.file, prefix: '' } : inPyproject;
    origins[name] = origin;
    const raw = fromHatchToml ? hatchToml.doc[name] : (toolHatch?.[name] ?? {});
    const parsed = TABLE_SCHEMAS[name].safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = `${origin.prefix}${issuePath([name, ...issue.path])}`;
      throw fieldError(origin.file, field, `\`${field}\`: ${issue.message}`, 'see https://hatch.pypa.io/latest/config/build/ for the option\'s type');
    }
    (out as unknown as Record<string, unknown>)[name] = parsed.data;
  }
  return out;
}

/** Whether a value equals hatchling's default for the option, so setting it changes nothing. */
const isEmptyTable = (v: unknown) => table.safeParse(v).success && Object.keys(v as object).length === 0;
const isEmptyList = (v: unknown) => Array.isArray(v) && v.length === 0;
const isFalse = (v: unknown) => v === false;

/**
 * hatchling options that change what goes into the wheel and that provenant does not implement,
 * each with the values that leave the wheel as if unset (an empty table, `false`), which are
 * accepted. `packages` and `only-include` have none: even empty, they switch off hatchling's
 * default package selection. Read from `[build.targets.wheel]` when set there, else `[build]`.
 */
const UNSUPPORTED_EITHER_LEVEL: Record<string, ((v: unknown) => boolean) | undefined> = {
  packages: undefined,
  'only-include': undefined,
  sources: (v) => isEmptyList(v) || isEmptyTable(v),
  'force-include': isEmptyTable,
  artifacts: isEmptyList,
  'only-packages': isFalse,
};
/** Options hatchling reads from the wheel target only (under `[build]` it ignores them). */
const UNSUPPORTED_WHEEL_ONLY: Record<string, ((v: unknown) => boolean) | undefined> = {
  'shared-data': isEmptyTable,
  'shared-scripts': isEmptyTable,
  'extra-metadata': isEmptyTable,
  'sbom-files': isEmptyList,
  'bypass-selection': isFalse,
};

function unsupported(at: { file: string; field: string }, what: string, hint: string): ProvenantError {
  return fieldError(at.file, at.field, `\`${at.field}\`: ${what} is not supported by provenant's wheel builder`, hint);
}

/**
 * Refuses, naming it, every option whose effect provenant does not implement: building anyway
 * would give a wheel that differs from hatchling's without saying so.
 */
export function assertImplemented(t: HatchTables): void {
  const build = t.build;
  const wheel: Record<string, unknown> = build.targets?.wheel ?? {};
  const at = (rest: string) => settingAt(t.origins, 'build', rest);
  const hint = 'select files with `include` / `exclude` in [tool.hatch.build.targets.wheel] (or [build.targets.wheel] in hatch.toml), or build this project with hatchling';
  const check = (key: string, inert: ((v: unknown) => boolean) | undefined, wheelOnly: boolean) => {
    const inWheel = key in wheel;
    if (!inWheel && (wheelOnly || !(key in build))) return;
    const value = inWheel ? wheel[key] : (build as Record<string, unknown>)[key];
    if (inert?.(value)) return;
    throw unsupported(at(inWheel ? `targets.wheel.${key}` : key), `the \`${key}\` option`, hint);
  };
  for (const [key, inert] of Object.entries(UNSUPPORTED_EITHER_LEVEL)) check(key, inert, false);
  for (const [key, inert] of Object.entries(UNSUPPORTED_WHEEL_ONLY)) check(key, inert, true);

  // Build hooks from both levels all run (hatchling merges them); an empty table runs none.
  for (const [where, hooks] of [['hooks', (build as Record<string, unknown>).hooks], ['targets.wheel.hooks', wheel.hooks]] as const) {
    if (hooks === undefined || isEmptyTable(hooks)) continue;
    const first = table.safeParse(hooks).success ? Object.keys(hooks as object)[0] : undefined;
    throw unsupported(at(first === undefined ? where : `${where}.${first}`), `build hook${first === undefined ? 's' : ` \`${first}\``}`, 'remove the hook (provenant runs no build hooks), or build this project with hatchling');
  }
  const metadataHooks = (t.metadata as Record<string, unknown>).hooks;
  if (metadataHooks !== undefined && !isEmptyTable(metadataHooks)) {
    const first = table.safeParse(metadataHooks).success ? Object.keys(metadataHooks as object)[0] : undefined;
    const m = settingAt(t.origins, 'metadata', first === undefined ? 'hooks' : `hooks.${first}`);
    throw unsupported(m, `metadata hook${first === undefined ? 's' : ` \`${first}\``}`, 'write the metadata statically in [project]');
  }

  // The wheel target's setting wins over [build]'s, as for every option above.
  const pick = (key: string) => (key in wheel ? { value: wheel[key], rest: `targets.wheel.${key}` } : { value: (build as Record<string, unknown>)[key], rest: key });
  const reproducible = pick('reproducible');
  if (reproducible.value === false) throw fieldError(at(reproducible.rest).file, at(reproducible.rest).field, 'provenant only builds reproducible wheels', 'remove `reproducible = false`');
  const strict = pick('strict-naming');
  if (strict.value === false) throw fieldError(at(strict.rest).file, at(strict.rest).field, '`strict-naming = false` is not supported', 'remove `strict-naming = false`');
}
