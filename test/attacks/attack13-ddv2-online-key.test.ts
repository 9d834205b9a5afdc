import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Targets } from '@tufjs/models';
import { ddLatestTargetPath, ddPointerTargetPath, DDV2_ROLE } from '../../src/formats/datadog-v2.ts';
import { approvalTargetPath, rebuildTargetPath, targetObjectKey } from '../../src/formats/layout.ts';
import { loadBin, loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges } from '../../src/tuf/writer.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { openFetcher } from '../../src/net/open-fetcher.ts';
import { silentReporter } from '../../src/reporter.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { TufClient } from '../../src/verify/tuf-client.ts';
import { ddPointerFor, forgeWheelsmith } from '../datadog-v2/helpers.ts';

/*
 * Attacks of issue 13, capacity C: holding ONLY the online key (it signs `wheelsmith`, the
 * snapshot and the timestamp) of a datadog-v2 repository, or of a default one.
 */

const DEMO = 'datadog-demo';

/** The published bytes of `project` `version`'s pointer target (what latest.json may copy). */
async function publishedPointer(fx: RepoFixture, project: string, version: string): Promise<Uint8Array> {
  const state = await loadTrustedState(fx.storage);
  const role = await loadBin(fx.storage, state, DDV2_ROLE);
  const target = role.signed.targets[ddPointerTargetPath(project, version)]!;
  return readFile(path.join(fx.repoDir, targetObjectKey(target.path, target.hashes.sha256!, 'datadog-v2')));
}

test('attack C: the online key moves latest.json back to an older published release: E_LATEST_NOT_NEWEST, for a fresh host and one that installed the newer', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
  await publish(fx, [await signedRelease(fx, DEMO, '2.0.0')]);
  const srv = await startStaticServer(fx.repoDir, t);
  assert.equal((await download(fx, srv.url, DEMO)).version, '2.0.0');
  // latest.json now a byte copy of 1.0.0's genuine pointer: it "is a published version's pointer".
  await forgeWheelsmith(fx, [{ path: ddLatestTargetPath(DEMO), bytes: await publishedPointer(fx, DEMO, '1.0.0') }]);
  for (const stateDir of [path.join(fx.dir, 'state'), path.join(fx.dir, 'fresh-state')]) {
    const e = await expectRefused(fx, srv.url, DEMO, 'E_LATEST_NOT_NEWEST', 'verification', { stateDir });
    assert.match(e.message, /1\.0\.0.*2\.0\.0/, e.describe());
    assert.equal(e.file, ddLatestTargetPath(DEMO));
  }
  // An exact version is what the host asked for: unaffected.
  assert.equal((await download(fx, srv.url, DEMO, { version: '1.0.0' })).version, '1.0.0');
});

test('attack C: a latest.json that names a pre-release or a local version above the newest final one is refused too', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0'), await signedRelease(fx, DEMO, '2.0.0rc1'), await signedRelease(fx, DEMO, '1.0.0+local')]);
  const srv = await startStaticServer(fx.repoDir, t);
  assert.equal((await download(fx, srv.url, DEMO)).version, '1.0.0');
  for (const version of ['2.0.0rc1', '1.0.0+local']) {
    await forgeWheelsmith(fx, [{ path: ddLatestTargetPath(DEMO), bytes: await publishedPointer(fx, DEMO, version) }]);
    await expectRefused(fx, srv.url, DEMO, 'E_LATEST_NOT_NEWEST', 'verification', { stateDir: path.join(fx.dir, `state-${version}`) });
  }
});

test('attack C: the online key cannot switch the layout (top-level targets are the targets key\'s), in either direction', async (t) => {
  for (const layout of [undefined, 'datadog-v2'] as const) {
    const fx = await repoFixture(t, layout ? { layout } : {});
    await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
    const state = await loadTrustedState(fx.storage);
    const json = state.targets.signed.toJSON() as { delegations: Record<string, unknown> };
    // Default → datadog-v2: one delegation to wheelsmith; datadog-v2 → default: hashed bins.
    json.delegations = layout
      ? { keys: json.delegations.keys, succinct_roles: { keyids: Object.keys(json.delegations.keys as object), threshold: 1, bit_length: 4, name_prefix: 'bins' } }
      : { keys: json.delegations.keys, roles: [{ name: DDV2_ROLE, keyids: Object.keys(json.delegations.keys as object), threshold: 1, terminating: true, paths: ['wheelsmith/v1/*/*.json'] }] };
    const targets = Targets.fromJSON(json as never);
    const online = [fx.online];
    await commitChanges(fx.storage, state, { root: [], targets: online, bins: online, snapshot: online, timestamp: online }, { targets }, new Date());
    const e = await expectRefused(fx, fx.repoDir, DEMO, 'E_TUF_METADATA', 'verification', { stateDir: path.join(fx.dir, `state-${layout ?? 'default'}`) });
    assert.match(e.message, /targets/i, e.describe());
  }
});

test('attack C: approvals and rebuild VSAs the online key signs into wheelsmith are outside its paths: never found, never counted', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const release = await signedRelease(fx, DEMO, '1.0.0');
  await publish(fx, [release]);
  const keyId = fx.online.keyId;
  const misplaced = [approvalTargetPath(DEMO, '1.0.0', keyId), rebuildTargetPath(DEMO, '1.0.0', keyId), `wheelsmith/v1/${DEMO}/1.0.0/${keyId}.json`, 'policy/attestation-policy.json'];
  await forgeWheelsmith(fx, misplaced.map((p) => ({ path: p, bytes: ddPointerFor(release, {}) })));
  const srv = await startStaticServer(fx.repoDir, t);
  const tuf = await TufClient.open({ repositoryUrl: `${srv.url}/`, stateDir: path.join(fx.dir, 'probe-state'), rootFile: fx.rootFile, fetcher: await openFetcher(), reporter: silentReporter });
  await tuf.refresh();
  for (const p of misplaced.slice(0, 3)) assert.equal(await tuf.targetInfo(p), undefined, p);
  // The policy target is the targets role's own: still the genuine one, not wheelsmith's.
  const policy = await tuf.targetInfo('policy/attestation-policy.json');
  assert.ok(policy);
  assert.notEqual(policy.hashes.sha256, sha256Hex(ddPointerFor(release, {})));
  assert.equal((await download(fx, srv.url, DEMO)).version, '1.0.0');
});

/** A pointer JSON as anyone could write it, bypassing the renderer's schema. */
function rawPointer(release: Parameters<typeof ddPointerFor>[0], over: Record<string, unknown>): Uint8Array {
  const base = JSON.parse(new TextDecoder().decode(ddPointerFor(release, {}))) as Record<string, unknown>;
  return new TextEncoder().encode(JSON.stringify({ ...base, ...over }));
}

test('attack C: the online key re-signs a pointer to another project\'s wheel, or to a path outside the repository: refused before any wheel byte', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const demo = await signedRelease(fx, DEMO, '1.0.0');
  const other = await signedRelease(fx, 'datadog-other', '1.0.0');
  await publish(fx, [demo, other]);
  const srv = await startStaticServer(fx.repoDir, t);
  const cases: [name: string, bytes: Uint8Array, code: string][] = [
    ['another project\'s wheel and attestation, as published', ddPointerFor(other, {}), 'E_WHEEL_PROJECT_MISMATCH'],
    ['another project\'s wheel, this version\'s attestation', ddPointerFor(demo, { wheel_path: `/wheels/datadog-other/${other.wheel.fileName}`, digest: sha256Hex(other.wheel.bytes), length: other.wheel.bytes.byteLength }), 'E_WHEEL_PROJECT_MISMATCH'],
    ['another version in the pointer', ddPointerFor(demo, { version: '2.0.0' }), 'E_POINTER_MISMATCH'],
    ['a wheel path with ..', rawPointer(demo, { wheel_path: `/wheels/${DEMO}/x/../${demo.wheel.fileName}` }), 'E_POINTER_SCHEMA'],
    ['an attestation on another host', rawPointer(demo, { attestation_path: '//evil.example/a.json' }), 'E_POINTER_SCHEMA'],
  ];
  for (const [name, bytes, code] of cases) {
    await forgeWheelsmith(fx, [{ path: ddPointerTargetPath(DEMO, '1.0.0'), bytes }]);
    srv.requests.length = 0;
    const e = await expectRefused(fx, srv.url, DEMO, code, 'verification', { version: '1.0.0', stateDir: path.join(fx.dir, `state-${name.replace(/\W+/g, '-')}`) });
    assert.equal(e.file, ddPointerTargetPath(DEMO, '1.0.0'), `${name}: ${e.describe()}`);
    assert.deepEqual(srv.requests.filter((r) => r.path.endsWith('.whl')), [], name);
  }
});

test('attack C: the online key takes the newest release out of wheelsmith and points latest.json at the one before: a host that installed it refuses (E_RELEASE_WITHDRAWN)', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
  await publish(fx, [await signedRelease(fx, DEMO, '2.0.0')]);
  const srv = await startStaticServer(fx.repoDir, t);
  assert.equal((await download(fx, srv.url, DEMO)).version, '2.0.0');
  const oldPointer = await publishedPointer(fx, DEMO, '1.0.0');
  await forgeWheelsmith(fx, [{ path: ddLatestTargetPath(DEMO), bytes: oldPointer }]);
  // Then the 2.0.0 target itself removed, re-signed with the online key.
  const state = await loadTrustedState(fx.storage);
  const role = await loadBin(fx.storage, state, DDV2_ROLE);
  const json = role.signed.toJSON() as { version: number; targets: Record<string, unknown> };
  delete json.targets[ddPointerTargetPath(DEMO, '2.0.0')];
  json.version++;
  const online = [fx.online];
  await commitChanges(fx.storage, state, { root: [], targets: [], bins: online, snapshot: online, timestamp: online }, { bins: new Map([[DDV2_ROLE, Targets.fromJSON(json as never)]]) }, new Date());
  await expectRefused(fx, srv.url, DEMO, 'E_RELEASE_WITHDRAWN', 'verification');
});
