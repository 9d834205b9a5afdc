import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository } from '../../src/app/repo.ts';
import { RecordingStorage } from '../../src/storage/recording.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { startMinio } from '../helpers/minio.ts';
import { tempDir } from '../helpers/peers.ts';
import { snapshotBucket } from './checks.ts';
import { makeRelease } from './fixtures.ts';

test('a dry-run publish to S3 makes no write request: it succeeds with read-only credentials and plans every object', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  const keysDir = path.join(await tempDir(t), 'keys');
  await initRepository(m.storage(`s3://${bucket}/repo`), undefined, { keysDir, binCount: 16 });
  const before = await snapshotBucket(m.admin, bucket);
  // Any PutObject with these credentials is refused (E_S3_ACCESS_DENIED), so success proves none was sent.
  const readOnly = await m.restrictedCredentials({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] },
    ],
  });
  const dry = new RecordingStorage(m.storage(`s3://${bucket}/repo`, { credentials: readOnly }), { dryRun: true });
  const res = await publishReleases(dry, keyStoreSignerSource(keysDir), [makeRelease('datadog-postgres', '23.2.0')]);
  assert.equal(res.committed, true, 'the protocol ran to its commit point, in memory');
  const planned = new Map(dry.plan.map((w) => [w.key, w]));
  assert.equal(planned.get('simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl')?.contentType, 'application/octet-stream');
  assert.equal(planned.get('metadata/timestamp.json')?.kind, 'replace');
  assert.equal(planned.get('simple/datadog-postgres/index.json')?.contentType, 'application/vnd.pypi.simple.v1+json');
  assert.deepEqual(await snapshotBucket(m.admin, bucket), before, 'the bucket is unchanged');
});
