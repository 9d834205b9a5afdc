import { isProvenantError, ProvenantError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';

/** Commit attempts before a command gives up on a contended repository. */
export const DEFAULT_COMMIT_ATTEMPTS = 10;

/**
 * What every commit loop (publish, refresh, set-trust, statements, ceremonies) does when its
 * commit failed: another publisher committing first (E_CAS_CONFLICT) means re-read and try again,
 * after a short random wait that grows with the attempt so contending publishers spread out; after
 * `maxAttempts` it is E_PUBLISH_CONTENDED. Any other error is rethrown as it is.
 */
export async function retryAfterConflict(e: unknown, attempt: number, reporter: Reporter, maxAttempts = DEFAULT_COMMIT_ATTEMPTS): Promise<void> {
  if (!(isProvenantError(e) && e.code === 'E_CAS_CONFLICT')) throw e;
  if (attempt >= maxAttempts) {
    throw new ProvenantError('E_PUBLISH_CONTENDED', `gave up after ${attempt} attempts: other publishers kept committing first`, {
      exitClass: 'conflict',
      hint: 'run the command again; it starts from what is committed',
      cause: e,
    });
  }
  reporter.debug(`another publisher committed first (attempt ${attempt}); re-reading`);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 10 * 2 ** attempt)));
}
