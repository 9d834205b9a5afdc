import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';
import { runJob, type WorkflowRun } from './helpers/runner.ts';

/**
 * release.yml's first steps, up to "Select integrations" (runner.ts): which integrations a manual
 * run or a tag push releases, and that a name that could read as an option is refused.
 */
const WORKFLOW = path.join(REPO_ROOT, '.github/workflows/release.yml');

async function select(t: { after(fn: () => unknown): void }, o: { inputs?: WorkflowRun['inputs']; tag?: string }) {
  const dir = await tempDir(t);
  const github = o.tag
    ? { repository: 'org/repo', ref: `refs/tags/${o.tag}`, refName: o.tag, refType: 'tag' as const, sha: 'a'.repeat(40), eventName: 'push', runId: '1', workflowRef: `org/repo/.github/workflows/release.yml@refs/tags/${o.tag}` }
    : { repository: 'org/repo', ref: 'refs/heads/main', refName: 'main', refType: 'branch' as const, sha: 'a'.repeat(40), eventName: 'workflow_dispatch', runId: '1', workflowRef: 'org/repo/.github/workflows/release.yml@refs/heads/main' };
  const job = await runJob(WORKFLOW, 'release', {
    inputs: o.inputs,
    github,
    env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir },
    cwd: REPO_ROOT,
    actions: { 'actions/checkout': () => {}, 'actions/setup-node': () => {} },
    skip: (script) => (/^npm ci\b/.test(script.trim()) ? 'not needed to select' : undefined),
    until: 'select',
  });
  const step = job.steps.at(-1)!;
  assert.equal(step.name, 'Select integrations');
  return { outcome: step.outcome, integrations: job.outputs.select?.integrations, stdout: step.stdout };
}

test('release.yml selects integrations: one, several (spaces or commas), all, or the one a pushed tag names', async (t) => {
  assert.deepEqual(await select(t, { inputs: { integration: 'postgres', 'dry-run': false } }), { outcome: 'success', integrations: 'postgres', stdout: '' });
  assert.equal((await select(t, { inputs: { integration: 'postgres, redisdb nginx' } })).integrations, 'postgres redisdb nginx');
  assert.equal((await select(t, { inputs: { integration: 'all' } })).integrations, 'all');
  assert.equal((await select(t, { tag: 'postgres-v23.2.0' })).integrations, 'postgres');
  assert.equal((await select(t, { tag: 'datadog_checks_base-v1.0.0-rc.1' })).integrations, 'datadog_checks_base');
});

test('release.yml refuses a selection that could read as an option or a path, or is empty', async (t) => {
  for (const integration of ['--keys /tmp/evil', 'postgres ../x', '', ' , ']) {
    const r = await select(t, { inputs: { integration } });
    assert.equal(r.outcome, 'failure', JSON.stringify(integration));
    assert.equal(r.integrations, undefined);
    assert.match(r.stdout, /::error::/);
  }
});
