import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
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

export interface GitRun {
  ok: boolean;
  /** Trimmed unless `raw` (NUL-separated listings and file bytes keep their ends). */
  stdout: string;
  stderr: string;
  /** git is not installed. */
  missing: boolean;
}

export interface GitRunOptions {
  gitBinary?: string;
  /** Added to the environment (git's own non-interactive, C-locale settings always apply). */
  env?: Record<string, string>;
  /** Written to git's stdin. */
  input?: string;
  raw?: boolean;
  maxBuffer?: number;
  /** Default 10 s; 0 for none (a whole-tree checkout may take longer). */
  timeoutMs?: number;
}

/** One git command; never throws: the caller decides what a failure means. */
export function runGit(cwd: string, args: string[], opts: GitRunOptions = {}): Promise<GitRun> {
  return new Promise((resolve) => {
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env };
    const child = execFile(opts.gitBinary ?? 'git', args, { cwd, env, timeout: opts.timeoutMs ?? 10_000, ...(opts.maxBuffer ? { maxBuffer: opts.maxBuffer } : {}) }, (err, stdout, stderr) => {
      const out = String(stdout);
      resolve({ ok: !err, stdout: opts.raw ? out : out.trim(), stderr: String(stderr).trim(), missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** The top of the git work tree `dir` is in; undefined outside one, or when git is not installed. */
export async function gitWorkTreeOf(dir: string, gitBinary = 'git'): Promise<string | undefined> {
  const top = await runGit(dir, ['rev-parse', '--show-toplevel'], { gitBinary });
  return top.ok && top.stdout ? top.stdout : undefined;
}

/** What git says about the checkout holding `dir`: everything but `dir`'s own path and changes. */
async function checkoutFacts(gitBinary: string, dir: string): Promise<{ top?: string; facts: GitFacts }> {
  const top = await runGit(dir, ['rev-parse', '--show-toplevel'], { gitBinary });
  if (top.missing) return { facts: { available: false, notes: [`git is not installed (no \`${gitBinary}\` on PATH): source commit unknown`] } };
  if (!top.ok) return { facts: { available: false, notes: ['not built from a git checkout: source repository, ref and commit unknown'] } };
  const head = await runGit(dir, ['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { gitBinary });
  if (!head.ok) return { facts: { available: false, notes: ['the git repository has no commit yet: source commit unknown'] } };

  const facts: GitFacts = { available: true, commit: head.stdout, notes: [] };
  const ref = await runGit(dir, ['symbolic-ref', '-q', 'HEAD'], { gitBinary });
  if (ref.ok && ref.stdout) facts.ref = ref.stdout;
  else facts.notes.push('detached HEAD: source ref unknown');

  const remote = await runGit(dir, ['remote', 'get-url', 'origin'], { gitBinary });
  if (remote.ok && remote.stdout) facts.remoteUrl = remote.stdout;
  else facts.notes.push('no `origin` remote: source repository unknown');
  return { top: top.stdout, facts };
}

/** `dir`'s path in the checkout and whether it has changes, added to the checkout's facts. */
async function dirFacts(gitBinary: string, dir: string, checkout: { top?: string; facts: GitFacts }): Promise<GitFacts> {
  const facts: GitFacts = { ...checkout.facts, notes: [...checkout.facts.notes] };
  if (checkout.top === undefined) return facts;
  const rel = path.relative(checkout.top, dir).split(path.sep).join('/');
  facts.path = rel === '' ? '.' : rel;
  const status = await runGit(dir, ['status', '--porcelain', '--', '.', ':(exclude)dist'], { gitBinary });
  if (status.ok) {
    facts.modified = status.stdout.length > 0;
    if (facts.modified) facts.notes.push(`uncommitted changes under ${facts.path}: the wheel may not match the commit`);
  }
  return facts;
}

/** The git command line as a GitAdapter. */
export function gitCli(gitBinary = 'git'): GitAdapter {
  return {
    async inspect(dir) {
      return dirFacts(gitBinary, dir, await checkoutFacts(gitBinary, dir));
    },
  };
}

/**
 * gitCli for a run over many integrations under one `root`: the checkout (top level, commit,
 * ref, remote) is asked once, at the root, and shared by every integration directory that git
 * would find the same way, i.e. with no `.git` of its own between it and the root; only its own
 * `git status` runs per directory. Four processes fewer per integration in a checkout, and none
 * at all outside one. Anything else (outside the root, a nested repository or submodule, or the
 * GIT_DIR / GIT_WORK_TREE / GIT_CEILING_DIRECTORIES variables that change where git looks) is
 * asked of git in full.
 */
export function treeGit(root: string, gitBinary = 'git'): GitAdapter {
  const full = gitCli(gitBinary);
  // runGit passes this process's environment to git.
  const env = process.env;
  if (env.GIT_DIR || env.GIT_WORK_TREE || env.GIT_CEILING_DIRECTORIES) return full;
  let shared: Promise<{ top?: string; facts: GitFacts }> | undefined;
  return {
    async inspect(dir) {
      if (!(await sameCheckoutAsRoot(root, dir))) return full.inspect(dir);
      shared ??= checkoutFacts(gitBinary, root);
      return dirFacts(gitBinary, dir, await shared);
    },
  };
}

/** True when `dir` is under `root` and no directory from `dir` up to (not including) `root` has a `.git`. */
async function sameCheckoutAsRoot(root: string, dir: string): Promise<boolean> {
  const rel = path.relative(root, dir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return rel === '';
  let d = dir;
  while (d !== root) {
    try {
      await lstat(path.join(d, '.git'));
      return false;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    d = path.dirname(d);
  }
  return true;
}
