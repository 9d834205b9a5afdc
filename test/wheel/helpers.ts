import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { python, REPO_ROOT, tempDir } from '../helpers/peers.ts';

export const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples/integrations');

/** Every example integration directory name (each holds a pyproject.toml). */
export async function exampleNames(): Promise<string[]> {
  const names = (await readdir(EXAMPLES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  if (names.length < 3) throw new Error(`expected at least 3 examples in ${EXAMPLES_DIR}, found ${names.join(', ')}`);
  return names.sort();
}

/** A private copy of an example, so builds never write into examples/. */
export async function copyExample(t: { after(fn: () => unknown): void }, name: string): Promise<string> {
  const dir = path.join(await tempDir(t, `provenant-${name}-`), name);
  await cp(path.join(EXAMPLES_DIR, name), dir, { recursive: true, filter: (src) => !src.split(path.sep).includes('dist') });
  return dir;
}

/** Builds with real hatchling through the PEP 517 front end (`python -m build`), returns the wheel. */
export async function hatchlingWheel(
  t: { after(fn: () => unknown): void },
  projectDir: string,
  sourceDateEpoch: number,
): Promise<{ fileName: string; bytes: Buffer }> {
  const out = await tempDir(t, 'provenant-hatchling-out-');
  await python(['-m', 'build', '--wheel', '--no-isolation', '--outdir', out, projectDir], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(sourceDateEpoch) },
  });
  const [fileName, ...rest] = (await readdir(out)).filter((f) => f.endsWith('.whl'));
  if (!fileName || rest.length > 0) throw new Error(`hatchling produced ${[fileName, ...rest].join(', ')}`);
  return { fileName, bytes: await readFile(path.join(out, fileName)) };
}
