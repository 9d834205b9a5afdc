import { ProvenantError } from '../errors.ts';
import { DurationSchema, durationSeconds } from '../tuf/config.ts';
import type { RepoStatus } from './repo.ts';

/**
 * `repo status --fail-within DURATION`: what a scheduled job runs after `repo refresh` so it fails
 * while there is still time to act, not after hosts start refusing the repository. Every top-level
 * role and the oldest bin count; each expiring one is named.
 */
export function expiringWithin(status: RepoStatus, within: string, now: Date, flag = '--fail-within'): string[] {
  const seconds = durationSeconds(parseWithin(within, flag));
  const soon = (expires: string) => Date.parse(expires) - now.getTime() < seconds * 1000;
  const out = status.roles.filter((r) => soon(r.expires)).map((r) => `${r.role} v${r.version} (expires ${r.expires})`);
  if (status.bins.oldestExpiry && soon(status.bins.oldestExpiry)) out.push(`bins (oldest expires ${status.bins.oldestExpiry})`);
  return out;
}

export function expiryError(expiring: string[], within: string): ProvenantError {
  return new ProvenantError('E_REPO_EXPIRING', `expires within ${within}: ${expiring.join(', ')}`, {
    exitClass: 'verification',
    hint: 'run `provenant repo refresh` with the online key (timestamp, snapshot, bins); root and targets need `repo refresh --force` with their offline keys',
  });
}

function parseWithin(within: string, flag: string): string {
  if (DurationSchema.safeParse(within).success) return within;
  throw new ProvenantError('E_USAGE', `${flag} must be a duration like 12h, 3d, 30m or 90s, not "${within}"`, { exitClass: 'usage', field: flag, hint: `e.g. ${flag} 6h` });
}

/**
 * `--expiring-within` is issue 11's name for `--fail-within`; both stay (workflows use the
 * latter). One window only: two different ones would leave the job's meaning unclear.
 */
export function expiryWindow(opts: { failWithin?: string; expiringWithin?: string }): { duration: string; flag: string } | undefined {
  const { failWithin, expiringWithin } = opts;
  if (failWithin !== undefined && expiringWithin !== undefined && failWithin !== expiringWithin) {
    throw new ProvenantError('E_USAGE', `--fail-within ${failWithin} and --expiring-within ${expiringWithin} are the same option with different windows`, {
      exitClass: 'usage',
      field: '--expiring-within',
      hint: 'give one of them',
    });
  }
  if (expiringWithin !== undefined) return { duration: expiringWithin, flag: '--expiring-within' };
  return failWithin === undefined ? undefined : { duration: failWithin, flag: '--fail-within' };
}
