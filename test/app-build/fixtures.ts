import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildOptions, BuiltWheel } from '../../src/wheel/types.ts';
import type { Integration } from '../../src/app/workspace.ts';

/** A minimal integration directory (what the workspace lists); the synthetic builder ignores its content. */
export async function fakeIntegration(root: string, name: string, project = `datadog-${name}`): Promise<Integration> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'pyproject.toml'), `[project]\nname = "${project}"\ndynamic = ["version"]\n`);
  return { name, dir, project };
}

/**
 * A stand-in for the wheel builder with the BuiltWheel contract: bytes that depend on the project
 * and SOURCE_DATE_EPOCH, so tests can tell builds apart. Used where the test is about what
 * happens around the wheel (provenance, pointer, dist/ writes), not the wheel itself.
 */
export function syntheticBuilder(version = '23.2.0', calls: BuildOptions[] = []) {
  return async (projectDir: string, opts: BuildOptions): Promise<BuiltWheel> => {
    calls.push(opts);
    const name = path.basename(projectDir);
    const project = `datadog-${name}`;
    const fileName = `datadog_${name}-${version}-py3-none-any.whl`;
    return {
      projectName: project,
      normalizedName: project,
      version,
      tag: 'py3-none-any',
      fileName,
      bytes: new TextEncoder().encode(`PK fake wheel ${project} ${version} ${opts.sourceDateEpoch}`),
      metadata: new TextEncoder().encode(`Metadata-Version: 2.4\nName: ${project}\nVersion: ${version}\n`),
      requiresPython: '>=3.9',
    };
  };
}
