import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Where the downloader keeps what it trusts, per repository: XDG's state directory
 * (~/.local/state/provenant by default), or PROVENANT_STATE_DIR / --state-dir. Keeping it
 * between runs is what lets a rollback or freeze be caught on the next run.
 */
export function stateBaseDir(env: NodeJS.ProcessEnv, explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  if (env.PROVENANT_STATE_DIR) return path.resolve(env.PROVENANT_STATE_DIR);
  const xdg = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(env.HOME || homedir(), '.local', 'state');
  return path.join(xdg, 'provenant');
}

/**
 * One directory name per repository URL: readable (the URL with anything unusual turned into
 * `_`, shortened) and unique (a hash of the whole URL), so two repositories never share trust.
 */
export function repositoryStateName(repositoryUrl: string): string {
  const readable = repositoryUrl
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .replace(/^[_.]+|_+$/g, '')
    .slice(0, 80);
  const hash = createHash('sha256').update(repositoryUrl).digest('hex').slice(0, 16);
  return `${readable || 'repository'}-${hash}`;
}

/** What a repository's state is keyed by: its URL, or for a mirror bundle the root (mirror/bundle-state.ts, loaded only for file: repositories). */
export async function repositoryStateKeyOf(repositoryUrl: string, rootFile: string | undefined): Promise<string> {
  if (!repositoryUrl.startsWith('file:')) return repositoryUrl;
  const { repositoryStateKey } = await import('../mirror/bundle-state.ts');
  return repositoryStateKey(repositoryUrl, rootFile);
}

export function repositoryStateDir(base: string, repositoryUrl: string): string {
  return path.join(base, repositoryStateName(repositoryUrl));
}

/**
 * The command that forgets this repository's trusted state, as hints print it; `--state-dir`
 * only when one was given on the command line (PROVENANT_STATE_DIR carries over by itself);
 * `--root` for a bundle, whose state is keyed by it.
 */
export function forgetStateCommand(repositoryUrl: string, explicitBase?: string, bundleRoot?: string): string {
  return `provenant state forget ${shellWord(repositoryUrl)}${bundleRoot ? ` --root ${shellWord(bundleRoot)}` : ''}${explicitBase ? ` --state-dir ${shellWord(explicitBase)}` : ''}`;
}

function shellWord(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
