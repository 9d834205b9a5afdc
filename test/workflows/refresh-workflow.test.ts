import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/peers.ts';
import { setUp, workflowRun } from './helpers/actions-env.ts';
import { runJob } from './helpers/runner.ts';

/**
 * refresh.yml's own steps, run as the schedule runs them (runner.ts), against the S3 repository
 * on MinIO with its online key on moto's KMS: a healthy repository passes; one whose timestamp
 * would expire before the alarm window fails the job at the status step, naming the role.
 */
const WORKFLOW = path.join(REPO_ROOT, '.github/workflows/refresh.yml');
const SUBJECT = 'https://github.com/org/repo/.github/workflows/release.yml@refs/*';

function scheduled(x: Awaited<ReturnType<typeof setUp>>) {
  const r = workflowRun(x);
  return { ...r, github: { ...r.github, eventName: 'schedule' } };
}

test('refresh.yml: a healthy repository refreshes and passes the expiry check; the status lands in the job summary', async (t) => {
  const x = await setUp(t, SUBJECT);
  const job = await runJob(WORKFLOW, 'refresh', scheduled(x));
  const failed = job.steps.filter((s) => s.outcome === 'failure');
  assert.deepEqual(failed, [], JSON.stringify(failed, null, 2));
  assert.deepEqual(job.steps.map((s) => s.outcome), ['success', 'success', 'skipped', 'success', 'success', 'success']);
  assert.match(job.summary, /timestamp/);
  assert.match(job.summary, new RegExp(`s3://${x.bucket}`));
});

test('refresh.yml fails loudly when anything expires within the alarm window, before it has expired', async (t) => {
  // A 2h timestamp: refresh leaves it alone (more than half its validity is left), and 2h < 8h.
  const x = await setUp(t, SUBJECT, ['--expires', 'timestamp=2h']);
  const job = await runJob(WORKFLOW, 'refresh', scheduled(x));
  const status = job.steps.at(-1)!;
  assert.equal(job.steps.at(-2)!.outcome, 'success', job.steps.at(-2)!.stderr);
  assert.equal(status.outcome, 'failure');
  assert.match(status.stderr, /E_REPO_EXPIRING: expires within 8h: timestamp v\d+/);
});
