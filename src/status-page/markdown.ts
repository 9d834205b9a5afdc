import { ALL_CHECKS_PASSED, STATE_LABEL, bytes, signatureText, stateDetail, trustSentence, utc } from './format.ts';
import type { ReleaseRow, StatusModel } from './model.ts';

/**
 * The status model as GitHub-flavoured Markdown, for a job summary ($GITHUB_STEP_SUMMARY) or an
 * issue: the same facts and wording as the HTML pages. Every value from the repository is escaped,
 * so a builder id or ref cannot inject links, images or table cells.
 */
export function renderStatusMarkdown(model: StatusModel): string {
  const out: string[] = [];
  out.push(`## Repository status: ${md(model.repository)}`, '');
  out.push(`Generated ${utc(model.generatedAt)} by provenant. ${md(trustSentence(model))}`, '');
  if (model.warnings.length > 0) {
    out.push('> [!WARNING]');
    for (const r of model.warnings) out.push(`> ${md(r.role)} version ${md(r.version)}: ${STATE_LABEL[r.state]} (${utc(r.expires)}); ${md(stateDetail(r.state, r.warnWithin))}  `);
    out.push('');
  }
  out.push('### Signed metadata (TUF)', '');
  out.push(...table(['Role', 'Version', 'Expires', 'Status'], model.roles.map((r) => [md(r.role), md(r.version), utc(r.expires), STATE_LABEL[r.state]])), '');
  out.push('### Projects', '');
  if (model.projects.length === 0) out.push('No release is published yet.', '');
  else out.push(...table(['Project', 'Releases', 'Newest version'], model.projects.map((p) => [md(p.name), String(p.releases), md(p.newest ?? '')])), '');
  if (model.policyProblem) out.push(`**No attestation could be checked:** \`${model.policyProblem.code}\` ${md(model.policyProblem.message)}`, '');
  for (const d of model.details) {
    out.push(`### ${md(d.name)}`, '');
    out.push(...table(['Version', 'Built', 'Wheel SHA-256', 'Size', 'Source', 'Builder', 'Signed by', 'Checks'], d.releases.map(releaseCells)), '');
  }
  out.push(`_Checks: "passed" means ${md(ALL_CHECKS_PASSED)}._`, '');
  return `${out.join('\n')}\n`;
}

function releaseCells(r: ReleaseRow): string[] {
  const s = r.source;
  const source = s ? [s.repository ? linked(s.repository, s.links.repository) : 'not recorded', s.ref ? md(s.ref) : '', s.commit ? linked(s.commit, s.links.commit) : ''].filter((x) => x !== '').join(' @ ') : '';
  return [
    md(r.version),
    r.built ? utc(r.built.at) : r.problem ? '' : 'not recorded',
    r.wheel ? `\`${r.wheel.sha256}\`` : '',
    r.wheel ? bytes(r.wheel.length).split(' (')[0]! : '',
    source,
    r.builder ? md(r.builder.id) : '',
    r.signature ? md(signatureText(r.signature)) : '',
    r.problem ? `FAILED ${md(r.problem.check)}: \`${r.problem.code}\` ${md(r.problem.message)}` : 'passed',
  ];
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** A link only to a URL forge.ts made (https, known forge); the text escaped either way. */
function linked(text: string, href: string | undefined): string {
  return href ? `[${md(text)}](${href})` : md(text);
}

/** Escapes Markdown and table syntax in text from the repository; newlines become spaces. */
export function md(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;');
}
