import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { bundleFileName, pointerFileName } from '../formats/layout.ts';
import { compareVersions } from '../formats/pep440.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { parsePointer } from '../formats/pointer.ts';
import { assertWheelOfRelease } from '../formats/wheel-binding.ts';
import type { Release } from './publish.ts';
import { readWheelMetadata } from './wheel-metadata.ts';
import type { Integration } from './workspace.ts';

/**
 * What `build` and `sign` left in `<integration>/dist/`, as a Release: the pointer (newest
 * version unless one is named), the wheel and signed attestation it pins, and the wheel's
 * METADATA for PEP 658. Refuses an unsigned release: the pointer must pin the Sigstore bundle.
 */
export async function readReleaseFromDist(i: Integration, version?: string): Promise<Release> {
  const dist = path.join(i.dir, 'dist');
  const project = i.project === undefined ? undefined : normalizeProjectName(i.project);
  const pointerPath = await findPointer(dist, project, version);
  const pointerBytes = await readFile(pointerPath);
  const pointer = parsePointer(pointerBytes.toString('utf8'), pointerPath);
  const name = normalizeProjectName(pointer.name);
  if (path.basename(pointerPath) !== pointerFileName(name, pointer.version)) {
    throw new ProvenantError('E_POINTER_NAME_MISMATCH', `pointer names ${pointer.name} ${pointer.version}, but its file is ${path.basename(pointerPath)}`, {
      file: pointerPath,
      field: 'pointer.name',
      hint: 'rebuild with `provenant build`',
    });
  }
  const wheelFile = pointer.uri.slice(pointer.uri.lastIndexOf('/') + 1);
  assertWheelOfRelease(wheelFile, { project: name, version: pointer.version }, { file: pointerPath, field: 'pointer.uri' });
  const wheel = await readPinned(dist, wheelFile, 'wheel', pointerPath);
  const bundleName = bundleFileName(name, pointer.version);
  const attestationFile = pointer.attestation.uri.slice(pointer.attestation.uri.lastIndexOf('/') + 1);
  if (attestationFile !== bundleName) {
    throw new ProvenantError('E_RELEASE_UNSIGNED', `${name} ${pointer.version}: the pointer pins ${attestationFile}, not a signed attestation (${bundleName})`, {
      file: pointerPath,
      field: 'pointer.attestation.uri',
      hint: `run \`provenant sign ${i.name}\` before publishing`,
    });
  }
  const attestation = await readPinned(dist, bundleName, 'attestation', pointerPath);
  const wheelPath = path.join(dist, wheelFile);
  return {
    project: name,
    version: pointer.version,
    wheel: { fileName: wheelFile, bytes: wheel, metadata: readWheelMetadata(wheel, wheelPath) },
    pointer: new Uint8Array(pointerBytes),
    attestation: { fileName: bundleName, bytes: attestation },
  };
}

async function readPinned(dist: string, file: string, what: string, pointerPath: string): Promise<Uint8Array> {
  const full = path.join(dist, file);
  try {
    return new Uint8Array(await readFile(full));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new ProvenantError('E_NOT_BUILT', `the ${what} ${file} named by ${path.basename(pointerPath)} is missing from ${dist}`, {
      exitClass: 'not-found',
      file: full,
      hint: 'run `provenant build` and `provenant sign` for this integration again',
    });
  }
}

async function findPointer(dist: string, project: string | undefined, version: string | undefined): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dist)).filter((n) => n.endsWith('.pointer') && !n.startsWith('.'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    names = [];
  }
  const found = names
    .map((n) => {
      const stem = n.slice(0, -'.pointer'.length);
      // Unknown project (pyproject unreadable): the version starts at the first "-<digit>".
      const v = project !== undefined ? (stem.startsWith(`${project}-`) ? stem.slice(project.length + 1) : undefined) : /^.+?-(\d.*)$/.exec(stem)?.[1];
      return v === undefined ? undefined : { file: n, version: v };
    })
    .filter((c): c is { file: string; version: string } => c !== undefined);
  const pick = version !== undefined ? found.find((c) => c.version === version) : found.sort((a, b) => safeCompare(a.version, b.version)).at(-1);
  if (!pick) {
    throw new ProvenantError('E_NOT_BUILT', `no pointer${version ? ` for version ${version}` : ''} in ${dist}`, {
      exitClass: 'not-found',
      hint: 'run `provenant build` and `provenant sign` for this integration first',
    });
  }
  return path.join(dist, pick.file);
}

function safeCompare(a: string, b: string): number {
  try {
    return compareVersions(a, b);
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}
