import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Targets } from '@tufjs/models';
import { publishReleases } from '../../src/app/publish.ts';
import { initRepository } from '../../src/app/repo.ts';
import { isProvenantError } from '../../src/errors.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { expiresAt } from '../../src/tuf/config.ts';
import { trustAnchorOf } from '../../src/tuf/signer-source.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../../src/tuf/writer.ts';
import { tempDir } from '../helpers/peers.ts';
import { freshRepository, treeHash } from './fixtures.ts';
import { syntheticRelease } from './synthetic.ts';

/**
 * Expiry periods change what gets signed, so they come from the key store's copy of the
 * settings, never from the repository's (anyone able to write to the bucket can edit that one),
 * and no settings can make provenant sign past a role's hard limit.
 */

const DAY = 86_400_000;
type Settings = { roles: Record<string, { expires: string }> };

async function editJson(file: string, change: (s: Settings) => void): Promise<void> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as Settings;
  change(doc);
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
}

const code = (c: string) => (e: unknown) => isProvenantError(e) && e.code === c;

test("a 100-year timestamp expiry written into the bucket's settings is never signed", async (t) => {
  const r = await freshRepository(t);
  const bucketCopy = path.join(r.repoDir, 'provenant-repository.json');
  const rel = syntheticRelease('datadog-postgres', '1.0.0');
  const metadataDir = path.join(r.repoDir, 'metadata');
  const before = await treeHash(metadataDir);

  await editJson(bucketCopy, (s) => void (s.roles.timestamp!.expires = '36500d'));
  await assert.rejects(publishReleases(r.storage, r.signers, [rel]), (e) => code('E_REPO_CONFIG')(e) && /longer than the timestamp limit of 7d/.test((e as Error).message));
  // Within the limit but not what the operator set: refused too, naming the field.
  await editJson(bucketCopy, (s) => void (s.roles.timestamp!.expires = '7d'));
  await assert.rejects(publishReleases(r.storage, r.signers, [rel]), (e) => {
    assert.ok(code('E_REPO_CONFIG_MISMATCH')(e), String(e));
    assert.equal((e as { field: string }).field, 'roles.timestamp.expires');
    assert.match((e as { hint: string }).hint, /key store's .*provenant-repository\.json is authoritative/);
    return true;
  });
  assert.equal(await treeHash(metadataDir), before, 'nothing was signed');

  // The fix line: the key store's copy over the repository's. The timestamp is signed for the key store's 1 day.
  await copyFile(path.join(r.keysDir, 'provenant-repository.json'), bucketCopy);
  const now = new Date();
  await publishReleases(r.storage, r.signers, [rel], undefined, { now: () => now });
  const state = await loadTrustedState(r.storage);
  assert.equal(state.timestamp.signed.expires, expiresAt(now, '1d'));
});

test("the key store's settings are bounded too, at init and whenever they are read", async (t) => {
  const dir = await tempDir(t);
  const keysDir = path.join(dir, 'keys');
  await assert.rejects(
    initRepository(new FsStorage(path.join(dir, 'repository')), undefined, { keysDir, expires: { timestamp: '8d' } }),
    (e) => code('E_REPO_CONFIG')(e) && (e as { field: string }).field === 'roles.timestamp.expires',
  );
  assert.equal(existsSync(keysDir), false, 'no key was generated');

  const r = await freshRepository(t);
  for (const file of [path.join(r.keysDir, 'provenant-repository.json'), path.join(r.repoDir, 'provenant-repository.json')]) {
    await editJson(file, (s) => void (s.roles.bins!.expires = '91d'));
  }
  await assert.rejects(publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]), (e) => {
    assert.ok(code('E_REPO_CONFIG')(e), String(e));
    assert.equal((e as { file: string }).file, path.join(r.keysDir, 'provenant-repository.json'));
    return true;
  });
});

test('signing refuses a validity past the role limit, whatever computed it', async (t) => {
  const r = await freshRepository(t);
  const state = await loadTrustedState(r.storage, await trustAnchorOf(r.signers));
  const now = new Date();
  const json = state.targets.signed.toJSON() as Record<string, unknown>;
  const targets = Targets.fromJSON({ ...json, expires: new Date(now.getTime() + 731 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z') } as never);
  const before = await treeHash(r.repoDir);
  await assert.rejects(
    commitChanges(r.storage, state, await signersForCommit(state, r.signers, { targets }), { targets }, now),
    (e) => code('E_EXPIRY_TOO_LONG')(e) && (e as { field: string }).field === 'roles.targets.expires',
  );
  assert.equal(await treeHash(r.repoDir), before);
});

test('a key store made before the settings moved there: refused with the fix line, which works', async (t) => {
  const r = await freshRepository(t);
  await rm(path.join(r.keysDir, 'provenant-repository.json'));
  const rel = syntheticRelease('datadog-a', '1.0.0');
  await assert.rejects(publishReleases(r.storage, r.signers, [rel]), (e) => {
    assert.ok(code('E_TRUSTED_SETTINGS_MISSING')(e), String(e));
    assert.match((e as { hint: string }).hint, /roles\.\*\.expires .* then copy that file to .*keys\/provenant-repository\.json/);
    return true;
  });
  await copyFile(path.join(r.repoDir, 'provenant-repository.json'), path.join(r.keysDir, 'provenant-repository.json'));
  assert.equal((await publishReleases(r.storage, r.signers, [rel])).committed, true);
});
