/**
 * The pure-Python wheel tag hatchling picks from `requires-python`: each major version (2, 3)
 * that some X.Y satisfies, probed with an artificially high patch (X.Y.100) so `>=3.11.4` or
 * `>=3.10,<3.11` still count; then every patch for narrow ranges such as `<=3.11.4`. No
 * constraint at all gives `py2.py3-none-any`. Pure.
 */
import { specifierSetContains } from './specifier.ts';
import type { Specifier } from './specifier.ts';
import type { Version } from '../formats/pep440.ts';

const release = (major: number, minor: number, patch: number): Version => ({ epoch: 0n, release: [BigInt(major), BigInt(minor), BigInt(patch)], pre: undefined, post: undefined, dev: undefined, local: undefined });

const MAJORS = [2, 3];
const LIMIT = 100;

export function defaultWheelTag(requiresPython: readonly Specifier[]): string {
  const supported = MAJORS.filter((major) => {
    for (let minor = 0; minor < LIMIT; minor++) if (specifierSetContains(requiresPython, release(major, minor, LIMIT))) return true;
    return false;
  });
  const majors =
    supported.length > 0
      ? supported
      : MAJORS.filter((major) => {
          for (let minor = 0; minor < LIMIT; minor++)
            for (let patch = 0; patch < LIMIT; patch++) if (specifierSetContains(requiresPython, release(major, minor, patch))) return true;
          return false;
        });
  return `${majors.map((m) => `py${m}`).join('.')}-none-any`;
}
