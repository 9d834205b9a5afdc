import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { isProvenantError } from '../../src/errors.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { freshRepository } from '../publish/fixtures.ts';
import { syntheticRelease } from '../publish/synthetic.ts';

/*
 * Someone who can write to a local repository directory but holds no key plants lock files in
 * its private area (`.provenant/locks/`): the publish lock, or the lock of timestamp.json's
 * compare-and-swap. Before the fix a lock that held no owner record was never broken (every
 * publish waited a minute, then E_LOCK_TIMEOUT "another process holds it; wait for it to finish"),
 * and one naming a live process of someone else's (pid 1) was not either: a permanent lockout
 * whose hint said to wait. Now a lock with no owner record, past the instant its writer needs,
 * is broken like a dead owner's, and the timeout's hint names the file to remove.
 */

const plantedLocks = (dir: string) => ({
  publish: path.join(dir, '.provenant/locks/publish.lock'),
  'timestamp.json compare-and-swap': path.join(dir, `.provenant/locks/cas-${sha256Hex('metadata/timestamp.json')}.lock`),
});

for (const [which, file] of Object.entries(plantedLocks('')) as [string, string][]) {
  test(`a planted ${which} lock holding no owner record is broken; the publish goes on`, async (t) => {
    const r = await freshRepository(t);
    const lock = path.join(r.repoDir, file);
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, 'not an owner record');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const started = Date.now();
    const res = await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
    assert.equal(res.committed, true);
    assert.ok(Date.now() - started < 30_000, 'the publish waited for the planted lock');
  });
}

test('a planted lock naming a live process that is not a publisher: E_LOCK_TIMEOUT names the file and how to remove it', async (t) => {
  const r = await freshRepository(t);
  const lock = r.storage.lockPath('publish');
  await mkdir(path.dirname(lock), { recursive: true });
  await writeFile(lock, JSON.stringify({ host: hostname(), pid: 1, time: Date.now(), nonce: 'planted' }));
  await assert.rejects(r.storage.withLock('publish', async () => 'ran', 200), (e) => {
    assert.ok(isProvenantError(e) && e.code === 'E_LOCK_TIMEOUT', String(e));
    assert.equal(e.file, lock);
    assert.match(e.hint ?? '', /pid 1 on /);
    assert.ok(e.hint?.includes(`remove ${lock}`), e.hint);
    return true;
  });
});
