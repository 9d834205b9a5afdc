import { isProvenantError, ProvenantError } from '../errors.ts';
import { readAll, type Fetcher } from '../net/fetcher.ts';
import { sha256Hex } from '../util/hash.ts';
import { readWheelMetadata } from './wheel-metadata.ts';

/** A PEP 658 file is a wheel's METADATA: far below this; a larger one is refused unread. */
const MAX_CORE_METADATA = 16 << 20;

/**
 * The PEP 658 file beside a verified wheel (`<wheel url>.metadata`), for `mirror export` and
 * `mirror sync`: undefined when the repository has none, refused (E_MIRROR_METADATA_MISMATCH) when
 * it is not exactly the verified wheel's METADATA, since nothing in TUF pins it.
 */
export async function verifiedCoreMetadata(fetcher: Fetcher, wheelUrl: string, wheel: Uint8Array, wheelKey: string): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readAll(fetcher, `${wheelUrl}.metadata`, MAX_CORE_METADATA);
  } catch (e) {
    if (isProvenantError(e) && e.code === 'E_NET_NOT_FOUND') return undefined;
    throw e;
  }
  if (sha256Hex(bytes) !== sha256Hex(readWheelMetadata(wheel, wheelKey))) {
    throw new ProvenantError('E_MIRROR_METADATA_MISMATCH', `${wheelKey}.metadata is not the METADATA of the verified wheel`, {
      exitClass: 'verification',
      file: `${wheelKey}.metadata`,
      hint: "the repository's PEP 658 file was altered; have its owners rewrite it from the wheel (rebuildIndex, docs/simple-index.md), then export or sync again",
    });
  }
  return bytes;
}
