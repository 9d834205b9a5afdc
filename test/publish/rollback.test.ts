import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases, type Release } from '../../src/app/publish.ts';
import { refreshRepository, repoStatus } from '../../src/app/repo.ts';
import { main } from '../../src/cli/main.ts';
import { isProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { groupByBin, targetFile } from '../../src/tuf/changes.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { tempDir } from '../helpers/peers.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { clientView, releaseId } from '../s3/checks.ts';
import { freshRepository, RecordingStorage, treeHash } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

/**
 * Someone who can write to the repository's storage but holds no key puts back an older
 * timestamp.json and waits for the next honest publish. That publish must not sign anything that
 * moves a client backwards: it refuses (E_REPO_ROLLBACK), `repo status` says what is behind what,
 * and `repo refresh --roll-forward` makes every host move forward again. Clients here are tuf-js
 * over HTTP, keeping their trusted metadata between refreshes, as hosts do.
 */

type Repo = Awaited<ReturnType<typeof freshRepository>>;

async function cli(args: string[], cwd: string) {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  const code = await main(args, o, { PATH: process.env.PATH }, cwd);
  return { code, out: o.out, err: o.err };
}

/** A key store as a CI runner gets it: keys, root.json and settings copied in, nothing kept from earlier runs. */
async function ciKeyStore(t: { after(fn: () => unknown): void }, r: Repo): Promise<string> {
  const dir = path.join(await tempDir(t), 'keys');
  await cp(r.keysDir, dir, { recursive: true, filter: (src) => path.basename(src) !== 'timestamp.json' });
  return dir;
}

/** Three publishes; a host saw the last one; then timestamp.json goes back to the first one's. */
async function rolledBack(t: { after(fn: () => unknown): void }) {
  const r = await freshRepository(t);
  const releases = [syntheticRelease('datadog-a', '1.0.0'), syntheticRelease('datadog-b', '1.0.0'), syntheticRelease('datadog-c', '1.0.0')];
  await publishReleases(r.storage, r.signers, [releases[0]!]);
  const old = await readFile(path.join(r.repoDir, 'metadata/timestamp.json'));
  await publishReleases(r.storage, r.signers, [releases[1]!]);
  await publishReleases(r.storage, r.signers, [releases[2]!]);
  const server = await startStaticServer(r.repoDir, t);
  const root = await readFile(path.join(r.repoDir, 'metadata/1.root.json'));
  const host = await tempDir(t);
  const seen = await clientView(server.url, root, host, releases);
  assert.deepEqual([...seen.inTuf].sort(), releases.map(releaseId).sort());
  await writeFile(path.join(r.repoDir, 'metadata/timestamp.json'), old);
  return { ...r, releases, old, server, root, host, newest: seen.timestampVersion };
}

/** Storage through which a writer dies right before its commit point. */
function diesBeforeCommit(storage: Repo['storage']) {
  return new (class extends RecordingStorage {
    override async putIfMatch(): Promise<string> {
      throw new Error('publisher died');
    }
  })(storage);
}

const rollback = (e: unknown) => isProvenantError(e) && e.code === 'E_REPO_ROLLBACK' && e.exitClass === 'verification';

test('a timestamp.json put back is refused by publish, from the key store and from the repository alone', async (t) => {
  const r = await rolledBack(t);
  const before = await treeHash(r.repoDir);
  const next = syntheticRelease('datadog-d', '1.0.0');

  // The same key store: it kept the newest timestamp it committed.
  await assert.rejects(publishReleases(r.storage, r.signers, [next]), (e) => {
    assert.ok(rollback(e), String(e));
    assert.match((e as Error).message, /timestamp\.json is version 2 \(snapshot 2\), behind timestamp version 4 \(snapshot 4\)/);
    assert.match((e as { hint: string }).hint, /provenant repo refresh --roll-forward/);
    return true;
  });
  // A CI runner's fresh copy of the key store: the repository's copies of committed timestamps tell.
  const ci = keyStoreSignerSource(await ciKeyStore(t, r), {});
  await assert.rejects(publishReleases(r.storage, ci, [next]), (e) => rollback(e) && /timestamps\/4\.timestamp\.json/.test((e as Error).message));
  assert.equal(await treeHash(r.repoDir), before, 'nothing was signed or written');

  // What the attacker alone achieved: the host that saw version 4 refuses the repository (the next test repairs it).
  await assert.rejects(clientView(r.server.url, r.root, r.host, r.releases), /timestamp version 2 is less than current version 4/);
});

test('repo status flags the rollback; repo refresh --roll-forward recovers every host, then publishing goes on', async (t) => {
  const r = await rolledBack(t);
  const flags = ['--repository', r.repoDir, '--keys', r.keysDir];
  const status = await cli(['repo', 'status', ...flags, '--json'], r.dir);
  assert.equal(status.code, 5, status.err);
  const err = (JSON.parse(status.out) as { error: { code: string; message: string; hint: string } }).error;
  assert.equal(err.code, 'E_REPO_ROLLBACK');
  assert.match(err.message, /version 2 \(snapshot 2\), behind timestamp version 4 \(snapshot 4\)/);
  // A fresh host meanwhile trusts the rolled-back state (it has no way to know).
  const freshHost = await tempDir(t);
  const stale = await clientView(r.server.url, r.root, freshHost, r.releases);
  assert.deepEqual([...stale.inTuf], [releaseId(r.releases[0]!)]);

  const recover = await cli(['repo', 'refresh', '--roll-forward', ...flags, '--json'], r.dir);
  assert.equal(recover.code, 0, recover.err);
  assert.deepEqual((JSON.parse(recover.out) as { rolledForward: unknown }).rolledForward, { fromSnapshot: 2, toSnapshot: 4 });
  const ok = await cli(['repo', 'status', ...flags, '--json'], r.dir);
  assert.equal(ok.code, 0, ok.err);

  // The host that saw version 4, the fresh host that saw version 2, and a new host: all see every release.
  for (const dir of [r.host, freshHost, await tempDir(t)]) {
    const view = await clientView(r.server.url, r.root, dir, r.releases);
    assert.deepEqual([...view.inTuf].sort(), r.releases.map(releaseId).sort());
    assert.ok(view.timestampVersion > r.newest);
  }
  const next = syntheticRelease('datadog-d', '1.0.0');
  assert.equal((await publishReleases(r.storage, r.signers, [next])).committed, true);
  const view = await clientView(r.server.url, r.root, r.host, [...r.releases, next]);
  assert.equal(view.inTuf.size, 4);
});

test('with the evidence deleted as well, a fresh key store\'s publish still moves no host backwards', async (t) => {
  const r = await rolledBack(t);
  await rm(path.join(r.repoDir, 'timestamps'), { recursive: true });
  const ci = keyStoreSignerSource(await ciKeyStore(t, r), {});
  const next = syntheticRelease('datadog-d', '1.0.0');
  const res = await publishReleases(r.storage, ci, [next]);
  assert.equal(res.committed, true);
  // Above every snapshot present, and timestamp version = snapshot version: above every timestamp ever committed.
  assert.equal(res.snapshotVersion, 5);
  assert.equal(res.timestampVersion, 5);
  // tuf-js on the host that saw version 4 accepts it: no version of any file went down.
  const view = await clientView(r.server.url, r.root, r.host, [...r.releases, next]);
  assert.ok(view.inTuf.has(releaseId(next)));
  assert.equal(view.timestampVersion, 5);
});

test('with the copies deleted, the key store\'s kept timestamp still catches it, and rolling forward works from it', async (t) => {
  const r = await rolledBack(t);
  await rm(path.join(r.repoDir, 'timestamps'), { recursive: true });
  await assert.rejects(publishReleases(r.storage, r.signers, [syntheticRelease('datadog-d', '1.0.0')]), (e) => rollback(e) && /the key store committed or verified it/.test((e as Error).message));
  const res = await refreshRepository(r.storage, r.signers, undefined, { rollForward: true });
  assert.deepEqual(res.rolledForward, { fromSnapshot: 2, toSnapshot: 4 });
  const view = await clientView(r.server.url, r.root, r.host, r.releases);
  assert.deepEqual([...view.inTuf].sort(), r.releases.map(releaseId).sort());
});

test('the key store\'s kept timestamp catches a rollback whose newer metadata was deleted too', async (t) => {
  const r = await rolledBack(t);
  await rm(path.join(r.repoDir, 'timestamps'), { recursive: true });
  for (const v of [3, 4]) await rm(path.join(r.repoDir, `metadata/${v}.snapshot.json`));
  await assert.rejects(publishReleases(r.storage, r.signers, [syntheticRelease('datadog-d', '1.0.0')]), (e) => {
    assert.ok(rollback(e), String(e));
    assert.match((e as Error).message, /the key store committed or verified it/);
    // Nothing in the repository to roll forward to: the fix is a backup.
    assert.match((e as { hint: string }).hint, /snapshot 4 is no longer in the repository: restore/);
    return true;
  });
});

test('a crash leftover is not a rollback: the next publish supersedes it, listing no file below it', async (t) => {
  const r = await freshRepository(t, { binCount: 16 });
  await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
  // A publisher that wrote its bin and snapshot, then died before the commit.
  const crashed = syntheticRelease('datadog-crashed', '1.0.0');
  const binOf = async (rel: Release) => {
    const s = await loadTrustedState(r.storage);
    return [...groupByBin(s.targets.signed, [targetFile(pointerTargetPath(rel.project, rel.version), new Uint8Array())]).keys()][0]!;
  };
  const leftoverBin = await binOf(crashed);
  const dead = diesBeforeCommit(r.storage);
  await assert.rejects(publishReleases(dead, r.signers, [crashed], undefined, { updateIndex: null }), /publisher died/);
  const status = await repoStatus(r.storage, { anchor: { root: await readTrustedRoot(r.keysDir) } });
  assert.deepEqual(status.uncommittedSnapshots, [3]);
  const leftover = JSON.parse(await readFile(path.join(r.repoDir, 'metadata/3.snapshot.json'), 'utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const leftoverVersion = leftover.signed.meta[`${leftoverBin}.json`]!.version;
  // Its bin file goes missing (deleted by someone): its version number must still not be reused.
  await rm(path.join(r.repoDir, `metadata/${leftoverVersion}.${leftoverBin}.json`));

  // The next release lands in another bin; the leftover's bin version must not go down either.
  let other = syntheticRelease('datadog-other', '1.0.0');
  for (let i = 0; (await binOf(other)) === leftoverBin; i++) other = syntheticRelease(`datadog-other${i}`, '1.0.0');
  const res = await publishReleases(r.storage, r.signers, [other]);
  assert.equal(res.committed, true);
  assert.equal(res.snapshotVersion, 4, 'above the leftover snapshot 3');
  const state = await loadTrustedState(r.storage);
  for (const [file, m] of Object.entries(leftover.signed.meta)) {
    assert.ok(state.snapshot.signed.meta[file]!.version >= m.version, `${file} is listed at least at the leftover's version`);
  }
  // The leftover's bin was superseded, above its version, with the committed content: the crashed release was never published.
  const bin = state.snapshot.signed.meta[`${leftoverBin}.json`]!.version;
  assert.ok(bin > leftoverVersion);
  const binDoc = JSON.parse(await readFile(path.join(r.repoDir, `metadata/${bin}.${leftoverBin}.json`), 'utf8')) as { signed: { targets: Record<string, unknown> } };
  assert.equal(binDoc.signed.targets[pointerTargetPath('datadog-crashed', '1.0.0')], undefined);
  assert.deepEqual((await repoStatus(r.storage)).uncommittedSnapshots, []);
  // The crashed release, published again, goes through.
  assert.equal((await publishReleases(r.storage, r.signers, [crashed])).committed, true);
});

test('a refresh that died after re-signing targets: a publisher with only the online key lists that targets version as is', async (t) => {
  const r = await freshRepository(t, { binCount: 4 });
  await assert.rejects(refreshRepository(diesBeforeCommit(r.storage), r.signers, undefined, { force: ['targets'] }), /publisher died/);
  const ci = await ciKeyStore(t, r);
  for (const offline of ['root.pem', 'targets.pem']) await rm(path.join(ci, offline));
  const res = await publishReleases(r.storage, keyStoreSignerSource(ci, {}), [syntheticRelease('datadog-a', '1.0.0')]);
  assert.equal(res.committed, true);
  const state = await loadTrustedState(r.storage);
  assert.equal(state.targets.signed.version, 2, "the leftover's targets version, not below it");
  assert.deepEqual(state.history.uncommitted, []);
});
