import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { ReleaseSummary } from '../../src/app/release.ts';
import { minioCliEnv, startMinio } from '../helpers/minio.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

const run = promisify(execFile);

/**
 * `release` against a private bucket: its test-download step reads the bucket through s3://
 * with the same credentials and endpoint as the publish, in the CLI's own process.
 */
test('CLI on MinIO: release --all into a private s3:// repository, every step passes incl. the s3:// test download', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  const root = await tempDir(t);
  await cp(path.join(REPO_ROOT, 'examples/integrations'), root, { recursive: true, filter: (src) => !src.split(path.sep).includes('dist') });
  const keys = path.join(await tempDir(t), 'keys');
  const env = minioCliEnv(m, await tempDir(t));
  const cli = (...args: string[]) => run(process.execPath, [path.join(REPO_ROOT, 'bin/provenant.js'), ...args], { env, cwd: root, maxBuffer: 16 << 20 });
  const s3 = ['--repository', `s3://${bucket}/stable`, '--endpoint-url', m.endpoint, '--keys', keys];

  // S3 repositories are never created implicitly.
  const refused = await cli('release', '--all', ...s3, '--json').then(
    () => assert.fail('a release into an uninitialised bucket must fail'),
    (e: { code: number; stdout: string }) => e,
  );
  assert.equal(refused.code, 4);
  assert.equal((JSON.parse(refused.stdout) as { error: { code: string } }).error.code, 'E_REPO_NOT_INITIALIZED');

  await cli('repo', 'init', ...s3, '--bins', '16');
  const { stdout } = await cli('release', '--all', ...s3, '--json');
  const summary = JSON.parse(stdout) as ReleaseSummary;
  assert.equal(summary.ok, true);
  for (const i of summary.integrations) {
    assert.deepEqual(i.steps.filter((s) => s.status !== 'ok'), [], i.integration);
  }
});
