// Issue 14: the single executable, start-up snapshot included, is built reproducibly by
// `npm run build:downloader`. Slow but required (two uncached builds, ~10-15 s): it runs in `npm test`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildDownloader } from '../../scripts/build-downloader.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

const NODE = path.join(REPO_ROOT, 'node_modules/.bin/node');

test('two uncached snapshot builds, from different processes, directories and environments, are byte-identical', async (t) => {
  const dir = await tempDir(t);
  const a = path.join(dir, 'a', 'provenant-download');
  const b = path.join(dir, 'b', 'provenant-download');
  // One build in this process; the other the way `npm run build:downloader` runs it: its own
  // process (another pid and parent pid), from another checkout of the same files, with another
  // working directory, time zone, locale and TMPDIR.
  const digestA = await buildDownloader(a, { cache: false });
  const checkout = path.join(dir, 'checkout');
  for (const p of ['scripts', 'src', 'package.json', 'tsconfig.json']) await cp(path.join(REPO_ROOT, p), path.join(checkout, p), { recursive: true });
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(checkout, 'node_modules'));
  await promisify(execFile)(NODE, [path.join(checkout, 'scripts/build-downloader.ts'), '--no-cache', '--out', b], {
    cwd: dir,
    env: { ...process.env, TZ: 'Pacific/Chatham', LANG: 'fr_FR.UTF-8', LC_ALL: 'fr_FR.UTF-8', TMPDIR: dir },
  });
  const bytesA = await readFile(a);
  const bytesB = await readFile(b);
  assert.equal(sha256Hex(bytesA), digestA);
  // Not assert.equal on 128 MB buffers: a failure names the first differing offset instead.
  const first = bytesA.findIndex((byte, i) => byte !== bytesB[i]);
  assert.equal(bytesA.length, bytesB.length, 'the two builds differ in size');
  assert.equal(first, -1, `the two builds differ, first at byte ${first}`);
  assert.equal(sha256Hex(bytesB), digestA);
});
