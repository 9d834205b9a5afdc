import { createHash } from 'node:crypto';
import { ProvenantError } from '../errors.ts';
import { readRootFile } from '../verify/trust-anchor.ts';
import { isBundleUrl } from './bundle-fetcher.ts';

/**
 * What a repository's trusted state is keyed by (state-dir.ts names the directory): its URL, except
 * for a mirror bundle, which has no address of its own. A bundle's path is whatever the host was
 * handed, so keying its state by the path let an older bundle under a new name start from a fresh
 * state: a rollback. A bundle's state is keyed by the root the host trusts it with (--root, or
 * PROVENANT_ROOT), which is therefore required: every bundle of one repository, wherever it lies,
 * is checked against what the host trusted from the previous one.
 */
export async function repositoryStateKey(repositoryUrl: string, rootFile: string | undefined): Promise<string> {
  if (!repositoryUrl.startsWith('file:') || !(await isBundleUrl(repositoryUrl))) return repositoryUrl;
  if (!rootFile) {
    throw new ProvenantError('E_TUF_ROOT_MISSING', `${repositoryUrl} is a mirror bundle: its trusted state is kept per root, so --root is required`, {
      exitClass: 'usage',
      field: '--root',
      hint: 'pass --root with the repository\'s root.json (the key store\'s keys/root.json), or set PROVENANT_ROOT',
    });
  }
  const root = await readRootFile(rootFile, '--root');
  return `bundle:root-${createHash('sha256').update(root.identity).digest('hex')}`;
}
