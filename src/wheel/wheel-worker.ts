// A worker thread of src/wheel/wheel-pool.ts: builds the wheels it is sent with the same
// buildWheel as the serial path, so the bytes cannot differ. An error goes back as its
// ProvenantError fields (structured cloning keeps only an Error's message).
import { enableCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { BuildOptions } from './types.ts';

// The main thread's compile cache (bin/provenant.js enables one) is not inherited by a worker:
// without it each worker compiles, and strips the types of, the builder's modules again.
const cacheDir = (workerData as { compileCacheDir?: string } | undefined)?.compileCacheDir;
if (cacheDir) enableCompileCache(cacheDir);
const { isProvenantError } = await import('../errors.ts');
const { buildWheel } = await import('./wheel.ts');

export interface WheelJob {
  id: number;
  dir: string;
  opts: BuildOptions;
}

export type WorkerError = { provenant: true; code: string; message: string; exitClass: string; file?: string; field?: string; hint: string } | { provenant: false; message: string };

parentPort!.on('message', async (job: WheelJob) => {
  try {
    parentPort!.postMessage({ id: job.id, wheel: await buildWheel(job.dir, job.opts) });
  } catch (e) {
    const error: WorkerError = isProvenantError(e)
      ? { provenant: true, code: e.code, message: e.message, exitClass: e.exitClass, file: e.file, field: e.field, hint: e.hint }
      : { provenant: false, message: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage({ id: job.id, error });
  }
});
