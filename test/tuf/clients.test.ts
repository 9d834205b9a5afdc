import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Updater } from 'tuf-js';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository, refreshRepository, type InitOptions } from '../../src/app/repo.ts';
import { pointerTargetPath, POLICY_TARGET } from '../../src/formats/layout.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { python, tempDir } from '../helpers/peers.ts';
import { PY_TUF_CLIENT } from '../helpers/python-tuf.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { syntheticRelease } from '../publish/synthetic.ts';

const SETUPS: { name: string; init: Partial<InitOptions>; refresh: boolean }[] = [
  { name: 'ed25519, 16 bins', init: { binCount: 16 }, refresh: false },
  // Two root keys (threshold 2), ECDSA everywhere, and a refresh that rotates in root v2 and targets v2.
  { name: 'ECDSA, root threshold 2, 4 bins, refreshed root and targets', init: { binCount: 4, keyType: 'ecdsa', rootThreshold: 2 }, refresh: true },
];

for (const setup of SETUPS) test(`a published repository (${setup.name}) is accepted by tuf-js and python-tuf starting from 1.root.json`, async (t) => {
  const dir = await tempDir(t);
  const repoDir = path.join(dir, 'repository');
  const keysDir = path.join(dir, 'keys');
  const storage = new FsStorage(repoDir);
  await initRepository(storage, undefined, { keysDir, env: {}, ...setup.init });
  const releases = [syntheticRelease('datadog-postgres', '23.2.0'), syntheticRelease('datadog-redis', '1.0.0')];
  const res = await publishReleases(storage, keyStoreSignerSource(keysDir, {}), releases);
  assert.equal(res.committed, true);
  if (setup.refresh) {
    const r = await refreshRepository(storage, keyStoreSignerSource(keysDir, {}), undefined, { force: ['root', 'targets'] });
    assert.ok(r.metadataWritten.includes('metadata/2.root.json') && r.metadataWritten.includes('metadata/2.targets.json'), r.metadataWritten.join());
    const root2 = JSON.parse(await readFile(path.join(repoDir, 'metadata/2.root.json'), 'utf8')) as { signatures: unknown[] };
    assert.equal(root2.signatures.length, 2);
  }
  // A second publish on top, so clients walk more than one version of snapshot/timestamp.
  await publishReleases(storage, keyStoreSignerSource(keysDir, {}), [syntheticRelease('datadog-postgres', '23.3.0')]);

  const srv = await startStaticServer(repoDir, t);
  const wanted = [pointerTargetPath('datadog-postgres', '23.2.0'), pointerTargetPath('datadog-redis', '1.0.0'), pointerTargetPath('datadog-postgres', '23.3.0'), POLICY_TARGET];

  // tuf-js
  const jsMeta = path.join(dir, 'js-meta');
  const jsTargets = path.join(dir, 'js-targets');
  await mkdir(jsMeta);
  await mkdir(jsTargets);
  await copyFile(path.join(repoDir, 'metadata/1.root.json'), path.join(jsMeta, 'root.json'));
  const updater = new Updater({ metadataDir: jsMeta, metadataBaseUrl: `${srv.url}/metadata`, targetDir: jsTargets, targetBaseUrl: `${srv.url}/` });
  await updater.refresh();
  for (const p of wanted) {
    const info = await updater.getTargetInfo(p);
    assert.ok(info, `tuf-js finds ${p}`);
    const file = await updater.downloadTarget(info);
    const bytes = await readFile(file);
    assert.equal(sha256Hex(bytes), info.hashes.sha256);
    if (p === POLICY_TARGET) {
      assert.ok(Object.keys(parsePolicy(bytes, file).attestation.keys).length === 1);
    } else {
      const ptr = parsePointer(bytes.toString('utf8'), file);
      assert.equal(info.custom.version, ptr.version);
      assert.deepEqual(info.custom.wheel, { file: `${ptr.name.replace(/-/g, '_')}-${ptr.version}-py3-none-any.whl`, sha256: ptr.digest, length: ptr.length });
    }
  }
  assert.equal(await updater.getTargetInfo(pointerTargetPath('datadog-postgres', '9.9.9')), undefined);
  // Consistent snapshots: the client fetched the hash-prefixed target paths.
  assert.ok(srv.requests.some((r) => /^\/pointers\/datadog-postgres\/[0-9a-f]{64}\.datadog-postgres-23\.2\.0\.pointer$/.test(r.path) && r.status === 200));

  // python-tuf
  const pyMeta = path.join(dir, 'py-meta');
  const pyTargets = path.join(dir, 'py-targets');
  await mkdir(pyMeta);
  await mkdir(pyTargets);
  // Only 1.root.json is given; python-tuf must find 2.root.json absent and walk the rest itself.
  const { stdout } = await python(['-c', PY_TUF_CLIENT, pyMeta, path.join(repoDir, 'metadata/1.root.json'), srv.url, pyTargets, ...wanted]);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, wanted.length, stdout);
  for (const [i, p] of wanted.entries()) {
    const [got, file] = lines[i]!.split(' ');
    assert.equal(got, p);
    const bytes = await readFile(file!);
    assert.equal(sha256Hex(bytes), sha256Hex(await readFile(path.join(jsTargets, path.basename(file!)))).toString());
  }
  // Both clients walked the root chain: the rotated root when there is one, then a 404 ends it.
  const lastRoot = setup.refresh ? 2 : 1;
  if (setup.refresh) assert.equal(srv.count('/metadata/2.root.json'), 2);
  assert.equal(srv.count(`/metadata/${lastRoot + 1}.root.json`), 2);
});
