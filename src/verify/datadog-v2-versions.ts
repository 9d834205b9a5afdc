import type { TargetFile } from '@tufjs/models';
import { ddLatestTargetPath, ddPointerTargetPath, ddProjectPrefix, DDV2_LATEST, isLatestCandidate } from '../formats/datadog-v2.ts';
import { compareVersions, parseVersion } from '../formats/pep440.ts';
import { checkFailed } from './checks.ts';
import { projectPointerPrefix, releasesOf, type PublishedRelease } from './versions.ts';

/**
 * Version resolution in the datadog-v2 layout (docs/datadog-v2.md), only from TUF-verified
 * targets: the releases are the targets `wheelsmith/v1/<project>/<version>.json`; `latest.json`
 * is not a release but a copy of one's pointer.
 */
export function ddReleasesOf(targets: readonly TargetFile[], project: string): PublishedRelease[] {
  const prefix = ddProjectPrefix(project);
  const out: PublishedRelease[] = [];
  for (const t of targets) {
    if (!t.path.startsWith(prefix) || !t.path.endsWith('.json')) continue;
    const version = t.path.slice(prefix.length, -'.json'.length);
    if (version === DDV2_LATEST || !parseVersion(version) || t.path !== ddPointerTargetPath(project, version)) continue;
    out.push({ version, target: t });
  }
  return out;
}

/**
 * The release `latest.json` stands for: the one whose pointer target has exactly its bytes (same
 * sha256 and length, as TUF pins both). Undefined when the project has no latest.json. One that
 * matches no published version is refused: Datadog's downloader would install whatever wheel it
 * names, outside every release provenant can check. One that matches an older release than the
 * newest final one listed is refused too: a publish only ever moves latest.json forward, so the
 * online key moved it back (or onto a pre-release) to make hosts install that release.
 */
export function ddLatestRelease(targets: readonly TargetFile[], releases: readonly PublishedRelease[], project: string): PublishedRelease | undefined {
  const latestPath = ddLatestTargetPath(project);
  const latest = targets.find((t) => t.path === latestPath);
  if (!latest) return undefined;
  const sha = latest.hashes.sha256;
  const hit = releases.find((r) => sha !== undefined && r.target.hashes.sha256 === sha && r.target.length === latest.length);
  if (hit) {
    const newest = releases.filter((r) => isLatestCandidate(r.version)).reduce<PublishedRelease | undefined>((a, r) => (a && compareVersions(a.version, r.version) >= 0 ? a : r), undefined);
    if (newest && compareVersions(hit.version, newest.version) === 0) return hit;
    throw checkFailed('pointer target', 'E_LATEST_NOT_NEWEST', `${latestPath} is the pointer of ${project} ${hit.version}, but the newest final release published is ${newest?.version ?? 'none'}; a publish only moves latest.json forward`, {
      file: latestPath,
      hint: 'do not install it: someone holding the repository\'s online key moved latest.json; download an exact version with --version, and tell the repository owners',
    });
  }
  throw checkFailed('pointer target', 'E_LATEST_UNKNOWN_VERSION', `${latestPath} is not the pointer of any published version of ${project}`, {
    file: latestPath,
    hint: 'do not install it: latest.json must be a copy of a published version\'s pointer; download an exact version with --version, and tell the repository owners',
  });
}

/** The project's releases in either layout (the one the signed targets say), and where its pointers live. */
export function releasesIn(layout: 'datadog-v2' | undefined, targets: readonly TargetFile[], project: string): PublishedRelease[] {
  return layout === 'datadog-v2' ? ddReleasesOf(targets, project) : releasesOf(targets, project);
}

export function pointerPrefixIn(layout: 'datadog-v2' | undefined, project: string): string {
  return layout === 'datadog-v2' ? ddProjectPrefix(project) : projectPointerPrefix(project);
}
