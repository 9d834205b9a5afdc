import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { isProvenantError } from '../../src/errors.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { openStorage } from '../../src/storage/open.ts';
import { S3Storage } from '../../src/storage/s3.ts';

test('openStorage: s3:// is S3 (endpoint from AWS_ENDPOINT_URL_S3), paths are directories, other URLs are refused', () => {
  const s = openStorage('s3://bucket-x/pre/', { region: 'eu-north-1', env: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' } });
  assert.ok(s instanceof S3Storage);
  assert.equal(s.location, 's3://bucket-x/pre');
  assert.equal(s.prefix, 'pre');
  s.close();

  const d = openStorage('repo', { cwd: '/tmp/somewhere' });
  assert.ok(d instanceof FsStorage);
  assert.equal(d.location, path.resolve('/tmp/somewhere/repo'));

  for (const bad of ['https://example.org/repo', 'gs://bucket']) {
    assert.throws(
      () => openStorage(bad),
      (e) => isProvenantError(e) && e.code === 'E_STORAGE_LOCATION' && e.exitClass === 'usage' && e.field === '--repository',
    );
  }
  assert.throws(() => openStorage('s3://Bad_Bucket'), (e) => isProvenantError(e) && e.code === 'E_S3_LOCATION');
});
