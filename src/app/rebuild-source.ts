/**
 * The source a release was built from, exactly as committed: the integration directory at the
 * statement's commit, read from the git objects of a checkout (never from its working tree, so
 * local edits, untracked files or another checked-out commit cannot leak into the rebuild), laid
 * out with the `.gitignore`/`.hgignore` files of the directories above it and a `.git` at the
 * top, as the original build saw them (hatchling's file selection reads the nearest ignore file).
 * The checkout's own index, HEAD and files are left untouched: a private index file is used.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { runGit, type GitRun } from '../provenance/git.ts';

/** git on the checkout: literal pathspecs (a statement's path is never a pattern), raw output (NUL-separated lists), no time limit. */
function git(checkout: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<GitRun> {
  return runGit(checkout, args, { env: { GIT_LITERAL_PATHSPECS: '1', ...env }, raw: true, maxBuffer: 256 << 20, timeoutMs: 0, ...(input !== undefined ? { input } : {}) });
}

/** A path as a statement records it: `/`-separated, relative, inside the checkout. */
export function checkIntegrationPath(p: string, file: string): string {
  const norm = path.posix.normalize(p);
  if (p === '' || path.posix.isAbsolute(p) || norm === '..' || norm.startsWith('../') || p.includes('\0')) {
    throw new ProvenantError('E_REBUILD_SOURCE', `the statement's integration path ${JSON.stringify(p)} is not a path inside a checkout`, {
      exitClass: 'verification', file, field: 'externalParameters.path',
      hint: 'this release cannot be rebuilt from a checkout; rebuild it by hand and compare digests',
    });
  }
  return norm === '.' ? '.' : norm.replace(/\/+$/, '');
}

/**
 * Writes the integration at `commit` below `into` and returns the integration's directory there.
 * `integrationPath` is relative to the checkout's top level (`.` for the top itself).
 */
export async function sourceAtCommit(checkout: string, commit: string, integrationPath: string, into: string): Promise<string> {
  const top = await git(checkout, ['rev-parse', '--show-toplevel']);
  if (top.missing) throw new ProvenantError('E_REBUILD_SOURCE', 'git is not installed (no `git` on PATH)', { exitClass: 'input', hint: 'install git: rebuild reads the source from the checkout\'s git objects' });
  if (!top.ok) {
    throw new ProvenantError('E_REBUILD_SOURCE', `${checkout} is not a git checkout`, {
      exitClass: 'input', file: checkout, field: '--source', hint: 'pass a clone of the repository the release was built from',
    });
  }
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit) || !(await git(checkout, ['cat-file', '-e', `${commit}^{commit}`])).ok) {
    throw new ProvenantError('E_REBUILD_COMMIT_UNKNOWN', `the release was built from commit ${commit}, which ${checkout} does not have`, {
      exitClass: 'input', file: checkout, field: '--source',
      hint: `fetch it (\`git -C ${checkout} fetch origin ${commit}\`), or pass a clone of the repository the statement names`,
    });
  }
  // What the build read: the integration, and the ignore files of every directory above it.
  const parents = integrationPath === '.' ? [''] : ['', ...integrationPath.split('/').slice(0, -1).map((_, i, a) => `${a.slice(0, i + 1).join('/')}/`)];
  const pathspecs = [integrationPath, ...parents.flatMap((d) => [`${d}.gitignore`, `${d}.hgignore`])];
  const listed = await git(checkout, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit, '--', ...pathspecs]);
  if (!listed.ok) throw new ProvenantError('E_REBUILD_SOURCE', `git ls-tree failed: ${listed.stderr}`, {
      exitClass: 'input',
      file: checkout,
      hint: 'check that --source is a git clone of the integrations repository and git can read it',
    });
  const files = listed.stdout.split('\0').filter((f) => f !== '');
  const inIntegration = files.filter((f) => integrationPath === '.' || f.startsWith(`${integrationPath}/`));
  if (inIntegration.length === 0) {
    throw new ProvenantError('E_REBUILD_SOURCE', `commit ${commit.slice(0, 12)} has no directory ${integrationPath}`, {
      exitClass: 'verification', file: checkout, field: 'externalParameters.path',
      hint: 'the statement names a path that is not in its own commit: this release cannot be rebuilt from its source',
    });
  }
  const root = path.join(into, 'checkout');
  await mkdir(path.join(root, '.git'), { recursive: true });
  const env = { GIT_INDEX_FILE: path.join(into, 'index') };
  const read = await git(checkout, ['read-tree', commit], env);
  const out = read.ok ? await git(checkout, ['checkout-index', '-z', '--stdin', `--prefix=${root}/`], env, `${files.join('\0')}\0`) : read;
  if (!out.ok) throw new ProvenantError('E_REBUILD_SOURCE', `cannot write commit ${commit.slice(0, 12)}'s files: ${out.stderr}`, {
      exitClass: 'input',
      file: checkout,
      hint: 'check free space in the temporary directory and that git can read --source',
    });
  return integrationPath === '.' ? root : path.join(root, ...integrationPath.split('/'));
}
