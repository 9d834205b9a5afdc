import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * What provenance needs to know about the git checkout an integration lives in. Every value
 * git could not give is absent and `notes` says why, so a statement never carries a guess.
 */
export interface GitFacts {
  /** False when there is no usable checkout (git missing, not a repository, no commit). */
  available: boolean;
  commit?: string;
  /** Full ref name (`refs/heads/main`); absent on a detached HEAD. */
  ref?: string;
  /** The `origin` remote as configured (normalised later). */
  remoteUrl?: string;
  /** The integration directory relative to the checkout's top level, `/`-separated. */
  path?: string;
  /** Tracked or untracked changes under the integration directory (ignoring its dist/). */
  modified?: boolean;
  notes: string[];
}

/** The adapter the build context reads git through; tests pass a real one on a temp repository. */
export interface GitAdapter {
  inspect(dir: string): Promise<GitFacts>;
}

interface RunResult {
  ok: boolean;
  stdout: string;
  missing: boolean;
}

function runGit(gitBinary: string, cwd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(gitBinary, args, { cwd, timeout: 10_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } }, (err, stdout) => {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      resolve({ ok: !err, stdout: String(stdout).trim(), missing: code === 'ENOENT' });
    });
  });
}

/** The top of the git work tree `dir` is in; undefined outside one, or when git is not installed. */
export async function gitWorkTreeOf(dir: string, gitBinary = 'git'): Promise<string | undefined> {
  const top = await runGit(gitBinary, dir, ['rev-parse', '--show-toplevel']);
  return top.ok && top.stdout ? top.stdout : undefined;
}

/** The git command line as a GitAdapter. */
export function gitCli(gitBinary = 'git'): GitAdapter {
  return {
    async inspect(dir) {
      const top = await runGit(gitBinary, dir, ['rev-parse', '--show-toplevel']);
      if (top.missing) return { available: false, notes: [`git is not installed (no \`${gitBinary}\` on PATH): source commit unknown`] };
      if (!top.ok) return { available: false, notes: ['not built from a git checkout: source repository, ref and commit unknown'] };
      const head = await runGit(gitBinary, dir, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']);
      if (!head.ok) return { available: false, notes: ['the git repository has no commit yet: source commit unknown'] };

      const facts: GitFacts = { available: true, commit: head.stdout, notes: [] };
      const rel = path.relative(top.stdout, dir).split(path.sep).join('/');
      facts.path = rel === '' ? '.' : rel;

      const ref = await runGit(gitBinary, dir, ['symbolic-ref', '-q', 'HEAD']);
      if (ref.ok && ref.stdout) facts.ref = ref.stdout;
      else facts.notes.push('detached HEAD: source ref unknown');

      const remote = await runGit(gitBinary, dir, ['remote', 'get-url', 'origin']);
      if (remote.ok && remote.stdout) facts.remoteUrl = remote.stdout;
      else facts.notes.push('no `origin` remote: source repository unknown');

      const status = await runGit(gitBinary, dir, ['status', '--porcelain', '--', '.', ':(exclude)dist']);
      if (status.ok) {
        facts.modified = status.stdout.length > 0;
        if (facts.modified) facts.notes.push(`uncommitted changes under ${facts.path}: the wheel may not match the commit`);
      }
      return facts;
    },
  };
}
