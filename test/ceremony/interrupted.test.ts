import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishProposal } from '../../src/app/ceremony-publish.ts';
import { keyStoreSignerSource, type SignerSource } from '../../src/tuf/signer-source.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { ok, refused, release, repoFlags } from './helpers.ts';

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
