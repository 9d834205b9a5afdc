import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { ProvenantError } from '../errors.ts';
import { cappedChunks, newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';
import { HttpStatusError, lengthExceeded, protocolError, timeoutError, transportError } from './net-errors.ts';
import { proxyFor } from './proxy.ts';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, type RetryPolicy } from './retry.ts';

export interface HttpFetcherOptions {
  /** Time allowed to establish the connection (TCP, proxy CONNECT, TLS). */
  connectTimeoutMs?: number;
  /** Longest silence allowed once connected, waiting for headers or body data. */
  idleTimeoutMs?: number;
  retry?: RetryPolicy;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Extra trusted CA certificates (PEM), added to Node's default ones (bundled, NODE_EXTRA_CA_CERTS). */
  extraCaPem?: string;
  userAgent?: string;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (info: { url: string; retry: number; delayMs: number; reason: string }) => void;
  random?: () => number;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_SOCKETS = 16;
/** 1xx answers allowed before the real one (a server sends one or two: 100 Continue, 103 Early Hints). */
const MAX_INTERIM = 8;
/** A proxy's whole answer to CONNECT (a status line and a few headers). */
const MAX_CONNECT_ANSWER = 64 << 10;
/** ...and the pieces it may come in (one or two in practice; Node's listeners double with each). */
const MAX_CONNECT_READS = 8;

/**
 * GET over Node's own `node:http`/`node:https` (part of Node, so nothing to load: the single
 * executable's start-up, docs/downloader-binary.md). Node does the keep-alive pool, TLS and
 * the proxy (its Agent `proxyEnv`: CONNECT tunnels for https, absolute URLs for http, the
 * proxy URL's credentials). Ours:
 * - which proxy, if any (proxy.ts: curl's and pip's rules, NO_PROXY); Node is handed only the
 *   one chosen;
 * - the connect timeout (TCP, CONNECT and TLS, until the request is written) and the idle
 *   timeout (silence once connected, before the headers or inside the body);
 * - the retry policy (backoff with jitter, Retry-After within the cap) on 5xx/429 and failures
 *   before the response; never once a body has started;
 * - redirects (never from https down to http) and the length cap on every body.
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
  /** One keep-alive agent per scheme and proxy. */
  private readonly agents = new Map<string, http.Agent>();

  constructor(opts: HttpFetcherOptions = {}, stats: FetchStats = newStats()) {
    this.stats = stats;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.env = opts.env ?? process.env;
    this.ca = opts.extraCaPem ? [...tls.getCACertificates('default'), opts.extraCaPem] : undefined;
    this.userAgent = opts.userAgent ?? 'provenant';
    this.onRetry = opts.onRetry;
    this.random = opts.random ?? Math.random;
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    const res = await this.follow(new URL(url), opts.signal);
    const declared = header(res.headers, 'content-length');
    const declaredLength = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (opts.maxLength !== undefined && declaredLength !== undefined && declaredLength > opts.maxLength) {
      res.destroy();
      throw lengthExceeded(url, opts.maxLength);
    }
    const chunks = cappedChunks(res, url, opts.maxLength, this.stats, (e) => transportError(url, e, this.timeouts()).error);
    return { url, declaredLength, chunks, cancel: () => void res.destroy() };
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** One GET, following redirects (never from https down to http); a final non-2xx is an HttpStatusError. */
  private async follow(target: URL, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
    let current = target;
    for (let hop = 0; ; hop++) {
      const res = await this.withRetries(current, signal);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return res;
      res.resume();
      const location = header(res.headers, 'location');
      if (!REDIRECTS.has(status) || !location) throw new HttpStatusError(target.href, status);
      // A Location that is no URL at all is refused like one that leaves https.
      const next = URL.parse(location, current.href);
      if (!next || hop >= MAX_REDIRECTS || (current.protocol === 'https:' && next.protocol !== 'https:') || !/^https?:$/.test(next.protocol)) {
        throw new ProvenantError('E_NET_REDIRECT', `${target.href}: refused redirect to ${next?.href ?? JSON.stringify(location)}`, {
          exitClass: 'network',
          file: target.href,
          hint: 'redirects are limited to 5 and may not leave https',
        });
      }
      current = next;
    }
  }

  /** The response (any status) once the policy stops retrying; a failure that is not retried is thrown. */
  private async withRetries(target: URL, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
    for (let retry = 1; ; retry++) {
      let failure: { error: ProvenantError; retryable: boolean };
      let retryAfterMs: number | undefined;
      try {
        const res = await this.requestOnce(target, signal);
        const status = res.statusCode ?? 0;
        if (!isRetryableStatus(status) || retry > this.retry.retries) return res;
        res.resume();
        failure = { error: new HttpStatusError(target.href, status), retryable: true };
        retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));
      } catch (e) {
        failure = transportError(target.href, e, this.timeouts());
        if (!failure.retryable || retry > this.retry.retries || signal?.aborted) throw failure.error;
      }
      const delayMs = backoffDelay(this.retry, retry, this.random, retryAfterMs);
      this.stats.retries++;
      this.onRetry?.({ url: target.href, retry, delayMs, reason: failure.error.message });
      // An abort ends the wait at once; the caller (DeadlineFetcher) reports its reason.
      await sleep(delayMs, undefined, signal ? { signal } : {});
    }
  }

  /** One request; resolves at the response headers. */
  private requestOnce(target: URL, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new ProvenantError('E_NET_UNSUPPORTED_URL', `unsupported URL scheme: ${target.href}`, { exitClass: 'usage', hint: 'use an http(s):// or s3:// URL or a local path' });
    }
    this.stats.requests++;
    const client = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.request(target, {
        agent: this.agentFor(target),
        headers: { 'user-agent': this.userAgent, accept: '*/*' },
        // Node bounds its proxy CONNECT with this; the idle timeout below replaces it once connected.
        timeout: this.connectTimeoutMs,
        ...(signal ? { signal } : {}),
      });
      let res: http.IncomingMessage | undefined;
      // Connecting (TCP, the proxy's CONNECT, TLS) ends when the request has been written out.
      // (A request still waiting for its tunnel has no socket to fail through: reject here too.)
      const connecting = setTimeout(() => {
        const e = timeoutError(target.href, 'connect', this.connectTimeoutMs);
        reject(e);
        req.destroy(e);
      }, this.connectTimeoutMs);
      req.once('finish', () => clearTimeout(connecting));
      req.once('close', () => {
        clearTimeout(connecting);
        // An upgrade (101) nobody asked for: Node drops the socket, and our idle timeout with it,
        // without a response or an error; without this the request waited for the deadline.
        if (!res) reject(protocolError(target.href, 'the connection closed without a response'));
      });
      // Interim answers are data, so the idle timeout never fires on a stream of them.
      let interim = 0;
      req.on('information', () => {
        if (++interim > MAX_INTERIM) req.destroy(protocolError(target.href, `more than ${MAX_INTERIM} interim (1xx) responses`));
      });
      // Node arms it once connected: silence before the headers and inside the body.
      req.setTimeout(this.idleTimeoutMs, () => {
        const e = timeoutError(target.href, 'read', this.idleTimeoutMs);
        if (res) res.destroy(e);
        req.destroy(e);
      });
      // Not once: a socket error after the response (inside the body) is also emitted here, and the body reports it.
      req.on('error', reject);
      req.once('response', (r) => resolve((res = r)));
      req.end();
    });
  }

  private agentFor(target: URL): http.Agent {
    const proxy = proxyFor(target, this.env);
    const https_ = target.protocol === 'https:';
    const key = `${target.protocol} ${proxy?.href ?? ''}`;
    let agent = this.agents.get(key);
    if (!agent) {
      // Node's proxy support reads the variable for the agent's scheme; it gets the one proxy.py chose.
      const proxyEnv = proxy ? { proxyEnv: https_ ? { HTTPS_PROXY: proxy.href } : { HTTP_PROXY: proxy.href } } : {};
      const common = { keepAlive: true, maxSockets: MAX_SOCKETS, ...proxyEnv };
      agent = https_ ? new https.Agent({ ...common, ...(this.ca ? { ca: this.ca } : {}) }) : new http.Agent(common);
      if (https_ && proxy) capTunnelAnswer(agent, target.href);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private timeouts(): { connectMs: number; idleMs: number } {
    return { connectMs: this.connectTimeoutMs, idleMs: this.idleTimeoutMs };
  }
}

/**
 * Node reads a proxy's answer to CONNECT into one string with no limit (lib/https.js,
 * establishTunnel) until the connect timeout: a hostile proxy, or anyone on the path to a
 * plain-http one, filled memory at network speed (over 1 GB in 3 s on loopback). And each
 * of its 'readable' listeners adds another on every piece, so they double: an answer dripped
 * in ~30 pieces threw RangeError (Invalid array length) out of Node, an uncaught crash. The
 * proxy socket's bytes and pieces are counted here, first in line, until the tunnel is up.
 */
function capTunnelAnswer(agent: http.Agent, url: string): void {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    let settled = false;
    const socket = create(options, (err, stream) => {
      settled = true;
      socket?.removeListener('readable', check);
      callback?.(err, stream);
    });
    let reads = 0;
    function check(): void {
      const tooLong = socket instanceof net.Socket && socket.bytesRead > MAX_CONNECT_ANSWER;
      if (!settled && (tooLong || ++reads > MAX_CONNECT_READS)) {
        const what = tooLong ? `is over ${MAX_CONNECT_ANSWER} bytes` : `came in over ${MAX_CONNECT_READS} pieces`;
        socket?.destroy(new ProvenantError('E_NET_PROXY', `${url}: the proxy's answer to CONNECT ${what}`, {
          exitClass: 'network',
          file: url,
          hint: 'check HTTPS_PROXY: the proxy (or the network to it) is not behaving as an HTTP proxy',
        }));
      }
    }
    socket?.prependListener('readable', check);
    return socket;
  };
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
