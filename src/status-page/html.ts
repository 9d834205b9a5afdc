import { escapeHtml as esc } from '../simple-index/html.ts';
import { sha256Hex } from '../util/hash.ts';
import { ALL_CHECKS_PASSED, STATE_LABEL, bytes, duration, formatName, stateDetail, trustSentence, utc } from './format.ts';
import { OVERVIEW_PAGE_KEY, projectPageKey, relativeHref } from './layout.ts';
import type { ReleaseRow, RoleRow, SignatureFacts, StatusModel } from './model.ts';

/**
 * Static HTML for the status model: an overview page and one page per project in `model.details`.
 * No JavaScript (the Content-Security-Policy forbids any), semantic headings and tables with
 * captions and scoped headers, text that says what colour also shows, and a layout that fits a
 * phone (long digests and URLs wrap instead of widening the page).
 */
export interface HtmlOptions {
  /**
   * How pages link to repository objects (wheels, attestations, the simple index): relative to the
   * page (published pages), under a base URL (a local copy of a repository's pages), or not at all.
   */
  objectLinks?: 'relative' | { base: string } | 'none';
}

export interface RenderedPage {
  key: string;
  html: string;
  /** sha256 of the page without its generation time: equal digests, same content. */
  contentDigest: string;
}

export const CONTENT_DIGEST_META = 'provenant:content-sha256';
const GENERATED = '\u0000generated\u0000';

export function renderStatusPages(model: StatusModel, opts: HtmlOptions = {}): RenderedPage[] {
  const links = opts.objectLinks ?? 'relative';
  const objectHref = (page: string, key: string): string | undefined =>
    links === 'none' ? undefined : links === 'relative' ? relativeHref(page, key) : links.base + key.split('/').map(encodeURIComponent).join('/');
  const pages = [{ key: OVERVIEW_PAGE_KEY, ...overview(model, (key) => objectHref(OVERVIEW_PAGE_KEY, key)) }];
  for (const d of model.details) {
    const key = projectPageKey(d.name);
    pages.push({ key, ...projectPage(model, d, (k) => objectHref(key, k)) });
  }
  return pages.map((p) => finish(p.key, p.title, p.body, model.generatedAt));
}

type Href = (key: string) => string | undefined;

function finish(key: string, title: string, body: string[], generatedAt: string): RenderedPage {
  const draft = document(title, body);
  const contentDigest = sha256Hex(draft);
  const html = draft
    .replace(GENERATED, `<time datetime="${esc(generatedAt)}">${esc(utc(generatedAt))}</time>`)
    .replace('</title>', `</title>\n<meta name="${CONTENT_DIGEST_META}" content="${contentDigest}">`);
  return { key, html, contentDigest };
}

/** The content digest a page carries, if it is one of ours. */
export function contentDigestOf(html: string): string | undefined {
  return new RegExp(`<meta name="${CONTENT_DIGEST_META}" content="([0-9a-f]{64})">`).exec(html)?.[1];
}

const CSS = `
:root{color-scheme:light;--fg:#1b1b1b;--muted:#4a4a4a;--line:#c8c8c8;--head:#f0f2f5;--link:#0b57d0;--ok-bg:#e6f4ea;--ok-fg:#0d5c2a;--warn-bg:#fff3cd;--warn-fg:#5c4000;--bad-bg:#fde8e8;--bad-fg:#8a1111}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:#fff}
header,main,footer{max-width:64rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem}
h1{font-size:1.6rem;margin:.25rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:2rem 0 .5rem;overflow-wrap:anywhere}
a{color:var(--link)}
a:focus-visible{outline:3px solid var(--link);outline-offset:2px}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.meta,.note{color:var(--muted)}
table{width:100%;border-collapse:collapse;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
td a,table.facts td,.alert{overflow-wrap:anywhere}
thead th{background:var(--head)}
tbody th{font-weight:600}
table.facts th{width:11rem;background:var(--head)}
.state{display:inline-block;padding:0 .4rem;border-radius:.25rem;font-weight:600}
.ok{background:var(--ok-bg);color:var(--ok-fg)}
.expiring,.warn{background:var(--warn-bg);color:var(--warn-fg)}
.expired,.bad{background:var(--bad-bg);color:var(--bad-fg)}
.alert{border-left:.3rem solid currentColor;padding:.5rem .75rem;margin:1rem 0}
.alert h2{margin-top:0}
nav ol{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.25rem}
nav li+li::before{content:"›";margin-right:.25rem;color:var(--muted)}
footer{margin:2rem auto;color:var(--muted);font-size:.9rem}
@media (max-width:40rem){body{font-size:15px}table.facts th{width:7.5rem}th,td{padding:.3rem .35rem}}
`;

function document(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`,
    '<meta name="generator" content="provenant">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS.trim()}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function link(href: string | undefined, text: string, escaped = false): string {
  const inner = escaped ? text : esc(text);
  return href === undefined ? inner : `<a href="${esc(href)}">${inner}</a>`;
}

function generatedLine(m: StatusModel): string {
  return `<p class="meta">Generated ${GENERATED} by provenant for <code>${esc(m.repository)}</code>. ${esc(trustSentence(m))}</p>`;
}

function roleState(r: RoleRow): string {
  const label = `<span class="state ${r.state}">${STATE_LABEL[r.state]}</span>`;
  return r.state === 'expiring' ? `${label} less than ${esc(duration(r.warnWithin))} left` : label;
}

function overview(m: StatusModel, href: Href): { title: string; body: string[] } {
  const body = [
    '<header>',
    '<h1>Repository status</h1>',
    generatedLine(m),
    '</header>',
    '<main>',
  ];
  if (m.warnings.length > 0) {
    body.push('<section class="alert expiring" aria-labelledby="attention">', '<h2 id="attention">Needs attention</h2>', '<ul>');
    for (const r of m.warnings) body.push(`<li>${esc(r.role)} version ${esc(r.version)}: ${STATE_LABEL[r.state]} (${esc(utc(r.expires))}); ${esc(stateDetail(r.state, r.warnWithin))}</li>`);
    body.push('</ul>', '</section>');
  }
  body.push(
    '<section aria-labelledby="tuf">',
    '<h2 id="tuf">Signed metadata (TUF)</h2>',
    '<table>',
    '<caption>Roles, their versions and expiry</caption>',
    '<thead><tr><th scope="col">Role</th><th scope="col">Version</th><th scope="col">Expires</th><th scope="col">Status</th></tr></thead>',
    '<tbody>',
    ...m.roles.map(
      (r) => `<tr><th scope="row">${esc(r.role)}</th><td>${esc(r.version)}</td><td><time datetime="${esc(r.expires)}">${esc(utc(r.expires))}</time></td><td>${roleState(r)}</td></tr>`,
    ),
    '</tbody>',
    '</table>',
    `<p class="note">Status as of this page's generation: ${STATE_LABEL.expiring} when less than the role's margin is left (${m.roles.map((r) => `${esc(r.role)} ${esc(duration(r.warnWithin))}`).join(', ')}); ${STATE_LABEL.expired} means clients refuse it until it is re-signed.</p>`,
    `<p class="note">Signed by: ${m.roles.map((r) => `${esc(r.role)} ${esc(r.signers)}`).join('; ')}. Settings from the ${esc(m.settings)}.</p>`,
    '</section>',
    '<section aria-labelledby="projects">',
    '<h2 id="projects">Projects</h2>',
  );
  if (m.projects.length === 0) body.push('<p>No release is published yet.</p>');
  else {
    body.push(
      '<table>',
      '<caption>Projects with releases in the signed metadata</caption>',
      '<thead><tr><th scope="col">Project</th><th scope="col">Releases</th><th scope="col">Newest version</th></tr></thead>',
      '<tbody>',
      ...m.projects.map(
        (p) =>
          `<tr><th scope="row">${link(relativeHref(OVERVIEW_PAGE_KEY, projectPageKey(p.name)), p.name)}</th><td>${p.releases}</td><td>${esc(p.newest ?? '')}</td></tr>`,
      ),
      '</tbody>',
      '</table>',
    );
  }
  body.push('</section>', '</main>', footer(href('simple/index.html')));
  return { title: 'Repository status', body };
}

function footer(indexHref: string | undefined): string {
  return [
    '<footer>',
    `<p>This page is a view, not a verification: anyone able to write to the repository's storage can change it. To check a release, run <code>provenant download &lt;project&gt; --version &lt;version&gt;</code> with the repository's root.json. ${indexHref ? `Install with pip from the ${link(indexHref, 'simple index')}.` : ''}</p>`,
    '</footer>',
  ].join('\n');
}

function projectPage(m: StatusModel, d: StatusModel['details'][number], href: Href): { title: string; body: string[] } {
  const here = projectPageKey(d.name);
  const body = [
    '<header>',
    `<nav aria-label="Breadcrumb"><ol><li>${link(relativeHref(here, OVERVIEW_PAGE_KEY), 'Repository status')}</li><li aria-current="page">${esc(d.name)}</li></ol></nav>`,
    `<h1>${esc(d.name)}</h1>`,
    generatedLine(m),
    '</header>',
    '<main>',
  ];
  if (m.warnings.length > 0) {
    body.push(
      `<p class="alert expiring">${m.warnings.length} signed metadata role${m.warnings.length === 1 ? '' : 's'} expired or close to expiry: ${m.warnings.map((r) => esc(r.role)).join(', ')} (${link(relativeHref(here, OVERVIEW_PAGE_KEY), 'details')}).</p>`,
    );
  }
  if (m.policyProblem) body.push(`<p class="alert expired">No attestation could be checked: ${esc(m.policyProblem.code)}: ${esc(m.policyProblem.message)}</p>`);
  body.push(
    '<section aria-labelledby="releases">',
    '<h2 id="releases">Releases</h2>',
    '<table>',
    `<caption>Releases of ${esc(d.name)}, newest first</caption>`,
    '<thead><tr><th scope="col">Version</th><th scope="col">Built</th><th scope="col">Wheel size</th><th scope="col">Checks</th></tr></thead>',
    '<tbody>',
    ...d.releases.map(
      (r) =>
        `<tr><th scope="row"><a href="#${esc(anchor(r.version))}">${esc(r.version)}</a></th><td>${r.built ? esc(utc(r.built.at)) : r.problem ? '—' : 'not recorded'}</td><td>${r.wheel ? esc(bytes(r.wheel.length).split(' (')[0]!) : '—'}</td><td>${verdict(r)}</td></tr>`,
    ),
    '</tbody>',
    '</table>',
    '</section>',
  );
  for (const r of d.releases) body.push(...releaseSection(r, href));
  body.push('</main>', footer(href(`simple/${d.name}/index.html`)));
  return { title: `${d.name} — repository status`, body };
}

function signatureHtml(s: SignatureFacts): string {
  if (s.kind === 'key') return `attestation policy key${s.keyIds.length === 1 ? '' : 's'} ${s.keyIds.map((k) => `<code>${esc(k)}</code>`).join(', ')}`;
  const who = `certificate identity <code>${esc(s.subject ?? '(none)')}</code>${s.issuer ? ` <span class="note">(issuer ${esc(s.issuer)})</span>` : ''}`;
  return s.logIndexes.length > 0 ? `${who}<br>Rekor log index ${s.logIndexes.map(esc).join(', ')}` : who;
}

function anchor(version: string): string {
  return `release-${version}`;
}

function verdict(r: ReleaseRow): string {
  return r.problem ? `<span class="state bad">Failed</span> ${esc(r.problem.check)}` : '<span class="state ok">Passed</span>';
}

function releaseSection(r: ReleaseRow, href: Href): string[] {
  const id = anchor(r.version);
  const rows: [string, string][] = [];
  rows.push(['Checks', r.problem ? `${verdict(r)}: <code>${esc(r.problem.code)}</code> ${esc(r.problem.message)}. Only what passed its checks is shown below.` : `<span class="state ok">Passed</span> ${esc(ALL_CHECKS_PASSED)}`]);
  if (r.wheel) {
    rows.push(['Wheel', link(href(r.wheel.key), r.wheel.fileName)]);
    rows.push(['Wheel SHA-256', `<code>${esc(r.wheel.sha256)}</code>`]);
    rows.push(['Wheel size', esc(bytes(r.wheel.length))]);
  }
  if (!r.problem) rows.push(['Built', r.built ? `<time datetime="${esc(r.built.at)}">${esc(utc(r.built.at))}</time> <span class="note">(the signed provenance's <code>${esc(r.built.field)}</code>)</span>` : 'not recorded in signed provenance']);
  if (r.builder) rows.push(['Builder', `<code>${esc(r.builder.id)}</code>${r.builder.invocationId ? `<br><span class="note">run ${esc(r.builder.invocationId)}</span>` : ''}`]);
  if (r.source) {
    const s = r.source;
    rows.push(['Source repository', s.repository ? link(s.links.repository, s.repository) : 'not recorded']);
    rows.push(['Ref', s.ref ? link(s.links.ref, s.ref) : 'not recorded']);
    rows.push(['Commit', s.commit ? link(s.links.commit, `<code>${esc(s.commit)}</code>`, true) : 'not recorded']);
  }
  if (r.signature) rows.push(['Signed by', signatureHtml(r.signature)]);
  if (r.format) rows.push(['Provenance', esc(formatName(r.format))]);
  if (r.attestation) rows.push(['Attestation', `${link(href(r.attestation.key), r.attestation.key.split('/').at(-1)!)}<br><span class="note">SHA-256 <code>${esc(r.attestation.sha256)}</code></span>`]);
  rows.push(['TUF target', `<code>${esc(r.target)}</code>`]);
  return [
    `<section aria-labelledby="${esc(id)}">`,
    `<h2 id="${esc(id)}">${esc(r.version)}</h2>`,
    '<table class="facts">',
    `<caption>Release ${esc(r.version)}: what the signed data says</caption>`,
    '<tbody>',
    ...rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${v}</td></tr>`),
    '</tbody>',
    '</table>',
    '</section>',
  ];
}
