import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { fastForward, hosts, release, rotateOnlineKey } from './helpers.ts';

test('online-key fast-forward: hosts that took timestamp/snapshot at a huge version refuse the restored repository, and the documented recovery (rotate the online key by a root proposal, publish) makes provenant download, tuf-js and python-tuf accept new releases again', async (t) => {
  const fx = await repoFixture(t, { binCount: 4 });
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  await release(fx, 'datadog-postgres', '1.0.0');
  await h.verify('datadog-postgres', '1.0.0');

  const honest = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  const planted = await fastForward(fx);
  await h.verify('datadog-postgres', '1.0.0'); // every host now trusts version HUGE

  // The operator restores the repository from backup: the hosts are stuck above it.
  for (const k of planted) await rm(path.join(fx.repoDir, k));
  await writeFile(path.join(fx.repoDir, 'metadata/timestamp.json'), honest);
  await release(fx, 'datadog-postgres', '1.1.0');
  await assert.rejects(h.provenant('datadog-postgres', '1.1.0'), (e: Error & { code?: string }) => e.code === 'E_TUF_ROLLBACK');
  await assert.rejects(h.tufjs('datadog-postgres', '1.1.0'), /New timestamp version \d+ is less than current version 1000000000/);
  await assert.rejects(h.python('datadog-postgres', '1.1.0'), /BadVersionNumberError: New timestamp version \d+ must be >= 1000000000/);

  // The recovery, as docs/ceremony.md gives it.
  await rotateOnlineKey(fx);

  await release(fx, 'datadog-postgres', '1.2.0');
  await h.verify('datadog-postgres', '1.2.0');
  await h.verify('datadog-postgres', '1.1.0');
});
