import type { ExpiryState } from './expiry.ts';
import type { ReleaseRow, SignatureFacts } from './model.ts';

/** Wording and number formats the HTML and Markdown renderings share, so they say the same thing. */
export function utc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function bytes(n: number): string {
  const exact = `${n.toLocaleString('en-US')} bytes`;
  if (n < 1024) return exact;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]} (${exact})`;
}

export function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const STATE_LABEL: Readonly<Record<ExpiryState, string>> = { ok: 'OK', expiring: 'Expires soon', expired: 'EXPIRED' };

export function stateDetail(state: ExpiryState, warnWithin: number): string {
  if (state === 'expired') return 'clients refuse it until it is re-signed (provenant repo refresh)';
  if (state === 'expiring') return `less than ${duration(warnWithin)} left when this page was generated; run provenant repo refresh`;
  return `more than ${duration(warnWithin)} left when this page was generated`;
}

export function trustSentence(m: { anchored: boolean }): string {
  return m.anchored
    ? "Every fact below comes from signed metadata, checked through the TUF chain from the key store's trusted root."
    : "Checked against the repository's own 1.root.json only (no key store root.json was given): self-consistency, not trust.";
}

export const ALL_CHECKS_PASSED = "pointer, attestation digest, signature, statement, subject and provenance policy, checked as provenant download checks them (short of fetching the wheel; release approvals and rebuild VSAs, where the policy requires them, are counted by download only)";

export function signatureText(s: SignatureFacts | undefined): string {
  if (!s) return 'not verified';
  if (s.kind === 'key') return `attestation policy key${s.keyIds.length === 1 ? '' : 's'} ${s.keyIds.join(', ')}`;
  const who = `certificate identity ${s.subject ?? '(none)'}${s.issuer ? ` (issuer ${s.issuer})` : ''}`;
  return s.logIndexes.length > 0 ? `${who}, Rekor log index ${s.logIndexes.join(', ')}` : who;
}

export function formatName(f: ReleaseRow['format']): string {
  return f === 'slsa-v1' ? 'in-toto Statement v1, SLSA Provenance v1' : f === 'slsa-v0.2' ? 'in-toto Statement v0.1, SLSA Provenance v0.2' : '';
}
