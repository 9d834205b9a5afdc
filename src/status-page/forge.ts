/**
 * Links to a release's source on its forge, only for forges whose URL layout is known (GitHub,
 * GitLab) and only over https. Anything else is shown as text: a link must never send a reader
 * somewhere the signed provenance did not name.
 */
export interface SourceLinks {
  repository?: string;
  ref?: string;
  commit?: string;
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const COMMIT = /^[0-9a-f]{7,64}$/;

interface Forge {
  /** Path segments a repository URL has (GitHub: owner/name; GitLab: group/…/name). */
  segments: (n: number) => boolean;
  commit: (sha: string) => string;
  tree: (name: string) => string;
  pull?: (n: string) => string;
}

const FORGES: Record<string, Forge> = {
  'github.com': { segments: (n) => n === 2, commit: (c) => `/commit/${c}`, tree: (r) => `/tree/${r}`, pull: (n) => `/pull/${n}` },
  'gitlab.com': { segments: (n) => n >= 2, commit: (c) => `/-/commit/${c}`, tree: (r) => `/-/tree/${r}`, pull: (n) => `/-/merge_requests/${n}` },
};

export function forgeLinks(repository: string | undefined, ref: string | undefined, commit: string | undefined): SourceLinks {
  if (repository === undefined || !URL.canParse(repository)) return {};
  const url = new URL(repository);
  const forge = FORGES[url.hostname];
  const parts = url.pathname.split('/').filter((s) => s !== '');
  if (!forge || url.protocol !== 'https:' || url.port || url.username || url.password || url.search || url.hash) return {};
  if (!forge.segments(parts.length) || !parts.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) return {};
  const base = `https://${url.hostname}/${parts.join('/')}`;
  const links: SourceLinks = { repository: base };
  if (commit !== undefined && COMMIT.test(commit)) links.commit = base + forge.commit(commit);
  const refPath = refLink(forge, ref);
  if (refPath !== undefined) links.ref = base + refPath;
  return links;
}

function refLink(forge: Forge, ref: string | undefined): string | undefined {
  if (ref === undefined || ref === '') return undefined;
  const pull = /^refs\/(?:pull|merge-requests)\/(\d+)\/(?:merge|head)$/.exec(ref);
  if (pull) return forge.pull?.(pull[1]!);
  const name = ref.replace(/^refs\/(?:heads|tags)\//, '');
  if (name.startsWith('refs/') || name.split('/').some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return forge.tree(name.split('/').map(encodeURIComponent).join('/'));
}
