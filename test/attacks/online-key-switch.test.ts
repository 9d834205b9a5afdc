import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Release } from '../../src/app/publish.ts';
import { parsePointer, renderPointer } from '../../src/formats/pointer.ts';
import { Targets } from '@tufjs/models';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { succinctRolesOf } from '../../src/tuf/changes.ts';
import { loadBin, loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges } from '../../src/tuf/writer.ts';
import { forgeWithOnlineKey, pointerTo, publish, publishPolicy, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { serveRepository } from '../download/helpers/servers.ts';

/*
 * Holding only the online key, an attacker re-signs a published release's pointer so that it pins
 * another wheel that a genuine attestation binds to the same release: a second build of the same
 * version (rebuilds, CI re-runs and build tags all make one), or the wheel of a PEP 440-equal
 * release published under another spelling (1.0 and 1.0.0). The wheel-to-pointer binding accepts
 * both, since each is attested for that project and version. A release never changes once
 * published (E_RELEASE_IMMUTABLE), so a host that installed it remembers which wheel it was, and
 * refuses a pointer that now pins another: E_RELEASE_CHANGED, before any wheel byte is fetched.
 */

const DEMO = 'datadog-demo';
const enc = (s: string) => new TextEncoder().encode(s);

/** Uploads `other`'s wheel under `dir/` (its own file name) and a pointer for `version` pinning it. */
async function pointerToWheelIn(fx: RepoFixture, other: Release, version: string, dir: string): Promise<Uint8Array> {
  const key = `simple/${DEMO}/${dir}/${other.wheel.fileName}`;
  await fx.storage.putImmutable(key, other.wheel.bytes, objectPropsFor(key));
  const attestationKey = `attestations/${DEMO}/${dir}/${other.attestation.fileName}`;
  await fx.storage.putImmutable(attestationKey, other.attestation.bytes, objectPropsFor(attestationKey));
  const p = parsePointer(new TextDecoder().decode(other.pointer), 'other');
  return enc(renderPointer({ ...p, version, uri: key, attestation: { ...p.attestation, uri: attestationKey } }));
}

const wheelRequests = (requests: string[]) => requests.filter((r) => r.endsWith('.whl'));

test('the online key switches an installed release to another attested build of the same version: E_RELEASE_CHANGED', async (t) => {
  const fx = await repoFixture(t);
  const first = await signedRelease(fx, DEMO, '2.0.0', { size: 4096 });
  const rebuilt = await signedRelease(fx, DEMO, '2.0.0', { size: 5000 });
  await publish(fx, [first]);
  const installed = await download(fx, fx.repoDir, DEMO);
  assert.equal(installed.wheel.length, 4096);

  await forgeWithOnlineKey(fx, [{ project: DEMO, version: '2.0.0', pointer: await pointerToWheelIn(fx, rebuilt, '2.0.0', 'rebuilt') }]);
  const err = await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_CHANGED', 'verification');
  assert.match(err.message, /^pointer schema: /);
  assert.match(err.message, /datadog_demo-2\.0\.0-py3-none-any\.whl/);
  assert.ok(err.file?.startsWith(path.join(fx.dir, 'state')), err.file);
  assert.match(err.hint ?? '', /provenant state forget /);
  // The same with the version named.
  await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_CHANGED', 'verification', { version: '2.0.0' });
  // A fresh host never installed it: to it the rebuilt wheel is simply 2.0.0, attested as such.
  const fresh = await download(fx, fx.repoDir, DEMO, { stateDir: path.join(fx.dir, 'fresh-state') });
  assert.equal(fresh.wheel.length, 5000);
});

test('the online key switches an installed 1.0 to the published 1.0.0 wheel (PEP 440-equal): E_RELEASE_CHANGED, nothing fetched', async (t) => {
  const fx = await repoFixture(t);
  const one = await signedRelease(fx, DEMO, '1.0');
  const oneZero = await signedRelease(fx, DEMO, '1.0.0', { size: 5000 });
  await publish(fx, [one, oneZero]);
  const server = await serveRepository(t, fx.repoDir);
  assert.equal((await download(fx, server.url, DEMO, { version: '1.0' })).wheel.fileName, 'datadog_demo-1.0-py3-none-any.whl');

  await forgeWithOnlineKey(fx, [{ project: DEMO, version: '1.0', pointer: pointerTo(oneZero, DEMO, '1.0') }]);
  const before = server.requests.length;
  await expectRefused(fx, server.url, DEMO, 'E_RELEASE_CHANGED', 'verification', { version: '1.0' });
  assert.deepEqual(wheelRequests(server.requests.slice(before)), []);
  // To a host, a PEP 440 version is one release (as for the binding): having installed 1.0, it
  // takes no other wheel for 1.0.0 either. A fresh host installs 1.0.0 as published.
  await expectRefused(fx, server.url, DEMO, 'E_RELEASE_CHANGED', 'verification', { version: '1.0.0' });
  const fresh = await download(fx, server.url, DEMO, { version: '1.0.0', stateDir: path.join(fx.dir, 'fresh-state') });
  assert.equal(fresh.wheel.fileName, 'datadog_demo-1.0.0-py3-none-any.whl');
});

/** The online key's other move: a release's pointer target taken out of its bin. */
async function withdrawWithOnlineKey(fx: RepoFixture, version: string): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const oldPath = pointerTargetPath(DEMO, version);
  const name = succinctRolesOf(state.targets.signed).getRoleForTarget(oldPath);
  const json = (await loadBin(fx.storage, state, name)).signed.toJSON() as { targets: Record<string, unknown> };
  delete json.targets[oldPath];
  const online = [fx.online];
  await commitChanges(fx.storage, state, { root: [], targets: [], bins: online, snapshot: online, timestamp: online }, { bins: new Map([[name, Targets.fromJSON(json as never)]]) }, new Date());
}

/** The release's pointer taken out of its bin and put in again under another spelling of its version. */
async function respellWithOnlineKey(fx: RepoFixture, from: string, to: string, pointer: Uint8Array): Promise<void> {
  await withdrawWithOnlineKey(fx, from);
  await forgeWithOnlineKey(fx, [{ project: DEMO, version: to, pointer }]);
}

test('the online key withdraws the release a host installed, so the newest left is older: E_RELEASE_WITHDRAWN; naming the older version still works', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0'), await signedRelease(fx, DEMO, '2.0.0'), await signedRelease(fx, DEMO, '3.0.0rc1')]);
  assert.equal((await download(fx, fx.repoDir, DEMO)).version, '2.0.0');
  assert.equal((await download(fx, fx.repoDir, DEMO, { pre: true })).version, '3.0.0rc1');
  await withdrawWithOnlineKey(fx, '2.0.0');
  const err = await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_WITHDRAWN', 'verification');
  assert.match(err.message, /^pointer target: datadog-demo 2\.0\.0, which this host installed, is no longer published/);
  assert.match(err.hint ?? '', /--version .*provenant state forget /);
  assert.equal((await download(fx, fx.repoDir, DEMO, { version: '1.0.0' })).version, '1.0.0');
  // A withdrawn pre-release matters only to those who take pre-releases.
  await withdrawWithOnlineKey(fx, '3.0.0rc1');
  await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_WITHDRAWN', 'verification', { pre: true });
  // A fresh host cannot know: it gets 1.0.0, the newest it is shown (inherent to an online bins key).
  assert.equal((await download(fx, fx.repoDir, DEMO, { stateDir: path.join(fx.dir, 'fresh-state') })).version, '1.0.0');
});

test('the switch under another spelling of the version (1.0 → v1.0, 1.00, 1.0.0): still E_RELEASE_CHANGED, asked by version or as the newest', async (t) => {
  for (const spelling of ['v1.0', '1.00', '1.0.0']) {
    const fx = await repoFixture(t);
    const first = await signedRelease(fx, DEMO, '1.0', { size: 4096 });
    const rebuilt = await signedRelease(fx, DEMO, '1.0', { size: 5000 });
    await publish(fx, [first]);
    assert.equal((await download(fx, fx.repoDir, DEMO)).wheel.length, 4096);
    await respellWithOnlineKey(fx, '1.0', spelling, await pointerToWheelIn(fx, rebuilt, spelling, 'rebuilt'));
    await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_CHANGED', 'verification');
    await expectRefused(fx, fx.repoDir, DEMO, 'E_RELEASE_CHANGED', 'verification', { version: '1.0' });
  }
});

test('what the host remembers: one file per installed release, written only by verified downloads', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0'), await signedRelease(fx, DEMO, '1.1.0')]);
  await publishPolicy(fx, { allowUnsafeDisableVerification: true });
  const r = await download(fx, fx.repoDir, DEMO, { version: '1.0.0' });
  await download(fx, fx.repoDir, DEMO, { version: '1.0.0' });
  await download(fx, fx.repoDir, DEMO, { version: '1.1.0', unsafeDisableVerification: true });
  const dir = path.join(r.stateDir, 'installed', DEMO);
  const files = await readdir(dir);
  assert.equal(files.length, 1, files.join());
  const record = JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8')) as unknown;
  assert.deepEqual(record, {
    project: DEMO,
    version: '1.0.0',
    target: 'pointers/datadog-demo/datadog-demo-1.0.0.pointer',
    wheel: { fileName: r.wheel.fileName, sha256: r.wheel.sha256, length: r.wheel.length },
  });
});

test('a record that is not readable fails closed (E_STATE_INVALID naming the file to delete); deleting it lets the download through', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
  const r = await download(fx, fx.repoDir, DEMO);
  const dir = path.join(r.stateDir, 'installed', DEMO);
  const [name] = await readdir(dir);
  const file = path.join(dir, name!);
  await writeFile(file, '{"target": 1');
  const err = await expectRefused(fx, fx.repoDir, DEMO, 'E_STATE_INVALID', 'input');
  assert.equal(err.file, file);
  assert.match(err.hint ?? '', new RegExp(`delete ${file.replaceAll('.', '\\.')}`));
  await rm(file);
  assert.equal((await download(fx, fx.repoDir, DEMO)).verified, true);
});
