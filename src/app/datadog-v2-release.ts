import type { TargetFile, Targets } from '@tufjs/models';
import { ddAttestationKey, ddLatestTargetPath, ddPointerOf, ddPointerTargetPath, ddWheelKey, isLatestCandidate, renderDdPointer, DDV2_LATEST } from '../formats/datadog-v2.ts';
import { targetObjectKey } from '../formats/layout.ts';
import { compareVersions, parseVersion } from '../formats/pep440.ts';
import { targetFile } from '../tuf/changes.ts';
import type { PreparedRelease } from './publish.ts';

/**
 * Publishing in the datadog-v2 layout (docs/datadog-v2.md): the same release, checked the same way
 * (prepareRelease), stored where Datadog's downloader looks: the pointer in Datadog's JSON schema as
 * the TUF target `wheelsmith/v1/<project>/<version>.json`, the wheel under `wheels/<project>/`, the
 * attestation at `attestations/<project>/<version>.sigstore.json`. `latest.json` is the only target
 * that moves: it is the pointer of the newest final release.
 */
export function asDatadogV2(p: PreparedRelease): PreparedRelease {
  const version = p.pointer.version;
  const dd = ddPointerOf(p.project, p.pointer, p.release.wheel.fileName);
  const bytes = renderDdPointer(dd);
  const target = targetFile(ddPointerTargetPath(p.project, version), bytes, releaseCustom(p));
  const wheel = ddWheelKey(p.project, p.release.wheel.fileName);
  return {
    ...p,
    target,
    pointerBytes: bytes,
    keys: {
      wheel,
      metadata: `${wheel}.metadata`,
      attestation: ddAttestationKey(p.project, version),
      pointer: targetObjectKey(target.path, target.hashes.sha256!, 'datadog-v2'),
    },
  };
}

function releaseCustom(p: PreparedRelease): Record<string, unknown> {
  return { name: p.project, version: p.pointer.version, wheel: { file: p.release.wheel.fileName, sha256: p.pointer.digest, length: p.pointer.length } };
}

export function isLatestTarget(path: string): boolean {
  return path.endsWith(`/${DDV2_LATEST}.json`);
}

/**
 * The `latest.json` targets to set once `added` are in `role`: per project, the newest final
 * release among those added, when it is newer than the one `latest.json` names now. Its bytes are
 * that release's pointer (the downloader reads latest.json as the pointer itself).
 */
export function latestUpdates(role: Targets, added: readonly PreparedRelease[]): { target: TargetFile; key: string; bytes: Uint8Array }[] {
  const newest = new Map<string, PreparedRelease>();
  for (const p of added) {
    if (!isLatestCandidate(p.pointer.version)) continue;
    const best = newest.get(p.project);
    if (!best || compareVersions(p.pointer.version, best.pointer.version) > 0) newest.set(p.project, p);
  }
  const out: { target: TargetFile; key: string; bytes: Uint8Array }[] = [];
  for (const [project, p] of newest) {
    const path = ddLatestTargetPath(project);
    const current = (role.targets[path]?.custom as { version?: unknown } | undefined)?.version;
    if (typeof current === 'string' && parseVersion(current) && compareVersions(p.pointer.version, current) <= 0) continue;
    const target = targetFile(path, p.pointerBytes, releaseCustom(p));
    out.push({ target, key: targetObjectKey(path, target.hashes.sha256!, 'datadog-v2'), bytes: p.pointerBytes });
  }
  return out;
}
