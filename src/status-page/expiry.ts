import type { SigningRole } from '../tuf/config.ts';

/**
 * When a role counts as close to expiry on the status page: less than a fixed margin left, or a
 * quarter of the role's configured validity when that is shorter (so a repository configured with
 * short periods is not always in warning). The margins fit the default periods and `repo refresh`,
 * which re-signs at half of the period: a role in warning means refresh has not run for a while.
 */
export const WARN_MARGIN_SECONDS: Readonly<Record<SigningRole, number>> = {
  root: 30 * 86400,
  targets: 30 * 86400,
  bins: 7 * 86400,
  snapshot: 2 * 86400,
  timestamp: 6 * 3600,
};

export type ExpiryState = 'ok' | 'expiring' | 'expired';

export function warnMarginSeconds(role: SigningRole, periodSeconds: number | undefined): number {
  const fixed = WARN_MARGIN_SECONDS[role];
  return periodSeconds === undefined ? fixed : Math.min(fixed, Math.floor(periodSeconds / 4));
}

export function expiryState(role: SigningRole, expires: string, now: Date, periodSeconds?: number): ExpiryState {
  const left = (Date.parse(expires) - now.getTime()) / 1000;
  if (!(left > 0)) return 'expired';
  return left < warnMarginSeconds(role, periodSeconds) ? 'expiring' : 'ok';
}
