import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { cp, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isProvenantError } from '../../src/errors.ts';
import type { ProvenantError } from '../../src/errors.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
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

/**
 * Every path under a directory with its size and mtime: proof that a failed build wrote nothing.
 * Names are walked as bytes, so a non-UTF-8 name is listed (as hex) instead of breaking the walk.
 */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (abs: Buffer, rel: string) => {
    for (const e of await readdir(abs, { withFileTypes: true, encoding: 'buffer' })) {
      const p = Buffer.concat([abs, Buffer.from('/'), e.name]);
      const name = `${rel}${isUtf8(e.name) ? e.name.toString() : `<${e.name.toString('hex')}>`}`;
      const s = await stat(p).catch(() => undefined);
      out.push(`${name} ${s?.size ?? 'dangling'} ${s?.mtimeMs ?? ''}`);
      if (e.isDirectory()) await visit(p, `${name}/`);
    }
  };
  await visit(Buffer.from(dir), '');
  return out.sort();
}

export async function expectBuildError(dir: string, code: string, expect: { file?: RegExp; field?: RegExp } = {}): Promise<ProvenantError> {
  const before = await snapshot(dir);
  let caught: unknown;
  let result: unknown;
  try {
    result = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  } catch (e) {
    caught = e;
  }
  assert.equal(result, undefined, 'nothing is returned');
  assert.ok(isProvenantError(caught), `expected a ProvenantError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.describe());
  assert.equal(caught.exitClass, 'input');
  assert.ok(caught.hint, 'every error carries a hint');
  if (expect.file) assert.match(caught.file ?? '', expect.file);
  if (expect.field) assert.match(caught.field ?? '', expect.field);
  assert.deepEqual(await snapshot(dir), before, 'the project directory is unchanged');
  return caught;
}

