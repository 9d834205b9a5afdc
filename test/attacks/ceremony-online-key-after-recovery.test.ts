import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Root } from '@tufjs/models';
import { keyIdOf } from '../../src/signers/key-file.ts';
import { metadataKey, serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { fastForward, HUGE, hosts, release, rotateOnlineKey } from '../ceremony/helpers.ts';

/**
 * The adversary keeps the online key that fast-forwarded the hosts, after the documented recovery
 * rotated it out (docs/ceremony.md): fast-forwarding again, a root of its own making (that names
 * its key for timestamp and snapshot again), or deleting the recovered root from the repository.
 * provenant download, tuf-js and python-tuf refuse each, and stay on the recovered root.
 */
test('attack: the rotated-out online key cannot fast-forward again, or move a host off the recovered root', async (t) => {
  const fx = await repoFixture(t, { binCount: 4 });
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  const meta = (k: string) => path.join(fx.repoDir, k);
  await release(fx, 'datadog-postgres', '1.0.0');
  await h.verify('datadog-postgres', '1.0.0');
  const honestTs = await readFile(meta('metadata/timestamp.json'));
  for (const k of await fastForward(fx)) await rm(meta(k));
  await writeFile(meta('metadata/timestamp.json'), honestTs);
  await rotateOnlineKey(fx);
  await release(fx, 'datadog-postgres', '1.2.0');
  await h.verify('datadog-postgres', '1.2.0');
  assert.deepEqual(await h.rootVersions(), [2, 2]);
  const refusedByAll = async (what: string) => {
    await assert.rejects(h.provenant('datadog-postgres', '1.2.0'), (e: Error & { code?: string }) => /^E_TUF_/.test(e.code ?? ''), `provenant: ${what}`);
    await assert.rejects(h.tufjs('datadog-postgres', '1.2.0'), /(timestamp|root) was signed by 0\/1 keys/, `tuf-js: ${what}`);
    await assert.rejects(h.python('datadog-postgres', '1.2.0'), /UnsignedMetadataError|signatures/, `python-tuf: ${what}`);
    assert.deepEqual(await h.rootVersions(), [2, 2], what);
  };

  // Fast-forward again with the old online key: its timestamp no longer verifies under root v2.
  const current = await readFile(meta('metadata/timestamp.json'));
  const planted = await fastForward(fx, fx.online, HUGE + 1);
  await refusedByAll('fast-forward by the old online key');
  for (const k of planted) await rm(meta(k));
  await writeFile(meta('metadata/timestamp.json'), current);
  await h.verify('datadog-postgres', '1.2.0');

  // A root v3 of its own: the old online key for timestamp and snapshot again, signed by that key only.
  const v2 = JSON.parse(await readFile(meta(metadataKey('root', 2)), 'utf8')) as { signed: Record<string, unknown> & { keys: Record<string, unknown>; roles: Record<string, { keyids: string[] }> } };
  const oldId = keyIdOf(fx.online.publicKey);
  v2.signed.version = 3;
  v2.signed.keys[oldId] = fx.online.publicKey;
  for (const role of ['timestamp', 'snapshot']) v2.signed.roles[role]!.keyids = [oldId];
  await writeFile(meta(metadataKey('root', 3)), serializeMetadata(await signMetadata(Root.fromJSON(v2.signed as Parameters<typeof Root.fromJSON>[0]), [fx.online], 'root')));
  await refusedByAll('a root v3 signed by the old online key');
  await rm(meta(metadataKey('root', 3)));

  // The recovered root deleted from the repository: hosts that hold it keep it and go on verifying;
  // the publisher, whose key store trusts it, refuses to publish over the rolled-back repository.
  await rm(meta(metadataKey('root', 2)));
  await h.verify('datadog-postgres', '1.2.0');
  assert.deepEqual(await h.rootVersions(), [2, 2]);
  await assert.rejects(release(fx, 'datadog-postgres', '1.3.0'), (e: Error & { code?: string }) => e.code === 'E_REPO_INCOMPLETE');
});
