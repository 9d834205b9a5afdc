import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { isProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { groupByBin, targetFile } from '../../src/tuf/changes.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { freshRepository } from '../publish/fixtures.ts';
import { syntheticRelease } from '../publish/synthetic.ts';

/*
 * A bucket writer without keys fills the version numbers the next commit needs
 * (`metadata/N.snapshot.json`, `metadata/N.bins-x.json`) with objects of their own. Before the fix
 * the publisher probed 64 of them, called it a lost compare-and-swap, retried ten times and gave
 * up with E_PUBLISH_CONTENDED ("other publishers kept committing first; run again"): a lockout
 * whose message pointed nowhere. Now it stops at once, names the objects, and the documented fix
 * (move them away) works.
 */

const SQUATTED = 70;

for (const role of ['snapshot', 'bin'] as const) {
  test(`${SQUATTED} objects squatting the next ${role} versions: E_METADATA_VERSIONS_TAKEN naming them, not retried; moving them away recovers`, async (t) => {
    const r = await freshRepository(t);
    await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
    const next = syntheticRelease('datadog-b', '1.0.0');
    // The bin the next release falls into, and the first version each role would take.
    const state = await loadTrustedState(r.storage);
    const bin = [...groupByBin(state.targets.signed, [targetFile(pointerTargetPath('datadog-b', '1.0.0'), next.pointer)]).keys()][0]!;
    const name = role === 'snapshot' ? 'snapshot' : bin;
    const first = (role === 'snapshot' ? state.snapshot.signed.version : state.snapshot.signed.meta[`${bin}.json`]!.version) + 1;
    const keys = Array.from({ length: SQUATTED }, (_, i) => `metadata/${first + i}.${name}.json`);
    for (const k of keys) await writeFile(path.join(r.repoDir, k), '{"not": "metadata"}');

    let calls = 0;
    const counting = new Proxy(r.signers, {
      get: (target, prop, receiver) => (prop === 'signersFor' ? (...a: Parameters<typeof target.signersFor>) => (calls++, target.signersFor(...a)) : Reflect.get(target, prop, receiver)),
    });
    await assert.rejects(publishReleases(r.storage, counting, [next]), (e) => {
      assert.ok(isProvenantError(e), String(e));
      assert.equal(e.code, 'E_METADATA_VERSIONS_TAKEN', e.describe());
      assert.equal(e.exitClass, 'verification');
      assert.match(e.message, new RegExp(`metadata/${first}\\.${name}\\.json`));
      assert.match(e.hint ?? '', /move them out of the repository/);
      return true;
    });
    // One attempt, not ten: the signers of a single commit were asked for once each.
    assert.ok(calls <= 3, `signers asked ${calls} times: the publish was retried`);

    // The documented fix: move the objects away (keeping them), publish again.
    const quarantine = path.join(r.dir, 'quarantine');
    await mkdir(quarantine);
    for (const k of keys) await rename(path.join(r.repoDir, k), path.join(quarantine, path.basename(k)));
    const res = await publishReleases(r.storage, r.signers, [next]);
    assert.equal(res.committed, true);
  });
}

/*
 * The same writer fills `timestamps/N.timestamp.json`, where the next commits keep the copy of
 * their timestamp. Before the fix each such commit stood but the publish failed after it
 * (E_TIMESTAMP_COPY), and the evidence of that commit was lost for good, so a later rollback to
 * before it went unnoticed by a publisher whose key store keeps no timestamp (a CI runner).
 */
test('objects squatting the next timestamp copies: replaced by the committed timestamp; a later rollback is still caught from the repository alone', async (t) => {
  const r = await freshRepository(t);
  for (let v = 2; v <= 4; v++) await writeFile(path.join(r.repoDir, `timestamps/${v}.timestamp.json`), '{"not": "a timestamp"}');
  await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-a', '1.0.0')]);
  const old = await readFile(path.join(r.repoDir, 'metadata/timestamp.json'));
  await publishReleases(r.storage, r.signers, [syntheticRelease('datadog-b', '1.0.0')]);
  for (const v of [2, 3]) {
    const copy = JSON.parse(await readFile(path.join(r.repoDir, `timestamps/${v}.timestamp.json`), 'utf8')) as { signed: { version: number } };
    assert.equal(copy.signed.version, v);
  }
  // Rolled back to version 2, checked by a key store that keeps no timestamp of its own.
  await writeFile(path.join(r.repoDir, 'metadata/timestamp.json'), old);
  await rm(path.join(r.keysDir, 'timestamp.json'));
  await assert.rejects(publishReleases(r.storage, r.signers, [syntheticRelease('datadog-c', '1.0.0')]), (e) => isProvenantError(e) && e.code === 'E_REPO_ROLLBACK');
});
