import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './peers.ts';

/**
 * Calls into a provenant module in a fresh Node process with a deadline, for code that could
 * block for ever (a FIFO opened for reading waits for a writer; no in-process timeout can stop a
 * synchronous open, nor let the test process exit while a pool thread waits on one). `call` is an
 * expression over `m`, the imported module. Returns `{ value }` or `{ error: ProvenantError.toJSON() }`.
 */
export async function callInChild(modulePath: string, call: string, timeoutMs = 30_000): Promise<{ value?: unknown; error?: Record<string, unknown> }> {
  const script = `const m = await import(${JSON.stringify(path.join(REPO_ROOT, modulePath))});
try { console.log(JSON.stringify({ value: await (${call}) })); }
catch (e) { console.log(JSON.stringify({ error: e.toJSON ? e.toJSON() : { message: String(e) } })); }`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: timeoutMs });
  return JSON.parse(stdout) as { value?: unknown; error?: Record<string, unknown> };
}
