import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishProposal } from '../../src/app/ceremony-publish.ts';
import { publishTrustTargets } from '../../src/app/trust-targets.ts';
import { renderPolicy, parsePolicy } from '../../src/policy/policy.ts';
import type { FsStorage } from '../../src/storage/fs.ts';
import { keyStoreSignerSource, type SignerSource } from '../../src/tuf/signer-source.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { hosts, ok, refused, release, repoFlags } from './helpers.ts';

/** The key store, dying at `step` (as a publisher killed right after its commit). */
function dyingAt(keysDir: string, step: 'trustSettings' | 'trustRoot'): SignerSource {
  const source = keyStoreSignerSource(keysDir, {});
  return { ...source, [step]: () => Promise.reject(new Error(`killed before ${step}`)) };
}

for (const step of ['trustSettings', 'trustRoot'] as const) {
  test(`a ceremony publish killed after its commit, before ${step}: publishing the same proposal again finishes it (key store root and settings follow), and releases publish again`, async (t) => {
    const fx = await repoFixture(t, { binCount: 2 });
    const flags = repoFlags(fx);
    await ok(fx, 'repo', 'root', 'propose', ...flags, '--online-key', 'new');
    const p = path.join(fx.dir, 'proposals/root-v2.json');
    await ok(fx, 'repo', 'root', 'sign', p, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
    await ok(fx, 'repo', 'targets', 'sign', p, '--key', path.join(fx.keysDir, 'targets.pem'), '--yes', ...flags);
    await assert.rejects(publishProposal(fx.storage, dyingAt(fx.keysDir, step), p), new RegExp(`killed before ${step}`));
    if (step === 'trustSettings') {
      // Committed, settings behind: every publisher stops, naming the mismatch.
      await assert.rejects(release(fx, 'datadog-postgres', '1.0.0'), /E_REPO_CONFIG_MISMATCH|disagrees with the signed metadata/);
    }
    const again = JSON.parse(await ok(fx, 'repo', 'root', 'publish', p, ...flags, '--json')) as { metadataWritten: string[] };
    assert.deepEqual(again.metadataWritten, []);
    assert.deepEqual(await readFile(path.join(fx.keysDir, 'root.json')), await readFile(path.join(fx.repoDir, 'metadata/2.root.json')));
    await release(fx, 'datadog-postgres', '1.0.1');
    await refused(fx, 'E_PROPOSAL_STALE', 'repo', 'root', 'sign', p, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  });
}

/** The repository, failing the commit point (as a publisher killed just before its compare-and-swap). */
function dyingAtCommit(storage: FsStorage): FsStorage {
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'putIfMatch') return () => Promise.reject(new Error('killed before the commit'));
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

test('an online-key rotation killed after writing the new root but before its commit (hosts see the new root, the timestamp is still the old key\'s): publishing the same proposal again commits it, and every host follows', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  await release(fx, 'datadog-postgres', '1.0.0');
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--online-key', 'new');
  const p = path.join(fx.dir, 'proposals/root-v2.json');
  await ok(fx, 'repo', 'root', 'sign', p, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'sign', p, '--key', path.join(fx.keysDir, 'targets.pem'), '--yes', ...flags);
  await assert.rejects(publishProposal(dyingAtCommit(fx.storage), keyStoreSignerSource(fx.keysDir, {}), p), /killed before the commit/);
  assert.ok(existsSync(path.join(fx.repoDir, 'metadata/2.root.json')));
  await assert.rejects(h.provenant('datadog-postgres', '1.0.0'));
  await ok(fx, 'repo', 'root', 'publish', p, ...flags);
  await release(fx, 'datadog-postgres', '1.1.0');
  await h.verify('datadog-postgres', '1.1.0');
});

test('a targets proposal above a leftover targets version (a targets publish killed before its commit) gets the version the writer will use, and publishes', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await assert.rejects(publishTrustTargets(dyingAtCommit(fx.storage), keyStoreSignerSource(fx.keysDir, {}), undefined, { policy: await policyBytes(fx) }), /killed before the commit/);
  assert.ok(existsSync(path.join(fx.repoDir, 'metadata/2.targets.json')));
  await ok(fx, 'repo', 'targets', 'propose', ...flags, '--expires', '100d');
  const p = path.join(fx.dir, 'proposals/targets-v3.json');
  await ok(fx, 'repo', 'targets', 'sign', p, '--key', path.join(fx.keysDir, 'targets.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'publish', p, ...flags);
  await release(fx, 'datadog-postgres', '1.0.0');
  await hosts(fx, () => fx.repoDir).provenant('datadog-postgres', '1.0.0');
});

/** The published policy with one more allowed ref: new bytes for the targets role to sign. */
async function policyBytes(fx: RepoFixture): Promise<Uint8Array> {
  const policy = parsePolicy(new TextEncoder().encode(await ok(fx, 'repo', 'policy', 'show', ...repoFlags(fx))), 'policy');
  return renderPolicy({ ...policy, provenance: { ...policy.provenance, refs: ['refs/heads/master'] } });
}
