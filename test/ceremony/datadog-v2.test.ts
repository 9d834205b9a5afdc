import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { initRepository } from '../../src/app/repo.ts';
import { readKeyIndex } from '../../src/signers/key-store.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { tempDir } from '../helpers/peers.ts';
import { cli } from './helpers.ts';

test('in the datadog-v2 layout a root ceremony works, and ceremonies that change targets are refused clearly (E_REPO_LAYOUT) before anything is written', async (t) => {
  const dir = await tempDir(t);
  const fx = { dir, repoDir: path.join(dir, 'repository'), keysDir: path.join(dir, 'keys') };
  await initRepository(new FsStorage(fx.repoDir), undefined, { keysDir: fx.keysDir, env: {}, layout: 'datadog-v2' });
  const flags = ['--repository', fx.repoDir, '--keys', fx.keysDir];
  const run = async (...args: string[]) => cli(fx, ...args);
  for (const args of [['repo', 'targets', 'propose', '--bins-key', 'new'], ['repo', 'root', 'propose', '--online-key', 'new']]) {
    const r = await run(...args, ...flags);
    assert.match(r.err, /provenant: E_REPO_LAYOUT: ceremonies that change targets support the default/, r.err);
  }
  assert.deepEqual(Object.keys((await readKeyIndex(fx.keysDir)).keys).sort(), ['attestation', 'online', 'root', 'targets']);
  assert.equal(existsSync(path.join(dir, 'proposals')), false);
  const steps = [
    ['repo', 'root', 'propose', '--add-key', 'new', '--threshold', '2'],
    ['repo', 'root', 'sign', 'proposals/root-v2.json', '--key', path.join(fx.keysDir, 'root.pem'), '--yes'],
    ['repo', 'root', 'sign', 'proposals/root-v2.json', '--key', path.join(fx.keysDir, 'root-2.pem'), '--yes'],
    ['repo', 'root', 'publish', 'proposals/root-v2.json'],
  ];
  for (const s of steps) {
    const r = await run(...s, ...flags);
    assert.equal(r.code, 0, `${s.join(' ')}: ${r.err}`);
  }
  const status = await run('repo', 'status', ...flags, '--json');
  assert.equal(status.code, 0, status.err);
  assert.equal((JSON.parse(status.out) as { roles: { role: string; threshold: number }[] }).roles.find((r) => r.role === 'root')!.threshold, 2);
});
