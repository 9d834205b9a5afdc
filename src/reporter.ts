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

/**
 * Reporters for `count` tasks run concurrently that must read as if run one after another: task
 * k reports live once tasks 0..k-1 are done (`done(k-1)` called), and is buffered until then. A
 * warning said by several tasks is said once, by the first in order.
 */
export function orderedReporters(outer: Reporter, count: number): { reporter(index: number): Reporter; done(index: number): void } {
  type Call = (r: Reporter) => void;
  const buffers: Call[][] = Array.from({ length: count }, () => []);
  const finished = new Array<boolean>(count).fill(false);
  const warned = new Set<string>();
  let head = 0;
  const deduped: Reporter = {
    step: (...a) => outer.step(...a),
    progress: (...a) => outer.progress(...a),
    info: (m) => outer.info(m),
    debug: (m, level) => outer.debug(m, level),
    warn(m) {
      if (warned.has(m)) return;
      warned.add(m);
      outer.warn(m);
    },
  };
  const call = (index: number, c: Call) => (index === head ? c(deduped) : buffers[index]!.push(c));
  return {
    reporter: (index) => ({
      step: (...a) => call(index, (r) => r.step(...a)),
      progress: (...a) => call(index, (r) => r.progress(...a)),
      info: (m) => call(index, (r) => r.info(m)),
      debug: (m, level) => call(index, (r) => r.debug(m, level)),
      warn: (m) => call(index, (r) => r.warn(m)),
    }),
    done(index) {
      finished[index] = true;
      while (head < count && finished[head]) {
        head++;
        if (head < count) for (const c of buffers[head]!.splice(0)) c(deduped);
      }
    },
  };
}
