import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { syncMirror } from '../../src/app/mirror-sync.ts';
import { publishReleases } from '../../src/app/publish.ts';
import { refreshRepository } from '../../src/app/repo.ts';
import { main } from '../../src/cli/main.ts';
import { pointerTargetPath, POLICY_TARGET } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { download, freshDest } from '../download/helpers/run.ts';
import { credentialsInProcessEnv, startMinio } from '../helpers/minio.ts';
import { python } from '../helpers/peers.ts';
import { PY_TUF_CLIENT } from '../helpers/python-tuf.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { makeSignedRelease } from '../s3/fixtures.ts';
import { filesUnder, mirrorFixture } from './helpers.ts';


async function pythonTufReads(dir: string, baseUrl: string, rootFile: string, targets: string[]): Promise<void> {
  const meta = path.join(dir, `py-meta-${sha256Hex(baseUrl).slice(0, 8)}`);
  const out = path.join(dir, `py-targets-${sha256Hex(baseUrl).slice(0, 8)}`);
  await mkdir(meta);
  await mkdir(out);
  const { stdout } = await python(['-c', PY_TUF_CLIENT, meta, rootFile, baseUrl, out, ...targets]);
  // One line per target, then the root version it walked to.
  assert.equal(stdout.trim().split('\n').length, targets.length + 1, stdout);
}

test('sync dir → dir: same bytes, signatures unchanged; download and python-tuf read DST (root rotated, --root the newest)', async (t) => {
  const { fx } = await mirrorFixture(t);
  await refreshRepository(fx.storage, fx.signers, undefined, { force: ['root', 'targets'] });
  await publishReleases(fx.storage, fx.signers, [await makeSignedRelease('datadog-demo', '1.3.0', fx.attestation)], undefined, {});
  const dst = path.join(fx.dir, 'dst');
  // The newest root given: roots 1..2 are still copied, each checked to sign its successor.
  const r = await syncMirror({ src: fx.repoDir, dst, root: path.join(fx.repoDir, 'metadata/2.root.json'), env: {} });
  assert.equal(r.releases, 4);
  for (const key of ['metadata/1.root.json', 'metadata/2.root.json', 'metadata/timestamp.json']) {
    assert.equal(sha256Hex(await readFile(path.join(dst, key))), sha256Hex(await readFile(path.join(fx.repoDir, key))), key);
  }
  const got = await download(fx, dst, 'datadog-demo', { stateDir: path.join(fx.dir, 'state-dst') });
  assert.equal(got.version, '1.3.0');
  assert.deepEqual(got.checks, [...CHECKS]);
  // The index pages are there too (rebuilt from the verified wheels and their PEP 658 files).
  assert.match(await readFile(path.join(dst, 'simple/datadog-demo/index.html'), 'utf8'), /datadog_demo-1\.3\.0-py3-none-any\.whl#sha256=/);
  const srv = await startStaticServer(dst, t);
  await pythonTufReads(fx.dir, srv.url, fx.rootFile, [pointerTargetPath('datadog-demo', '1.3.0'), pointerTargetPath('datadog-other', '3.0.0'), POLICY_TARGET]);

  // A second sync with nothing new writes nothing but the (same) commit point.
  const again = await syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} });
  assert.equal(again.written, 1);
  assert.ok(again.unchanged > 10);
});

test('a tampered SRC is refused before anything is written: DST keeps its files and its timestamp', async (t) => {
  const { fx } = await mirrorFixture(t);
  const dst = path.join(fx.dir, 'dst');
  await syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} });
  const before = await filesUnder(dst);
  const timestamp = await readFile(path.join(dst, 'metadata/timestamp.json'));
  const release = await makeSignedRelease('datadog-demo', '2.0.0', fx.attestation);
  await publishReleases(fx.storage, fx.signers, [release], undefined, {});
  const wheel = path.join(fx.repoDir, 'simple/datadog-demo', release.wheel.fileName);
  const bytes = Buffer.from(await readFile(wheel));
  bytes.writeUInt8(bytes[40]! ^ 1, 40);
  await writeFile(wheel, bytes);
  await assert.rejects(syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} }), (e: { code: string }) => e.code === 'E_WHEEL_DIGEST');
  assert.deepEqual(await filesUnder(dst), before);
  assert.equal(sha256Hex(await readFile(path.join(dst, 'metadata/timestamp.json'))), sha256Hex(timestamp));
  // Tampered TUF metadata too (a re-signed snapshot would need the online key).
  await writeFile(wheel, release.wheel.bytes);
  const snapshot = (await filesUnder(path.join(fx.repoDir, 'metadata'))).filter((f) => f.endsWith('.snapshot.json')).sort().at(-1)!;
  const s = path.join(fx.repoDir, 'metadata', snapshot);
  const snap = JSON.parse(await readFile(s, 'utf8')) as { signed: { expires: string } };
  snap.signed.expires = '2099-01-01T00:00:00Z';
  await writeFile(s, JSON.stringify(snap));
  await assert.rejects(syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} }), (e: { code: string }) => e.code.startsWith('E_TUF'));
  assert.deepEqual(await filesUnder(dst), before);
});

test('an interrupted sync leaves DST at its old commit point, readable; running it again finishes it', async (t) => {
  const { fx } = await mirrorFixture(t);
  const dst = path.join(fx.dir, 'dst');
  await syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} });
  const oldTimestamp = await readFile(path.join(dst, 'metadata/timestamp.json'));
  await publishReleases(fx.storage, fx.signers, [await makeSignedRelease('datadog-demo', '2.0.0', fx.attestation)], undefined, {});
  // Breaks the sync part way: a directory where the new snapshot goes makes that write fail,
  // after the wheels, pointers and attestations were written.
  const snapshot = (await filesUnder(path.join(fx.repoDir, 'metadata'))).filter((f) => f.endsWith('.snapshot.json')).sort((a, b) => parseInt(a) - parseInt(b)).at(-1)!;
  await mkdir(path.join(dst, 'metadata', snapshot, 'x'), { recursive: true });
  await assert.rejects(syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} }));
  assert.equal(sha256Hex(await readFile(path.join(dst, 'metadata/timestamp.json'))), sha256Hex(oldTimestamp));
  assert.ok((await filesUnder(dst)).some((f) => f.endsWith('datadog_demo-2.0.0-py3-none-any.whl')), 'the interrupted run wrote objects');
  // A reader of DST meanwhile sees the old state, verified.
  const mid = await download(fx, dst, 'datadog-demo', { stateDir: path.join(fx.dir, 'state-dst') });
  assert.equal(mid.version, '1.2.0');
  await rm(path.join(dst, 'metadata', snapshot), { recursive: true });
  const resumed = await syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} });
  assert.ok(resumed.unchanged > 0);
  const after = await download(fx, dst, 'datadog-demo', { stateDir: path.join(fx.dir, 'state-dst') });
  assert.equal(after.version, '2.0.0');
});

test('a DST ahead of SRC is not moved back (E_MIRROR_ROLLBACK)', async (t) => {
  const { fx } = await mirrorFixture(t);
  const old = path.join(fx.dir, 'old-copy');
  await syncMirror({ src: fx.repoDir, dst: old, root: fx.rootFile, env: {} });
  await publishReleases(fx.storage, fx.signers, [await makeSignedRelease('datadog-demo', '2.0.0', fx.attestation)], undefined, {});
  await assert.rejects(syncMirror({ src: old, dst: fx.repoDir, root: fx.rootFile, env: {} }), (e: { code: string }) => e.code === 'E_MIRROR_ROLLBACK');
});

test('a DST whose timestamp.json has no readable version is not overwritten (E_MIRROR_ROLLBACK, not a pass or a SyntaxError)', async (t) => {
  const { fx } = await mirrorFixture(t);
  for (const [i, bytes] of ['{"signed":{"version":"9"}}', '{"signed":{}}', 'not json'].entries()) {
    const dst = path.join(fx.dir, `odd-${i}`);
    await mkdir(path.join(dst, 'metadata'), { recursive: true });
    await writeFile(path.join(dst, 'metadata/timestamp.json'), bytes);
    await assert.rejects(syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} }), (e: { code: string }) => e.code === 'E_MIRROR_ROLLBACK', bytes);
    assert.equal(await readFile(path.join(dst, 'metadata/timestamp.json'), 'utf8'), bytes);
  }
});

test('provenant mirror sync dir → MinIO: download from the bucket, python-tuf reads it over HTTP', async (t) => {
  const m = await startMinio(t);
  const bucket = await m.createBucket();
  await m.makePublicRead(bucket);
  const { fx } = await mirrorFixture(t);
  const env = credentialsInProcessEnv(m, t);
  const dst = `s3://${bucket}/integrations`;
  let out = '';
  let err = '';
  const code = await main(['mirror', 'sync', fx.repoDir, dst, '--root', fx.rootFile, '--endpoint-url', m.endpoint, '--json'], { interactive: false, stdout: (s) => void (out += s), stderr: (s) => void (err += s) }, env, fx.dir);
  assert.equal(code, 0, err);
  assert.equal((JSON.parse(out) as { releases: number }).releases, 3);
  const dest = await freshDest(fx);
  let got = '';
  const dl = await main(['download', 'datadog-demo', '--repository', dst, '--endpoint-url', m.endpoint, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state-s3'), '--dest', dest], { interactive: false, stdout: (s) => void (got += s), stderr: (s) => void (err += s) }, env, fx.dir);
  assert.equal(dl, 0, err);
  assert.match(got, /datadog_demo-1\.2\.0-py3-none-any\.whl/);
  await pythonTufReads(fx.dir, m.httpUrl(bucket, 'integrations'), fx.rootFile, [pointerTargetPath('datadog-demo', '1.2.0'), POLICY_TARGET]);
});
