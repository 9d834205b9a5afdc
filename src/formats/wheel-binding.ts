import { ProvenantError } from '../errors.ts';
import { compareVersions, isValidVersion } from './pep440.ts';
import { normalizeProjectName, parseWheelFileName } from './pep503.ts';

/**
 * A wheel belongs to exactly one release: its file name (PEP 427) names the release's project
 * and version. Pure; the downloader and the publisher each turn a problem into their own error.
 */
export type WheelBindingCode = 'E_WHEEL_NAME_INVALID' | 'E_WHEEL_PROJECT_MISMATCH' | 'E_WHEEL_VERSION_MISMATCH';

export interface WheelBindingProblem {
  code: WheelBindingCode;
  message: string;
}

// The escaped distribution (PEP 427: runs of other characters become `_`; `.` is what older
// tools left in), a build tag starting with a digit, and tags that may be compressed sets (`py2.py3`).
const DISTRIBUTION = /^[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?$/;
const BUILD_TAG = /^[0-9][A-Za-z0-9_.]*$/;
const TAG = /^[A-Za-z0-9_.]+$/;

/** PEP 440 equality (`1.0` == `1.0.0`); false when either is not a PEP 440 version. */
export function sameVersion(a: string, b: string): boolean {
  return isValidVersion(a) && isValidVersion(b) && compareVersions(a, b) === 0;
}

/** Why `fileName` cannot be the wheel of `release`, or undefined when it is. */
export function wheelBindingProblem(fileName: string, release: { project: string; version: string }): WheelBindingProblem | undefined {
  const parsed = parseWheelFileName(fileName);
  const invalid = (why: string): WheelBindingProblem => ({
    code: 'E_WHEEL_NAME_INVALID',
    message: `${JSON.stringify(fileName)} is not a wheel file name (PEP 427: {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl): ${why}`,
  });
  if (!parsed) return invalid('it needs 5 or 6 non-empty parts separated by "-" and the .whl suffix');
  // packaging.utils.parse_wheel_filename refuses `__` too: no escaping produces it.
  if (!DISTRIBUTION.test(parsed.name) || parsed.name.includes('__')) return invalid(`the distribution ${JSON.stringify(parsed.name)} is not an escaped project name`);
  if (!isValidVersion(parsed.version)) return invalid(`the version ${JSON.stringify(parsed.version)} is not PEP 440`);
  if (parsed.buildTag !== undefined && !BUILD_TAG.test(parsed.buildTag)) return invalid(`the build tag ${JSON.stringify(parsed.buildTag)} does not start with a digit`);
  if (!parsed.tag.split('-').every((t) => TAG.test(t))) return invalid(`the tags ${JSON.stringify(parsed.tag)} are not python-abi-platform`);

  const wheelProject = normalizeProjectName(parsed.name);
  const project = normalizeProjectName(release.project);
  if (wheelProject !== project) {
    return { code: 'E_WHEEL_PROJECT_MISMATCH', message: `the wheel ${fileName} is of project ${wheelProject}, not ${project}` };
  }
  if (!sameVersion(parsed.version, release.version)) {
    return { code: 'E_WHEEL_VERSION_MISMATCH', message: `the wheel ${fileName} is version ${parsed.version}, not ${project} ${release.version}` };
  }
  return undefined;
}

/**
 * The publisher's side: a release is refused when its wheel is not its own, so an honest
 * publisher cannot sign a pointer the downloader would refuse. Exit class input: fix dist/.
 */
export function assertWheelOfRelease(fileName: string, release: { project: string; version: string }, at: { file: string; field: string }): void {
  const problem = wheelBindingProblem(fileName, release);
  if (!problem) return;
  throw new ProvenantError(problem.code, `${normalizeProjectName(release.project)} ${release.version}: ${problem.message}`, {
    ...at,
    hint: 'a wheel is published only as the release its file name names (PEP 427): rebuild with `provenant build` so the pointer and the wheel agree',
  });
}
