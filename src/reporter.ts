/**
 * The one channel through which use cases tell the outside world what they are doing.
 * The CLI renders it (human, -v, --json); the library API can pass its own or the silent one.
 */
export type StepStatus = 'start' | 'ok' | 'fail' | 'skip';

export interface Reporter {
  /** A named step of a pipeline changed state; `subject` is e.g. the integration. */
  step(subject: string, step: string, status: StepStatus, detail?: string): void;
  /** Work with a known size, e.g. integrations released so far. */
  progress(label: string, done: number, total: number): void;
  info(message: string): void;
  /** Only shown with -v; `level` 1 is -v, 2 is -vv. */
  debug(message: string, level?: number): void;
  warn(message: string): void;
}

export const silentReporter: Reporter = {
  step() {},
  progress() {},
  info() {},
  debug() {},
  warn() {},
};

/**
 * For a use case run inside another (release runs build, sign, publish, download): the outer
 * one reports the steps, so the inner one's steps and progress are dropped, its info becomes
 * detail (-v), and a warning repeated across runs is shown once.
 */
export function nestedReporter(outer: Reporter, seenWarnings = new Set<string>()): Reporter {
  return {
    step() {},
    progress() {},
    info: (m) => outer.debug(m),
    debug: (m, level) => outer.debug(m, level),
    warn(m) {
      if (seenWarnings.has(m)) return;
      seenWarnings.add(m);
      outer.warn(m);
    },
  };
}
