import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../src/app/serve.ts';
import { main } from '../../src/cli/main.ts';
import { checkKeysOutsideRepository } from '../../src/signers/key-store.ts';
import { tempDir } from '../helpers/peers.ts';

/**
 * Security 5: keys are never published or served, whatever symlinks or directory choices say.
 * Every case uses a real key store made by `provenant repo init`.
 */
const ENV = { PATH: process.env.PATH };

function capture() {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

async function cli(dir: string, ...args: string[]) {
  const o = capture();
  const code = await main(args, o, ENV, dir);
  return { code, out: o.out, err: o.err };
}

/** A repository and its key store, side by side in a fresh directory, as the Quick start makes them. */
async function initialized(t: { after(fn: () => unknown): void }) {
  const dir = await tempDir(t);
  const r = await cli(dir, 'repo', 'init', '--bins', '2');
  assert.equal(r.code, 0, r.err);
  return { dir, repo: path.join(dir, 'repository'), keys: path.join(dir, 'keys') };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

test('a key store that is a symlink into the repository is refused by real path (E_KEYS_IN_REPOSITORY); so is a repository inside the key store', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'repository', 'hidden-keys'), { recursive: true });
  await symlink(path.join(dir, 'repository', 'hidden-keys'), path.join(dir, 'keys'));
  const r = await cli(dir, 'repo', 'init', '--bins', '2');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /E_KEYS_IN_REPOSITORY: the key store \S*\/keys \(really \S*\/repository\/hidden-keys\) is inside the repository/);
  assert.deepEqual(await readdir(path.join(dir, 'repository', 'hidden-keys')), [], 'no key was written into the repository');

  // A dangling link into the repository resolves to where init would have created the store.
  await symlink(path.join(dir, 'repository', 'later'), path.join(dir, 'keys2'));
  const dangling = await cli(dir, 'release', '--all', '--keys', 'keys2');
  assert.equal(dangling.code, 2, dangling.err);
  assert.match(dangling.err, /E_KEYS_IN_REPOSITORY/);

  const around = await cli(dir, 'repo', 'init', '--bins', '2', '--keys', 'outer', '--repository', 'outer/repository');
  assert.equal(around.code, 2, around.err);
  assert.match(around.err, /E_REPOSITORY_IN_KEYS: the repository \S*\/outer\/repository is inside the key store \S*\/outer/);
  assert.equal(existsSync(path.join(dir, 'outer')), false);

  assert.throws(() => checkKeysOutsideRepository(path.join(dir, 'keys'), path.join(dir, 'repository')), { code: 'E_KEYS_IN_REPOSITORY' });
  checkKeysOutsideRepository(path.join(dir, 'elsewhere'), path.join(dir, 'repository'));
});

test('serve refuses to start on a tree holding a key store: `serve --repository .` beside keys/, a symlinked store, or from inside a store', { timeout: 120_000 }, async (t) => {
  const { dir, repo, keys } = await initialized(t);
  const here = await cli(dir, 'serve', '--repository', '.', '--port', '0');
  assert.equal(here.code, 2, here.err);
  assert.match(here.err, /E_SERVE_KEY_STORE: refusing to serve .*: it holds the key store .*keys/);

  // The operator's store (--keys, here the default ./keys) deep below the served directory,
  // reached through a symlink: found by real path.
  await mkdir(path.join(dir, 'site', 'deep'), { recursive: true });
  await rename(keys, path.join(dir, 'site', 'deep', 'store'));
  await symlink(path.join(dir, 'site', 'deep', 'store'), keys);
  const viaKeys = await cli(dir, 'serve', '--repository', 'site', '--port', '0');
  assert.equal(viaKeys.code, 2, viaKeys.err);
  assert.match(viaKeys.err, /E_SERVE_KEY_STORE: .*it holds the key store .*site\/deep\/store \(--keys\)/);

  // A symlink to a key store among the repository's entries.
  await symlink(keys, path.join(repo, 'keys'));
  await assert.rejects(startServer({ root: repo, port: 0 }), { code: 'E_SERVE_KEY_STORE' });

  await assert.rejects(startServer({ root: keys, port: 0 }), { code: 'E_SERVE_KEY_STORE', message: /it is a key store/ });
  await mkdir(path.join(keys, 'sub'));
  await assert.rejects(startServer({ root: path.join(keys, 'sub'), port: 0 }), { code: 'E_SERVE_KEY_STORE', message: /it is inside the key store/ });
});

test('a key store that appears under a running serve is never served: 403, and the body holds no key', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  // Started on an empty directory, as `serve --repository .` before the first release.
  const server = await startServer({ root: dir, port: 0, log: () => {} });
  t.after(() => server.close());
  assert.equal((await cli(dir, 'repo', 'init', '--bins', '2')).code, 0);

  for (const p of ['keys/root.pem', 'keys/attestation.pem', 'keys/keys.json', 'keys/root.json', 'keys/']) {
    const r = await get(`${server.url}${p}`);
    assert.equal(r.status, 403, p);
    assert.doesNotMatch(r.body, /PRIVATE KEY|keyid/, p);
  }
  // The repository beside it is still served.
  assert.equal((await get(`${server.url}repository/metadata/1.root.json`)).status, 200);
});

test('symlinks and copies of a key inside the repository are not served (404 or 403), by real path, name and content', { timeout: 120_000 }, async (t) => {
  const { repo, keys } = await initialized(t);
  const pem = await readFile(path.join(keys, 'root.pem'), 'utf8');
  assert.match(pem, /PRIVATE KEY/);
  await mkdir(path.join(repo, 'simple'), { recursive: true });
  // Links that leave the repository (to the key file, to the store).
  await symlink(path.join(keys, 'root.pem'), path.join(repo, 'simple', 'root.pem'));
  await symlink(path.join(keys, 'online.pem'), path.join(repo, 'simple', 'online.txt'));
  await symlink(keys, path.join(repo, 'policy', 'k'));
  // Copies inside it: by name, and by content under an innocent name (also as a page's index.html).
  await copyFile(path.join(keys, 'targets.pem'), path.join(repo, 'simple', 'targets.key'));
  await writeFile(path.join(repo, 'metadata', 'notes.json'), `{"x": 1}\n${pem}`);
  await mkdir(path.join(repo, 'simple', 'leaky'));
  await writeFile(path.join(repo, 'simple', 'leaky', 'index.html'), pem);

  const server = await startServer({ root: repo, port: 0, log: () => {} });
  t.after(() => server.close());
  const expected: Record<string, number> = {
    'simple/root.pem': 404,
    'simple/online.txt': 404,
    'policy/k/root.pem': 404,
    'simple/targets.key': 403,
    'metadata/notes.json': 403,
    'simple/leaky/': 403,
  };
  for (const [p, status] of Object.entries(expected)) {
    const r = await get(`${server.url}${p}`);
    assert.equal(r.status, status, p);
    assert.doesNotMatch(r.body, /PRIVATE KEY/, p);
  }
  assert.equal((await get(`${server.url}metadata/1.root.json`)).status, 200, 'real metadata is still served');
});
