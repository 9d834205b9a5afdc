// Child process of bench/download.ts: N verified downloads in one process, like
// download_reference.py on the Python side (same arguments, same output), so neither tool runs
// in the benchmark's own process, whose heap holds the published fixtures.
//
// usage: download-loop.ts PROJECT VERSION REPO_URL ROOT_JSON ITERATIONS cold|warm WORKDIR
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { downloadWheel } from '../src/app/download.ts';

const [project, version, repository, root, iterations, mode, work] = process.argv.slice(2) as [string, string, string, string, string, 'cold' | 'warm', string];
const n = Number(iterations);

const once = async (i: number) => {
  const dest = path.join(work, `dest-${i}`);
  // cold: a fresh state directory (only the root, copied in from --root) for every download.
  const stateDir = path.join(work, mode === 'cold' ? `state-${i}` : 'state');
  await downloadWheel({ project, version, repository, root, stateDir, dest, env: {} });
  await rm(dest, { recursive: true, force: true });
  if (mode === 'cold') await rm(stateDir, { recursive: true, force: true });
};

await once(-1); // module loading and JIT warm-up, not timed; also fills the warm state
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) await once(i);
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({ elapsed, iterations: n })}\n`);
