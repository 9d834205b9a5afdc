import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MANIFEST_KEY, parseManifest, renderManifest } from '../../src/mirror/manifest.ts';
import { writeDeterministicTar } from '../../src/mirror/tar-write.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import type { RepoFixture } from '../download/helpers/fixture.ts';
import { expectRefused } from '../download/helpers/run.ts';
import { craftTar, entryOffset, execFileP, exportBundle, filesUnder, flipByte, mirrorFixture, unpack } from './helpers.ts';

const WHEEL = 'simple/datadog-demo/datadog_demo-1.2.0-py3-none-any.whl';

/**
 * Refused with `code` naming `entry`: nothing at the destination, and (for a bundle refused when
 * opened) nothing in the state directory either.
 */
async function refused(fx: RepoFixture, bundle: string, code: string, entry: string | RegExp, opened = true): Promise<void> {
  const stateDir = path.join(fx.dir, `state-${path.basename(bundle)}`);
  const e = await expectRefused(fx, bundle, 'datadog-demo', code, 'verification', { stateDir });
  if (typeof entry === 'string') assert.equal(e.file, entry, e.describe());
  else assert.match(e.file ?? '', entry, e.describe());
  if (opened) assert.deepEqual(await filesUnder(stateDir), [], 'nothing written to the state directory');
}

test('a truncated bundle is refused, naming the entry cut short', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const bytes = await readFile(tar);
  const { offset, size } = await entryOffset(tar, WHEEL);
  await writeFile(path.join(fx.dir, 'mid-wheel.tar'), bytes.subarray(0, offset + Math.floor(size / 2)));
  await refused(fx, path.join(fx.dir, 'mid-wheel.tar'), 'E_MIRROR_TRUNCATED', WHEEL);
  // Cut on an entry boundary: the end-of-archive blocks are missing.
  await writeFile(path.join(fx.dir, 'boundary.tar'), bytes.subarray(0, offset + Math.ceil(size / 512) * 512));
  await refused(fx, path.join(fx.dir, 'boundary.tar'), 'E_MIRROR_TRUNCATED', path.join(fx.dir, 'boundary.tar'));
});

test('a flipped byte in a wheel, its .whl.metadata, an attestation or TUF metadata is refused, naming the entry', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const listing = (await execFileP('tar', ['-tf', tar])).stdout.trim().split('\n');
  const attestation = listing.find((n) => n.startsWith('attestations/datadog-demo/'))!;
  const snapshot = listing.find((n) => /^metadata\/\d+\.snapshot\.json$/.test(n))!;
  for (const entry of [WHEEL, `${WHEEL}.metadata`, attestation, snapshot]) {
    const bad = path.join(fx.dir, `flipped-${sha256Hex(entry).slice(0, 8)}.tar`);
    await flipByte(tar, entry, bad);
    await refused(fx, bad, 'E_MIRROR_ENTRY_DIGEST', entry);
  }
});

test('a tampered wheel with the manifest rewritten to match is still refused by the download checks', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const dir = await unpack(tar, path.join(fx.dir, 'x'));
  const files = new Map<string, Uint8Array>();
  for (const f of await filesUnder(dir)) files.set(f, await readFile(path.join(dir, f)));
  const wheel = Buffer.from(files.get(WHEEL)!);
  wheel.writeUInt8(wheel[100]! ^ 1, 100);
  files.set(WHEEL, wheel);
  const manifest = parseManifest(files.get(MANIFEST_KEY)!, 'bundle');
  manifest.files[WHEEL] = { length: wheel.length, sha256: sha256Hex(wheel) };
  files.set(MANIFEST_KEY, renderManifest(manifest));
  const forged = path.join(fx.dir, 'forged.tar');
  await writeDeterministicTar(forged, files);
  // As online: the TUF metadata verified on the way is kept in the state, the wheel is not delivered.
  await refused(fx, forged, 'E_WHEEL_DIGEST', /datadog_demo-1\.2\.0-py3-none-any\.whl$/, false);
});

test('entries that could reach outside the bundle, links, devices and duplicates are refused, naming the entry', async (t) => {
  const { fx } = await mirrorFixture(t);
  const cases: [string, Parameters<typeof craftTar>[1], string, string][] = [
    ['dotdot', [{ name: 'metadata/../../evil' }], 'E_MIRROR_ENTRY_PATH', 'metadata/../../evil'],
    ['parent', [{ name: '../evil.json' }], 'E_MIRROR_ENTRY_PATH', '../evil.json'],
    ['absolute', [{ name: '/etc/evil' }], 'E_MIRROR_ENTRY_PATH', '/etc/evil'],
    ['symlink', [{ name: 'metadata/timestamp.json', type: 'symlink', linkname: '/etc/passwd' }], 'E_MIRROR_ENTRY_LINK', 'metadata/timestamp.json'],
    ['hardlink', [{ name: 'a' }, { name: 'metadata/timestamp.json', type: 'link', linkname: 'a' }], 'E_MIRROR_ENTRY_LINK', 'metadata/timestamp.json'],
    ['device', [{ name: 'metadata/timestamp.json', type: 'character-device' }], 'E_MIRROR_ENTRY_DEVICE', 'metadata/timestamp.json'],
    ['fifo', [{ name: 'metadata/timestamp.json', type: 'fifo' }], 'E_MIRROR_ENTRY_DEVICE', 'metadata/timestamp.json'],
    ['duplicate', [{ name: 'metadata/timestamp.json', body: 'a' }, { name: 'metadata/timestamp.json', body: 'b' }], 'E_MIRROR_ENTRY_DUPLICATE', 'metadata/timestamp.json'],
    ['no-manifest', [{ name: 'metadata/timestamp.json' }], 'E_MIRROR_MANIFEST', MANIFEST_KEY],
  ];
  for (const [name, entries, code, entry] of cases) {
    const bundle = path.join(fx.dir, `${name}.tar`);
    await craftTar(bundle, entries);
    await refused(fx, bundle, code, entry);
  }
});

test('an entry not in the manifest is refused', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const dir = await unpack(tar, path.join(fx.dir, 'x'));
  await writeFile(path.join(dir, 'extra.txt'), 'x');
  const extra = path.join(fx.dir, 'extra.tar');
  await execFileP('tar', ['-cf', extra, '-C', dir, '.']);
  // GNU tar's own output (./-prefixed names, directory entries) is read as well as ours.
  await refused(fx, extra, 'E_MIRROR_ENTRY_UNLISTED', 'extra.txt');
});
