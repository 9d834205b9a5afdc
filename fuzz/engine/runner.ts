/**
 * Runs cases of one target in a worker thread with a time budget per case: a case that does
 * not answer in time is run once more with twice the budget (a shared machine can be slow),
 * then reported as a hang and the worker replaced.
 */
import { Worker } from 'node:worker_threads';
import { applyOps, type FuzzCase } from './cases.ts';
import type { Outcome } from './contract.ts';
import type { TargetSpec } from './targets.ts';
import type { FromWorker, ToWorker } from './worker.ts';

export interface CaseResult {
  outcome: Outcome;
  /** The exact bytes the target was given, when it broke the contract (empty otherwise). */
  bytes: Uint8Array;
  ms: number;
}

/** Memory a worker may use before V8 stops it (a case that allocates without bound dies, and is reported). */
const WORKER_HEAP_MB = 1024;

export class TargetRunner {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 0;
  private pending = new Map<number, { resolve: (m: FromWorker) => void; worker: Worker; bytes?: Uint8Array }>();
  private deathReason: string | undefined;
  private readonly stopped = new WeakSet<Worker>();

  private readonly spec: TargetSpec;
  private readonly corpus: readonly Uint8Array[];

  constructor(spec: TargetSpec, corpus: readonly Uint8Array[]) {
    this.spec = spec;
    this.corpus = corpus;
  }

  private start(): Promise<void> {
    this.deathReason = undefined;
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { target: this.spec.name },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if ('ready' in m) return resolve();
        const p = this.pending.get(m.id);
        if (!p) return;
        if ('bytes' in m) p.bytes = m.bytes;
        else {
          this.pending.delete(m.id);
          p.resolve(m);
        }
      });
      // An uncaught exception or unhandled rejection in the target kills its thread: a finding.
      worker.on('error', (e) => {
        this.deathReason = `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 10).join('\n')}`;
        reject(e);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        // Only this worker's cases died with it: its exit may come after a successor took cases.
        // A worker this runner stopped (after a hang) has none left, and is not a death.
        const message = this.stopped.has(worker) ? 'stopped' : (this.deathReason ?? `exit code ${code}`);
        for (const [id, p] of this.pending) {
          if (p.worker !== worker) continue;
          this.pending.delete(id);
          p.resolve({ id, outcome: { kind: 'died', message }, ms: 0 });
        }
        reject(new Error(`the ${this.spec.name} worker exited (${code}) before it was ready: ${message}`));
      });
    });
    return this.ready;
  }

  private async send(msg: Omit<ToWorker, 'id'>, budgetMs: number): Promise<{ reply: FromWorker; bytes?: Uint8Array } | { timedOut: true; bytes?: Uint8Array }> {
    if (!this.worker) await this.start();
    await this.ready;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const entry: { resolve: (m: FromWorker) => void; worker: Worker; bytes?: Uint8Array } = { resolve: () => {}, worker: this.worker! };
    const reply = new Promise<FromWorker>((resolve) => (entry.resolve = resolve));
    this.pending.set(id, entry);
    this.worker!.postMessage({ ...msg, id } as ToWorker);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), budgetMs)));
    const r = await Promise.race([reply, timeout]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.pending.delete(id);
      await this.stop();
      return { timedOut: true, ...(entry.bytes ? { bytes: entry.bytes } : {}) };
    }
    return { reply: r, ...(entry.bytes ? { bytes: entry.bytes } : {}) };
  }

  /** Runs one case; never throws. */
  async run(c: FuzzCase): Promise<CaseResult> {
    // The worker builds the bytes; they are rebuilt here only to report a hang or a crash.
    const local = () => (c.kind === 'raw' ? c.bytes : c.signed ? new Uint8Array() : applyOps(this.corpus[c.seed % this.corpus.length]!, c.ops, this.spec.format, this.corpus));
    for (const budget of [this.spec.budgetMs, this.spec.budgetMs * 2]) {
      const r = await this.send({ case: c }, budget);
      const bytes = () => r.bytes ?? local();
      if ('timedOut' in r) {
        if (budget === this.spec.budgetMs) continue;
        return { outcome: { kind: 'hang', ms: budget }, bytes: bytes(), ms: budget };
      }
      const m = r.reply as { outcome: Outcome; ms: number };
      if (m.outcome.kind === 'died') await this.stop();
      const kept = m.outcome.kind === 'ok' || m.outcome.kind === 'error';
      return { outcome: m.outcome, bytes: kept ? new Uint8Array() : bytes(), ms: m.ms };
    }
    throw new Error('unreachable');
  }

  /** The worker's heap after a full collection (needs --expose-gc to be meaningful). */
  async heapUsed(): Promise<number> {
    const r = await this.send({ memory: true }, 60_000);
    if ('timedOut' in r) throw new Error('memory probe timed out');
    return (r.reply as { heapUsed: number }).heapUsed;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    this.stopped.add(w);
    await w.terminate();
  }
}
