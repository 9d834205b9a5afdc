// A key store writer (or a mistaken `sign --key`) signs attestations with a key the repository's
// policy does not list. Hosts would refuse the release, and releases are immutable, so publishing
// it would burn the version: `publish` and `release` refuse before anything is written.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { BUNDLED_ROOT } from '../../src/app/workspace.ts';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { tempDir } from '../helpers/peers.ts';
import { treeHash } from '../publish/fixtures.ts';

const ENV = { PATH: process.env.PATH, SOURCE_DATE_EPOCH: '1700000000' };

async function run(args: string[], cwd: string) {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  const code = await main(args, o as Output, ENV, cwd);
  return { code, out: o.out, err: o.err };
}

test('an attestation signed by a key the policy does not list is refused by publish (E_RELEASE_IDENTITY_REFUSED), nothing written', async (t) => {
  const dir = await tempDir(t);
  const ints = path.join(dir, 'integrations');
  await cp(BUNDLED_ROOT, ints, { recursive: true, filter: (src) => path.basename(src) !== 'dist' });
  assert.equal((await run(['repo', 'init', '--bins', '16'], dir)).code, 0);
  assert.equal((await run(['build', 'redisdb', '--integrations-dir', ints], dir)).code, 0);

  const rogue = path.join(dir, 'rogue.pem');
  await writeFile(rogue, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const signed = await run(['sign', 'redisdb', '--integrations-dir', ints, '--key', rogue], dir);
  assert.equal(signed.code, 0, signed.err);

  const repo = path.join(dir, 'repository');
  const before = await treeHash(repo);
  const published = await run(['publish', 'redisdb', '--integrations-dir', ints, '--json'], dir);
  assert.equal(published.code, 5, published.err);
  assert.match(published.err, /E_RELEASE_IDENTITY_REFUSED/);
  assert.match(published.err, /E_ATTESTATION_(KEY_UNTRUSTED|SIGNATURE)/, 'the cause names the check hosts would fail');
  assert.equal(await treeHash(repo), before, 'nothing was written to the repository');

  // Signed again with the key store's attestation key, the same release publishes.
  assert.equal((await run(['sign', 'redisdb', '--integrations-dir', ints], dir)).code, 0);
  const ok = await run(['publish', 'redisdb', '--integrations-dir', ints], dir);
  assert.equal(ok.code, 0, ok.err);
  assert.ok((await readFile(path.join(repo, 'metadata', 'timestamp.json'))).length > 0);
});
