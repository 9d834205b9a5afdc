/**
 * Project names (PEP 503 normalisation, PEP 508 validity). The normalised form is what
 * appears in index URLs and repository paths, so `Datadog_Postgres` and `datadog-postgres`
 * are one project.
 */
const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isValidProjectName(name: string): boolean {
  return VALID_NAME.test(name);
}

export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
