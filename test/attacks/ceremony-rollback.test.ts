import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { ok, refused, release, repoFlags } from '../ceremony/helpers.ts';

/**
 * A bucket writer (no keys) puts back an older timestamp.json. A holder signing a ceremony with
 * their key store must see the rollback, as publish and repo status do: the store's kept
 * timestamp is part of what the repository is checked against, not only its root.json.
 */
test('attack: ceremony sign and policy show refuse a rolled-back repository when the key store kept a newer timestamp', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const timestamp = path.join(fx.repoDir, 'metadata/timestamp.json');
  const older = path.join(fx.dir, 'older-timestamp.json');
  await copyFile(timestamp, older);
  await release(fx, 'datadog-postgres', '1.0.0');
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--expires', '300d');
  await copyFile(older, timestamp);
  // The bucket writer also deletes the repository's own copies of the newer timestamps, so only
  // the key store's kept timestamp still knows (docs/repository.md, rollback protection).
  const keptVersion = (JSON.parse(await readFile(older, 'utf8')) as { signed: { version: number } }).signed.version;
  for (const f of await readdir(path.join(fx.repoDir, 'timestamps'))) {
    if (Number.parseInt(f, 10) > keptVersion) await rm(path.join(fx.repoDir, 'timestamps', f));
  }
  await refused(fx, 'E_REPO_ROLLBACK', 'repo', 'root', 'sign', path.join(fx.dir, 'proposals/root-v2.json'), '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  await refused(fx, 'E_REPO_ROLLBACK', 'repo', 'policy', 'show', ...flags);
});
