import type { z } from 'zod';

/** The in-toto statement type every statement provenant signs carries (attestations, approvals, VSAs). */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** The statement `schema` describes, or why the payload is not one (`what` names it). Pure. */
export function parseStatementPayload<S extends z.ZodType>(schema: S, payload: Uint8Array, what: string): { statement: z.infer<S> } | { problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    return { problem: `the payload is not JSON: ${(e as Error).message}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { statement: r.data as z.infer<S> };
  const issue = r.error.issues[0]!;
  return { problem: `not ${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}` };
}

export function renderStatement(s: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(s));
}
