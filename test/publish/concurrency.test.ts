import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { publishReleases } from '../../src/app/publish.ts';
import { repoStatus } from '../../src/app/repo.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { ProvenantError } from '../../src/errors.ts';
import { metadataKey } from '../../src/tuf/sign.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { groupByBin, targetFile } from '../../src/tuf/changes.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { freshRepository, RecordingStorage, treeHash } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

const run = promisify(execFile);

test('concurrent publishers without the lock: compare-and-swap losers rebase, nothing is lost', async (t) => {
  const { storage, signers } = await freshRepository(t);
  const n = 6;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      publishReleases(storage, signers, [syntheticRelease(`datadog-c${i}`, '1.0.0')], undefined, { lock: false, updateIndex: null }),
    ),
  );
  assert.ok(results.every((r) => r.committed));
  // They all read the same timestamp etag, so all but the first had to rebase at least once.
  assert.ok(results.some((r) => r.attempts > 1), JSON.stringify(results.map((r) => r.attempts)));
  const status = await repoStatus(storage);
  assert.equal(status.releases, n);
  // Each commit got its own timestamp version; version N pins snapshot N, so the numbers the
  // losers' orphan snapshots took are skipped.
  assert.equal(new Set(results.map((r) => r.timestampVersion)).size, n);
  const ts = status.roles.find((r) => r.role === 'timestamp')!.version;
  assert.ok(ts >= 1 + n);
  assert.equal(ts, status.roles.find((r) => r.role === 'snapshot')!.version);
});

test('publishers in separate processes on one directory never corrupt it', async (t) => {
  const { storage, repoDir, keysDir } = await freshRepository(t);
  const script = `
    import { publishReleases } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/app/publish.ts'))};
    import { FsStorage } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/storage/fs.ts'))};
    import { keyStoreSignerSource } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/tuf/signer-source.ts'))};
    import { syntheticRelease } from ${JSON.stringify(path.resolve(import.meta.dirname, 'synthetic.ts'))};
    const [repo, keys, id] = process.argv.slice(1);
    const releases = [0, 1, 2].map((k) => syntheticRelease('datadog-p' + id, '1.' + k + '.0'));
    // The shared project is published by everyone with the same bytes: one wins, the rest are no-ops.
    releases.push(syntheticRelease('datadog-shared', '1.0.0'));
    const res = await publishReleases(new FsStorage(repo), keyStoreSignerSource(keys, {}), releases);
    process.stdout.write(JSON.stringify(res.releases.map((r) => r.status)));
  `;
  const procs = 4;
  const outs = await Promise.all(
    Array.from({ length: procs }, (_, i) => run(process.execPath, ['--input-type=module', '-e', script, repoDir, keysDir, String(i)])),
  );
  const statuses = outs.map((o) => JSON.parse(o.stdout) as string[]);
  assert.equal(statuses.filter((s) => s[3] === 'published').length, 1, JSON.stringify(statuses));
  const status = await repoStatus(storage);
  assert.equal(status.releases, procs * 3 + 1);
  // The index lists every project's wheels.
  const root = await storage.get('simple/index.html');
  for (let i = 0; i < procs; i++) assert.match(new TextDecoder().decode(root!.bytes), new RegExp(`datadog-p${i}`));
});

/** Fails the first `putIfMatch` on timestamp.json: a publisher that dies right before its commit. */
class CrashBeforeCommit extends RecordingStorage {
  crashed = false;
  override async putIfMatch(key: string, bytes: Uint8Array, props: { contentType: string }, etag: string | undefined): Promise<string> {
    if (key === metadataKey('timestamp') && !this.crashed) {
      this.crashed = true;
      throw new ProvenantError('E_TEST_CRASH', 'simulated crash before the commit point', { exitClass: 'internal', hint: 'none: a test crash' });
    }
    return super.putIfMatch(key, bytes, props, etag);
  }
}

test('a publisher that dies before the commit leaves the old repository valid; the next publish skips its orphans', async (t) => {
  const { storage, signers, repoDir } = await freshRepository(t);
  await publishReleases(storage, signers, [syntheticRelease('datadog-a', '1.0.0')]);
  const committed = await treeHash(repoDir);
  const crashing = new CrashBeforeCommit(storage as Storage);
  await assert.rejects(publishReleases(crashing, signers, [syntheticRelease('datadog-b', '1.0.0')]), { code: 'E_TEST_CRASH' });
  // Orphans were written (objects, bin and snapshot versions) but clients still see the old, valid state.
  assert.notEqual(await treeHash(repoDir), committed);
  assert.ok(crashing.metadataWrites().some((k) => /snapshot/.test(k)));
  const status = await repoStatus(storage);
  assert.equal(status.releases, 1);
  // A retry a little later (so its bin bytes differ from the orphan's) skips the orphaned version numbers.
  const later = new Date(Date.now() + 5000);
  const retry = await publishReleases(storage, signers, [syntheticRelease('datadog-b', '1.0.0')], undefined, { now: () => later });
  assert.equal(retry.committed, true);
  assert.equal((await repoStatus(storage)).releases, 2);
  const state = await loadTrustedState(storage);
  const bin = [...groupByBin(state.targets.signed, [targetFile(pointerTargetPath('datadog-b', '1.0.0'), new Uint8Array())]).keys()][0]!;
  assert.ok(state.snapshot.signed.meta[`${bin}.json`]!.version >= 3, 'the orphaned version was skipped');
});
