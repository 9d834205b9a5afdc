import assert from 'node:assert/strict';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases, type Release } from '../../src/app/publish.ts';
import { repoStatus } from '../../src/app/repo.ts';
import { isProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { groupByBin, targetFile } from '../../src/tuf/changes.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { freshRepository, treeHash } from '../publish/fixtures.ts';
import { syntheticRelease } from '../publish/synthetic.ts';

/*
 * A writer of the bucket without keys edits what the publisher reads, then waits for the next
 * honest publish. Each edit here is either refused with the repository unchanged (and the hint's
 * fix works), or taken for what it is (someone else's bytes) without signing anything backwards.
 * The rollback itself, the trust anchor and the settings' expiry have their own tests
 * (test/publish/rollback.test.ts, trust-anchor.test.ts, settings.test.ts).
 */

type Repo = Awaited<ReturnType<typeof freshRepository>>;
const json = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { signed: { version: number } };

/** The bin file the committed snapshot lists at version 2 (the one the first publish wrote). */
async function publishedBin(r: Repo): Promise<string> {
  const state = await loadTrustedState(r.storage);
  const [file] = Object.entries(state.snapshot.signed.meta).find(([f, m]) => f !== 'targets.json' && m.version === 2)!;
  return file;
}

/** A release that falls into `bin` (publish reads and checks only the bins it changes). */
async function releaseIn(r: Repo, bin: string): Promise<Release> {
  const state = await loadTrustedState(r.storage);
  for (let i = 0; ; i++) {
    const rel = syntheticRelease(`datadog-b${i}`, '1.0.0');
    const [name] = groupByBin(state.targets.signed, [targetFile(pointerTargetPath(rel.project, rel.version), rel.pointer)]).keys();
    if (`${name}.json` === bin) return rel;
  }
}

interface Refused {
  attack: string;
  code: string;
  tamper: (r: Repo) => Promise<void>;
  repair: (r: Repo) => Promise<void>;
  next?: (r: Repo) => Promise<Release>;
}

const refused: Refused[] = [
  {
    attack: "the repository's settings deleted",
    code: 'E_REPO_CONFIG',
    tamper: (r) => rm(path.join(r.repoDir, 'provenant-repository.json')),
    repair: (r) => copyFile(path.join(r.keysDir, 'provenant-repository.json'), path.join(r.repoDir, 'provenant-repository.json')),
  },
  {
    attack: "the repository's settings replaced by something that is not JSON",
    code: 'E_REPO_CONFIG',
    tamper: (r) => writeFile(path.join(r.repoDir, 'provenant-repository.json'), '{roles: '),
    repair: (r) => copyFile(path.join(r.keysDir, 'provenant-repository.json'), path.join(r.repoDir, 'provenant-repository.json')),
  },
  {
    attack: "the repository's settings naming another attestation key",
    code: 'E_REPO_CONFIG_MISMATCH',
    tamper: async (r) => {
      const file = path.join(r.repoDir, 'provenant-repository.json');
      const doc = await json(file);
      (doc.attestation as { keyids: string[] }).keyids = ['0'.repeat(64)];
      await writeFile(file, JSON.stringify(doc));
    },
    repair: (r) => copyFile(path.join(r.keysDir, 'provenant-repository.json'), path.join(r.repoDir, 'provenant-repository.json')),
  },
  {
    attack: 'the committed bin replaced by its older, validly signed version, and a release for that bin',
    code: 'E_REPO_TAMPERED',
    tamper: async (r) => {
      const name = (await publishedBin(r)).slice(0, -'.json'.length);
      await copyFile(path.join(r.repoDir, `metadata/2.${name}.json`), path.join(r.dir, 'bin.bak'));
      await copyFile(path.join(r.repoDir, `metadata/1.${name}.json`), path.join(r.repoDir, `metadata/2.${name}.json`));
      await writeFile(path.join(r.dir, 'bin.name'), name);
    },
    repair: async (r) => {
      const name = await readFile(path.join(r.dir, 'bin.name'), 'utf8');
      await copyFile(path.join(r.dir, 'bin.bak'), path.join(r.repoDir, `metadata/2.${name}.json`));
    },
    // The next release goes into that bin: a publish reads only the bins it changes (hosts and
    // `repo status` check the others).
    next: async (r) => releaseIn(r, `${await readFile(path.join(r.dir, 'bin.name'), 'utf8')}.json`),
  },
  {
    attack: 'the committed snapshot replaced by the older, validly signed one',
    code: 'E_REPO_TAMPERED',
    tamper: async (r) => {
      await copyFile(path.join(r.repoDir, 'metadata/2.snapshot.json'), path.join(r.dir, 'snapshot.bak'));
      await copyFile(path.join(r.repoDir, 'metadata/1.snapshot.json'), path.join(r.repoDir, 'metadata/2.snapshot.json'));
    },
    repair: (r) => copyFile(path.join(r.dir, 'snapshot.bak'), path.join(r.repoDir, 'metadata/2.snapshot.json')),
  },
];

for (const c of refused) {
  test(`refused: ${c.attack} (${c.code}); nothing signed, and the fix the hint gives works`, async (t) => {
    const r = await freshRepository(t);
    await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
    await c.tamper(r);
    const next = (await c.next?.(r)) ?? syntheticRelease('datadog-b', '1.0.0');
    const before = await treeHash(path.join(r.repoDir, 'metadata'));
    await assert.rejects(publishReleases(r.storage, r.signers, [next]), (e) => {
      assert.ok(isProvenantError(e), String(e));
      assert.equal(e.code, c.code, e.describe());
      assert.ok(e.hint, 'a fix line');
      return true;
    });
    assert.equal(await treeHash(path.join(r.repoDir, 'metadata')), before, 'something was signed');
    await c.repair(r);
    assert.equal((await publishReleases(r.storage, r.signers, [next])).committed, true);
  });
}

/*
 * Validly signed files copied under other names: they prove nothing. A snapshot under a version
 * it does not carry is no leftover; a timestamp under a version it does not carry is no evidence.
 * The publish goes on (no false E_REPO_ROLLBACK), above everything present.
 */
test('taken for nothing: an old snapshot copied under the next version, an old timestamp copied as the next copy', async (t) => {
  const r = await freshRepository(t);
  await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
  await copyFile(path.join(r.repoDir, 'metadata/1.snapshot.json'), path.join(r.repoDir, 'metadata/3.snapshot.json'));
  await copyFile(path.join(r.repoDir, 'timestamps/1.timestamp.json'), path.join(r.repoDir, 'timestamps/4.timestamp.json'));
  await rm(path.join(r.keysDir, 'timestamp.json'));
  const res = await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-b', '1.0.0')]);
  assert.equal(res.committed, true);
  assert.equal(res.snapshotVersion, 4, 'the taken number 3 is skipped');
  assert.equal(res.timestampVersion, 4);
  assert.equal((await json(path.join(r.repoDir, 'timestamps/4.timestamp.json'))).signed.version, 4, 'the misplaced copy was replaced by the real one');
});

test('a bin a publish does not touch, replaced by its older version: repo status reports it (E_REPO_TAMPERED)', async (t) => {
  const r = await freshRepository(t);
  await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
  const name = (await publishedBin(r)).slice(0, -'.json'.length);
  await copyFile(path.join(r.repoDir, `metadata/1.${name}.json`), path.join(r.repoDir, `metadata/2.${name}.json`));
  await assert.rejects(repoStatus(r.storage), (e) => isProvenantError(e) && e.code === 'E_REPO_TAMPERED' && e.message.includes(`2.${name}.json`));
});
