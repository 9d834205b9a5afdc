import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createKey, readKeyIndex } from '../../src/signers/key-store.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { hosts, ok, release, repoFlags } from './helpers.ts';

test('an online key given by reference (a PEM file kept outside the key store) is recorded in keys.json by propose and signs snapshot, timestamp and bins after publish', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const elsewhere = path.join(fx.dir, 'ci-secrets');
  const made = await createKey(elsewhere, 'ci-online', { type: 'ecdsa', roles: [] });
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--online-key', path.join('ci-secrets', 'ci-online.pem'));
  const entry = Object.entries((await readKeyIndex(fx.keysDir)).keys).find(([, e]) => e.keyid === made.keyid);
  assert.ok(entry, 'the new online key is recorded in keys.json');
  assert.equal(entry[1].ref, path.join(elsewhere, 'ci-online.pem'));
  const p = path.join(fx.dir, 'proposals/root-v2.json');
  await ok(fx, 'repo', 'root', 'sign', p, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'sign', p, '--key', path.join(fx.keysDir, 'targets.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', p, ...flags);
  await release(fx, 'datadog-postgres', '2.0.0');
  const status = JSON.parse(await ok(fx, 'repo', 'status', ...flags, '--json')) as { roles: { role: string; keyids: string[] }[] };
  assert.deepEqual(status.roles.find((r) => r.role === 'timestamp')!.keyids, [made.keyid]);
  await hosts(fx, () => fx.repoDir).provenant('datadog-postgres', '2.0.0');
});
