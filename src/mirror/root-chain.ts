import { MetadataKind, type Metadata, type Root } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import { METADATA_DIR } from '../formats/layout.ts';
import { readAll, type Fetcher } from '../net/fetcher.ts';
import { parseRootMetadata, ROOT_MAX_BYTES, type RootDocument } from '../verify/trust-anchor.ts';

/**
 * Roots 1 to `given.version`, as the repository serves them, by key (`metadata/N.root.json`):
 * what a host that trusts an older root than the exporter's needs to walk up to the current one.
 * Root `given.version` must be the given root itself; each older root k must be signed by its
 * own keys and be one whose keys (threshold) signed root k+1, the TUF rule for a rotation.
 * The roots after `given` are fetched and checked by the TUF client's refresh.
 */
export async function rootsUpTo(fetcher: Fetcher, repositoryUrl: string, given: RootDocument): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  let next: Metadata<Root> | undefined;
  for (let k = given.version; k >= 1; k--) {
    const key = `${METADATA_DIR}/${k}.root.json`;
    const bytes = await readAll(fetcher, `${repositoryUrl}${key}`, ROOT_MAX_BYTES);
    let md: Metadata<Root>;
    try {
      const read = parseRootMetadata(bytes);
      if (read.doc.version !== k) throw new Error(`it is root version ${read.doc.version}`);
      if (!next && read.doc.identity !== given.identity) throw new Error('it is not the root given with --root');
      md = read.md;
      if (next) md.verifyDelegate(MetadataKind.Root, next);
    } catch (e) {
      throw new ProvenantError('E_MIRROR_ROOT_CHAIN', `${key} does not chain to the trusted root: ${(e as Error).message}`, {
        exitClass: 'verification',
        file: key,
        hint: 'the repository serves a root history that does not lead to the root you trust; do not mirror it, ask its owners',
        cause: e,
      });
    }
    out.set(key, bytes);
    next = md;
  }
  return out;
}
