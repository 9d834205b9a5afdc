import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { GITHUB_BUILDER_PREFIX, LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { githubContext, resolveBuildContext } from '../../src/provenance/context.ts';
import { gitCli } from '../../src/provenance/git.ts';
import { gitSourceUri, normalizeRepositoryUrl, parseGitSourceUri } from '../../src/provenance/source-uri.ts';
import { isProvenantError } from '../../src/errors.ts';
import { tempDir } from '../helpers/peers.ts';

const run = promisify(execFile);
const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  });
  return stdout.trim();
}

/** A temp repository with one integration directory `postgres/` committed on `main`. */
async function repoWithIntegration(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t);
  await git(root, 'init', '-q', '-b', 'main');
  const dir = path.join(root, 'postgres');
  await mkdir(dir);
  await writeFile(path.join(dir, 'pyproject.toml'), '[project]\nname = "datadog-postgres"\n');
  await git(root, 'add', '.');
  await git(root, 'commit', '-q', '-m', 'init');
  return { root, dir, commit: await git(root, 'rev-parse', 'HEAD') };
}

test('GitHub Actions: every field comes from the runner environment', () => {
  const ctx = githubContext({
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/integrations',
    GITHUB_SHA: COMMIT,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKFLOW_REF: 'acme/integrations/.github/workflows/release.yml@refs/heads/main',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '3',
  });
  assert.deepEqual(ctx, {
    environment: 'github-actions',
    builderId: `${GITHUB_BUILDER_PREFIX}acme/integrations/.github/workflows/release.yml@refs/heads/main`,
    invocationId: 'https://github.com/acme/integrations/actions/runs/42/attempts/3',
    repository: 'https://github.com/acme/integrations',
    ref: 'refs/heads/main',
    commit: COMMIT,
    sourceTree: 'unknown',
    workflowPath: '.github/workflows/release.yml',
    notes: [],
  });
});

test('GitHub Actions with a variable missing is an error naming it, not a guess', () => {
  assert.throws(
    () => githubContext({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'a/b', GITHUB_SHA: COMMIT, GITHUB_REF: 'refs/heads/main', GITHUB_RUN_ID: '1' }),
    (e: unknown) => isProvenantError(e) && e.code === 'E_CI_ENV_INCOMPLETE' && e.field === 'GITHUB_WORKFLOW_REF',
  );
});

test('GitHub Actions: the git checkout adds the integration path and tree state', async (t) => {
  const { dir } = await repoWithIntegration(t);
  const ctx = await resolveBuildContext({
    env: {
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/integrations',
      GITHUB_SHA: COMMIT,
      GITHUB_REF: 'refs/tags/v1',
      GITHUB_WORKFLOW_REF: 'acme/integrations/.github/workflows/r.yml@refs/tags/v1',
      GITHUB_RUN_ID: '7',
    },
    git: gitCli(),
    dir,
    localInvocationId: 'urn:uuid:unused',
  });
  assert.equal(ctx.commit, COMMIT, 'the commit is the runner’s, not re-derived');
  assert.equal(ctx.invocationId, 'https://github.com/acme/integrations/actions/runs/7/attempts/1');
  assert.equal(ctx.path, 'postgres');
  assert.equal(ctx.sourceTree, 'clean');
});

test('local git checkout: commit, ref and the origin remote without credentials', async (t) => {
  const { root, dir, commit } = await repoWithIntegration(t);
  await git(root, 'remote', 'add', 'origin', 'https://user:s3cret-token@github.com/acme/integrations.git');
  const ctx = await resolveBuildContext({ env: {}, git: gitCli(), dir, localInvocationId: 'urn:uuid:abc' });
  assert.deepEqual(ctx, {
    environment: 'local',
    builderId: LOCAL_BUILDER_ID,
    invocationId: 'urn:uuid:abc',
    repository: 'https://github.com/acme/integrations',
    ref: 'refs/heads/main',
    commit,
    path: 'postgres',
    sourceTree: 'clean',
    notes: [],
  });
  assert.doesNotMatch(JSON.stringify(ctx), /s3cret/);
});

test('local git checkout: uncommitted changes, detached HEAD and no remote are recorded as notes', async (t) => {
  const { root, dir, commit } = await repoWithIntegration(t);
  await git(root, 'checkout', '-q', '--detach');
  await writeFile(path.join(dir, 'new.py'), 'x = 1\n');
  // dist/ is build output, never a source change.
  await mkdir(path.join(dir, 'dist'));
  await writeFile(path.join(dir, 'dist', 'w.whl'), 'x');
  const ctx = await resolveBuildContext({ env: {}, git: gitCli(), dir, localInvocationId: 'urn:uuid:d' });
  assert.equal(ctx.commit, commit);
  assert.equal(ctx.ref, undefined);
  assert.equal(ctx.repository, undefined);
  assert.equal(ctx.sourceTree, 'modified');
  assert.equal(ctx.notes.length, 3);
  assert.match(ctx.notes.join('\n'), /detached HEAD/);
  assert.match(ctx.notes.join('\n'), /no `origin` remote/);
  assert.match(ctx.notes.join('\n'), /uncommitted changes under postgres/);

  await writeFile(path.join(dir, 'new.py'), '');
  await git(root, 'add', '.');
  await git(root, 'commit', '-q', '-m', 'two');
  await writeFile(path.join(dir, 'dist', 'w.whl'), 'y');
  const again = await resolveBuildContext({ env: {}, git: gitCli(), dir, localInvocationId: 'urn:uuid:d' });
  assert.equal(again.sourceTree, 'clean', 'changes under dist/ (build output) do not make the source modified');
  assert.deepEqual(again.notes.filter((n) => n.startsWith('uncommitted')), []);
});

test('not a git checkout, or no git at all: no source values, a note saying why', async (t) => {
  const dir = await tempDir(t);
  const outside = await resolveBuildContext({ env: {}, git: gitCli(), dir, localInvocationId: 'urn:uuid:n' });
  assert.equal(outside.commit, undefined);
  assert.equal(outside.repository, undefined);
  assert.equal(outside.sourceTree, 'unknown');
  assert.match(outside.notes[0]!, /not built from a git checkout/);

  const noGit = await resolveBuildContext({ env: {}, git: gitCli('/nonexistent/bin/git'), dir, localInvocationId: 'urn:uuid:n' });
  assert.equal(noGit.commit, undefined);
  assert.match(noGit.notes[0]!, /git is not installed/);
});

test('remote URLs normalise to https without credentials; git+ URIs round-trip', () => {
  const cases: [string, string][] = [
    ['git@github.com:DataDog/integrations-core.git', 'https://github.com/DataDog/integrations-core'],
    ['ssh://git@github.com/DataDog/integrations-core.git', 'https://github.com/DataDog/integrations-core'],
    ['https://x-access-token:ghs_abc@github.com/DataDog/integrations-core.git/', 'https://github.com/DataDog/integrations-core'],
    ['https://github.com/DataDog/integrations-core', 'https://github.com/DataDog/integrations-core'],
    ['/srv/git/repo.git', '/srv/git/repo.git'],
  ];
  for (const [remote, expected] of cases) assert.equal(normalizeRepositoryUrl(remote), expected, remote);

  const uri = gitSourceUri('https://github.com/o/r', 'refs/heads/feature@2');
  assert.equal(uri, 'git+https://github.com/o/r@refs/heads/feature@2');
  assert.deepEqual(parseGitSourceUri(uri), { repository: 'https://github.com/o/r', ref: 'refs/heads/feature@2' });
  assert.deepEqual(parseGitSourceUri('git+https://github.com/o/r'), { repository: 'https://github.com/o/r', ref: undefined });
  assert.equal(parseGitSourceUri('https://github.com/o/r'), undefined);
});
