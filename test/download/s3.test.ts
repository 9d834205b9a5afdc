import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import type { FsStorage } from '../../src/storage/fs.ts';
import { credentialsInProcessEnv, startMinio } from '../helpers/minio.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
import { freshDest } from './helpers/run.ts';

/** Copies a published local repository into a bucket prefix, object for object. */
async function mirror(from: FsStorage, to: { put(key: string, bytes: Uint8Array, props: { contentType: string }): Promise<void> }) {
  for (const key of await from.list('')) await to.put(key, (await from.get(key))!.bytes, { contentType: 'application/octet-stream' });
}

test('s3:// repository (private bucket, credentials from the environment): verified download, and a tampered wheel refused', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  const fx = await repoFixture(t);
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [release]);
  const s3 = m.storage(`s3://${bucket}/integrations`);
  await mirror(fx.storage, s3);
  const env = credentialsInProcessEnv(m, t);
  const run = async () => {
    const out = { out: '', err: '', interactive: false, stdout: (s: string) => void (out.out += s), stderr: (s: string) => void (out.err += s) } satisfies Output & { out: string; err: string };
    const dest = await freshDest(fx);
    const code = await main(
      ['download', 'datadog-demo', '--repository', `s3://${bucket}/integrations`, '--endpoint-url', m.endpoint, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state'), '--dest', dest],
      out,
      env,
      fx.dir,
    );
    return { code, ...out, dest };
  };
  const ok = await run();
  assert.equal(ok.code, 0, ok.err);
  assert.equal(path.basename(ok.out.trim()), release.wheel.fileName);

  const wheelKey = `simple/datadog-demo/${release.wheel.fileName}`;
  const tampered = new Uint8Array(release.wheel.bytes);
  tampered[0] = tampered[0]! ^ 1;
  await s3.put(wheelKey, tampered, { contentType: 'application/zip' });
  const bad = await run();
  assert.equal(bad.code, 5, bad.err);
  assert.match(bad.err, /E_WHEEL_DIGEST/);
  assert.deepEqual(await readdir(bad.dest), []);
});
