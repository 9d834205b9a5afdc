/**
 * Fuzz target: a pointer file as the downloader checks it once TUF vouched for its bytes:
 * checkPointer (YAML, schema, the release it was published as, URIs inside the repository, the
 * wheel's file name bound to the release). A first line `# release: <project> <version>` (a YAML
 * comment) names the release it is checked against; without one it is datadog-postgres 23.2.0.
 * Contract extra: an accepted pointer's URLs are inside the repository.
 */
import { TargetFile } from '@tufjs/models';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { checkPointer } from '../../src/verify/pointer-check.ts';

export const REPOSITORY = 'https://packages.example/provenant/';
const RELEASE = /^# release: (\S+) (\S+)\r?\n/;

export function fuzz(data: Buffer): void {
  const m = RELEASE.exec(data.toString('latin1'));
  const expected = m ? { project: m[1]!, version: m[2]! } : { project: 'datadog-postgres', version: '23.2.0' };
  const target = new TargetFile({ path: pointerTargetPath(expected.project, expected.version), length: data.length, hashes: { sha256: sha256Hex(data) } });
  const checked = checkPointer(data, target, expected, REPOSITORY);
  for (const url of [checked.wheelUrl, checked.attestationUrl]) {
    if (!url.startsWith(REPOSITORY) || new URL(url).origin !== new URL(REPOSITORY).origin) {
      throw new Error(`POINTER ESCAPES THE REPOSITORY: ${url}`);
    }
  }
}
