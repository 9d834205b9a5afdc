/**
 * Fuzz target: project names and wheel file names (one per line) where the downloader and the
 * publisher meet them: the name asked for (normalised, then looked up among published pointer
 * targets), and the wheel file name a pointer names (wheelBindingProblem).
 * Contract extras: normalising is idempotent; a valid name's own wheel binds to its release.
 */
import { TargetFile } from '@tufjs/models';
import { isProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { isValidProjectName, normalizeProjectName, parseWheelFileName, wheelFileName } from '../../src/formats/pep503.ts';
import { wheelBindingProblem } from '../../src/formats/wheel-binding.ts';
import { pickRelease, projectPointerPrefix, releasesOf } from '../../src/verify/versions.ts';

const PUBLISHED = ['datadog-postgres', 'datadog-checks-base', 'datadog-nginx', 'a', 'a-b'].flatMap((p) =>
  ['1.0', '2.0rc1'].map((v) => new TargetFile({ path: pointerTargetPath(p, v), length: 1, hashes: { sha256: '0'.repeat(64) } })),
);

function broken(what: string): never {
  throw new Error(`PEP 503 INVARIANT: ${what}`);
}

export function fuzz(data: Buffer): void {
  let refused: unknown;
  for (const line of data.toString('utf8').split('\n').slice(0, 128)) {
    if (line.trim() === '') continue; // the CLI asks for a project; there is no empty one to look up
    const project = normalizeProjectName(line.trim());
    if (normalizeProjectName(project) !== project) broken(`normalising ${JSON.stringify(project)} again changes it`);
    projectPointerPrefix(project);
    if (isValidProjectName(line)) {
      const problem = wheelBindingProblem(wheelFileName(line, '1.0', 'py3-none-any'), { project: line, version: '1.0' });
      if (problem) broken(`the wheel of ${JSON.stringify(line)} 1.0 does not bind to it: ${problem.message}`);
    }
    parseWheelFileName(line);
    wheelBindingProblem(line, { project: 'datadog-postgres', version: '1.0' });
    try {
      pickRelease(releasesOf(PUBLISHED, project), project, {});
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      refused ??= e;
    }
  }
  if (refused) throw refused;
}
