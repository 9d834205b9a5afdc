import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { TARGETS } from '../../fuzz/engine/targets.ts';
import { REPO_ROOT } from '../helpers/peers.ts';

/**
 * Every workflow in .github/workflows (whoever adds one) passes actionlint and zizmor, both
 * pinned and installed by scripts/peers.sh. Any finding fails: the output is the message.
 */
const run = promisify(execFile);
const dir = path.join(REPO_ROOT, '.github/workflows');
const workflows = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));

function peer(rel: string): string {
  const bin = path.join(REPO_ROOT, rel);
  if (!existsSync(bin)) throw new Error(`${bin} missing: run \`bash scripts/peers.sh\` (actionlint: scripts/peers.d/actionlint.sh; zizmor: scripts/peers-requirements.txt)`);
  return bin;
}

async function findings(bin: string, args: string[]): Promise<string> {
  try {
    await run(bin, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
    return '';
  } catch (e) {
    const { stdout, stderr, code } = e as { stdout?: string; stderr?: string; code?: unknown };
    return `exit ${String(code)}\n${stdout ?? ''}${stderr ?? ''}`;
  }
}

test('the workflows folder holds the release, refresh and CI workflows', () => {
  for (const f of ['release.yml', 'refresh.yml', 'ci.yml']) assert.ok(workflows.includes(path.join(dir, f)), f);
});

test('actionlint: no finding in any workflow', async () => {
  assert.equal(await findings(peer('.peers/bin/actionlint'), ['-no-color', ...workflows]), '');
});

test('zizmor: no finding in any workflow', async () => {
  assert.equal(await findings(peer('.peers/venv/bin/zizmor'), ['--offline', '--no-progress', ...workflows]), '');
});

test('the scheduled fuzz workflow fuzzes every target the fuzz engine has (a new target is never silently left out)', async () => {
  const wf = parse(await readFile(path.join(REPO_ROOT, '.github/workflows/fuzz.yml'), 'utf8')) as { jobs: { fuzz: { strategy: { matrix: { target: string[] } } } } };
  assert.deepEqual([...wf.jobs.fuzz.strategy.matrix.target].sort(), TARGETS.map((t) => t.name).sort());
});
