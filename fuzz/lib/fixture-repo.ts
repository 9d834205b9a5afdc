/**
 * A real repository made the way a user makes one: `provenant repo init` (far expiry, so
 * metadata taken from it stays current for decades) and `provenant release --all` over a copy
 * of the bundled example integrations (build, attest, sign, publish with index, test download),
 * locally or as a GitHub Actions job.
 * The corpus generator takes its seeds from one; signed targets make one per run for their keys.
 */
import { MAX_EXPIRY } from '../../src/tuf/config.ts';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { REPO_ROOT } from '../engine/targets.ts';

export interface FixtureRepository {
  dir: string;
  repoDir: string;
  keysDir: string;
  integrationsDir: string;
}

export const FIXTURE_BINS = 16;
/** The fixture is made per run; it lives as long as the repository limits allow. */
const LONGEST = MAX_EXPIRY;

/** A GitHub Actions job of the integrations repository: statements name the workflow, repository, ref and commit. */
const GITHUB_ACTIONS_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'DataDog/integrations-core',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/master',
  GITHUB_WORKFLOW_REF: 'DataDog/integrations-core/.github/workflows/release.yml@refs/heads/master',
  GITHUB_RUN_ID: '4242',
};

export async function makeFixtureRepository(dir: string, opts: { provenance?: 'slsa-v1' | 'slsa-v0.2'; githubActions?: boolean } = {}): Promise<FixtureRepository> {
  const provenance = opts.provenance ?? 'slsa-v1';
  const repoDir = path.join(dir, 'repository');
  const keysDir = path.join(dir, 'keys');
  const integrationsDir = path.join(dir, 'integrations');
  await mkdir(dir, { recursive: true });
  await cp(path.join(REPO_ROOT, 'examples/integrations'), integrationsDir, { recursive: true, filter: (src) => !src.split(path.sep).includes('dist') });
  const env = { PATH: process.env.PATH, HOME: dir, SOURCE_DATE_EPOCH: '1700000000', ...(opts.githubActions ? GITHUB_ACTIONS_ENV : {}) };
  let err = '';
  const out = { interactive: false, stdout: () => {}, stderr: (t: string) => void (err += t) };
  const run = async (...argv: string[]) => {
    const code = await main([...argv, '--repository', repoDir, '--keys', keysDir], out, env, dir);
    if (code !== 0) throw new Error(`provenant ${argv.join(' ')} failed (${code}): ${err}`);
  };
  await run('repo', 'init', '--bins', String(FIXTURE_BINS), ...Object.entries(LONGEST).flatMap(([r, d]) => ['--expires', `${r}=${d}`]));
  await run('release', '--all', '--integrations-dir', integrationsDir, '--provenance', provenance);
  return { dir, repoDir, keysDir, integrationsDir };
}
