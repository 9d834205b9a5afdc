import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryBaseUrl } from '../../src/verify/repository-url.ts';
import { repositoryStateDir } from '../../src/verify/state-dir.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
import { serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../../src/tuf/writer.ts';
import { Root } from '@tufjs/models';
import { download, expectRefused } from './helpers/run.ts';
import { serveRepository } from './helpers/servers.ts';

const P = 'datadog-state';

test('trusted metadata is on disk when a download returns; a state write that fails fails the download', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  const state = repositoryStateDir(path.join(fx.dir, 'state'), repositoryBaseUrl(server.url, '/'));
  await download(fx, server.url, P);
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
    const json = JSON.parse(await readFile(path.join(state, `${role}.json`), 'utf8')) as { signed: { _type: string } };
    assert.equal(json.signed._type, role);
  }

  // A state directory where timestamp.json cannot be replaced (a directory is in the way).
  const other = path.join(fx.dir, 'state-broken');
  const brokenState = repositoryStateDir(other, repositoryBaseUrl(server.url, '/'));
  await mkdir(path.join(brokenState, 'timestamp.json'), { recursive: true });
  const err = await expectRefused(fx, server.url, P, 'E_TUF_STATE_WRITE', 'input', { stateDir: other });
  assert.match(err.message, /timestamp\.json/);
  assert.ok((await stat(path.join(brokenState, 'timestamp.json'))).isDirectory());
});

test('--root given to a state that exists: a missing file or a non-root is E_TUF_ROOT_INVALID; another root is E_TUF_ROOT_CONFLICT naming the state and the reset', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  const r = await download(fx, server.url, P);
  await expectRefused(fx, server.url, P, 'E_TUF_ROOT_INVALID', 'input', { root: path.join(fx.dir, 'no-such-root.json') });
  await expectRefused(fx, server.url, P, 'E_TUF_ROOT_INVALID', 'input', { root: path.join(fx.repoDir, 'metadata/timestamp.json') });
  const other = await repoFixture(t);
  const e = await expectRefused(fx, server.url, P, 'E_TUF_ROOT_CONFLICT', 'verification', { root: other.rootFile });
  assert.ok(e.message.includes(r.stateDir), e.message);
  assert.match(e.hint ?? '', /provenant state forget /);
  // The root the state started from, and no --root at all, still work.
  assert.equal((await download(fx, server.url, P)).verified, true);
  assert.equal((await download(fx, server.url, P, { root: undefined })).verified, true);
});

test('--root after rotations: the first root and each later one are in the chain; a root newer than any the repository serves is refused', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  await download(fx, server.url, P);
  const state = await loadTrustedState(fx.storage);
  const root = Root.fromJSON(state.root.signed.toJSON() as never);
  await commitChanges(fx.storage, state, await signersForCommit(state, fx.signers, { root }), { root }, new Date());
  const v2 = path.join(fx.repoDir, 'metadata/2.root.json');
  // v2 is newer than the state's v1: checked once the refresh has followed the rotation.
  assert.equal((await download(fx, server.url, P, { root: v2 })).tuf.root, 2);
  assert.equal((await download(fx, server.url, P, { root: fx.rootFile })).tuf.root, 2);
  // A genuine v3, signed by the root keys but never published: the repository cannot take the state there.
  const current = (await loadTrustedState(fx.storage)).root.signed;
  const v3 = await signMetadata(Root.fromJSON({ ...(current.toJSON() as Record<string, unknown>), version: 3 } as never), await fx.signers.signersFor('root', current.roles.root!.keyIDs, 1), 'root');
  const v3File = path.join(fx.dir, '3.root.json');
  await writeFile(v3File, serializeMetadata(v3));
  const e = await expectRefused(fx, server.url, P, 'E_TUF_ROOT_CONFLICT', 'verification', { root: v3File });
  assert.match(e.message, /serves no root v3/);
  // A fresh state started from v2 cannot vouch for v1 (older than its records): warned, not refused.
  const warnings: string[] = [];
  const reporter = { step() {}, progress() {}, info() {}, debug() {}, warn: (m: string) => void warnings.push(m) };
  const fresh = path.join(fx.dir, 'state-from-v2');
  await download(fx, server.url, P, { root: v2, stateDir: fresh });
  await download(fx, server.url, P, { root: fx.rootFile, stateDir: fresh, reporter });
  assert.match(warnings.join('\n'), /not in its root-history\/: it was not checked/);
});

test('a failed first use keeps no root: the next run still needs --root, and the right root then works', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, '1.0.0')]);
  const server = await serveRepository(t, fx.repoDir);
  const other = await repoFixture(t);
  // Another repository's root: the refresh fails (its keys did not sign this repository's metadata).
  await expectRefused(fx, server.url, P, 'E_TUF_METADATA', 'verification', { root: other.rootFile });
  const state = repositoryStateDir(path.join(fx.dir, 'state'), repositoryBaseUrl(server.url, '/'));
  const kept = await readdir(state).catch((): string[] => []);
  assert.ok(!kept.includes('root.json'), `state after a failed first use: ${kept.join(', ')}`);
  await expectRefused(fx, server.url, P, 'E_TUF_ROOT_MISSING', 'usage', { root: undefined });
  assert.equal((await download(fx, server.url, P)).verified, true);
  assert.deepEqual((await readdir(path.join(state, 'root-history'))).sort(), ['1.root.json']);
});
