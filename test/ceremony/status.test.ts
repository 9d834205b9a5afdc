import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { ProposalStatus } from '../../src/app/ceremony-status.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { ok, repoFlags } from './helpers.ts';

test('repo status lists the proposals directory: pending (with the signatures missing), published, stale', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const status = async () => (JSON.parse(await ok(fx, 'repo', 'status', ...flags, '--json')) as { proposals: ProposalStatus[] }).proposals;
  assert.deepEqual(await status(), []);

  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const [pending] = await status();
  assert.equal(pending!.state, 'pending');
  assert.ok(pending!.detail.includes('root role: threshold 1 -> 2'), pending!.detail.join('\n'));
  assert.ok(pending!.detail.some((d) => /root role of the new root \(v2\): 0 of 2 signed \(missing 2 of: .*\(root\).*\(root-2\)\)/.test(d)), pending!.detail.join('\n'));
  assert.match(await ok(fx, 'repo', 'status', ...flags), /proposal {3}.*root-v2\.json: root pending/);

  // A second proposal on the same base goes stale once the first is published.
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--expires', '300d', '--out', 'proposals/root-expiry.json');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  for (const k of ['root', 'root-2']) await ok(fx, 'repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, `${k}.pem`), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', file, ...flags);
  const after = Object.fromEntries((await status()).map((p) => [path.basename(p.file), p.state]));
  assert.deepEqual(after, { 'root-expiry.json': 'stale', 'root-v2.json': 'published' });
});
