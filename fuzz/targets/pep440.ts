/**
 * Fuzz target: PEP 440 versions (one per line) where the downloader meets them: as the version
 * part of published pointer target paths (releasesOf, then pickRelease for the first line, the
 * newest final and the newest with pre-releases), and in the wheel file name of that release.
 * Contract extras: normalising keeps a version equal to itself and normalised versions parse
 * again; the order is antisymmetric; a release's own wheel name binds to it.
 */
import { TargetFile } from '@tufjs/models';
import { isProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { compareVersions, formatVersion, normalizeVersion, parseVersion } from '../../src/formats/pep440.ts';
import { wheelFileName } from '../../src/formats/pep503.ts';
import { wheelBindingProblem } from '../../src/formats/wheel-binding.ts';
import { pickRelease, releasesOf } from '../../src/verify/versions.ts';

const PROJECT = 'datadog-postgres';

function broken(what: string): never {
  throw new Error(`PEP 440 INVARIANT: ${what}`);
}

export function fuzz(data: Buffer): void {
  const lines = data.toString('utf8').split('\n').slice(0, 256);
  const targets = lines.map((v) => new TargetFile({ path: pointerTargetPath(PROJECT, v), length: 1, hashes: { sha256: '0'.repeat(64) } }));
  const releases = releasesOf(targets, PROJECT);
  for (const r of releases) {
    const v = parseVersion(r.version)!;
    const normal = formatVersion(v);
    if (parseVersion(normal) === undefined) broken(`${JSON.stringify(r.version)} normalises to ${JSON.stringify(normal)}, which does not parse`);
    if (compareVersions(r.version, normal) !== 0) broken(`${JSON.stringify(r.version)} is not equal to its normal form ${normal}`);
    if (normalizeVersion(normal) !== normal) broken(`normalising ${normal} again gives ${normalizeVersion(normal)}`);
    const problem = wheelBindingProblem(wheelFileName(PROJECT, normal, 'py3-none-any'), { project: PROJECT, version: r.version });
    if (problem) broken(`the wheel of ${PROJECT} ${r.version} does not bind to it: ${problem.message}`);
  }
  for (const a of releases.slice(0, 16)) {
    for (const b of releases.slice(0, 16)) {
      if (Math.sign(compareVersions(a.version, b.version)) !== -Math.sign(compareVersions(b.version, a.version))) broken(`${a.version} and ${b.version} are not ordered both ways`);
    }
  }
  let refused: unknown;
  for (const want of [{ version: lines[0] }, {}, { pre: true }]) {
    try {
      pickRelease(releases, PROJECT, want);
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      refused ??= e;
    }
  }
  if (refused) throw refused;
}
