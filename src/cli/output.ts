import type { Reporter, StepStatus } from '../reporter.ts';
import { asProvenantError } from '../errors.ts';

/** Where a command writes: injectable so tests can run `main()` in-process and read the output. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal: progress lines may redraw in place. */
  readonly interactive: boolean;
}

export const processOutput: Output = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  // Read when asked, not at load: the downloader's startup snapshot loads this module at build time.
  get interactive() {
    return Boolean(process.stderr.isTTY);
  },
};

/**
 * `provenant --help | head`: the reader may close the pipe before we are done writing. That is
 * not a failure of provenant, so it ends quietly (with the exit code it has so far) instead of
 * dying on an unhandled EPIPE with a stack trace. A closed stderr just stops the logging.
 */
export function exitQuietlyOnClosedPipes(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

export interface GlobalOptions {
  verbose: number;
  json: boolean;
}

const MARK: Record<StepStatus, string> = { start: '…', ok: '✅', fail: '❌', skip: '⏭️ ' };

/**
 * Human reporter: steps and logs go to stderr so stdout stays for the command's result
 * (a path, or the --json document). With --json, only warnings and failures reach stderr.
 */
export function cliReporter(out: Output, opts: GlobalOptions): Reporter {
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) out.stderr('\r\x1b[K');
    progressShown = false;
  };
  const line = (t: string) => {
    clearProgress();
    out.stderr(`${t}\n`);
  };
  return {
    step(subject, step, status, detail) {
      if (opts.json && status !== 'fail') return;
      if (status === 'start' && opts.verbose < 1) return;
      line(`${MARK[status]} ${subject}: ${step}${detail ? ` — ${detail}` : ''}`);
    },
    progress(label, done, total) {
      if (opts.json) return;
      if (out.interactive) {
        out.stderr(`\r\x1b[K[${done}/${total}] ${label}`);
        progressShown = done < total;
        if (!progressShown) out.stderr('\n');
      } else if (opts.verbose >= 1 || done === total) {
        line(`[${done}/${total}] ${label}`);
      }
    },
    info(message) {
      if (!opts.json) line(message);
    },
    debug(message, level = 1) {
      if (opts.verbose >= level) line(`  ${message}`);
    },
    warn(message) {
      line(`warning: ${message}`);
    },
  };
}

export function renderError(out: Output, err: unknown, opts: GlobalOptions): number {
  const e = asProvenantError(err);
  if (opts.json) out.stdout(`${JSON.stringify({ ok: false, error: e.toJSON() }, null, 2)}\n`);
  out.stderr(`provenant: ${e.describe()}\n`);
  if (opts.verbose >= 2 && err instanceof Error && err.stack) out.stderr(`${err.stack}\n`);
  return e.exitCode;
}

export function printJson(out: Output, value: unknown): void {
  out.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
