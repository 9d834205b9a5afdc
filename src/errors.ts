/**
 * Every failure a user can cause or meet is a ProvenantError: a stable code for scripts,
 * an exit class for the process, and where known the file, the field and the fix.
 */
import { redactCredentials } from './util/redact-credentials.ts';

export type ExitClass =
  | 'usage' // wrong command line
  | 'input' // bad project, config or key material
  | 'not-found' // unknown integration, project, version or object
  | 'verification' // a security check failed
  | 'network' // a remote could not be reached or misbehaved
  | 'conflict' // a concurrent writer or an immutable object got in the way
  | 'internal';

/** Documented in docs/exit-codes.md; never renumber. */
export const EXIT_CODES: Readonly<Record<ExitClass, number>> = {
  internal: 1,
  usage: 2,
  input: 3,
  'not-found': 4,
  verification: 5,
  network: 6,
  conflict: 7,
};

export interface ErrorDetails {
  exitClass?: ExitClass;
  file?: string;
  field?: string;
  /** What the user should do about it, one sentence: required, every error carries its fix. */
  hint: string;
  cause?: unknown;
}

/** The fix line of an error that only a bug in provenant can cause. */
export const REPORT_BUG_HINT = 'this is a bug in provenant; rerun with -vv and report the output';

export class ProvenantError extends Error {
  readonly code: string;
  readonly exitClass: ExitClass;
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly hint: string;

  constructor(code: string, message: string, details: ErrorDetails) {
    super(redactCredentials(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ProvenantError';
    this.code = code;
    this.exitClass = details.exitClass ?? 'input';
    this.file = details.file === undefined ? undefined : redactCredentials(details.file);
    this.field = details.field;
    this.hint = redactCredentials(details.hint);
  }

  get exitCode(): number {
    return EXIT_CODES[this.exitClass];
  }

  /** One line for humans: `E_CODE: message (file: f, field: x) — fix: hint`. */
  describe(): string {
    const where = [this.file && `file: ${this.file}`, this.field && `field: ${this.field}`].filter(Boolean).join(', ');
    return `${this.code}: ${this.message}${where ? ` (${where})` : ''}${this.hint ? ` — fix: ${this.hint}` : ''}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, exitClass: this.exitClass, message: this.message, file: this.file, field: this.field, hint: this.hint };
  }
}

export function isProvenantError(e: unknown): e is ProvenantError {
  return e instanceof ProvenantError;
}

/** `e` as a ProvenantError: itself, or E_INTERNAL (a bug) for anything else thrown. */
export function asProvenantError(e: unknown): ProvenantError {
  if (isProvenantError(e)) return e;
  return new ProvenantError('E_INTERNAL', e instanceof Error ? e.message : String(e), { exitClass: 'internal', cause: e, hint: REPORT_BUG_HINT });
}
