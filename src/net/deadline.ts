import { ProvenantError } from '../errors.ts';
import type { FetchBody, FetchOptions, Fetcher, FetchStats } from './fetcher.ts';

/** One download's time budget: `signal` aborts, with an E_NET_DEADLINE reason, when it runs out. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Stops the clock (the work finished in time). */
  clear(): void;
}

export function startDeadline(ms: number, what: string): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineError(what, ms)), ms);
  // The clock never keeps a process alive on its own.
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

export function deadlineError(what: string, ms: number): ProvenantError {
  return new ProvenantError('E_NET_DEADLINE', `${what} did not finish within its deadline of ${ms / 1000} s`, {
    exitClass: 'network',
    hint: 'the server or the network is too slow (or drips data on purpose); raise --deadline if it is only slow',
  });
}

/**
 * A fetcher whose every request and body ends when `signal` aborts, failing with its reason.
 * The idle timeouts cannot catch a server that sends one byte just before each would fire; this
 * bounds the whole download. The signal is also handed to the inner fetcher, so one that
 * honours it (HTTP) releases its connection and any retry wait at once; one that does not is
 * still cut off here.
 */
export class DeadlineFetcher implements Fetcher {
  private readonly inner: Fetcher;
  private readonly signal: AbortSignal;

  constructor(inner: Fetcher, signal: AbortSignal) {
    this.inner = inner;
    this.signal = signal;
  }

  get stats(): FetchStats {
    return this.inner.stats;
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    const signal = this.signal;
    signal.throwIfAborted();
    const opening = this.inner.open(url, { ...opts, signal });
    // A body that arrives after the deadline is nobody's: release it.
    void opening.then((b) => signal.aborted && b.cancel(), () => undefined);
    const body = await untilAborted(opening, signal);
    const chunks = (async function* () {
      const stop = () => body.cancel();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const chunk of body.chunks) {
          signal.throwIfAborted();
          yield chunk;
        }
        signal.throwIfAborted();
      } catch (e) {
        // Cancelling the body makes it fail with whatever error its source uses; the deadline is the cause.
        throw signal.aborted ? signal.reason : e;
      } finally {
        signal.removeEventListener('abort', stop);
      }
    })();
    return { ...body, chunks };
  }

  close(): void {
    this.inner.close();
  }
}

/** `p`, or the signal's reason as soon as it aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
