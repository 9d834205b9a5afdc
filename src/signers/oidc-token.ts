import { readFile } from 'node:fs/promises';
import { ProvenantError } from '../errors.ts';

/**
 * Where a keyless signature's OIDC identity token comes from, in this order:
 * 1. a token file (`--identity-token FILE`): any issuer Fulcio trusts;
 * 2. SIGSTORE_ID_TOKEN (the variable Sigstore clients share);
 * 3. GitHub Actions, with `permissions: id-token: write`: the runner's token endpoint
 *    (ACTIONS_ID_TOKEN_REQUEST_URL, authorised by ACTIONS_ID_TOKEN_REQUEST_TOKEN), audience `sigstore`.
 * A token is never taken from the command line itself: it would show in process listings.
 */
export const SIGSTORE_AUDIENCE = 'sigstore';

export interface IdentityTokenSource {
  /** Path of a file holding the token (trailing whitespace ignored). */
  tokenFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Timeout of the GitHub Actions token request. */
  timeoutMs?: number;
}

/** Whether this process may request an OIDC token from GitHub Actions (`id-token: write` granted). */
export function githubOidcAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL);
}

function tokenError(message: string, details: { field?: string; file?: string; exitClass?: 'input' | 'network'; cause?: unknown } = {}): ProvenantError {
  return new ProvenantError('E_OIDC_TOKEN', message, {
    exitClass: details.exitClass ?? 'input',
    ...details,
    hint: 'give a token file (--identity-token FILE) or SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`',
  });
}

/** A JWT has three base64url parts; anything else is refused before it is sent anywhere. */
function checkJwtShape(token: string, from: string): string {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw tokenError(`the identity token from ${from} is not a JWT`);
  return token;
}

export async function getIdentityToken(src: IdentityTokenSource): Promise<string> {
  if (src.tokenFile !== undefined) {
    let text: string;
    try {
      text = await readFile(src.tokenFile, 'utf8');
    } catch (e) {
      throw tokenError(`cannot read the identity token file: ${(e as Error).message}`, { file: src.tokenFile, field: '--identity-token', cause: e });
    }
    return checkJwtShape(text.trim(), src.tokenFile);
  }
  if (src.env.SIGSTORE_ID_TOKEN) return checkJwtShape(src.env.SIGSTORE_ID_TOKEN.trim(), 'SIGSTORE_ID_TOKEN');
  if (githubOidcAvailable(src.env)) return githubActionsToken(src.env, src.timeoutMs ?? 30_000);
  throw tokenError('no OIDC identity token for keyless signing');
}

async function githubActionsToken(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!bearer) throw tokenError('ACTIONS_ID_TOKEN_REQUEST_URL is set but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not', { field: 'ACTIONS_ID_TOKEN_REQUEST_TOKEN' });
  let url: URL;
  try {
    url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL!);
  } catch (e) {
    throw tokenError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', { field: 'ACTIONS_ID_TOKEN_REQUEST_URL', cause: e });
  }
  url.searchParams.set('audience', SIGSTORE_AUDIENCE);
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json', Authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw tokenError(`the GitHub Actions token request failed: ${(e as Error).message}`, { exitClass: 'network', cause: e });
  }
  if (!res.ok) throw tokenError(`the GitHub Actions token endpoint answered HTTP ${res.status}`, { exitClass: 'network' });
  let value: unknown;
  try {
    value = ((await res.json()) as { value?: unknown }).value;
  } catch (e) {
    throw tokenError('the GitHub Actions token endpoint answered something other than JSON', { exitClass: 'network', cause: e });
  }
  if (typeof value !== 'string') throw tokenError('the GitHub Actions token endpoint answered without a token ("value")', { exitClass: 'network' });
  return checkJwtShape(value, 'the GitHub Actions token endpoint');
}
