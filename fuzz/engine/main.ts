/**
 * Fuzzes one target: replays its corpus, then runs fast-check cases until the time is up.
 * A case that breaks the contract is shrunk and saved under fuzz/crashes/<target>/ (bytes and
 * a .txt saying what broke); the run goes on with a fresh seed. Exit 1 when anything broke.
 *
 *   node --expose-gc fuzz/engine/main.ts <target> [--seconds N] [--seed S]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { caseArbitrary, describeCase, type FuzzCase } from './cases.ts';
import { documentedCodes, violation } from './contract.ts';
import { TargetRunner } from './runner.ts';
import { loadCorpus, REPO_ROOT, targetSpec } from './targets.ts';
import { removeProcessScratch } from '../lib/scratch.ts';

/** Heap growth, after a full collection, allowed between the first probe and any later one. */
export const MEMORY_BOUND_BYTES = 64 * 1024 * 1024;
const PROBE_EVERY = 250;
const MAX_FINDINGS = 5;

const { positionals, values } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' } } });
const spec = targetSpec(positionals[0] ?? '');
const seconds = Number(values.seconds);
const codes = documentedCodes();
const corpus = loadCorpus(spec);
const runner = new TargetRunner(spec, corpus.entries);
const stats = { cases: 0, ok: 0, errors: new Map<string, number>() };
const findings: string[] = [];
const crashDir = path.join(REPO_ROOT, 'fuzz', 'crashes', spec.name);

function record(c: FuzzCase | string, bytes: Uint8Array, why: string): void {
  const id = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  mkdirSync(crashDir, { recursive: true });
  writeFileSync(path.join(crashDir, `${id}.bin`), bytes);
  const what = typeof c === 'string' ? c : describeCase(c, corpus.names);
  writeFileSync(path.join(crashDir, `${id}.txt`), `${why}\n\ncase: ${what}\n`);
  findings.push(`${spec.name}: ${why.split('\n')[0]} (fuzz/crashes/${spec.name}/${id}.bin)`);
  console.error(`[${spec.name}] FINDING ${id}: ${why}\n  case: ${what}`);
}

async function runCase(c: FuzzCase): Promise<string | undefined> {
  const r = await runner.run(c);
  stats.cases++;
  if (r.outcome.kind === 'ok') stats.ok++;
  if (r.outcome.kind === 'error') stats.errors.set(r.outcome.code, (stats.errors.get(r.outcome.code) ?? 0) + 1);
  return violation(r.outcome, codes);
}

const deadline = Date.now() + seconds * 1000;
let baseline: number | undefined;
let peak = 0;
async function probeMemory(): Promise<void> {
  if (stats.cases % PROBE_EVERY !== 0) return;
  const heap = await runner.heapUsed();
  peak = Math.max(peak, heap);
  baseline ??= heap;
  if (heap - baseline > MEMORY_BOUND_BYTES) {
    throw new Error(`memory grew from ${(baseline / 2 ** 20).toFixed(1)} MiB to ${(heap / 2 ** 20).toFixed(1)} MiB after ${stats.cases} cases (bound ${MEMORY_BOUND_BYTES / 2 ** 20} MiB)`);
  }
}

// 1. The corpus, as it is: seeds and every regression input found so far.
for (const [i, bytes] of corpus.entries.entries()) {
  const why = await runCase({ kind: 'raw', bytes });
  if (why) record(`corpus entry ${corpus.names[i]}`, bytes, why);
}

// 2. Generated cases until the deadline.
let memoryFailure: string | undefined;
while (Date.now() < deadline - 500 && findings.length < MAX_FINDINGS && !memoryFailure) {
  let lastBytes: Uint8Array = new Uint8Array();
  const property = fc.asyncProperty(caseArbitrary(corpus.entries.length, spec.signs), async (c) => {
    const r = await runner.run(c);
    stats.cases++;
    lastBytes = r.bytes;
    if (r.outcome.kind === 'ok') stats.ok++;
    if (r.outcome.kind === 'error') stats.errors.set(r.outcome.code, (stats.errors.get(r.outcome.code) ?? 0) + 1);
    const why = violation(r.outcome, codes);
    if (why) throw new Error(why);
    try {
      await probeMemory();
    } catch (e) {
      memoryFailure = (e as Error).message;
    }
  });
  const seed = values.seed !== undefined && findings.length === 0 ? Number(values.seed) : Date.now() ^ (Math.random() * 2 ** 31);
  const details = await fc.check(property, {
    seed,
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: Math.max(1000, deadline - Date.now()),
    markInterruptAsFailure: false,
  });
  if (details.failed && details.counterexample) {
    const [c] = details.counterexample;
    // The last run was the shrunk counterexample: its bytes are what to keep.
    const again = await runner.run(c);
    record(c, again.bytes.length > 0 || c.kind === 'raw' ? again.bytes : lastBytes, violation(again.outcome, codes) ?? String(details.errorInstance));
    console.error(`[${spec.name}] fast-check seed ${seed}, path ${details.counterexamplePath}`);
  } else if (details.failed) {
    findings.push(`${spec.name}: ${String(details.errorInstance)}`);
  }
}
if (memoryFailure) findings.push(`${spec.name}: ${memoryFailure}`);
await runner.stop();
removeProcessScratch();

const top = [...stats.errors].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ');
console.log(`[${spec.name}] ${stats.cases} cases in ${seconds}s: ${stats.ok} parsed, ${stats.cases - stats.ok} refused (${top || 'none'}); worker heap peak ${(peak / 2 ** 20).toFixed(1)} MiB; ${findings.length} finding(s)`);
for (const f of findings) console.log(`  FINDING ${f}`);
process.exit(findings.length > 0 ? 1 : 0);
