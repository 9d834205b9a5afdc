import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BundleFetcher } from '../../src/mirror/bundle-fetcher.ts';
import { MANIFEST_KEY, renderManifest } from '../../src/mirror/manifest.ts';
import { indexTar } from '../../src/mirror/tar-index.ts';
import { readAll } from '../../src/net/fetcher.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { writeDeterministicTar } from '../../src/mirror/tar-write.ts';
import { tempDir } from '../helpers/peers.ts';
import { execFileP } from './helpers.ts';

async function index(file: string) {
  const bytes = await readFile(file);
  return indexTar(async (pos, len) => bytes.subarray(pos, pos + len), bytes.length, file);
}

const LONG = `pointers/${'p'.repeat(40)}/${'a'.repeat(64)}.${'n'.repeat(60)}-1.0.0.pointer`;

test('long names: pax headers (ours), ustar prefixes and GNU long names (GNU tar) index to the full path and the right bytes', async (t) => {
  const dir = await tempDir(t);
  const files = new Map<string, Uint8Array>([
    [LONG, new TextEncoder().encode('long\n')],
    ['metadata/timestamp.json', new TextEncoder().encode('{}')],
    ['empty', new Uint8Array()],
  ]);
  const ours = path.join(dir, 'ours.tar');
  await writeDeterministicTar(ours, files);
  // GNU tar (an independent writer) reads ours back, and writes the same files in its own long-name formats.
  assert.deepEqual((await execFileP('tar', ['-tf', ours])).stdout.trim().split('\n').sort(), [...files.keys()].sort());
  const src = path.join(dir, 'src');
  for (const [k, v] of files) {
    await mkdir(path.dirname(path.join(src, k)), { recursive: true });
    await writeFile(path.join(src, k), v);
  }
  for (const format of ['gnu', 'pax', 'ustar']) {
    const tar = path.join(dir, `${format}.tar`);
    // ustar cannot hold LONG (its file name alone is over 100 bytes): GNU tar refuses it, and so is it left out there.
    const names = format === 'ustar' ? ['metadata/timestamp.json', 'empty'] : [...files.keys()];
    await execFileP('tar', [`--format=${format}`, '-cf', tar, '-C', src, ...names]);
    const gnu = await index(tar);
    const bytes = await readFile(tar);
    for (const name of names) {
      const e = gnu.get(name);
      assert.ok(e, `${format}: ${name} in ${[...gnu.keys()].join(' ')}`);
      assert.deepEqual(bytes.subarray(e.offset, e.offset + e.size), Buffer.from(files.get(name)!), `${format}: ${name}`);
    }
  }
  const mine = await index(ours);
  const bytes = await readFile(ours);
  const e = mine.get(LONG)!;
  assert.equal(bytes.subarray(e.offset, e.offset + e.size).toString(), 'long\n');
  assert.equal(mine.get('empty')?.size, 0);
});

test('not a tar: a header checksum that fails is E_MIRROR_HEADER; an empty file E_MIRROR_TRUNCATED', async (t) => {
  const dir = await tempDir(t);
  const junk = path.join(dir, 'junk.tar');
  await writeFile(junk, Buffer.alloc(2048, 0x41));
  await assert.rejects(index(junk), (e: { code: string }) => e.code === 'E_MIRROR_HEADER');
  const empty = path.join(dir, 'empty.tar');
  await writeFile(empty, '');
  await assert.rejects(index(empty), (e: { code: string }) => e.code === 'E_MIRROR_TRUNCATED');
});

test('BundleFetcher serves each entry in place, an empty one too, and a name it does not hold as not found', async (t) => {
  const dir = await tempDir(t);
  const files = new Map<string, Uint8Array>([
    ['metadata/timestamp.json', new TextEncoder().encode('{}')],
    ['empty', new Uint8Array()],
  ]);
  files.set(MANIFEST_KEY, renderManifest({ mirrorFormat: 1, source: 'x', tuf: { root: 1, timestamp: 1, snapshot: 1, timestampExpires: '' }, releases: [], files: Object.fromEntries([...files].map(([k, b]) => [k, { length: b.length, sha256: sha256Hex(b) }])) }));
  const tar = path.join(dir, 'b.tar');
  await writeDeterministicTar(tar, files);
  const url = `${pathToFileURL(tar).href}/`;
  const f = await BundleFetcher.open(url);
  assert.equal((await readAll(f, `${url}metadata/timestamp.json`, 100)).toString(), '{}');
  assert.equal((await readAll(f, `${url}empty`, 100)).length, 0);
  await assert.rejects(readAll(f, `${url}metadata/1.root.json`, 100), (e: { code: string }) => e.code === 'E_NET_NOT_FOUND');
  await assert.rejects(readAll(f, `${url}metadata/timestamp.json`, 1), (e: { code: string }) => e.code === 'E_LENGTH_EXCEEDED');
});
