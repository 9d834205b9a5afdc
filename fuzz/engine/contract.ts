/**
 * The fuzzing contract (docs/fuzzing.md): every input either parses or fails with a
 * ProvenantError carrying a stable, documented code; nothing else may escape, nothing may hang,
 * and memory may not keep growing. Pure, apart from reading the documented codes once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Outcome =
  | { kind: 'ok' }
  | { kind: 'error'; code: string; exitClass: string; message: string }
  | { kind: 'crash'; name: string; message: string; stack: string }
  | { kind: 'hang'; ms: number }
  | { kind: 'died'; message: string };

/** Every `E_…` code named in docs/ (exit-codes.md and each command's page): a code is stable when users are told about it. */
export function documentedCodes(dir = fileURLToPath(new URL('../../docs/', import.meta.url))): Set<string> {
  const text = readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
  return new Set(text.match(/\bE_[A-Z0-9_]+\b/g) ?? []);
}

/** Why `o` breaks the contract, or undefined when it keeps it. */
export function violation(o: Outcome, codes: ReadonlySet<string>): string | undefined {
  switch (o.kind) {
    case 'ok':
      return undefined;
    case 'error':
      if (o.exitClass === 'internal' || o.code === 'E_INTERNAL') return `internal error ${o.code}: ${o.message}`;
      if (!codes.has(o.code)) return `ProvenantError with a code no page of docs/ documents, ${o.code}: ${o.message}`;
      return undefined;
    case 'crash':
      return `${o.name} escaped (not a ProvenantError): ${o.message}\n${o.stack}`;
    case 'hang':
      return `no answer within ${o.ms} ms (hang)`;
    case 'died':
      return `the target's thread died: ${o.message}`;
  }
}

/** What fuzz() did, as an outcome; run in the thread where ProvenantError is the class `instanceof` knows. */
export async function outcomeOf(run: () => unknown, isProvenantError: (e: unknown) => boolean): Promise<Outcome> {
  try {
    await run();
    return { kind: 'ok' };
  } catch (e) {
    if (isProvenantError(e)) {
      const p = e as { code: string; exitClass: string; message: string };
      return { kind: 'error', code: p.code, exitClass: p.exitClass, message: p.message.slice(0, 500) };
    }
    const err = e instanceof Error ? e : new Error(String(e));
    return { kind: 'crash', name: err.name, message: err.message.slice(0, 2000), stack: (err.stack ?? '').split('\n').slice(0, 12).join('\n') };
  }
}
