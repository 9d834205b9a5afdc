import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isProvenantError } from '../../src/errors.ts';
import { readAll } from '../../src/net/fetcher.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { S3Fetcher } from '../../src/storage/s3-fetcher.ts';
import { MINIO_REGION, startMinio } from '../helpers/minio.ts';

test('S3Fetcher on MinIO: s3:// URLs joined like http ones, streamed, capped, missing = E_NET_NOT_FOUND', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  const s = m.storage(`s3://${bucket}/repo`);
  const wheel = new Uint8Array(2 << 20).map((_, i) => i % 253);
  await s.putImmutable('simple/p/p-1.0-py3-none-any.whl', wheel, objectPropsFor('simple/p/p-1.0-py3-none-any.whl'));
  await s.put('metadata/timestamp.json', new TextEncoder().encode('{"signed":{}}'), objectPropsFor('metadata/timestamp.json'));

  const f = new S3Fetcher({ region: MINIO_REGION, endpointUrl: m.endpoint, credentials: m.credentials });
  t.after(() => f.close());
  const base = `s3://${bucket}/repo/`;
  const url = new URL('simple/p/p-1.0-py3-none-any.whl', base).href;
  assert.equal(url, `s3://${bucket}/repo/simple/p/p-1.0-py3-none-any.whl`);
  const body = await f.open(url, { maxLength: wheel.byteLength });
  assert.equal(body.declaredLength, wheel.byteLength);
  const parts: Uint8Array[] = [];
  for await (const c of body.chunks) parts.push(c);
  assert.deepEqual(Buffer.concat(parts), Buffer.from(wheel));
  assert.equal((await readAll(f, new URL('metadata/timestamp.json', base).href, 1000)).toString(), '{"signed":{}}');
  assert.equal(f.stats.requests, 2);
  assert.equal(f.stats.bytes, wheel.byteLength + 13);

  const code = (c: string) => (e: unknown) => isProvenantError(e) && e.code === c;
  await assert.rejects(f.open(new URL('metadata/2.root.json', base).href), code('E_NET_NOT_FOUND'));
  await assert.rejects(f.open(url, { maxLength: 1000 }), code('E_LENGTH_EXCEEDED'));
  await assert.rejects(f.open('s3://no-such-bucket/metadata/timestamp.json'), code('E_S3_NO_BUCKET'));
  const anonymous = new S3Fetcher({ region: MINIO_REGION, endpointUrl: m.endpoint, credentials: { accessKeyId: 'nobody', secretAccessKey: 'nothing' } });
  t.after(() => anonymous.close());
  await assert.rejects(anonymous.open(url), code('E_S3_CREDENTIALS'));
});
