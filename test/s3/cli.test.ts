import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { minioCliEnv, startMinio } from '../helpers/minio.ts';
import { REPO_ROOT, freshVenv, tempDir } from '../helpers/peers.ts';
import { fetchVerifiedTargets } from './tuf-client.ts';
import { startIndexProxy } from './index-proxy.ts';

const run = promisify(execFile);

/**
 * The whole path a user takes, through the real CLI in its own process (so credentials reach the
 * AWS SDK the way they do in CI: from the environment), against MinIO: repo init in a bucket,
 * build and sign every bundled example, publish them all, then verify each pointer with tuf-js,
 * download each with `provenant download` over the bucket's HTTP endpoint and install each with pip.
 */
test('CLI on MinIO: repo init, build, sign, publish --all to s3://; provenant download and pip install every example', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  await m.makePublicRead(bucket);
  const root = await tempDir(t);
  await cp(path.join(REPO_ROOT, 'examples/integrations'), root, { recursive: true });
  const keys = path.join(await tempDir(t), 'keys');
  const repository = `s3://${bucket}/integrations`;
  const env = minioCliEnv(m, await tempDir(t));
  const cli = async (...args: string[]) => {
    try {
      return (await run(process.execPath, [path.join(REPO_ROOT, 'bin/provenant.js'), ...args], { env, cwd: root, maxBuffer: 16 << 20 })).stdout;
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string };
      throw new Error(`provenant ${args.join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}`, { cause: e });
    }
  };
  const s3 = ['--repository', repository, '--endpoint-url', m.endpoint];

  await cli('repo', 'init', ...s3, '--keys', keys, '--bins', '16');
  await cli('build', '--all', '--integrations-dir', root);
  await cli('sign', '--all', '--integrations-dir', root, '--keys', keys);
  const published = JSON.parse(await cli('publish', '--all', '--integrations-dir', root, '--keys', keys, ...s3, '--json')) as {
    releases: { project: string; version: string; status: string; target: string }[];
  };
  assert.equal(published.releases.length, 4);
  assert.ok(published.releases.every((r) => r.status === 'published'));
  const again = JSON.parse(await cli('publish', '--all', '--integrations-dir', root, '--keys', keys, ...s3, '--json')) as { committed: boolean };
  assert.equal(again.committed, false, 'publishing the same dist/ again is a no-op');
  const status = JSON.parse(await cli('repo', 'status', ...s3, '--json')) as { releases: number };
  assert.equal(status.releases, 4);

  // Endpoint from the environment instead of the flag, as with `aws` CLI configuration.
  env.AWS_ENDPOINT_URL_S3 = m.endpoint;
  assert.equal((JSON.parse(await cli('repo', 'status', '--repository', repository, '--json')) as { releases: number }).releases, 4);

  const baseUrl = m.httpUrl(bucket, 'integrations');
  const trustedRoot = new Uint8Array(await (await fetch(`${baseUrl}/metadata/1.root.json`)).arrayBuffer());
  const pointers = await fetchVerifiedTargets({ baseUrl, trustedRoot, dir: await tempDir(t) }, published.releases.map((r) => r.target));
  assert.equal(pointers.size, 4);

  // `provenant download` over the bucket's HTTP endpoint, trusting the root.json given once.
  const rootFile = path.join(await tempDir(t), 'root.json');
  await writeFile(rootFile, trustedRoot);
  const stateDir = await tempDir(t);
  for (const r of published.releases) {
    const dest = await tempDir(t);
    const got = JSON.parse(
      await cli('download', r.project, '--version', r.version, '--repository', baseUrl, '--root', rootFile, '--state-dir', stateDir, '--dest', dest, '--json'),
    ) as { path: string; verified: boolean; version: string };
    assert.equal(got.verified, true);
    assert.equal(got.version, r.version);
    assert.equal(path.dirname(got.path), dest);
  }

  const proxy = await startIndexProxy(m.port);
  t.after(() => proxy.close());
  const py = await freshVenv(path.join(await tempDir(t), 'venv'));
  const pipEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_CACHE_DIR: '1', PIP_CONFIG_FILE: '/dev/null' };
  const specs = published.releases.map((r) => `${r.project}==${r.version}`);
  await run(py, ['-m', 'pip', 'install', '--no-deps', '--index-url', `${proxy.url}/${bucket}/integrations/simple/`, ...specs], { env: pipEnv });
  const { stdout } = await run(py, ['-m', 'pip', 'list', '--format=json'], { env: pipEnv });
  const installed = new Map((JSON.parse(stdout) as { name: string; version: string }[]).map((p) => [p.name.toLowerCase(), p.version]));
  for (const r of published.releases) assert.equal(installed.get(r.project), r.version, `${r.project} installed from the bucket`);
});
