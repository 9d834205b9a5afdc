import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { repoStatus } from '../../src/app/repo.ts';
import { fixedSignerSource, keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { loadSigner } from '../../src/signers/key-store.ts';
import { freshRepository, treeHash } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

test('publish writes wheel, PEP 658 metadata, attestation, pointer, one bin, snapshot, timestamp, index', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  const rel = syntheticRelease('datadog-postgres', '23.2.0');
  const res = await publishReleases(storage, signers, [rel]);
  assert.equal(res.committed, true);
  assert.equal(res.releases[0]!.status, 'published');
  assert.match(res.releases[0]!.bin, /^bins-[0-9a-f]$/);
  assert.deepEqual(res.metadataWritten, [`metadata/2.${res.releases[0]!.bin}.json`, 'metadata/2.snapshot.json', 'metadata/timestamp.json']);
  // Then the committed timestamp's copy under its version (the evidence a rollback check needs).
  assert.deepEqual(await readFile(path.join(repoDir, 'timestamps/2.timestamp.json')), await readFile(path.join(repoDir, 'metadata/timestamp.json')));
  const o = res.releases[0]!.objects;
  assert.equal(o.wheel, 'simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl');
  assert.deepEqual(await readFile(path.join(repoDir, o.wheel)), Buffer.from(rel.wheel.bytes));
  assert.deepEqual(await readFile(path.join(repoDir, `${o.wheel}.metadata`)), Buffer.from(rel.wheel.metadata));
  assert.deepEqual(await readFile(path.join(repoDir, o.attestation)), Buffer.from(rel.attestation.bytes));
  assert.match(o.pointer, /^pointers\/datadog-postgres\/[0-9a-f]{64}\.datadog-postgres-23\.2\.0\.pointer$/);
  assert.deepEqual(await readFile(path.join(repoDir, o.pointer)), Buffer.from(rel.pointer));
  // The index engine ran after the commit.
  const page = await readFile(path.join(repoDir, 'simple/datadog-postgres/index.html'), 'utf8');
  assert.match(page, /datadog_postgres-23\.2\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}/);
  assert.ok(res.indexWritten.length > 0);
  const status = await repoStatus(storage);
  assert.equal(status.releases, 1);
  assert.equal(status.roles.find((r) => r.role === 'timestamp')!.version, 2);
});

test('republishing the same bytes is a no-op; different bytes under a published version are refused', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  await publishReleases(storage, signers, [syntheticRelease('datadog-redis', '1.0.0')]);
  const before = await treeHash(repoDir);
  const again = await publishReleases(storage, signers, [syntheticRelease('datadog-redis', '1.0.0')]);
  assert.equal(again.committed, false);
  assert.equal(again.releases[0]!.status, 'unchanged');
  assert.equal(await treeHash(repoDir), before);

  await assert.rejects(publishReleases(storage, signers, [syntheticRelease('datadog-redis', '1.0.0', 'tampered')]), (e: Error & { code?: string; exitClass?: string }) => {
    assert.equal(e.code, 'E_RELEASE_IMMUTABLE');
    assert.equal(e.exitClass, 'conflict');
    return true;
  });
  // A batch mixing a new release with a refused one writes nothing at all.
  await assert.rejects(
    publishReleases(storage, signers, [syntheticRelease('datadog-new', '1.0.0'), syntheticRelease('datadog-redis', '1.0.0', 'x')]),
    { code: 'E_RELEASE_IMMUTABLE' },
  );
  assert.equal(await treeHash(repoDir), before);
});

test('a release whose pointer does not pin its files is refused before anything is written', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  const before = await treeHash(repoDir);
  const rel = syntheticRelease('datadog-postgres', '1.0.0');
  const other = syntheticRelease('datadog-postgres', '1.0.0', 'other');
  await assert.rejects(publishReleases(storage, signers, [{ ...rel, wheel: other.wheel }]), { code: 'E_RELEASE_INVALID', field: 'pointer.digest' });
  await assert.rejects(publishReleases(storage, signers, [{ ...rel, attestation: other.attestation }]), {
    code: 'E_RELEASE_INVALID',
    field: 'pointer.attestation.digest',
  });
  await assert.rejects(publishReleases(storage, signers, [{ ...rel, version: '2.0.0' }]), { code: 'E_RELEASE_INVALID', field: 'pointer.version' });
  assert.equal(await treeHash(repoDir), before);
});

async function expectRefused(repoDir: string, run: () => Promise<unknown>, code: string) {
  const before = await treeHash(repoDir);
  await assert.rejects(run, (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    return true;
  });
  assert.equal(await treeHash(repoDir), before, 'the repository is unchanged');
}

test('tampered metadata stops publish with the repository unchanged', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  const first = await publishReleases(storage, signers, [syntheticRelease('datadog-postgres', '1.0.0')]);
  const bin = first.releases[0]!.bin;
  const rel = syntheticRelease('datadog-postgres', '1.0.1');
  const edit = async (file: string, change: (s: string) => string) => {
    const full = path.join(repoDir, 'metadata', file);
    const original = await readFile(full, 'utf8');
    await writeFile(full, change(original));
    return () => writeFile(full, original);
  };
  // Each tampering: a signed field changed (signature no longer verifies), or bytes the parent pins.
  const cases: [string, (s: string) => string, string][] = [
    ['timestamp.json', (s) => s.replace(/"expires":"(\d{4})/, (_m, y: string) => `"expires":"${Number(y) + 5}`), 'E_REPO_TAMPERED'],
    ['2.snapshot.json', (s) => s.replace('"version":2', '"version":2 '), 'E_REPO_TAMPERED'],
    ['1.targets.json', (s) => s.replace('"threshold":1', '"threshold":1,"x":1'), 'E_REPO_TAMPERED'],
    ['1.root.json', (s) => s.replace('"consistent_snapshot":true', '"consistent_snapshot":true,"x":1'), 'E_TRUSTED_ROOT_MISMATCH'],
    [`2.${bin}.json`, (s) => s.replace(/"length":\d+/, '"length":1'), 'E_REPO_TAMPERED'],
  ];
  for (const [file, change, code] of cases) {
    const restore = await edit(file, change);
    // For the bin, republish the release it holds: reading that bin is the only way to reach it.
    const target = file.includes('bins') ? syntheticRelease('datadog-postgres', '1.0.0') : rel;
    await expectRefused(repoDir, () => publishReleases(storage, signers, [target]), code);
    await restore();
  }
  // A timestamp validly signed, but by a key this repository does not trust (another repository's online key).
  const other = await freshRepository(t);
  const ours = await readFile(path.join(repoDir, 'metadata/timestamp.json'));
  await writeFile(path.join(repoDir, 'metadata/timestamp.json'), await readFile(path.join(other.repoDir, 'metadata/timestamp.json')));
  await expectRefused(repoDir, () => publishReleases(storage, signers, [rel]), 'E_REPO_TAMPERED');
  await writeFile(path.join(repoDir, 'metadata/timestamp.json'), ours);
  // Missing metadata the timestamp refers to.
  await rm(path.join(repoDir, 'metadata/2.snapshot.json'));
  await expectRefused(repoDir, () => publishReleases(storage, signers, [rel]), 'E_REPO_INCOMPLETE');
});

test('a missing, unknown or locked key stops publish with the repository unchanged', async (t) => {
  const a = await freshRepository(t);
  const b = await freshRepository(t);
  const rel = syntheticRelease('datadog-kafka', '2.0.0');
  // Missing: the online key file is gone.
  await rm(path.join(a.keysDir, 'online.pem'));
  await expectRefused(a.repoDir, () => publishReleases(a.storage, keyStoreSignerSource(a.keysDir, {}), [rel]), 'E_KEY_MISSING');
  await assert.rejects(publishReleases(a.storage, keyStoreSignerSource(a.keysDir, {}), [rel]), /bins|snapshot|timestamp/);
  // The key store of another repository: its trusted root is not this repository's.
  await expectRefused(a.repoDir, () => publishReleases(a.storage, keyStoreSignerSource(b.keysDir, {}), [rel]), 'E_TRUSTED_ROOT_MISMATCH');
  // In-memory signers that the repository does not trust.
  const foreign = await loadSigner(b.keysDir, 'online', {});
  const trusted = await readTrustedRoot(a.keysDir);
  const settings = await readFile(path.join(a.keysDir, 'provenant-repository.json'));
  await expectRefused(a.repoDir, () => publishReleases(a.storage, fixedSignerSource([foreign], trusted, settings), [rel]), 'E_KEY_MISSING');
});

test('an encrypted online key needs its passphrase; the wrong one stops publish with the repository unchanged', async (t) => {
  const env = { PROVENANT_KEY_PASSPHRASE_ONLINE: 'correct horse' };
  const r = await freshRepository(t, { env });
  assert.equal(r.init.keys.find((k) => k.name === 'online')!.encrypted, true);
  assert.equal(r.init.keys.find((k) => k.name === 'root')!.encrypted, false);
  const rel = syntheticRelease('datadog-mysql', '3.0.0');
  await expectRefused(r.repoDir, () => publishReleases(r.storage, keyStoreSignerSource(r.keysDir, {}), [rel]), 'E_KEY_PASSPHRASE');
  await expectRefused(
    r.repoDir,
    () => publishReleases(r.storage, keyStoreSignerSource(r.keysDir, { PROVENANT_KEY_PASSPHRASE_ONLINE: 'wrong' }), [rel]),
    'E_KEY_PASSPHRASE',
  );
  // The generic variable works too.
  const ok = await publishReleases(r.storage, keyStoreSignerSource(r.keysDir, { PROVENANT_KEY_PASSPHRASE: 'correct horse' }), [rel]);
  assert.equal(ok.committed, true);
});
