import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';

/**
 * The pointer file (the reference guide's schema): the TUF target that pins a wheel and its
 * signed attestation by digest and length. More keys may be added, none removed.
 */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)');
const length = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const uri = z.string().min(1);

export const PointerSchema = z.object({
  pointer: z
    .object({
      name: z.string().min(1),
      version: z.string().min(1),
      uri,
      digest: sha256Hex,
      length,
      attestation: z.object({ uri, digest: sha256Hex, length }).loose(),
    })
    .loose(),
});

export type Pointer = z.infer<typeof PointerSchema>['pointer'];

export function renderPointer(p: Pointer): string {
  return stringifyYaml({ pointer: p }, { lineWidth: 0 });
}

const POINTER_HINT = 'a pointer in dist/: rebuild it with `provenant build`; one from a repository: do not install it, tell its publisher';

/** Parses and validates a pointer; errors name the file and the field at fault. */
export function parsePointer(text: string, file: string): Pointer {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ProvenantError('E_POINTER_SCHEMA', `pointer is not valid YAML: ${(e as Error).message}`, {
      exitClass: 'verification',
      file,
      hint: POINTER_HINT,
    });
  }
  const r = PointerSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ProvenantError('E_POINTER_SCHEMA', `pointer is invalid: ${issue.message}`, {
      exitClass: 'verification',
      file,
      field: issue.path.join('.'),
      hint: POINTER_HINT,
    });
  }
  return r.data.pointer;
}
