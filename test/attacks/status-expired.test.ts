import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { refreshRepository, repoStatus } from '../../src/app/repo.ts';
import { main } from '../../src/cli/main.ts';
import { isProvenantError } from '../../src/errors.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { freshRepository } from '../publish/fixtures.ts';

/*
 * `repo status` says it checks the repository the way a client would. Once timestamp.json has
 * expired (the refresh job stopped, or was kept from running, or an old timestamp was put back with
 * the evidence deleted), every host refuses the repository (E_TUF_EXPIRED), yet status printed the
 * roles with "EXPIRED" beside one and exited 0, `"ok": true`: a monitor reading its exit code saw a
 * healthy repository. It now fails like a client: E_REPO_EXPIRED, exit 5, naming what expired.
 */

const DAY = 86_400_000;

test('repo status on a repository whose timestamp has expired: E_REPO_EXPIRED naming it, with the refresh fix line', async (t) => {
  const r = await freshRepository(t);
  const anchor = { root: await readTrustedRoot(r.keysDir) };
  await repoStatus(r.storage, { anchor });
  await assert.rejects(repoStatus(r.storage, { anchor, now: () => new Date(Date.now() + 2 * DAY) }), (e) => {
    assert.ok(isProvenantError(e), String(e));
    assert.equal(e.code, 'E_REPO_EXPIRED', e.describe());
    assert.equal(e.exitClass, 'verification');
    assert.match(e.message, /timestamp \(version 1\) expired at /);
    assert.doesNotMatch(e.message, /snapshot/, 'the snapshot (7 days) has not expired');
    assert.match(e.hint ?? '', /provenant repo refresh/);
    return true;
  });
  // The fix line works: a refresh that day re-signs what expired.
  const later = () => new Date(Date.now() + 2 * DAY);
  await refreshRepository(r.storage, r.signers, undefined, { now: later });
  assert.equal((await repoStatus(r.storage, { anchor, now: later })).roles.find((x) => x.role === 'timestamp')!.version, 2);
  // Bins (30 days) and everything else, later.
  await assert.rejects(repoStatus(r.storage, { anchor, now: () => new Date(Date.now() + 40 * DAY) }), (e) => isProvenantError(e) && /16 bin\(s\)/.test(e.message) && /snapshot/.test(e.message));
});

test('the CLI: `repo status` on a repository made 2 days ago and never refreshed exits 5', async (t) => {
  const r = await freshRepository(t, { now: () => new Date(Date.now() - 2 * DAY) });
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  const code = await main(['repo', 'status', '--repository', r.repoDir, '--keys', r.keysDir, '--json'], o, { PATH: process.env.PATH }, path.dirname(r.repoDir));
  assert.equal(code, 5, o.err);
  assert.equal((JSON.parse(o.out) as { ok: boolean; error: { code: string } }).error.code, 'E_REPO_EXPIRED');
});
