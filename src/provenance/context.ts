import { ProvenantError } from '../errors.ts';
import { GITHUB_BUILDER_PREFIX, LOCAL_BUILDER_ID } from './builders.ts';
import type { GitAdapter, GitFacts } from './git.ts';
import { normalizeRepositoryUrl } from './source-uri.ts';

/**
 * Who built, from what source, in which run: the facts a statement records. Values that could
 * not be established are absent, with the reason in `notes`, never guessed.
 */
export interface BuildContext {
  environment: 'github-actions' | 'local';
  builderId: string;
  invocationId: string;
  /** `https://host/owner/repo`, credentials stripped. */
  repository?: string;
  /** Full git ref, e.g. `refs/heads/main` or `refs/tags/postgres-23.2.0`. */
  ref?: string;
  commit?: string;
  /** The integration's directory inside the repository (`/`-separated). */
  path?: string;
  /** Whether the working tree under the integration differed from the commit. */
  sourceTree: 'clean' | 'modified' | 'unknown';
  /** The GitHub workflow file that ran the build (entry point), e.g. `.github/workflows/release.yml`. */
  workflowPath?: string;
  notes: string[];
}

const GITHUB_REQUIRED = ['GITHUB_REPOSITORY', 'GITHUB_SHA', 'GITHUB_REF', 'GITHUB_WORKFLOW_REF', 'GITHUB_RUN_ID'] as const;

export function isGitHubActions(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/**
 * The context of a GitHub Actions run, from the runner's environment alone (the runner sets
 * these; a missing one means the environment is not what it claims, so we stop rather than guess).
 * `git` facts, when given, only add the path and the tree state.
 */
export function githubContext(env: Readonly<Record<string, string | undefined>>, git?: GitFacts): BuildContext {
  const missing = GITHUB_REQUIRED.filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new ProvenantError('E_CI_ENV_INCOMPLETE', `GITHUB_ACTIONS=true but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`, {
      field: missing[0],
      hint: 'run inside a GitHub Actions job (the runner sets these), or unset GITHUB_ACTIONS for a local build',
    });
  }
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const repository = `${server}/${env.GITHUB_REPOSITORY}`;
  const attempt = env.GITHUB_RUN_ATTEMPT || '1';
  const workflowRef = env.GITHUB_WORKFLOW_REF!;
  // GITHUB_WORKFLOW_REF is `owner/repo/.github/workflows/file.yml@refs/...`.
  const at = workflowRef.lastIndexOf('@');
  const workflowFile = at > 0 ? workflowRef.slice(0, at) : workflowRef;
  const ownerRepo = `${env.GITHUB_REPOSITORY}/`;
  const ctx: BuildContext = {
    environment: 'github-actions',
    builderId: `${GITHUB_BUILDER_PREFIX}${workflowRef}`,
    invocationId: `${repository}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${attempt}`,
    repository,
    ref: env.GITHUB_REF!,
    commit: env.GITHUB_SHA!,
    sourceTree: git?.modified === undefined ? 'unknown' : git.modified ? 'modified' : 'clean',
    notes: git ? git.notes.filter((n) => n.startsWith('uncommitted')) : [],
  };
  if (workflowFile.startsWith(ownerRepo)) ctx.workflowPath = workflowFile.slice(ownerRepo.length);
  if (git?.path) ctx.path = git.path;
  return ctx;
}

/** The context of a build on someone's machine: the builder says so, the source comes from git. */
export function localContext(git: GitFacts, invocationId: string): BuildContext {
  const ctx: BuildContext = {
    environment: 'local',
    builderId: LOCAL_BUILDER_ID,
    invocationId,
    sourceTree: git.modified === undefined ? 'unknown' : git.modified ? 'modified' : 'clean',
    notes: [...git.notes],
  };
  if (git.remoteUrl) ctx.repository = normalizeRepositoryUrl(git.remoteUrl);
  if (git.ref) ctx.ref = git.ref;
  if (git.commit) ctx.commit = git.commit;
  if (git.path) ctx.path = git.path;
  return ctx;
}

export interface ResolveContextOptions {
  env: Readonly<Record<string, string | undefined>>;
  git: GitAdapter;
  /** The integration's directory. */
  dir: string;
  /** Identifies a local invocation (one per `provenant build`); GitHub runs have their own. */
  localInvocationId: string;
}

export async function resolveBuildContext(o: ResolveContextOptions): Promise<BuildContext> {
  const facts = await o.git.inspect(o.dir);
  return isGitHubActions(o.env) ? githubContext(o.env, facts) : localContext(facts, o.localInvocationId);
}
