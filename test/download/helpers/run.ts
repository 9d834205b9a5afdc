import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { downloadWheel, type DownloadRequest, type DownloadResult } from '../../../src/app/download.ts';
import { main } from '../../../src/cli/main.ts';
import type { Output } from '../../../src/cli/output.ts';
import { ProvenantError, type ExitClass } from '../../../src/errors.ts';
import type { RepoFixture } from './fixture.ts';

export const FAST_NET = { retry: { retries: 3, baseDelayMs: 5, maxDelayMs: 20 }, connectTimeoutMs: 2000, idleTimeoutMs: 2000 };

let destCounter = 0;

/** A download into a fresh, empty destination directory, with state kept in the fixture. */
export async function download(fx: RepoFixture, repository: string, project: string, over: Partial<DownloadRequest> = {}): Promise<DownloadResult & { dest: string }> {
  const dest = await freshDest(fx);
  const r = await downloadWheel({ project, repository, root: fx.rootFile, stateDir: path.join(fx.dir, 'state'), dest, env: {}, net: FAST_NET, ...over });
  return { ...r, dest };
}

export async function freshDest(fx: RepoFixture): Promise<string> {
  const dest = path.join(fx.dir, `dest-${++destCounter}`);
  await mkdir(dest, { recursive: true });
  return dest;
}

/** The download fails with exactly this code and exit class, and leaves its destination empty. */
export async function expectRefused(fx: RepoFixture, repository: string, project: string, code: string, exitClass: ExitClass, over: Partial<DownloadRequest> = {}): Promise<ProvenantError> {
  const dest = await freshDest(fx);
  let caught: unknown;
  try {
    await downloadWheel({ project, repository, root: fx.rootFile, stateDir: path.join(fx.dir, 'state'), dest, env: {}, net: FAST_NET, ...over });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProvenantError, `expected ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, caught.describe());
  assert.equal(caught.exitClass, exitClass, caught.describe());
  assert.deepEqual(await readdir(dest), [], 'something was left at the destination');
  return caught;
}

/** `provenant download <args>` in-process, with the fixture's root and state and a fresh destination. */
export async function downloadCli(fx: RepoFixture, args: string[]): Promise<{ code: number; out: string; err: string; dest: string }> {
  const o: Output & { out: string; err: string } = { out: '', err: '', interactive: false, stdout: (t) => void (o.out += t), stderr: (t) => void (o.err += t) };
  const dest = await freshDest(fx);
  const code = await main(['download', ...args, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state'), '--dest', dest, '--retries', '0'], o, {}, fx.dir);
  return { code, out: o.out, err: o.err, dest };
}
