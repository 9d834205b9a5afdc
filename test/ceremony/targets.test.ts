import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { hosts, ok, refused, release, repoFlags } from './helpers.ts';

test('targets ceremonies: `repo policy set` yields a targets proposal that the targets holder signs and anyone publishes (policy show then prints it); `repo targets propose --bins-key new` moves the bins to a new online key; `repo root propose --targets-key new` replaces the targets key, which alone signs targets from then on; hosts verify after each', async (t) => {
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

  // The targets key replaced by a root ceremony: the NEW targets key signs the targets part.
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--targets-key', 'new');
  const p4 = path.join(fx.dir, 'proposals/root-v2.json');
  await ok(fx, 'repo', 'root', 'sign', p4, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  await refused(fx, 'E_PROPOSAL_KEY_NOT_IN_ROLE', 'repo', 'targets', 'sign', p4, '--key', targetsKey, '--yes', ...flags);
  await refused(fx, 'E_PROPOSAL_UNSIGNED', 'repo', 'root', 'publish', p4, ...flags);
  await ok(fx, 'repo', 'targets', 'sign', p4, '--key', path.join(fx.keysDir, 'targets-2.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', p4, ...flags);
  await release(fx, 'datadog-postgres', '1.3.0');
  await h.verify('datadog-postgres', '1.3.0');
  // From now on the new key signs targets: a policy change with it publishes, the old one may not sign.
  policy.provenance.refs = ['refs/heads/master', 'refs/tags/*'];
  await writeFile(path.join(fx.dir, 'policy.json'), JSON.stringify(policy, null, 2));
  await ok(fx, 'repo', 'policy', 'set', 'policy.json', ...flags, '--out', 'proposals/policy-2.json');
  await refused(fx, 'E_PROPOSAL_KEY_NOT_IN_ROLE', 'repo', 'targets', 'sign', 'proposals/policy-2.json', '--key', targetsKey, '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'sign', 'proposals/policy-2.json', '--key', path.join(fx.keysDir, 'targets-2.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'publish', 'proposals/policy-2.json', ...flags);
  await h.verify('datadog-postgres', '1.3.0');
});
