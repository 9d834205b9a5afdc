import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository } from '../../src/app/repo.ts';
import { isProvenantError } from '../../src/errors.ts';
import { S3Storage } from '../../src/storage/s3.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { MINIO_REGION, type MinioServer, startMinio } from '../helpers/minio.ts';
import { tempDir } from '../helpers/peers.ts';
import { clientView, releaseId, snapshotBucket } from './checks.ts';
import { FaultyStorage } from './faulty-storage.ts';
import { makeRelease } from './fixtures.ts';
import { startTcpProxy } from './tcp-proxy.ts';

function rejectsWith(code: string, exitClass: string) {
  return (e: unknown) => {
    assert.ok(isProvenantError(e), `expected ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.exitClass, exitClass);
    assert.ok(e.hint, `${code} tells the user what to do`);
    return true;
  };
}

async function setUp(t: { after(fn: () => unknown): void }) {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  await m.makePublicRead(bucket);
  const keysDir = path.join(await tempDir(t), 'keys');
  await initRepository(m.storage(`s3://${bucket}`), undefined, { keysDir, binCount: 16 });
  const signers = keyStoreSignerSource(keysDir);
  const earlier = makeRelease('datadog-postgres', '23.1.0');
  await publishReleases(m.storage(`s3://${bucket}`), signers, [earlier]);
  return { m, bucket, keysDir, signers, earlier };
}

test('wrong credentials, missing bucket, read-only credentials: clear errors and an unchanged repository', async (t) => {
  const { m, bucket, signers } = await setUp(t);
  const before = await snapshotBucket(m.admin, bucket);
  const release = makeRelease('datadog-postgres', '23.2.0');

  const wrongSecret = m.storage(`s3://${bucket}`, { credentials: { accessKeyId: m.credentials.accessKeyId, secretAccessKey: 'not-the-secret' } });
  await assert.rejects(publishReleases(wrongSecret, signers, [release]), rejectsWith('E_S3_CREDENTIALS', 'input'));

  await assert.rejects(publishReleases(m.storage('s3://no-such-bucket'), signers, [release]), rejectsWith('E_S3_NO_BUCKET', 'not-found'));
  await assert.rejects(
    initRepository(m.storage('s3://no-such-bucket'), undefined, { keysDir: path.join(await tempDir(t), 'k') }),
    rejectsWith('E_S3_NO_BUCKET', 'not-found'),
  );

  // Read-only principal: what a CI job without s3:PutObject has. Publishing reads the state, then
  // is refused at its first write: nothing lands.
  const readOnly = await m.restrictedCredentials({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] },
    ],
  });
  await assert.rejects(publishReleases(m.storage(`s3://${bucket}`, { credentials: readOnly }), signers, [release]), rejectsWith('E_S3_ACCESS_DENIED', 'input'));

  // Write-only to another prefix: cannot even read this repository.
  const elsewhere = await m.restrictedCredentials({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/other/*`] }],
  });
  await assert.rejects(publishReleases(m.storage(`s3://${bucket}`, { credentials: elsewhere }), signers, [release]), rejectsWith('E_S3_ACCESS_DENIED', 'input'));

  assert.deepEqual(await snapshotBucket(m.admin, bucket), before, 'no failed publish changed a single object');
});

test('a bucket that is not a provenant repository: E_REPO_NOT_INITIALIZED, nothing written', async (t) => {
  const m: MinioServer = await startMinio(t);
  const bucket = await m.createBucket();
  await m.admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'index.html', Body: '<html>a website</html>' }));
  await m.admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'simple/index.html', Body: '<html>another index</html>' }));
  const before = await snapshotBucket(m.admin, bucket);
  const keysDir = path.join(await tempDir(t), 'keys');
  await initRepository(m.storage(`s3://${bucket}/elsewhere`), undefined, { keysDir, binCount: 16 });
  const signers = keyStoreSignerSource(keysDir);
  await assert.rejects(
    publishReleases(m.storage(`s3://${bucket}`), signers, [makeRelease('datadog-postgres', '1.0.0')]),
    rejectsWith('E_REPO_NOT_INITIALIZED', 'not-found'),
  );
  const after = await snapshotBucket(m.admin, bucket);
  assert.deepEqual(new Map([...after].filter(([k]) => !k.startsWith('elsewhere/'))), before);
});

test('network cut mid-publish, at every write, before the request and after it landed: network error, consistent repository, rerun completes', async (t) => {
  const { m, bucket, signers, earlier } = await setUp(t);
  const proxy = await startTcpProxy(m.port);
  t.after(() => proxy.close());
  const trustedRoot = (await m.storage(`s3://${bucket}`).get('metadata/1.root.json'))!.bytes;
  const baseUrl = m.httpUrl(bucket, '');
  const clientDir = await tempDir(t);
  const viaProxy = () =>
    new S3Storage(`s3://${bucket}`, {
      region: MINIO_REGION,
      endpointUrl: `http://127.0.0.1:${proxy.port}`,
      credentials: m.credentials,
      requestTimeoutMs: 5000,
    });

  let version = 0;
  let cuts = 0;
  for (let k = 1; ; k++) {
    for (const how of ['cut', 'dropResponses'] as const) {
      const release = makeRelease('datadog-nginx', `1.${version++}.0`);
      const s3 = viaProxy();
      const storage = new FaultyStorage(s3, undefined, 'before', (n) => {
        if (n === k) proxy[how]();
      });
      let failed = false;
      try {
        await publishReleases(storage, signers, [release]);
      } catch (e) {
        failed = true;
        // After the commit point the failing step says the commit stands (index update, timestamp copy).
        rejectsWith(isProvenantError(e) && ['E_PUBLISH_INDEX', 'E_TIMESTAMP_COPY'].includes(e.code) ? e.code : 'E_S3_NETWORK', 'network')(e);
      } finally {
        proxy.restore();
        s3.close();
      }
      if (!failed) {
        // k is past the last write of a publish: every position has been cut.
        assert.ok(k > 5, 'a publish makes several writes');
        t.diagnostic(`network cut at each of ${k - 1} write positions, two ways (${cuts} failed publishes)`);
        return;
      }
      cuts++;
      const view = await clientView(baseUrl, trustedRoot, clientDir, [earlier, release]);
      assert.ok(view.inTuf.has(releaseId(earlier)), `cut (${how}) at write ${k}: the earlier release still verifies`);
      for (const id of view.inIndex) assert.ok(view.inTuf.has(id), `cut (${how}) at write ${k}: index not ahead of TUF`);
      await publishReleases(m.storage(`s3://${bucket}`), signers, [release]);
      const healed = await clientView(baseUrl, trustedRoot, clientDir, [earlier, release]);
      assert.ok(healed.inTuf.has(releaseId(release)) && healed.inIndex.has(releaseId(release)), `cut (${how}) at write ${k}: the rerun publishes`);
    }
  }
});
