// A real git checkout of the examples, releases built in it, and the CLI run in-process.
import { execFile } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RebuildResult } from '../../src/app/rebuild.ts';
import { main } from '../../src/cli/main.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

const run = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: GIT_ENV })).stdout.trim();
}

/** A checkout holding the examples under integrations/, committed; keys and repository beside it. */
export async function setup(t: Parameters<typeof tempDir>[0]) {
  const work = await tempDir(t, 'provenant-rebuild-');
  const checkout = path.join(work, 'src');
  const integrations = path.join(checkout, 'integrations');
  await cp(path.join(REPO_ROOT, 'examples/integrations'), integrations, { recursive: true, filter: (s) => path.basename(s) !== 'dist' });
  await writeFile(path.join(checkout, '.gitignore'), 'dist/\n*.log\n');
  await git(checkout, 'init', '-q', '-b', 'main');
  await git(checkout, 'add', '-A');
  await git(checkout, 'commit', '-q', '-m', 'integrations');
  const commit = await git(checkout, 'rev-parse', 'HEAD');
  const env = { PATH: process.env.PATH, HOME: work, SOURCE_DATE_EPOCH: '1700000000', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const repoFlags = ['--repository', path.join(work, 'repository'), '--keys', path.join(work, 'keys')];
  const cli = async (cwd: string, ...args: string[]) => {
    const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
    const code = await main(args, o, env, cwd);
    return { code, out: o.out, err: o.err };
  };
  const rebuild = async (spec: string, source = checkout, ...extra: string[]) => {
    const r = await cli(work, 'rebuild', spec, '--source', source, '--repository', path.join(work, 'repository'), '--root', path.join(work, 'keys/root.json'), '--json', ...extra);
    return { ...r, result: r.out ? (JSON.parse(r.out) as RebuildResult) : undefined };
  };
  return { work, checkout, integrations, commit, env, repoFlags, cli, rebuild };
}
