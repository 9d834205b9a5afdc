import { rm, stat } from 'node:fs/promises';
import { repositoryBaseUrl } from '../verify/repository-url.ts';
import { repositoryStateDir, repositoryStateKeyOf, stateBaseDir } from '../verify/state-dir.ts';

export interface ForgetResult {
  ok: true;
  repository: string;
  stateDir: string;
  /** False when there was nothing to forget. */
  removed: boolean;
}

/**
 * `provenant state forget`: removes what the downloader trusts for one repository (its root,
 * the metadata it verified, the verified-object cache), so the next download starts again from
 * a --root. For a repository re-created with new keys; the state of other repositories is kept.
 */
export async function forgetRepositoryState(opts: { repository: string; root?: string | undefined; stateDir?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<ForgetResult> {
  const repository = repositoryBaseUrl(opts.repository, opts.cwd ?? process.cwd());
  // A bundle's state is the root's (mirror/bundle-state.ts): --root names it.
  const stateKey = await repositoryStateKeyOf(repository, opts.root ?? ((opts.env ?? process.env).PROVENANT_ROOT || undefined));
  const stateDir = repositoryStateDir(stateBaseDir(opts.env ?? process.env, opts.stateDir), stateKey);
  const existed = await stat(stateDir).then(
    () => true,
    () => false,
  );
  await rm(stateDir, { recursive: true, force: true });
  return { ok: true, repository, stateDir, removed: existed };
}
