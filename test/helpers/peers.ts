import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The peer venv made by scripts/peers.sh (npm test runs it first). Missing peers fail the
 * test with the command that installs them: a test that cannot run must not pass.
 */
export function peerPython(): string {
  const py = path.join(REPO_ROOT, '.peers/venv/bin/python');
  if (!existsSync(py)) throw new Error(`peer Python venv missing at ${py}: run \`bash scripts/peers.sh\` (npm test does)`);
  return py;
}

export async function python(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return run(peerPython(), args, { maxBuffer: 64 << 20, ...opts });
}

/** A fresh, empty venv (with pip) for install tests. */
export async function freshVenv(dir: string): Promise<string> {
  await run(peerPython(), ['-m', 'venv', dir]);
  return path.join(dir, 'bin/python');
}

/** A temp directory removed when the test ends. */
export async function tempDir(t: { after(fn: () => unknown): void }, prefix = 'provenant-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
