import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { hosts, ok, release, repoFlags } from './helpers.ts';

test('targets ceremonies: `repo policy set` yields a targets proposal that the targets holder signs and anyone publishes (policy show then prints it); `repo targets propose --bins-key new` moves the bins to a new online key; hosts verify after each', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  const targetsKey = path.join(fx.keysDir, 'targets.pem');
  await release(fx, 'datadog-postgres', '1.0.0');

  const policy = JSON.parse(await ok(fx, 'repo', 'policy', 'show', ...flags)) as { provenance: { refs: string[] } };
  policy.provenance.refs = ['refs/heads/master'];
  await writeFile(path.join(fx.dir, 'policy.json'), JSON.stringify(policy, null, 2));
  const proposed = await ok(fx, 'repo', 'policy', 'set', 'policy.json', ...flags);
  assert.match(proposed, /target changed: policy\/attestation-policy\.json/);
  const p = path.join(fx.dir, 'proposals/targets-v2.json');
  await ok(fx, 'repo', 'targets', 'sign', p, '--key', targetsKey, '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'publish', p, ...flags);
  assert.deepEqual((JSON.parse(await ok(fx, 'repo', 'policy', 'show', ...flags)) as typeof policy).provenance.refs, ['refs/heads/master']);
  await release(fx, 'datadog-postgres', '1.1.0');
  await h.verify('datadog-postgres', '1.1.0');

  await ok(fx, 'repo', 'targets', 'propose', ...flags, '--bins-key', 'new');
  const p3 = path.join(fx.dir, 'proposals/targets-v3.json');
  const summary = (JSON.parse(await readFile(p3, 'utf8')) as { summary: string[] }).summary;
  assert.ok(summary.some((s) => /^bins delegation: key added [0-9a-f]{12}… \(online-2\)$/.test(s)), summary.join('\n'));
  await ok(fx, 'repo', 'targets', 'sign', p3, '--key', targetsKey, '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'publish', p3, ...flags);
  await release(fx, 'datadog-postgres', '1.2.0');
  await h.verify('datadog-postgres', '1.2.0');
  await h.verify('datadog-postgres', '1.0.0');
});
