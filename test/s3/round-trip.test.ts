import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository, repoStatus } from '../../src/app/repo.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { startMinio } from '../helpers/minio.ts';
import { freshVenv, tempDir } from '../helpers/peers.ts';
import { makeRelease } from './fixtures.ts';
import { startIndexProxy } from './index-proxy.ts';
import { fetchVerifiedTargets } from './tuf-client.ts';

const run = promisify(execFile);

test('S3 round trip on MinIO: init, publish, tuf-js verifies over HTTP, pip installs through the index rewrite', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  await m.makePublicRead(bucket);
  const storage = m.storage(`s3://${bucket}/stable`);
  const keysDir = path.join(await tempDir(t), 'keys');
  await initRepository(storage, undefined, { keysDir, binCount: 16 });
  const signers = keyStoreSignerSource(keysDir);

  const releases = [makeRelease('datadog-postgres', '23.2.0'), makeRelease('datadog-nginx', '9.1.0'), makeRelease('datadog-postgres', '23.3.0')];
  const first = await publishReleases(storage, signers, releases.slice(0, 2));
  assert.equal(first.committed, true);
  const second = await publishReleases(storage, signers, releases.slice(2));
  assert.equal(second.committed, true);
  assert.ok(second.timestampVersion > first.timestampVersion);
  const again = await publishReleases(storage, signers, releases);
  assert.equal(again.committed, false, 'republishing the same releases writes no metadata');
  assert.equal((await repoStatus(storage)).releases, 3);

  // An independent TUF client, trusting only root v1, reads the bucket anonymously over HTTP.
  const baseUrl = m.httpUrl(bucket, 'stable');
  const trustedRoot = (await storage.get('metadata/1.root.json'))!.bytes;
  const clientDir = await tempDir(t);
  const targets = releases.map((r) => `pointers/${r.project}/${r.project}-${r.version}.pointer`);
  const pointers = await fetchVerifiedTargets({ baseUrl, trustedRoot, dir: clientDir }, targets);
  for (const r of releases) {
    const pointer = (parseYaml(pointers.get(`pointers/${r.project}/${r.project}-${r.version}.pointer`)!.toString()) as { pointer: { digest: string; length: number } }).pointer;
    assert.equal(pointer.digest, sha256Hex(r.wheel.bytes));
    const wheel = await fetch(`${baseUrl}/simple/${r.project}/${r.wheel.fileName}`);
    assert.equal(wheel.status, 200);
    const bytes = new Uint8Array(await wheel.arrayBuffer());
    assert.equal(bytes.byteLength, pointer.length);
    assert.equal(sha256Hex(bytes), pointer.digest, 'the served wheel is the one TUF pins');
  }

  // The raw bucket has no `simple/<project>/` object: pip needs the CDN's index rewrite (docs/s3.md).
  assert.equal((await fetch(`${baseUrl}/simple/datadog-postgres/`)).status, 404);
  assert.equal((await fetch(`${baseUrl}/simple/datadog-postgres/index.html`)).status, 200);
  const proxy = await startIndexProxy(m.port);
  t.after(() => proxy.close());
  const py = await freshVenv(path.join(await tempDir(t), 'venv'));
  const indexUrl = `${proxy.url}/${bucket}/stable/simple/`;
  const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_CACHE_DIR: '1', PIP_CONFIG_FILE: '/dev/null' };
  await run(py, ['-m', 'pip', 'install', '--no-deps', '--index-url', indexUrl, 'datadog-postgres', 'datadog-nginx==9.1.0'], { env });
  const { stdout } = await run(py, ['-c', 'import datadog_postgres, datadog_nginx; print(datadog_postgres.VERSION, datadog_nginx.VERSION)']);
  assert.equal(stdout.trim(), '23.3.0 9.1.0', 'pip picked the newest postgres release and the pinned nginx one');
  assert.ok(proxy.requests.some((u) => u === `/${bucket}/stable/simple/datadog-postgres/`));
});
