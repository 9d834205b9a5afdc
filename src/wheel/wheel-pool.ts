/**
 * Wheel builds on worker threads, one build at a time per worker, so a whole tree uses every
 * core. Each worker runs the same buildWheel as the serial path (src/wheel/wheel-worker.ts);
 * only where the work runs changes, never the bytes. Workers start on first use and are
 * stopped by close().
 */
import { getCompileCacheDir } from 'node:module';
import { Worker } from 'node:worker_threads';
import { asProvenantError, ProvenantError, REPORT_BUG_HINT, type ExitClass } from '../errors.ts';
import type { BuildOptions } from './types.ts';
import { buildWheel, type WheelBuildResult } from './wheel.ts';
import type { WheelJob, WorkerError } from './wheel-worker.ts';

export interface WheelPool {
  build(dir: string, opts: BuildOptions): Promise<WheelBuildResult>;
  close(): Promise<void>;
}

/**
 * A worker thread costs about as much CPU to start (Node's bootstrap, the builder's modules, a
 * cold JIT and WebAssembly tier-up: ~250 ms) as 50 wheel builds (~5 ms each), measured on the
 * integrations-core fixtures (docs/build.md): fewer wheels than that per worker and the threads
 * cost more than they save.
 */
export const WHEELS_PER_WORKER = 50;

/** Worker threads worth starting for `wheels` builds with at most `jobs` at once; 1 = build in this thread. */
export function workersFor(wheels: number, jobs: number): number {
  return Math.max(1, Math.min(jobs, Math.floor(wheels / WHEELS_PER_WORKER)));
}

interface Pending {
  resolve(w: WheelBuildResult): void;
  reject(e: unknown): void;
}

/** A pool of `jobs` workers; with one job, builds in this thread (no worker to start). */
export function wheelPool(jobs: number): WheelPool {
  if (jobs <= 1) return { build: buildWheel, close: async () => {} };
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const queue: { job: WheelJob; pending: Pending }[] = [];
  const inFlight = new Map<number, Pending & { worker: Worker }>();
  let nextId = 0;

  const settle = (w: Worker, msg: { id: number; wheel?: WheelBuildResult; error?: WorkerError }) => {
    const p = inFlight.get(msg.id)!;
    inFlight.delete(msg.id);
    if (msg.error) p.reject(fromWorker(msg.error));
    else p.resolve(msg.wheel!);
    idle.push(w);
    dispatch();
  };
  const spawn = () => {
    const w = new Worker(new URL('./wheel-worker.ts', import.meta.url), { workerData: { compileCacheDir: getCompileCacheDir() } });
    w.on('message', (m: { id: number; wheel?: WheelBuildResult; error?: WorkerError }) => settle(w, m));
    // A worker that dies (not a build error: those come back as messages) fails the build it
    // held, and leaves its place to a new worker so the queue never waits on it.
    let crash: unknown;
    w.on('error', (e) => (crash = e));
    w.on('exit', () => {
      for (const [id, p] of inFlight) {
        if (p.worker !== w) continue;
        inFlight.delete(id);
        p.reject(asProvenantError(crash ?? new Error('a wheel worker thread exited during a build')));
      }
      all.splice(all.indexOf(w), 1);
      if (idle.includes(w)) idle.splice(idle.indexOf(w), 1);
      dispatch();
    });
    all.push(w);
    idle.push(w);
  };
  const dispatch = () => {
    while (queue.length > 0) {
      if (idle.length === 0 && all.length < jobs) spawn();
      const w = idle.pop();
      if (!w) return;
      const { job, pending } = queue.shift()!;
      inFlight.set(job.id, { ...pending, worker: w });
      w.postMessage(job);
    }
  };
  return {
    build(dir, opts) {
      return new Promise((resolve, reject) => {
        queue.push({ job: { id: nextId++, dir, opts }, pending: { resolve, reject } });
        dispatch();
      });
    },
    async close() {
      for (const { pending } of queue.splice(0)) pending.reject(new ProvenantError('E_INTERNAL', 'the wheel pool was closed with builds queued', { exitClass: 'internal', hint: REPORT_BUG_HINT }));
      await Promise.all([...all].map((w) => w.terminate()));
    },
  };
}

function fromWorker(e: WorkerError): ProvenantError {
  if (e.provenant) return new ProvenantError(e.code, e.message, { exitClass: e.exitClass as ExitClass, file: e.file, field: e.field, hint: e.hint });
  return new ProvenantError('E_INTERNAL', e.message, { exitClass: 'internal', hint: REPORT_BUG_HINT });
}
