/**
 * The thread a target runs in. The runner can stop it at any point (a hung regex included),
 * which a timer in the same thread could not. Messages: a case to run, or a memory probe.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isProvenantError } from '../../src/errors.ts';
import { applyOps, type FuzzCase } from './cases.ts';
import { outcomeOf, type Outcome } from './contract.ts';
import { loadCorpus, targetModule, targetSpec } from './targets.ts';

export interface TargetModule {
  fuzz(data: Buffer): unknown;
  /** Signed targets: the seed with real signatures by this run's keys (placeholders filled). */
  prepare?(data: Buffer): Promise<Buffer> | Buffer;
}

export type ToWorker = { id: number; case: FuzzCase } | { id: number; memory: true };
export type FromWorker =
  | { ready: true }
  | { id: number; bytes: Uint8Array }
  | { id: number; outcome: Outcome; ms: number }
  | { id: number; heapUsed: number };

const spec = targetSpec((workerData as { target: string }).target);
const corpus = loadCorpus(spec).entries;
const target = (await import(targetModule(spec).href)) as TargetModule;
const port = parentPort!;

async function bytesOf(c: FuzzCase): Promise<Uint8Array> {
  if (c.kind === 'raw') return c.bytes;
  let seed = corpus[c.seed % corpus.length]!;
  if (c.signed) {
    if (!target.prepare) throw new Error(`${spec.name} does not export prepare()`);
    seed = await target.prepare(Buffer.from(seed));
  }
  return applyOps(seed, c.ops, spec.format, corpus);
}

port.on('message', async (m: ToWorker) => {
  if ('memory' in m) {
    (globalThis as { gc?: () => void }).gc?.();
    port.postMessage({ id: m.id, heapUsed: process.memoryUsage().heapUsed } satisfies FromWorker);
    return;
  }
  const bytes = await bytesOf(m.case);
  // Signed cases are only known here: the runner keeps their bytes in case the run hangs.
  if (m.case.kind === 'mutant' && m.case.signed) port.postMessage({ id: m.id, bytes } satisfies FromWorker);
  const start = performance.now();
  const outcome = await outcomeOf(() => target.fuzz(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), isProvenantError);
  port.postMessage({ id: m.id, outcome, ms: performance.now() - start } satisfies FromWorker);
});
port.postMessage({ ready: true } satisfies FromWorker);
