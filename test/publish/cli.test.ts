import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { BUNDLED_ROOT } from '../../src/app/workspace.ts';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { tempDir } from '../helpers/peers.ts';
import { treeHash } from './fixtures.ts';

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

const ENV = { PATH: process.env.PATH };

async function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = ENV) {
  const o = capture();
  const code = await main(args, o, env, cwd);
  return { code, out: o.out, err: o.err };
}

test('repo init, build, sign, publish and status through the CLI on the examples', async (t) => {
  const dir = await tempDir(t);
  const ints = path.join(dir, 'integrations');
  await cp(BUNDLED_ROOT, ints, { recursive: true, filter: (src) => path.basename(src) !== 'dist' });

  const init = await run(['repo', 'init', '--bins', '16', '--expires', 'timestamp=12h', '--json'], dir);
  assert.equal(init.code, 0, init.err);
  const initDoc = JSON.parse(init.out) as { ok: boolean; repository: string; bins: number; config: { roles: { timestamp: { expires: string } } }; keys: { name: string }[] };
  assert.equal(initDoc.repository, path.join(dir, 'repository'));
  assert.equal(initDoc.bins, 16);
  assert.equal(initDoc.config.roles.timestamp.expires, '12h');
  assert.deepEqual(initDoc.keys.map((k) => k.name).sort(), ['attestation', 'online', 'root', 'targets']);

  const again = await run(['repo', 'init'], dir);
  assert.equal(again.code, 7);
  assert.match(again.err, /E_REPO_EXISTS/);
  const inside = await run(['repo', 'init', '--repository', 'r2', '--keys', 'r2/keys'], dir);
  assert.equal(inside.code, 2);
  assert.match(inside.err, /E_KEYS_IN_REPOSITORY/);
  const badBins = await run(['repo', 'init', '--repository', 'r3', '--keys', 'keys3', '--bins', '100'], dir);
  assert.equal(badBins.code, 2, badBins.err);
  assert.match(badBins.err, /E_REPO_CONFIG.*power of two/);
  assert.equal(existsSync(path.join(dir, 'keys3')), false, 'a refused init generates no keys');
  assert.equal(existsSync(path.join(dir, 'r3')), false, 'a refused init writes no repository');

  assert.equal((await run(['build', '--all', '--integrations-dir', ints], dir)).code, 0);
  // Built but not signed: the pointer pins the unsigned statement, which publish refuses.
  const unsigned = await run(['publish', 'postgres', '--integrations-dir', ints], dir);
  assert.equal(unsigned.code, 3, unsigned.err);
  assert.match(unsigned.err, /E_RELEASE_UNSIGNED.*provenant sign postgres/);

  assert.equal((await run(['sign', '--all', '--integrations-dir', ints], dir)).code, 0);
  const before = await treeHash(path.join(dir, 'repository'));
  const pub = await run(['publish', '--all', '--integrations-dir', ints, '--json'], dir);
  assert.equal(pub.code, 0, pub.err);
  const doc = JSON.parse(pub.out) as { ok: boolean; committed: boolean; releases: { project: string; status: string; objects: { wheel: string } }[]; metadataWritten: string[] };
  assert.equal(doc.committed, true);
  assert.equal(doc.releases.length, 4);
  assert.ok(doc.releases.every((r) => r.status === 'published'));
  // One commit for the batch: each touched bin once, then snapshot and timestamp.
  assert.equal(doc.metadataWritten.at(-1), 'metadata/timestamp.json');
  assert.ok(doc.metadataWritten.length <= 4 + 2);
  assert.notEqual(await treeHash(path.join(dir, 'repository')), before);
  // The PEP 658 file is the wheel's exact METADATA.
  const pg = doc.releases.find((r) => r.project === 'datadog-postgres')!;
  const meta = await readFile(path.join(dir, 'repository', `${pg.objects.wheel}.metadata`), 'utf8');
  assert.match(meta, /^Metadata-Version: .*\nName: datadog-postgres\nVersion: 23\.2\.0\n/);
  const page = JSON.parse(await readFile(path.join(dir, 'repository/simple/datadog-postgres/index.json'), 'utf8')) as { files: { hashes: { sha256: string }; 'core-metadata': unknown }[] };
  assert.equal(page.files[0]!.hashes.sha256, sha256Hex(await readFile(path.join(dir, 'repository', pg.objects.wheel))));

  const after = await treeHash(path.join(dir, 'repository'));
  const repeat = await run(['publish', '--all', '--integrations-dir', ints], dir);
  assert.equal(repeat.code, 0, repeat.err);
  assert.match(repeat.out, /^unchanged datadog-checks-base 37\.1\.0/m);
  assert.equal(await treeHash(path.join(dir, 'repository')), after);

  const status = await run(['repo', 'status', '--json'], dir);
  assert.equal(status.code, 0, status.err);
  const s = JSON.parse(status.out) as { releases: number; projects: number; policyTarget: boolean; roles: { role: string; version: number }[] };
  assert.equal(s.releases, 4);
  assert.equal(s.projects, 4);
  assert.equal(s.policyTarget, true);
  assert.equal(s.roles.find((r) => r.role === 'timestamp')!.version, 2);
  const human = await run(['repo', 'status'], dir);
  assert.match(human.out, /releases +4 in 4 project\(s\); attestation policy published/);

  const refresh = await run(['repo', 'refresh', '--force', 'timestamp', '--json'], dir);
  assert.equal(refresh.code, 0, refresh.err);
  assert.deepEqual((JSON.parse(refresh.out) as { metadataWritten: string[] }).metadataWritten, ['metadata/3.snapshot.json', 'metadata/timestamp.json']);

  const noRepo = await run(['publish', 'postgres', '--integrations-dir', ints, '--repository', 'nowhere'], dir);
  assert.equal(noRepo.code, 4);
  assert.match(noRepo.err, /E_REPO_NOT_INITIALIZED/);
  assert.equal(existsSync(path.join(dir, 'nowhere')), false, 'nothing is created at a mistyped repository path');
});

test('repo and publish --help teach with examples', async () => {
  for (const args of [['repo', 'init', '--help'], ['repo', 'status', '--help'], ['repo', 'refresh', '--help'], ['publish', '--help']]) {
    const o = capture();
    assert.equal(await main(args, o, ENV, '/'), 0);
    assert.match(o.out, /Examples:\n {2}provenant /, args.join(' '));
  }
});
