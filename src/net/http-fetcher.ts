import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProvenantError } from '../errors.ts';
import { cappedChunks, newStats, type FetchBody, type FetchOptions, type Fetcher, type FetchStats } from './fetcher.ts';
import { connectionError, HttpStatusError, lengthExceeded, timeoutError } from './net-errors.ts';
import { proxyAuthorization, proxyFor } from './proxy.ts';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, type RetryPolicy } from './retry.ts';

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

// Loaded with require, not import: an ES import of node:http builds its namespace by reading
// every export, and one of them is a lazy getter that loads undici (fetch), ~35 ms of start-up
// this downloader never uses.
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof Http;
const https = require('node:https') as typeof Https;

/**
 * GET over node:http/https with connect and idle timeouts, bounded retries with backoff on
 * 5xx/429/connection errors, proxies (CONNECT tunnels for https) and an extra CA bundle.
 * Retries cover getting a response; a body that fails half way fails the call.
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
  private readonly httpAgent: Http.Agent;
  private readonly httpsAgent: Https.Agent;

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
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ...(this.ca ? { ca: this.ca } : {}) });
  }

  async open(url: string, opts: FetchOptions = {}): Promise<FetchBody> {
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      let failure: ProvenantError;
      try {
        const res = await this.follow(new URL(url));
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return this.body(url, res, opts.maxLength);
        res.resume();
        failure = new HttpStatusError(url, status);
        if (!isRetryableStatus(status)) throw failure;
        retryAfterMs = parseRetryAfter(header(res, 'retry-after'));
      } catch (e) {
        if (e instanceof HttpStatusError && !isRetryableStatus(e.status)) throw e;
        if (e instanceof HttpStatusError) failure = e;
        else {
          const { error, retryable } = connectionError(url, e);
          if (!retryable) throw error;
          failure = error;
        }
      }
      if (attempt >= this.retry.retries) throw failure;
      const delayMs = backoffDelay(this.retry, attempt + 1, this.random, retryAfterMs);
      this.stats.retries++;
      this.onRetry?.({ url, retry: attempt + 1, delayMs, reason: failure.message });
      await sleep(delayMs);
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private body(url: string, res: Http.IncomingMessage, maxLength: number | undefined): FetchBody {
    const declared = header(res, 'content-length');
    const declaredLength = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (maxLength !== undefined && declaredLength !== undefined && declaredLength > maxLength) {
      res.destroy();
      throw lengthExceeded(url, maxLength);
    }
    return { url, declaredLength, chunks: cappedChunks(res, url, maxLength, this.stats), cancel: () => res.destroy() };
  }

  /** One request, following redirects (never from https down to http). */
  private async follow(target: URL): Promise<Http.IncomingMessage> {
    let current = target;
    for (let hop = 0; ; hop++) {
      const res = await this.requestOnce(current);
      const location = header(res, 'location');
      if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || !location) return res;
      res.resume();
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

  private requestOnce(target: URL): Promise<Http.IncomingMessage> {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.reject(new ProvenantError('E_NET_UNSUPPORTED_URL', `unsupported URL scheme: ${target.href}`, { exitClass: 'usage', hint: 'use an http(s):// or s3:// URL or a local path' }));
    }
    this.stats.requests++;
    const proxy = proxyFor(target, this.env);
    const url = target.href;
    return new Promise((resolve, reject) => {
      let settled = false;
      let req: Http.ClientRequest | undefined;
      let res: Http.IncomingMessage | undefined;
      let socket: Socket | undefined;
      const fail = (err: unknown) => {
        clearTimeout(connectTimer);
        if (res) res.destroy(err instanceof Error ? err : new Error(String(err)));
        req?.destroy();
        // A request destroyed during the TLS handshake does not always take its socket along.
        socket?.destroy();
        if (!settled) {
          settled = true;
          reject(err);
        }
      };
      const connectTimer = setTimeout(() => fail(timeoutError(url, 'connect', this.connectTimeoutMs)), this.connectTimeoutMs);
      const connected = () => clearTimeout(connectTimer);
      const headers: Http.OutgoingHttpHeaders = { 'user-agent': this.userAgent, accept: '*/*' };

      const start = (options: Https.RequestOptions, secure: boolean, connectedAlready: boolean) => {
        req = (secure ? https : http).request({ ...options, method: 'GET', headers: { ...headers, ...options.headers } });
        req.on('socket', (s: Socket) => {
          socket = s;
          // A TLS socket is connected only once its handshake is done; a reused one already is.
          if (connectedAlready || req?.reusedSocket) return connected();
          if (secure) s.once('secureConnect', connected);
          else if (s.connecting) s.once('connect', connected);
          else connected();
        });
        req.setTimeout(this.idleTimeoutMs, () => fail(timeoutError(url, 'read', this.idleTimeoutMs)));
        req.on('error', fail);
        req.on('response', (r) => {
          connected();
          res = r;
          if (!settled) {
            settled = true;
            resolve(r);
          }
        });
        req.end();
      };

      const port = target.port || (target.protocol === 'https:' ? '443' : '80');
      const path = `${target.pathname}${target.search}`;
      if (!proxy) {
        if (target.protocol === 'https:') {
          start({ host: target.hostname, port, path, ...sni(target), agent: this.httpsAgent }, true, false);
        } else start({ host: target.hostname, port, path, agent: this.httpAgent }, false, false);
        return;
      }
      const auth = proxyAuthorization(proxy);
      const proxyPort = proxy.port || '80';
      if (target.protocol === 'http:') {
        // Plain HTTP through a proxy: the absolute URL is the request target.
        start({ host: proxy.hostname, port: proxyPort, path: url, agent: this.httpAgent, headers: auth ? { 'proxy-authorization': auth } : {} }, false, false);
        return;
      }
      // HTTPS through a proxy: a CONNECT tunnel, then TLS end to end with the target.
      const authority = `${target.hostname}:${port}`;
      const connectReq = http.request({
        host: proxy.hostname,
        port: proxyPort,
        method: 'CONNECT',
        path: authority,
        headers: { host: authority, ...(auth ? { 'proxy-authorization': auth } : {}) },
      });
      req = connectReq;
      connectReq.on('error', fail);
      connectReq.on('connect', (proxyRes, socket) => {
        if (proxyRes.statusCode !== 200) {
          socket.destroy();
          fail(
            new ProvenantError('E_NET_PROXY', `proxy ${proxy.host} refused CONNECT ${authority} (HTTP ${proxyRes.statusCode})`, {
              exitClass: 'network',
              hint: 'check HTTPS_PROXY and NO_PROXY',
            }),
          );
          return;
        }
        const secure = tls.connect({ socket, host: target.hostname, ...sni(target), ...(this.ca ? { ca: this.ca } : {}) });
        secure.once('error', fail);
        secure.once('secureConnect', () => {
          connected();
          start({ host: target.hostname, port, path, createConnection: () => secure }, true, true);
        });
      });
      connectReq.end();
    });
  }
}

/** SNI carries host names only (RFC 6066); certificates for IPs are still checked against the IP. */
function sni(target: URL): { servername?: string } {
  return isIP(target.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: target.hostname };
}

function header(res: Http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
