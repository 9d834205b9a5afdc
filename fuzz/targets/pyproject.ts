/**
 * Fuzz target: pyproject.toml, read by the wheel builder from an integration's source tree
 * (buildWheel: TOML, [project] and [tool.hatch] validation, version file, readme, licenses,
 * dependency and specifier parsing, core metadata, file selection, the zip).
 * hatch.toml has no parser: provenant refuses the file whole (docs/fuzzing.md).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { makeProjectTree } from '../lib/project-tree.ts';

const dir = makeProjectTree('pyproject');

export async function fuzz(data: Buffer): Promise<void> {
  writeFileSync(path.join(dir, 'pyproject.toml'), data);
  await buildWheel(dir, { sourceDateEpoch: 1700000000 });
}
