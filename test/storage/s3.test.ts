import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isProvenantError, type ProvenantError } from '../../src/errors.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { parseS3Url, S3Storage } from '../../src/storage/s3.ts';
import { freePort, type MinioServer, startMinio } from '../helpers/minio.ts';
import { storageContract } from './contract.ts';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});
let started: Promise<MinioServer> | undefined;
function minio(): Promise<MinioServer> {
  started ??= startMinio({ after: (fn) => cleanups.push(fn) });
  return started;
}

storageContract('S3 on MinIO (bucket root)', async () => {
  const m = await minio();
  return m.storage(`s3://${await m.createBucket()}`);
});

storageContract('S3 on MinIO (key prefix)', async () => {
  const m = await minio();
  const bucket = await m.createBucket();
  // An object just outside the prefix must stay invisible to the repository.
  await m.admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'releases/stablex/metadata/1.root.json', Body: 'x' }));
  await m.admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/metadata/timestamp.json', Body: 'x' }));
  return m.storage(`s3://${bucket}/releases/stable/`);
});

const enc = (s: string) => new TextEncoder().encode(s);

function expectCode(code: string, exitClass?: string) {
  return (e: unknown) => {
    assert.ok(isProvenantError(e), `expected ProvenantError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (exitClass) assert.equal(e.exitClass, exitClass);
    return true;
  };
}

describe('S3 storage specifics', () => {
  test('s3:// locations parse into bucket and prefix; malformed ones are usage errors', () => {
    assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my-bucket/'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b' });
    for (const bad of ['s3://', 's3://UPPER', 's3://a', 's3://b_c/x', 's3://bucket/../x', 's3://bucket/a//b']) {
      assert.throws(() => parseS3Url(bad), expectCode('E_S3_LOCATION', 'usage'), bad);
    }
  });

  test('Content-Type and Cache-Control are stored per object kind and served over HTTP', async () => {
    const m = await minio();
    const bucket = await m.createBucket();
    await m.makePublicRead(bucket);
    const s = m.storage(`s3://${bucket}/repo`);
    const keys = [
      'metadata/timestamp.json',
      'metadata/3.snapshot.json',
      'metadata/1.root.json',
      'simple/index.html',
      'simple/datadog-postgres/index.html',
      'simple/datadog-postgres/index.json',
      'simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl',
      'simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl.metadata',
      `pointers/datadog-postgres/${'a'.repeat(64)}.datadog-postgres-23.2.0.pointer`,
      'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json',
    ];
    for (const [i, key] of keys.entries()) {
      const p = objectPropsFor(key);
      if (i % 3 === 0) await s.put(key, enc(key), p);
      else if (i % 3 === 1) await s.putImmutable(key, enc(key), p);
      else await s.putIfMatch(key, enc(key), p, undefined);
      const head = await m.admin.send(new HeadObjectCommand({ Bucket: bucket, Key: `repo/${key}` }));
      assert.equal(head.ContentType, p.contentType, key);
      assert.equal(head.CacheControl, p.cacheControl, key);
      // What pip, tuf-js and a CDN see: anonymous HTTP against the public-read bucket.
      const res = await fetch(m.httpUrl(bucket, `repo/${key}`));
      assert.equal(res.status, 200, key);
      assert.equal(res.headers.get('content-type'), p.contentType, key);
      assert.equal(res.headers.get('cache-control'), p.cacheControl, key);
      assert.equal(await res.text(), key);
    }
    assert.match(objectPropsFor('metadata/timestamp.json').cacheControl!, /max-age=60\b/);
    assert.match(objectPropsFor('metadata/3.snapshot.json').cacheControl!, /immutable/);
    assert.equal(objectPropsFor('simple/x/index.json').contentType, 'application/vnd.pypi.simple.v1+json');
  });

  test('stream: an object read chunk by chunk, undefined when missing, errors mapped like get', async () => {
    const m = await minio();
    const bucket = await m.createBucket();
    const s = m.storage(`s3://${bucket}/p`);
    const big = new Uint8Array(3 << 20).map((_, i) => (i * 7) % 251);
    await s.putImmutable('simple/x/x-1-py3-none-any.whl', big, objectPropsFor('simple/x/x-1-py3-none-any.whl'));
    const st = await s.stream('simple/x/x-1-py3-none-any.whl');
    assert.ok(st);
    assert.equal(st.declaredLength, big.byteLength);
    const parts: Uint8Array[] = [];
    for await (const c of st.chunks) parts.push(c);
    assert.ok(parts.length > 1, 'the body arrives in several chunks, not one buffer');
    assert.deepEqual(Buffer.concat(parts), Buffer.from(big));
    assert.equal(await s.stream('simple/x/missing.whl'), undefined);
    const cancelled = await s.stream('simple/x/x-1-py3-none-any.whl');
    cancelled!.cancel();
    await assert.rejects(m.storage('s3://no-such-bucket').stream('a/b'), expectCode('E_S3_NO_BUCKET'));
  });

  test('wrong credentials: E_S3_CREDENTIALS, and nothing is written', async () => {
    const m = await minio();
    const bucket = await m.createBucket();
    const s = m.storage(`s3://${bucket}`, { credentials: { accessKeyId: m.credentials.accessKeyId, secretAccessKey: 'wrong-secret-key' } });
    await assert.rejects(s.get('metadata/timestamp.json'), expectCode('E_S3_CREDENTIALS', 'input'));
    await assert.rejects(s.putImmutable('a/b', enc('x'), objectPropsFor('a/b')), expectCode('E_S3_CREDENTIALS', 'input'));
    const unknown = m.storage(`s3://${bucket}`, { credentials: { accessKeyId: 'nobody', secretAccessKey: 'nothing-at-all' } });
    await assert.rejects(unknown.list(''), expectCode('E_S3_CREDENTIALS'));
    assert.deepEqual(await m.storage(`s3://${bucket}`).list(''), []);
  });

  test('missing bucket: E_S3_NO_BUCKET for reads, writes and listing', async () => {
    const m = await minio();
    const s = m.storage('s3://no-such-bucket-here');
    await assert.rejects(s.get('metadata/timestamp.json'), expectCode('E_S3_NO_BUCKET', 'not-found'));
    await assert.rejects(s.list('metadata/'), expectCode('E_S3_NO_BUCKET', 'not-found'));
    await assert.rejects(s.putImmutable('x/y', enc('x'), objectPropsFor('x/y')), expectCode('E_S3_NO_BUCKET'));
    await assert.rejects(s.putIfMatch('x/y', enc('x'), objectPropsFor('x/y'), undefined), expectCode('E_S3_NO_BUCKET'));
  });

  test('read-only credentials (IAM session policy): reads work, every write is E_S3_ACCESS_DENIED', async () => {
    const m = await minio();
    const bucket = await m.createBucket();
    await m.storage(`s3://${bucket}`).put('metadata/timestamp.json', enc('v1'), objectPropsFor('metadata/timestamp.json'));
    const readOnly = await m.restrictedCredentials({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] },
        { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] },
      ],
    });
    const s = m.storage(`s3://${bucket}`, { credentials: readOnly });
    assert.equal(new TextDecoder().decode((await s.get('metadata/timestamp.json'))!.bytes), 'v1');
    assert.deepEqual(await s.list(''), ['metadata/timestamp.json']);
    const denied = (e: unknown) => {
      expectCode('E_S3_ACCESS_DENIED', 'input')(e);
      assert.match((e as ProvenantError).hint ?? '', /s3:PutObject/);
      return true;
    };
    await assert.rejects(s.putImmutable('pointers/a/b', enc('x'), objectPropsFor('pointers/a/b')), denied);
    await assert.rejects(s.putIfMatch('metadata/timestamp.json', enc('v2'), objectPropsFor('metadata/timestamp.json'), 'x'), denied);
    await assert.rejects(s.put('simple/index.html', enc('x'), objectPropsFor('simple/index.html')), denied);
    const noList = await m.restrictedCredentials({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
    });
    await assert.rejects(m.storage(`s3://${bucket}`, { credentials: noList }).list(''), expectCode('E_S3_ACCESS_DENIED'));
  });

  test('unreachable endpoint: E_S3_NETWORK with exit class network, within seconds', async () => {
    const port = await freePort();
    const s = new S3Storage('s3://some-bucket', {
      region: 'us-east-1',
      endpointUrl: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 2,
    });
    cleanups.push(() => s.close());
    const t0 = Date.now();
    await assert.rejects(s.get('metadata/timestamp.json'), expectCode('E_S3_NETWORK', 'network'));
    await assert.rejects(s.putImmutable('a/b', enc('x'), objectPropsFor('a/b')), expectCode('E_S3_NETWORK', 'network'));
    assert.ok(Date.now() - t0 < 20_000);
  });

  test('no credentials anywhere in the SDK chain: E_S3_CREDENTIALS naming the ways to provide them', async () => {
    const m = await minio();
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: '/nonexistent/provenant-test-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/provenant-test-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const s = new S3Storage(`s3://${await m.createBucket()}`, { region: 'us-east-1', endpointUrl: m.endpoint });
      cleanups.push(() => s.close());
      await assert.rejects(s.get('metadata/timestamp.json'), (e) => {
        expectCode('E_S3_CREDENTIALS', 'input')(e);
        assert.match((e as ProvenantError).hint ?? '', /AWS_ACCESS_KEY_ID/);
        return true;
      });
    } finally {
      process.env = saved;
    }
  });

  test('no region anywhere: E_S3_REGION naming --region', async () => {
    const saved = { ...process.env };
    for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[k];
    process.env.AWS_CONFIG_FILE = '/nonexistent/provenant-test-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/provenant-test-credentials';
    try {
      const s = new S3Storage('s3://some-bucket', { credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      cleanups.push(() => s.close());
      await assert.rejects(s.get('metadata/timestamp.json'), (e) => {
        expectCode('E_S3_REGION', 'usage')(e);
        assert.equal((e as ProvenantError).field, '--region');
        return true;
      });
    } finally {
      process.env = saved;
    }
  });
});
