import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/peers.ts';

// The download command's own modules are what a host pays for at start-up (docs/downloader-binary.md):
// opening a repository for writing (AWS SDK S3 client) and the key store (KMS, PKCS#11) are not among them.
test('`provenant download` loads neither the AWS SDK, the storage writers nor the key store', async () => {
  const mainModule = pathToFileURL(path.join(REPO_ROOT, 'src/cli/main.ts')).href;
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const { main } = await import(${JSON.stringify(mainModule)});
    const out = { stdout() {}, stderr() {}, interactive: false };
    const code = await main(['download', '--help'], out, {});
    console.log(JSON.stringify({ code, loaded }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  const { code, loaded } = JSON.parse(stdout) as { code: number; loaded: string[] };
  assert.equal(code, 0);
  assert.ok(loaded.some((u) => u.endsWith('/src/app/download.ts')), 'the download command was loaded');
  assert.deepEqual(
    loaded.filter((u) => /@aws-sdk|\/src\/signers\/|\/src\/storage\/(open|s3)\.ts/.test(u)),
    [],
  );
});
