import tls from 'node:tls';
import { Agent, interceptors, Pool, ProxyAgent, request, type Dispatcher } from 'undici';
import { ProvenantError } from '../errors.ts';
import { cappedChunks, newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';
import { HttpStatusError, lengthExceeded, undiciError } from './net-errors.ts';
import { proxyFor } from './proxy.ts';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, RETRYABLE_STATUSES, type RetryPolicy } from './retry.ts';

export interface HttpFetcherOptions {
  /** Time allowed to establish the connection (TCP, proxy CONNECT, TLS). */
  connectTimeoutMs?: number;
  /** Longest silence allowed once connected, waiting for headers or body data. */
  idleTimeoutMs?: number;
  retry?: RetryPolicy;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  extraCaPem?: string;
  userAgent?: string;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (info: { url: string; retry: number; delayMs: number; reason: string }) => void;
  random?: () => number;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET over undici: its Agent/ProxyAgent do the connection pool, connect, header and body
 * timeouts, CONNECT tunnels and TLS with the extra CA; its retry interceptor re-sends after
 * 5xx/429/connection failures (never once a body has started: `resume: false`). Ours, because
 * undici does it differently or not at all:
 * - the retry policy (backoff with jitter, Retry-After within the cap, stats and the onRetry
 *   log): undici's default has no jitter ('503 twice then 200: retried, counted…');
 * - proxy selection (proxy.ts): undici's EnvHttpProxyAgent sends https through HTTP_PROXY when
 *   HTTPS_PROXY is unset, curl and pip do not ('proxy selection follows … conventions');
 * - redirects: undici's redirect interceptor follows https → http ('redirects: … never from
 *   https down to http');
 * - the length cap on every body (fetcher.ts cappedChunks: 'an endless body is cut off…').
 */
export class HttpFetcher implements Fetcher {
  readonly stats: FetchStats;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly env: NodeJS.ProcessEnv;
  private readonly ca: string[] | undefined;
  private readonly userAgent: string;
  private readonly onRetry: HttpFetcherOptions['onRetry'];
  private readonly random: () => number;
  /** The direct agent and one ProxyAgent per proxy URL, each with the retry interceptor. */
  private readonly agents = new Map<string, { agent: Dispatcher; dispatcher: Dispatcher }>();

  constructor(opts: HttpFetcherOptions = {}, stats: FetchStats = newStats()) {
    this.stats = stats;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.env = opts.env ?? process.env;
    this.ca = opts.extraCaPem ? [...tls.rootCertificates, opts.extraCaPem] : undefined;
    this.userAgent = opts.userAgent ?? 'provenant';
    this.onRetry = opts.onRetry;
    this.random = opts.random ?? Math.random;
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    const res = await this.follow(new URL(url), opts.signal);
    const declared = header(res.headers, 'content-length');
    const declaredLength = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (opts.maxLength !== undefined && declaredLength !== undefined && declaredLength > opts.maxLength) {
      discard(res.body);
      throw lengthExceeded(url, opts.maxLength);
    }
    const chunks = cappedChunks(res.body, url, opts.maxLength, this.stats, (e) => undiciError(url, e, this.timeouts()).error);
    return { url, declaredLength, chunks, cancel: () => discard(res.body) };
  }

  close(): void {
    for (const { agent } of this.agents.values()) void agent.destroy().catch(() => undefined);
    this.agents.clear();
  }

  /** One GET, following redirects (never from https down to http); a final non-2xx is an HttpStatusError. */
  private async follow(target: URL, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData> {
    let current = target;
    for (let hop = 0; ; hop++) {
      const res = await this.requestOnce(current, signal);
      const location = header(res.headers, 'location');
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      await res.body.dump().catch(() => undefined);
      if (!REDIRECTS.has(res.statusCode) || !location) throw new HttpStatusError(target.href, res.statusCode);
      const next = new URL(location, current);
      if (hop >= MAX_REDIRECTS || (current.protocol === 'https:' && next.protocol !== 'https:') || !/^https?:$/.test(next.protocol)) {
        throw new ProvenantError('E_NET_REDIRECT', `${target.href}: refused redirect to ${next.href}`, {
          exitClass: 'network',
          file: target.href,
          hint: 'redirects are limited to 5 and may not leave https',
        });
      }
      current = next;
    }
  }

  private async requestOnce(target: URL, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData> {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new ProvenantError('E_NET_UNSUPPORTED_URL', `unsupported URL scheme: ${target.href}`, { exitClass: 'usage', hint: 'use an http(s):// or s3:// URL or a local path' });
    }
    this.stats.requests++;
    try {
      return await request(target, {
        dispatcher: this.dispatcherFor(target),
        method: 'GET',
        headers: { 'user-agent': this.userAgent, accept: '*/*' },
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      throw undiciError(target.href, e, this.timeouts()).error;
    }
  }

  private dispatcherFor(target: URL): Dispatcher {
    const proxy = proxyFor(target, this.env);
    const key = proxy?.href ?? '';
    let entry = this.agents.get(key);
    if (!entry) {
      const common = {
        connections: 16,
        headersTimeout: this.idleTimeoutMs,
        bodyTimeout: this.idleTimeoutMs,
        connect: { timeout: this.connectTimeoutMs, ...(this.ca ? { ca: this.ca } : {}) },
      };
      const agent = proxy
        ? new ProxyAgent({
            ...common,
            uri: proxy.href,
            connectTimeout: this.connectTimeoutMs,
            // TLS to the repository, end to end through the tunnel.
            ...(this.ca ? { requestTls: { ca: this.ca } } : {}),
            // The proxy's answer to CONNECT is part of connecting, and bounded like it.
            clientFactory: (origin, o) => new Pool(origin, { ...o, headersTimeout: this.connectTimeoutMs }),
          })
        : new Agent(common);
      const dispatcher = agent.compose(
        interceptors.retry({ resume: false, statusCodes: RETRYABLE_STATUSES, retry: (err, ctx, cb) => this.retryDecision(err, ctx, cb) }),
      );
      entry = { agent, dispatcher };
      this.agents.set(key, entry);
    }
    return entry.dispatcher;
  }

  /** undici's retry hook: our policy decides, counts and logs; the returned timer lets an abort cancel the wait. */
  private retryDecision(
    err: Error & { statusCode?: number; headers?: Record<string, string | string[] | undefined> },
    { state, opts }: { state: { counter: number }; opts: Dispatcher.DispatchOptions },
    done: (err?: Error | null) => void,
  ): ReturnType<typeof setTimeout> | undefined {
    const url = new URL(opts.path, opts.origin).href;
    const status = err.statusCode;
    const failure = status !== undefined ? { error: new HttpStatusError(url, status), retryable: isRetryableStatus(status) } : undiciError(url, err, this.timeouts());
    if (!failure.retryable || state.counter > this.retry.retries) {
      done(err);
      return undefined;
    }
    const retryAfterMs = status !== undefined ? parseRetryAfter(header(err.headers ?? {}, 'retry-after')) : undefined;
    const delayMs = backoffDelay(this.retry, state.counter, this.random, retryAfterMs);
    this.stats.retries++;
    this.stats.requests++;
    this.onRetry?.({ url, retry: state.counter, delayMs, reason: failure.error.message });
    return setTimeout(() => done(null), delayMs);
  }

  private timeouts(): { connectMs: number; idleMs: number } {
    return { connectMs: this.connectTimeoutMs, idleMs: this.idleTimeoutMs };
  }
}

/** Drops a body unread; undici then reports the abort as an error event, which nobody needs. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined).destroy();
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
