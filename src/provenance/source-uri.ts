/**
 * Source repository URIs as they appear in provenance: `https://host/owner/repo` for the
 * repository and `git+<repo>@<ref>` for a resolved source (the form SLSA's GitHub builders
 * write, so one policy can match both).
 */

/**
 * A remote URL as a policy can match it: scp-like (`git@host:owner/repo.git`) and ssh:// remotes
 * become https, `.git` and trailing slashes go, and credentials are dropped (a token in a remote
 * URL must never end up in a published statement). Anything else (a local path) is returned as is.
 */
export function normalizeRepositoryUrl(remote: string): string {
  const trimmed = remote.trim();
  let url: URL | undefined;
  const scp = /^(?:[^@/]+@)?([^/:]{2,}):(?!\/)(.+)$/.exec(trimmed);
  if (!trimmed.includes('://') && scp) {
    url = new URL(`https://${scp[1]}/${scp[2]}`);
  } else if (trimmed.includes('://') && URL.canParse(trimmed)) {
    url = new URL(trimmed);
    if (url.protocol === 'ssh:' || url.protocol === 'git:' || url.protocol === 'git+ssh:') {
      url = new URL(`https://${url.hostname}${url.pathname}`);
    }
  }
  if (!url) return trimmed;
  url.username = '';
  url.password = '';
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    url.pathname = url.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  }
  return url.toString().replace(/\/+$/, '');
}

export function gitSourceUri(repository: string, ref: string | undefined): string {
  return ref ? `git+${repository}@${ref}` : `git+${repository}`;
}

/** Inverse of gitSourceUri; undefined for URIs that are not `git+…`. */
export function parseGitSourceUri(uri: string): { repository: string; ref: string | undefined } | undefined {
  if (!uri.startsWith('git+')) return undefined;
  const rest = uri.slice(4);
  // Credentials never appear in the URIs provenant writes, so the first `@` after the scheme
  // separator starts the ref (refs may themselves contain `@`; repository paths do not).
  const scheme = rest.indexOf('://');
  const at = rest.indexOf('@', scheme < 0 ? 0 : scheme + 3);
  if (at < 0) return { repository: rest, ref: undefined };
  return { repository: rest.slice(0, at), ref: rest.slice(at + 1) || undefined };
}
