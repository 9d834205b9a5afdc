import assert from 'node:assert/strict';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryBaseUrl } from '../../src/verify/repository-url.ts';
import { repositoryStateDir } from '../../src/verify/state-dir.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
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
