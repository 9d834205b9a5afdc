/**
 * Project names (PEP 508 / PEP 503) and the wheel file name (binary distribution format). Pure.
 */

const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** PEP 508 name rule: ASCII letters/digits, `.`, `_`, `-`, starting and ending alphanumeric. */
export function isValidProjectName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** PEP 503 normalised name: runs of `-_.` become one `-`, lower case. `Datadog_Checks.Base` → `datadog-checks-base`. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * Escapes a name for a wheel file name or `.dist-info` directory: the normalised name with every
 * run of characters other than letters, digits, `_` and `.` turned into `_` (what hatchling does,
 * so `datadog-checks-base` → `datadog_checks_base`).
 */
export function wheelNameComponent(name: string): string {
  return normalizeProjectName(name).replace(/[^\p{L}\p{N}_.]+/gu, '_');
}

/** `{name}-{version}-{tag}.whl`; `version` must already be normalised. */
export function wheelFileName(name: string, normalizedVersion: string, tag: string): string {
  return `${wheelNameComponent(name)}-${normalizedVersion}-${tag}.whl`;
}

export interface ParsedWheelFileName {
  /** Escaped name as in the file name, e.g. `datadog_postgres`. */
  name: string;
  version: string;
  buildTag: string | undefined;
  tag: string;
}

/** Splits `name-version(-build)?-py-abi-platform.whl`; `undefined` when it is not a wheel file name. */
export function parseWheelFileName(fileName: string): ParsedWheelFileName | undefined {
  if (!fileName.endsWith('.whl')) return undefined;
  const parts = fileName.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts as [string, string];
  const buildTag = parts.length === 6 ? parts[2] : undefined;
  const tag = parts.slice(-3).join('-');
  if (!name || !version || parts.some((p) => p === '')) return undefined;
  return { name, version, buildTag, tag };
}
