import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ddLatestTargetPath, ddPointerTargetPath, ddWheelKey } from '../../src/formats/datadog-v2.ts';
import { ProvenantError } from '../../src/errors.ts';
import { groupByBin, targetFile } from '../../src/tuf/changes.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { publish, publishExamples, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { python } from '../helpers/peers.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { ddClient, ddPointerFor, forgeWheelsmith } from './helpers.ts';

test('every example, published in the datadog-v2 layout, is fetched by python-tuf with Datadog downloader settings over HTTP and installs; provenant download verifies each', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const published = await publishExamples(fx);
  assert.equal(published.length, 4);
  const srv = await startStaticServer(fx.repoDir, t);
  const wheels: string[] = [];
  for (const { project, version } of published) {
    const dist = path.join(fx.dir, 'integrations', project === 'datadog-checks-base' ? 'datadog_checks_base' : project.replace(/^datadog-/, ''), 'dist');
    const r = await ddClient(fx, srv.url, project, version);
    assert.equal(r.code, 0, r.err);
    assert.equal(sha256Hex(await readFile(r.path)), sha256Hex(await readFile(path.join(dist, path.basename(r.path)))));
    wheels.push(r.path);
    // The pointer was fetched hash-prefixed from targets/, the wheel from wheels/<project>/.
    const pointerAt = new RegExp(`^/targets/wheelsmith/v1/${project}/[0-9a-f]{64}\\.${version.replace(/\./g, '\\.')}\\.json$`);
    assert.ok(srv.requests.some((q) => pointerAt.test(q.path) && q.status === 200), `hash-prefixed ${project} ${version} pointer fetched`);
    assert.ok(srv.count(`/${ddWheelKey(project, path.basename(r.path))}`) >= 1);

    const v = await download(fx, srv.url, project, { version });
    assert.deepEqual(v.checks, [...CHECKS]);
    assert.equal(v.wheel.sha256, sha256Hex(await readFile(r.path)));
  }
  // Without a version both downloaders take latest.json, for every project with a final release
  // (nginx has only 8.1.0rc1: no latest.json, so Datadog's settings find no target).
  for (const { project, version } of published) {
    const latest = await ddClient(fx, srv.url, project);
    if (version.includes('rc')) {
      assert.equal(latest.code, 3, latest.err);
      await expectRefused(fx, srv.url, project, 'E_VERSION_UNKNOWN', 'not-found');
    } else {
      assert.equal(latest.code, 0, latest.err);
      assert.equal((await download(fx, srv.url, project)).version, version);
    }
  }
  const site = path.join(fx.dir, 'site');
  await python(['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-index', '--target', site, ...wheels]);
  const installed = (await readdir(site)).filter((f) => f.endsWith('.dist-info')).sort();
  assert.equal(installed.length, 4, installed.join());
});

test('latest.json moves only to a newer final release, and is a copy of that release\'s pointer', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '2.0.0rc1'), await signedRelease(fx, 'datadog-demo', '1.2.0')]);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.1.0')]);
  const role = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata', (await readdir(path.join(fx.repoDir, 'metadata'))).filter((f) => f.endsWith('.wheelsmith.json')).sort((a, b) => parseInt(b) - parseInt(a))[0]!), 'utf8')) as {
    signed: { targets: Record<string, { hashes: { sha256: string } }> };
  };
  const targets = role.signed.targets;
  assert.equal(targets[ddLatestTargetPath('datadog-demo')]!.hashes.sha256, targets[ddPointerTargetPath('datadog-demo', '1.2.0')]!.hashes.sha256);
  const srv = await startStaticServer(fx.repoDir, t);
  const dd = await ddClient(fx, srv.url, 'datadog-demo');
  assert.equal(dd.code, 0, dd.err);
  assert.equal(path.basename(dd.path), 'datadog_demo-1.2.0-py3-none-any.whl');
  assert.equal((await download(fx, srv.url, 'datadog-demo')).version, '1.2.0');
  assert.equal((await download(fx, srv.url, 'datadog-demo', { pre: true })).version, '2.0.0rc1');
});

/** provenant download and python-tuf with Datadog's settings both refuse datadog-demo 1.0.0. */
async function refusedByBoth(fx: RepoFixture, url: string, code: string, ddMessage: RegExp): Promise<void> {
  await expectRefused(fx, url, 'datadog-demo', code, 'verification', { version: '1.0.0' });
  const dd = await ddClient(fx, url, 'datadog-demo', '1.0.0');
  assert.equal(dd.code, 4, dd.err);
  assert.match(dd.err, ddMessage);
}

test('a wheel that differs from its pointer (digest, then length) is refused by provenant download and by Datadog downloader settings', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [release]);
  const srv = await startStaticServer(fx.repoDir, t);
  const wheelFile = path.join(fx.repoDir, ddWheelKey('datadog-demo', release.wheel.fileName));
  const flipped = Uint8Array.from(release.wheel.bytes);
  flipped[10] = flipped[10]! ^ 1;
  await writeFile(wheelFile, flipped);
  await refusedByBoth(fx, srv.url, 'E_WHEEL_DIGEST', /DIGEST MISMATCH/);
  await writeFile(wheelFile, Buffer.concat([release.wheel.bytes, Buffer.from('x')]));
  await refusedByBoth(fx, srv.url, 'E_WHEEL_LENGTH', /LENGTH MISMATCH/);
});

test('a pointer re-signed with the online key whose digest, then length, is not the wheel\'s is refused by both', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [release]);
  const srv = await startStaticServer(fx.repoDir, t);
  const target = ddPointerTargetPath('datadog-demo', '1.0.0');
  await forgeWheelsmith(fx, [{ path: target, bytes: ddPointerFor(release, { digest: sha256Hex(new TextEncoder().encode('another wheel')) }) }]);
  await refusedByBoth(fx, srv.url, 'E_WHEEL_DIGEST', /DIGEST MISMATCH/);
  await forgeWheelsmith(fx, [{ path: target, bytes: ddPointerFor(release, { length: release.wheel.bytes.byteLength - 1 }) }]);
  await refusedByBoth(fx, srv.url, 'E_WHEEL_LENGTH', /LENGTH MISMATCH/);
});

test('a target the wheelsmith role signs outside its delegated paths is ignored by python-tuf and provenant, and provenant never signs one', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [release]);
  // The online key tries to publish a pointer outside wheelsmith/v1/*/*.json (one directory deeper).
  const outside = 'wheelsmith/v1/datadog-demo/extra/9.0.0.json';
  const pointer = ddPointerFor(release, { version: '9.0.0' });
  await forgeWheelsmith(fx, [{ path: outside, bytes: pointer }]);
  const srv = await startStaticServer(fx.repoDir, t);
  const { stdout } = await python([
    '-c',
    `import sys, hashlib, pathlib
from tuf.ngclient import Updater
from tuf.ngclient.config import UpdaterConfig
meta = pathlib.Path(sys.argv[1]); meta.mkdir(parents=True)
(meta / 'root.json').write_bytes(pathlib.Path(sys.argv[2]).read_bytes())
u = Updater(metadata_dir=str(meta), metadata_base_url=sys.argv[3] + '/metadata/', target_base_url=sys.argv[3] + '/targets/', config=UpdaterConfig(prefix_targets_with_hash=True), bootstrap=None)
u.refresh()
print(u.get_targetinfo(sys.argv[4]), u.get_targetinfo(sys.argv[5]) is not None)`,
    path.join(fx.dir, 'py-meta'),
    fx.rootFile,
    srv.url,
    outside,
    ddPointerTargetPath('datadog-demo', '1.0.0'),
  ]);
  assert.equal(stdout.trim(), 'None True');
  // provenant lists the project's targets through the delegation: the outside one is not a release.
  await expectRefused(fx, srv.url, 'datadog-demo', 'E_VERSION_UNKNOWN', 'not-found', { version: '9.0.0' });
  assert.equal((await download(fx, srv.url, 'datadog-demo')).version, '1.0.0');
  // The publisher refuses to put a target where no delegated role may sign it.
  const state = await loadTrustedState(fx.storage);
  assert.throws(() => groupByBin(state.targets.signed, [targetFile(outside, pointer)]), (e: unknown) => e instanceof ProvenantError && e.code === 'E_REPO_LAYOUT');
});

test('a latest.json that is no published version\'s pointer is refused by provenant download', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publish(fx, [release]);
  const unknown = ddPointerFor(release, { version: '9.9.9' });
  await forgeWheelsmith(fx, [{ path: ddLatestTargetPath('datadog-demo'), bytes: unknown }]);
  const srv = await startStaticServer(fx.repoDir, t);
  await expectRefused(fx, srv.url, 'datadog-demo', 'E_LATEST_UNKNOWN_VERSION', 'verification');
  // An exact version is unaffected.
  assert.equal((await download(fx, srv.url, 'datadog-demo', { version: '1.0.0' })).version, '1.0.0');
  // Datadog's downloader does not check what latest.json names: it installs the wheel it pins.
  const dd = await ddClient(fx, srv.url, 'datadog-demo');
  assert.equal(dd.code, 0, dd.err);
});
