import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Targets } from '@tufjs/models';
import { reattestReleases } from '../../src/app/reattest.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { ProvenantError } from '../../src/errors.ts';
import { succinctRolesOf } from '../../src/tuf/changes.ts';
import { loadBin, loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges } from '../../src/tuf/writer.ts';
import { publish, repoFixture, signedRelease } from '../download/helpers/fixture.ts';

/**
 * `repo reattest` reads the published pointer as hosts do: pinned by every hash its bin lists.
 * With the online key alone, a bin entry whose sha512 the pointer does not match makes every host
 * refuse that release; reattest must not re-sign and republish it as if it were fine (it reads
 * the pointer through readTarget; publish's own read of the published pointer refuses it too).
 */
test('attack (online key): reattest refuses a pointer whose bin entry lists a sha512 it does not match (E_TARGET_DIGEST), publishing nothing', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const state = await loadTrustedState(fx.storage);
  const path = pointerTargetPath('datadog-demo', '1.0.0');
  const name = succinctRolesOf(state.targets.signed).getRoleForTarget(path);
  const json = (await loadBin(fx.storage, state, name)).signed.toJSON() as { version: number; targets: Record<string, { hashes: Record<string, string> }> };
  json.targets[path]!.hashes.sha512 = 'ab'.repeat(64);
  json.version += 1;
  const online = [fx.online];
  await commitChanges(fx.storage, state, { root: [], targets: [], bins: online, snapshot: online, timestamp: online }, { bins: new Map([[name, Targets.fromJSON(json as never)]]) }, new Date());
  const before = (await fx.storage.get('metadata/timestamp.json'))!.bytes;
  await assert.rejects(
    reattestReleases(fx.storage, fx.signers, { releases: [{ project: 'datadog-demo', version: '1.0.0' }], attestationSigners: [fx.attestation] }),
    (e: unknown) => e instanceof ProvenantError && e.code === 'E_TARGET_DIGEST',
  );
  assert.deepEqual((await fx.storage.get('metadata/timestamp.json'))!.bytes, before);
});
