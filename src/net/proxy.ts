/**
 * Proxy selection from the conventional environment variables (curl's and pip's rules, lower
 * case first): HTTPS_PROXY for https URLs, HTTP_PROXY for http, NO_PROXY to bypass. Ours, not
 * Node's NODE_USE_ENV_PROXY, so that `env` can be passed in (tests) and NO_PROXY reads the
 * same everywhere; the agent is handed only the proxy chosen here. Credentials in the proxy
 * URL are sent by Node (Proxy-Authorization).
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const scheme = target.protocol.replace(/:$/, '');
  const raw = scheme === 'https' ? (env.https_proxy ?? env.HTTPS_PROXY) : scheme === 'http' ? (env.http_proxy ?? env.HTTP_PROXY) : undefined;
  if (!raw) return undefined;
  if (bypassesProxy(target, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

/**
 * NO_PROXY entries: `*` (everything), a host name (matches it and its subdomains, a leading
 * `.` or `*.` allowed), an IP address, each optionally with `:port`.
 */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  // `repo.internal.` and `repo.internal` are one host (the root label): a trailing dot must not route it through the proxy.
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase().replace(/^\[|\](?=:|$)/g, ''));
    const name = (m?.[1] ?? '').replace(/^\*?\./, '').replace(/\.$/, '');
    const entryPort = m?.[2];
    if (entryPort && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}
