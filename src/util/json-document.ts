import type { z } from 'zod';
import { ProvenantError, type ExitClass } from '../errors.ts';

export interface JsonDocumentErrors {
  /** Stable error code for both failures (not JSON, not the schema). */
  code: string;
  /** What the document is, for messages: "policy", "key index", … */
  what: string;
  file: string;
  hint: string;
  exitClass?: ExitClass;
}

/** A JSON document checked against its schema; errors name the file and the first field at fault. */
export function parseJsonDocument<T>(schema: z.ZodType<T>, bytes: Uint8Array | string, e: JsonDocumentErrors): T {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ProvenantError(e.code, `${e.what} is not valid JSON: ${(err as Error).message}`, {
      file: e.file,
      hint: e.hint,
      ...(e.exitClass ? { exitClass: e.exitClass } : {}),
    });
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ProvenantError(e.code, `${e.what} is invalid: ${issue.message}`, {
      file: e.file,
      field: issue.path.join('.'),
      hint: e.hint,
      ...(e.exitClass ? { exitClass: e.exitClass } : {}),
    });
  }
  return r.data;
}
