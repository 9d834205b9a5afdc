import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL } from '@sigstore/sign';
import { ProvenantError } from '../errors.ts';
import { getIdentityToken, githubOidcAvailable } from './oidc-token.ts';

/**
 * Keyless signing (Sigstore): an ephemeral key, certified by Fulcio for the identity in an
 * OIDC token, its signature logged in Rekor (and timestamped by a TSA when one is configured).
 * Unlike a key-file/HSM/KMS `Signer`, it has no lasting key id for TUF or the policy's `keys`:
 * what a verifier trusts is the certificate's identity (the policy's `identities`).
 */
export interface KeylessSigning {
  fulcioUrl: string;
  rekorUrl: string;
  /** RFC 3161 timestamp authority; none by default (Rekor's integrated time is the signing time). */
  tsaUrl: string | undefined;
  /** The OIDC identity token, fetched when signing starts (GitHub's tokens are short-lived). */
  identityToken: () => Promise<string>;
  /** Per request to Fulcio, Rekor and the TSA. */
  timeoutMs: number;
}

export interface KeylessFlags {
  fulcioUrl?: string | undefined;
  rekorUrl?: string | undefined;
  tsaUrl?: string | undefined;
  identityToken?: string | undefined;
}

/** The environment equivalents of --fulcio-url, --rekor-url and --tsa-url. */
export const KEYLESS_ENV = { fulcioUrl: 'PROVENANT_FULCIO_URL', rekorUrl: 'PROVENANT_REKOR_URL', tsaUrl: 'PROVENANT_TSA_URL' } as const;

function serviceUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProvenantError('E_USAGE', `${flag} must be an http(s) URL, not "${value}"`, { exitClass: 'usage', field: flag, hint: 'e.g. https://fulcio.sigstore.dev' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ProvenantError('E_USAGE', `${flag} must be an http(s) URL, not "${value}"`, { exitClass: 'usage', field: flag, hint: 'e.g. https://rekor.sigstore.dev' });
  }
  return value.replace(/\/+$/, '');
}

/** Flags first, then PROVENANT_*_URL, then Sigstore's public-good instance (no TSA). */
export function keylessSigning(flags: KeylessFlags, env: NodeJS.ProcessEnv): KeylessSigning {
  const pick = (k: keyof typeof KEYLESS_ENV) => flags[k] ?? (env[KEYLESS_ENV[k]] || undefined);
  const tsa = pick('tsaUrl');
  return {
    fulcioUrl: serviceUrl(pick('fulcioUrl') ?? DEFAULT_FULCIO_URL, '--fulcio-url'),
    rekorUrl: serviceUrl(pick('rekorUrl') ?? DEFAULT_REKOR_URL, '--rekor-url'),
    tsaUrl: tsa === undefined ? undefined : serviceUrl(tsa, '--tsa-url'),
    identityToken: () => getIdentityToken({ tokenFile: flags.identityToken, env }),
    timeoutMs: 30_000,
  };
}

/**
 * Keyless or keyed: an explicit choice wins (--keyless / --no-keyless, or a key given with --key
 * or --keys); otherwise keyless exactly when GitHub Actions grants an OIDC token (`id-token: write`).
 */
export function useKeyless(o: { keyless: boolean | undefined; keyGiven: boolean; env: NodeJS.ProcessEnv }): boolean {
  if (o.keyless !== undefined) {
    if (o.keyless && o.keyGiven) {
      throw new ProvenantError('E_USAGE', '--keyless signs with a Fulcio certificate; it cannot be combined with --key or --keys', {
        exitClass: 'usage',
        field: '--keyless',
        hint: 'drop --keyless to sign with the key, or drop the key to sign keyless',
      });
    }
    return o.keyless;
  }
  return !o.keyGiven && githubOidcAvailable(o.env);
}
