import { ProvenantError } from '../errors.ts';

/**
 * Failures of the transport, each with a stable code. A 404 (or 410) is its own class so
 * callers can tell "this object does not exist" from "the server misbehaved": TUF's root
 * update loop depends on it.
 */
export class HttpStatusError extends ProvenantError {
  readonly status: number;

  constructor(url: string, status: number, wording?: { message: string; hint: string }) {
    const notFound = status === 404 || status === 410;
    super(notFound ? 'E_NET_NOT_FOUND' : 'E_NET_HTTP_STATUS', wording?.message ?? `${url}: ${notFound ? 'not found' : 'server answered'} (HTTP ${status})`, {
      exitClass: notFound ? 'not-found' : 'network',
      file: url,
      hint: wording?.hint ?? (notFound ? 'check the repository URL and that the object was published' : 'retry later or check the server'),
    });
    this.status = status;
  }
}

export function notFound(url: string): HttpStatusError {
  return new HttpStatusError(url, 404);
}

/** A missing local file: "not found" to TUF's root-update loop, without pretending HTTP was involved. */
export function fileNotFound(file: string): HttpStatusError {
  return new HttpStatusError(file, 404, { message: `file not found: ${file}`, hint: 'check --repository and that the file was published there' });
}

export function timeoutError(url: string, phase: 'connect' | 'read', ms: number): ProvenantError {
  return new ProvenantError('E_NET_TIMEOUT', `${url}: no ${phase === 'connect' ? 'connection' : 'data'} within ${ms} ms`, {
    exitClass: 'network',
    file: url,
    hint: `check the network or raise the ${phase} timeout`,
  });
}

/** A response that breaks HTTP in a way Node's parser lets through (an upgrade, a flood of 1xx). */
export function protocolError(url: string, what: string): ProvenantError {
  return new ProvenantError('E_NET_CONNECT', `${url}: ${what}`, {
    exitClass: 'network',
    file: url,
    hint: 'retry; if it persists, the server or a proxy in between is sending malformed responses',
  });
}

export function lengthExceeded(url: string, maxLength: number): ProvenantError {
  return new ProvenantError('E_LENGTH_EXCEEDED', `${url}: more than the ${maxLength} bytes allowed; the read was stopped`, {
    exitClass: 'verification',
    file: url,
    hint: 'the server sent more data than the trusted length: the repository or the network is tampered with',
  });
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL)/;
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * Maps a socket, TLS or proxy error of node:http to a ProvenantError; `retryable` says whether
 * trying again can help. Our own errors pass through (timeouts and connection failures retryable).
 */
export function transportError(url: string, e: unknown, timeouts: { connectMs: number; idleMs: number }): { error: ProvenantError; retryable: boolean } {
  if (e instanceof ProvenantError) return { error: e, retryable: e.code === 'E_NET_TIMEOUT' || e.code === 'E_NET_CONNECT' };
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'ERR_PROXY_TUNNEL') {
    // Node's wording: "Failed to establish tunnel to host:port via proxy: HTTP/1.1 403 Forbidden".
    if (/timed out/.test(message)) return { error: timeoutError(url, 'connect', timeouts.connectMs), retryable: true };
    const refused = /HTTP\/\d(?:\.\d)? (\d{3})/.exec(message);
    return {
      error: new ProvenantError('E_NET_PROXY', refused ? `${url}: the proxy refused the CONNECT tunnel (HTTP ${refused[1]})` : `${url}: the proxy closed the CONNECT tunnel: ${message}`, {
        exitClass: 'network',
        file: url,
        hint: 'check HTTPS_PROXY and NO_PROXY',
        cause: e,
      }),
      retryable: false,
    };
  }
  if (TLS_CODES.test(code)) {
    return {
      error: new ProvenantError('E_NET_TLS', `${url}: TLS failed: ${message}`, {
        exitClass: 'network',
        file: url,
        hint: 'if the server uses a private CA, pass it with --ca-file or PROVENANT_CA_BUNDLE',
        cause: e,
      }),
      retryable: false,
    };
  }
  return {
    error: new ProvenantError('E_NET_CONNECT', `${url}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, {
      exitClass: 'network',
      file: url,
      hint: 'check the repository URL, the network and any proxy settings',
      cause: e,
    }),
    retryable: RETRYABLE_CODES.has(code) || code === '',
  };
}
