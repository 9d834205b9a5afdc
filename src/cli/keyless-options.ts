import type { Command } from 'commander';
import { KEYLESS_ENV, type KeylessFlags } from '../signers/keyless.ts';

/** The keyless-signing flags `sign` and `release` share (src/signers/keyless.ts reads them). */
export interface KeylessOptionFlags extends KeylessFlags {
  keyless?: boolean;
}

export function addKeylessOptions(cmd: Command): Command {
  return cmd
    .option('--keyless', 'sign with a Fulcio certificate logged in Rekor (default inside GitHub Actions with id-token: write)')
    .option('--no-keyless', 'sign with the key even inside GitHub Actions')
    .option('--identity-token <file>', 'file holding the OIDC identity token for --keyless (else SIGSTORE_ID_TOKEN or GitHub Actions)')
    .option('--fulcio-url <url>', `Fulcio for --keyless (else ${KEYLESS_ENV.fulcioUrl}, else public-good)`)
    .option('--rekor-url <url>', `Rekor for --keyless (else ${KEYLESS_ENV.rekorUrl}, else public-good)`)
    .option('--tsa-url <url>', `RFC 3161 timestamp authority for --keyless (else ${KEYLESS_ENV.tsaUrl}; default none)`);
}
