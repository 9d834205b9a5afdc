import type { IntegrationRelease, ReleaseSummary } from './release.ts';

/**
 * The release summary as Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY): per integration,
 * where each object went, its digests, the Rekor log index of a keyless signature, and whether the
 * test download verified it. Pure: the caller decides where it is written.
 */
export function releaseSummaryMarkdown(s: ReleaseSummary): string {
  const failed = s.integrations.filter((r) => !r.ok).length;
  const dry = s.dryRun ? 'Dry run' : 'Release';
  const head = failed > 0 ? `${dry} FAILED (${failed} of ${s.integrations.length} not released)` : s.dryRun ? 'Dry run' : 'Released';
  const lines = [`## ${head}: \`${cell(s.repository)}\``, ''];
  if (s.timestampVersion !== undefined) lines.push(`TUF timestamp v${s.timestampVersion}, snapshot v${s.snapshotVersion}; ${s.writes.length} objects ${s.dryRun ? 'would be ' : ''}written.`, '');
  for (const r of s.integrations) lines.push(...integrationSection(s, r), '');
  return `${lines.join('\n')}\n`;
}

function integrationSection(s: ReleaseSummary, r: IntegrationRelease): string[] {
  const name = [r.project ?? r.integration, r.version].filter(Boolean).join(' ');
  const failed = r.steps.find((x) => x.status === 'fail');
  const out = [`### ${r.ok ? '✅' : '❌'} ${prose(name)}`, ''];
  out.push(`Verification: ${verification(s, r)}`);
  const a = r.artifacts;
  if (a) {
    const at = (key: string | undefined) => (key ? `\`${cell(`${s.repository.replace(/\/+$/, '')}/${key}`)}\`` : s.dryRun ? '(dry run: not written)' : '(not published)');
    const signedBy = a.attestation.keyless
      ? `keyless: ${prose(a.attestation.keyless.subject ?? '?')} (${prose(a.attestation.keyless.issuer ?? '?')})`
      : `key ${a.attestation.keyIds.map((k) => k.slice(0, 16)).join(', ')}`;
    out.push(
      '',
      '| object | location | sha256 |',
      '| --- | --- | --- |',
      `| wheel ${prose(a.wheel.fileName)} (${a.wheel.size} bytes) | ${at(a.objects?.wheel)} | \`${a.wheel.sha256}\` |`,
      `| attestation ${prose(a.attestation.fileName)} | ${at(a.objects?.attestation)} | \`${a.attestation.sha256}\` |`,
      `| pointer | ${at(a.objects?.pointer)} | |`,
      '',
      `Signed by ${signedBy}; Rekor log index: ${a.attestation.keyless ? a.attestation.keyless.logIndexes.join(', ') : 'none (keyed signature)'}`,
    );
  }
  if (failed) out.push('', `Failed at **${failed.step}**: ${prose(failed.detail)}`);
  return out;
}

function verification(s: ReleaseSummary, r: IntegrationRelease): string {
  const download = r.steps.find((x) => x.step === 'test download');
  if (download?.status === 'ok') return '**verified** (downloaded back: TUF, digests, signature, provenance policy)';
  if (s.dryRun && r.ok) return 'not run (dry run)';
  return '**not verified**';
}

/** Markdown table cells and code spans must not break on user-controlled text. */
function cell(text: string): string {
  return text.replace(/[|\r\n`]/g, (c) => (c === '|' ? '\\|' : c === '`' ? "'" : ' '));
}

/**
 * Text outside code spans (headings, error details, keyless identities): neither may it make a
 * live link, image or HTML tag in the job summary.
 */
function prose(text: string): string {
  return cell(text).replace(/[[\]<>]/g, (c) => `\\${c}`);
}
