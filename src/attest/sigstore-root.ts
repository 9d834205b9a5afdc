import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { ProvenantError } from '../errors.ts';

/**
 * The Sigstore trusted root: which Fulcio CAs, Rekor logs, CT logs and timestamp authorities a
 * keyless attestation may chain to. provenant distributes it as a TUF target signed by the
 * targets role (SIGSTORE_TRUSTED_ROOT_TARGET), never from the network of the Sigstore instance,
 * so a host needs only the repository and its root.json, even air-gapped.
 */
export const TRUSTED_ROOT_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.trustedroot';

/** Reads and checks a trusted root (protobuf-specs TrustedRoot, JSON form); E_SIGSTORE_ROOT_INVALID otherwise. */
export function parseSigstoreTrustedRoot(bytes: Uint8Array, file: string): TrustedRoot {
  const invalid = (why: string, cause?: unknown) =>
    new ProvenantError('E_SIGSTORE_ROOT_INVALID', `Sigstore trusted root ${why}`, {
      file,
      hint: 'use a trusted_root.json as Sigstore publishes it (protobuf-specs TrustedRoot), e.g. `provenant repo init --sigstore-trusted-root public-good`',
      ...(cause === undefined ? {} : { cause }),
    });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw invalid(`is not UTF-8 JSON: ${(e as Error).message}`, e);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('is not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith(TRUSTED_ROOT_MEDIA_TYPE_PREFIX)) {
    throw invalid(`has media type ${JSON.stringify(mediaType)}, expected ${TRUSTED_ROOT_MEDIA_TYPE_PREFIX}+json;version=0.1`);
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
    // Every key and certificate must load now, not at the first download that needs it.
    toTrustMaterial(root);
  } catch (e) {
    throw invalid(`cannot be read: ${(e as Error).message}`, e);
  }
  if (root.certificateAuthorities.length === 0) throw invalid('lists no certificate authority (Fulcio): no keyless signature could verify');
  if (root.tlogs.length === 0) throw invalid('lists no transparency log (Rekor): no keyless signature could verify');
  return root;
}

/**
 * The public-good (production) Sigstore trusted root, as the `@sigstore/tuf` package ships it
 * (its seeds.json: the TUF-verified target of Sigstore's own repository at the package's
 * release). Nothing is downloaded; updating it means updating the package and republishing
 * the target (a targets-signed change).
 */
export const PUBLIC_GOOD = 'public-good';
const PUBLIC_GOOD_TUF_URL = 'https://tuf-repo-cdn.sigstore.dev';

export async function publicGoodTrustedRoot(): Promise<Uint8Array> {
  const seedsFile = createRequire(import.meta.url).resolve('@sigstore/tuf/seeds.json');
  const seeds = JSON.parse(await readFile(seedsFile, 'utf8')) as Record<string, { targets?: Record<string, string> }>;
  const b64 = seeds[PUBLIC_GOOD_TUF_URL]?.targets?.['trusted_root.json'];
  if (!b64) {
    throw new ProvenantError('E_SIGSTORE_ROOT_INVALID', `@sigstore/tuf's seeds.json has no trusted_root.json for ${PUBLIC_GOOD_TUF_URL}`, {
      file: seedsFile,
      hint: 'reinstall provenant\'s dependencies (npm ci), or pass the trusted root as a file',
    });
  }
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  parseSigstoreTrustedRoot(bytes, `${seedsFile}#trusted_root.json`);
  return bytes;
}

/** `public-good` or a file path → the trusted root bytes, checked. */
export async function readSigstoreTrustedRootArg(arg: string): Promise<Uint8Array> {
  if (arg === PUBLIC_GOOD) return publicGoodTrustedRoot();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(arg));
  } catch (e) {
    throw new ProvenantError('E_SIGSTORE_ROOT_INVALID', `cannot read the Sigstore trusted root: ${(e as Error).message}`, {
      exitClass: 'input',
      file: arg,
      field: '--sigstore-trusted-root',
      hint: `give a trusted_root.json file, or \`${PUBLIC_GOOD}\` for Sigstore's production instance`,
    });
  }
  parseSigstoreTrustedRoot(bytes, arg);
  return bytes;
}
