// diffWheels names every kind of difference between two wheels, and nothing for the same bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffWheels } from '../../src/wheel/wheel-diff.ts';
import { writeZip, type ZipEntry } from '../../src/wheel/zip.ts';
import { ZipReadError } from '../../src/wheel/zip-read.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const base: ZipEntry[] = [
  { name: 'pkg/a.py', data: enc('A = 1\n'), mode: 0o100644 },
  { name: 'pkg/b.py', data: enc('B = 2\n'), mode: 0o100644 },
  { name: 'pkg-1.0.dist-info/RECORD', data: enc('record\n'), mode: 0o644 },
];
const EPOCH = 1700000000;
const kinds = (a: Uint8Array, b: Uint8Array) => diffWheels(a, b).map((d) => `${d.path} ${d.kind}`);

test('the same bytes: no difference', () => {
  assert.deepEqual(diffWheels(writeZip(base, EPOCH), writeZip(base, EPOCH)), []);
});

test('content, mode, timestamp, missing and extra files, order', () => {
  const published = writeZip(base, EPOCH);
  assert.deepEqual(kinds(published, writeZip([base[0]!, { ...base[1]!, data: enc('B = 3\n') }, base[2]!], EPOCH)), ['pkg/b.py content']);
  assert.deepEqual(kinds(published, writeZip([{ ...base[0]!, mode: 0o100755 }, base[1]!, base[2]!], EPOCH)), ['pkg/a.py mode']);
  assert.deepEqual(kinds(published, writeZip(base, EPOCH + 10)), ['pkg/a.py timestamp', 'pkg/b.py timestamp', 'pkg-1.0.dist-info/RECORD timestamp']);
  assert.match(diffWheels(published, writeZip(base, EPOCH + 10))[0]!.detail, /^published 2023-11-14 22:13:20, rebuilt 2023-11-14 22:13:30$/);
  assert.deepEqual(kinds(published, writeZip([base[0]!, base[2]!, { name: 'pkg/c.py', data: enc(''), mode: 0o100644 }], EPOCH)), ['pkg/b.py only in published', 'pkg/c.py only in rebuilt']);
  assert.deepEqual(kinds(published, writeZip([base[1]!, base[0]!, base[2]!], EPOCH)), ['pkg/a.py order']);
});

test('the same files in other zip bytes is said as such; a file that is not a zip is an error', () => {
  const published = writeZip(base, EPOCH);
  const padded = new Uint8Array(published.length + 1);
  padded.set(published);
  assert.deepEqual(kinds(published, padded), ['(archive) archive']);
  assert.throws(() => diffWheels(published, enc('not a zip, and longer than twenty-two bytes')), ZipReadError);
});
