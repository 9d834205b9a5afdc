import type { TargetFile } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import { pointerTargetPath } from '../formats/layout.ts';
import { compareVersions, isPrerelease, parseVersion } from '../formats/pep440.ts';

export interface PublishedRelease {
  version: string;
  target: TargetFile;
}

/** The project's releases among TUF targets: pointer targets at exactly the path publish uses. */
/** Where the project's pointer targets live: `pointers/<project>/`. */
export function projectPointerPrefix(project: string): string {
  const p = pointerTargetPath(project, '0');
  return p.slice(0, p.lastIndexOf('/') + 1);
}

export function releasesOf(targets: readonly TargetFile[], project: string): PublishedRelease[] {
  const suffix = '.pointer';
  const prefix = pointerTargetPath(project, '').slice(0, -suffix.length);
  const out: PublishedRelease[] = [];
  for (const t of targets) {
    if (!t.path.startsWith(prefix) || !t.path.endsWith(suffix)) continue;
    const version = t.path.slice(prefix.length, -suffix.length);
    // A version containing `-` could belong to another project sharing the prefix (`a` and `a-b`).
    if (!parseVersion(version) || t.path !== pointerTargetPath(project, version)) continue;
    out.push({ version, target: t });
  }
  return out;
}

/**
 * Version resolution, only from TUF-verified targets: the exact version asked for (PEP 440
 * equality, so `1.0` finds `1.0.0`), else the newest final release — pre-releases only with
 * `pre`. Unknown project or version is 'not-found'.
 */
export function pickRelease(releases: readonly PublishedRelease[], project: string, want: { version?: string | undefined; pre?: boolean }): PublishedRelease {
  if (releases.length === 0) {
    throw new ProvenantError('E_PROJECT_UNKNOWN', `${project} is not published in this repository`, {
      exitClass: 'not-found',
      field: 'project',
      hint: 'check the project name (e.g. datadog-postgres) and --repository',
    });
  }
  const sorted = [...releases].sort((a, b) => compareVersions(b.version, a.version));
  const listing = sorted.slice(0, 10).map((r) => r.version).join(', ') + (sorted.length > 10 ? ', …' : '');
  if (want.version !== undefined) {
    const asked = want.version;
    const hit = parseVersion(asked) ? sorted.find((r) => compareVersions(r.version, asked) === 0) : sorted.find((r) => r.version === asked);
    if (hit) return hit;
    throw new ProvenantError('E_VERSION_UNKNOWN', `${project} ${asked} is not published`, {
      exitClass: 'not-found',
      field: '--version',
      hint: `published versions: ${listing}`,
    });
  }
  const pick = sorted.find((r) => want.pre || !isPrerelease(r.version));
  if (pick) return pick;
  throw new ProvenantError('E_VERSION_UNKNOWN', `${project} has only pre-releases (${listing})`, {
    exitClass: 'not-found',
    field: '--pre',
    hint: 'pass --pre to accept a pre-release, or --version to name one',
  });
}
