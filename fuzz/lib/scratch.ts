/**
 * Scratch directories for targets that need files: on tmpfs when the machine has one (the same
 * code paths as on disk, without the fsync cost per input), removed when the process exits.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(base, `provenant-fuzz-${process.pid}-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every scratch directory of this process: a worker stopped after a hang never ran its exit hook. */
export function removeProcessScratch(): void {
  for (const name of readdirSync(base)) {
    if (name.startsWith(`provenant-fuzz-${process.pid}-`)) rmSync(path.join(base, name), { recursive: true, force: true });
  }
}
