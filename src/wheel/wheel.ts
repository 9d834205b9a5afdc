/**
 * The native wheel builder: a pure-Python project directory in, the wheel's bytes out, byte for
 * byte what hatchling 1.33 builds from the same source and SOURCE_DATE_EPOCH. Nothing is
 * written to disk here; the caller (app/build.ts) decides where the bytes go.
 */
import { hash } from 'node:crypto';
import { ProvenantError } from '../errors.ts';
import { wheelFileName, wheelNameComponent } from '../formats/pep503.ts';
import { DEFAULT_GENERATOR, recordHash, renderEntryPoints, renderMetadata, renderRecord, renderWheelFile } from './dist-info.ts';
import type { RecordRow } from './dist-info.ts';
import { resolveCoreMetadata } from './project-metadata.ts';
import { readProject } from './project-reader.ts';
import type { ProjectSource } from './project-reader.ts';
import { defaultWheelTag } from './tag.ts';
import type { BuildOptions, BuiltWheel } from './types.ts';
import { writeZip, ZIP_MAX_EPOCH } from './zip.ts';
import type { ZipEntry } from './zip.ts';

export type WheelBuildResult = BuiltWheel & { sha256: string; entries: string[] };

const encoder = new TextEncoder();
const META_MODE = 0o644; // hatchling's write_file(): permission bits only, no file-type bits

/** Assembles the wheel from what readProject() gathered. Pure. */
export function assembleWheel(project: ProjectSource, opts: BuildOptions): WheelBuildResult {
  const { config, pyprojectFile } = project;
  // Earlier than 1980 is clamped by the zip writer, as hatchling does; later than 2107 cannot be stored.
  if (!Number.isSafeInteger(opts.sourceDateEpoch) || opts.sourceDateEpoch > ZIP_MAX_EPOCH) {
    throw new ProvenantError('E_SOURCE_DATE_EPOCH', `sourceDateEpoch ${opts.sourceDateEpoch} is not whole seconds up to ${ZIP_MAX_EPOCH} (2107-12-31)`, {
      exitClass: 'usage',
      field: 'SOURCE_DATE_EPOCH',
      hint: 'set SOURCE_DATE_EPOCH to seconds since 1970, e.g. $(git log -1 --format=%ct)',
    });
  }
  const core = resolveCoreMetadata(config, project.files, pyprojectFile);
  if (project.sources.length === 0) {
    const include = config.selection.include;
    throw new ProvenantError('E_WHEEL_EMPTY', 'no project files match the wheel\'s file selection, so the wheel would hold only metadata', {
      exitClass: 'input', file: config.selection.where.file, field: config.selection.where.include,
      hint: include ? `check the patterns ${JSON.stringify(include)} against the package directory (e.g. "/datadog_checks/<name>")` : 'add include = ["/datadog_checks/<name>"]',
    });
  }

  const tag = defaultWheelTag(core.requiresPythonSpecs);
  if (tag.startsWith('-')) {
    throw new ProvenantError('E_PYPROJECT_FIELD', `requires-python ${JSON.stringify(core.requiresPython)} excludes every Python 2 and 3 release`, {
      exitClass: 'input', file: pyprojectFile, field: 'project.requires-python', hint: 'widen the constraint, e.g. ">=3.9"',
    });
  }
  const distInfo = `${wheelNameComponent(core.name)}-${core.version}.dist-info`;

  const entries: ZipEntry[] = [];
  const rows: RecordRow[] = [];
  const add = (name: string, data: Uint8Array, mode: number) => {
    entries.push({ name, data, mode });
    rows.push({ path: name, hash: recordHash(data), size: String(data.length) });
  };

  for (const f of project.sources) add(f.relativePath, f.data, f.mode);
  // Metadata last, ordered by path depth then name, as hatchling writes it.
  const metadata = encoder.encode(renderMetadata(core, config.coreMetadataVersion));
  add(`${distInfo}/METADATA`, metadata, META_MODE);
  add(`${distInfo}/WHEEL`, encoder.encode(renderWheelFile(tag, opts.generator ?? DEFAULT_GENERATOR)), META_MODE);
  const entryPoints = renderEntryPoints(core);
  if (entryPoints) add(`${distInfo}/entry_points.txt`, encoder.encode(entryPoints), META_MODE);
  for (const l of project.licenses) add(`${distInfo}/licenses/${l.relativePath}`, l.data, META_MODE);
  rows.push({ path: `${distInfo}/RECORD`, hash: '', size: '' });
  entries.push({ name: `${distInfo}/RECORD`, data: encoder.encode(renderRecord(rows)), mode: META_MODE });

  const bytes = writeZip(entries, opts.sourceDateEpoch);
  return {
    projectName: core.rawName,
    normalizedName: core.name,
    version: core.version,
    tag,
    fileName: wheelFileName(core.name, core.version, tag),
    bytes,
    metadata,
    requiresPython: core.requiresPython || undefined,
    sha256: hash('sha256', bytes, 'hex'),
    entries: entries.map((e) => e.name),
  };
}

/**
 * Builds the wheel for the project in `projectDir`. Throws ProvenantError (exit class `input`)
 * with a stable code for bad projects: E_PYPROJECT_MISSING, E_PYPROJECT_INVALID,
 * E_PYPROJECT_FIELD, E_VERSION_NOT_FOUND, E_VERSION_INVALID, E_PATH_ESCAPES, E_BUILD_INPUT_NOT_FILE,
 * E_FILE_NAME_NOT_UTF8, E_WHEEL_EMPTY.
 */
export async function buildWheel(projectDir: string, opts: BuildOptions): Promise<WheelBuildResult> {
  return assembleWheel(readProject(projectDir), opts);
}
