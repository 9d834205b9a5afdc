import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { BundleFetcher } from '../../src/mirror/bundle-fetcher.ts';
import { MANIFEST_KEY } from '../../src/mirror/manifest.ts';
import { indexTar } from '../../src/mirror/tar-index.ts';
import { tempDir } from '../helpers/peers.ts';

/*
 * Attacks of issue 13, capacity A: whoever hands a host a mirror bundle (no keys) crafts the tar
 * itself. Each header is written here byte by byte (ustar, pax `x`, GNU `L`, base-256 sizes), as no
 * well-behaved writer would, and indexed by the bundle reader: refused with a code naming the
 * entry, or indexed exactly as POSIX/GNU tar reads it. Never a crash, an unbounded read or a name
 * outside the bundle.
 */

const BLOCK = 512;

interface Header {
  name?: string;
  type?: string;
  size?: number;
  /** Raw 12-byte size field (overrides `size`), e.g. base-256. */
  sizeField?: Uint8Array;
  prefix?: string;
  /** Data written after the header (padded to the block); default `size` bytes of 'x'. */
  data?: Uint8Array;
}

function header(h: Header): Uint8Array {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name ?? 'file', 0, 100, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  const size = h.size ?? h.data?.length ?? 0;
  if (h.sizeField) Buffer.from(h.sizeField).copy(b, 124);
  else b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b.write(h.type ?? '0', 156, 'latin1');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

function entry(h: Header): Uint8Array {
  const data = h.data ?? Buffer.alloc(h.size ?? 0, 'x');
  const padded = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK);
  Buffer.from(data).copy(padded);
  return Buffer.concat([header({ ...h, size: h.size ?? data.length }), padded]);
}

function paxRecords(records: Record<string, string>): Uint8Array {
  let out = '';
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (`${len}${body}`.length !== len) len++;
    out += `${len}${body}`;
  }
  return Buffer.from(out, 'utf8');
}

const pax = (records: Record<string, string>) => entry({ name: 'PaxHeader', type: 'x', data: paxRecords(records) });
const gnuLong = (name: string) => entry({ name: '././@LongLink', type: 'L', data: Buffer.from(`${name}\0`, 'utf8') });
const file = (name: string, body = 'x') => entry({ name, data: Buffer.from(body) });
const END = Buffer.alloc(2 * BLOCK);

function archive(...parts: Uint8Array[]): Buffer {
  return Buffer.concat([...parts, END]);
}

async function index(bytes: Buffer) {
  let largest = 0;
  const read = async (position: number, length: number) => {
    largest = Math.max(largest, length);
    return bytes.subarray(position, position + length);
  };
  const entries = await indexTar(read, bytes.length, 'bundle.tar');
  return { entries, largest };
}

function base256(n: bigint, negative = false): Uint8Array {
  const b = Buffer.alloc(12);
  let v = n;
  for (let i = 11; i >= 1; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0] = negative ? 0xff : 0x80;
  return b;
}

test('attack A: crafted tar headers are refused, naming the entry (pax and GNU overrides, NUL, duplicates after normalizing, huge sizes, sparse and other types)', async () => {
  const cases: [name: string, bytes: Buffer, code: string, file?: string][] = [
    ['pax path with ..', archive(pax({ path: 'metadata/../../evil' }), file('innocent')), 'E_MIRROR_ENTRY_PATH', 'metadata/../../evil'],
    ['pax path absolute', archive(pax({ path: '/etc/cron.d/x' }), file('innocent')), 'E_MIRROR_ENTRY_PATH', '/etc/cron.d/x'],
    ['pax path with NUL', archive(pax({ path: 'metadata/timestamp.json\0../x' }), file('innocent')), 'E_MIRROR_ENTRY_PATH'],
    ['pax path with a newline', archive(pax({ path: 'a\nb' }), file('innocent')), 'E_MIRROR_ENTRY_PATH'],
    ['pax path with a backslash', archive(pax({ path: '..\\..\\evil' }), file('innocent')), 'E_MIRROR_ENTRY_PATH'],
    ['pax path with a trailing slash on a file', archive(pax({ path: 'metadata/' }), file('innocent')), 'E_MIRROR_ENTRY_PATH'],
    ['pax path empty', archive(pax({ path: '' }), file('innocent')), 'E_MIRROR_ENTRY_PATH'],
    ['pax size past the end', archive(pax({ size: '999999' }), file('a')), 'E_MIRROR_TRUNCATED', 'a'],
    ['pax size negative', archive(pax({ size: '-1' }), file('a')), 'E_MIRROR_HEADER'],
    ['pax size in hex', archive(pax({ size: '0x10' }), file('a')), 'E_MIRROR_HEADER'],
    ['pax size beyond 2^53', archive(pax({ size: '9'.repeat(30) }), file('a')), 'E_MIRROR_HEADER'],
    ['pax record length past its header', archive(entry({ name: 'p', type: 'x', data: Buffer.from('99 path=a\n') }), file('a')), 'E_MIRROR_HEADER'],
    ['pax record length zero', archive(entry({ name: 'p', type: 'x', data: Buffer.from('0 path=a\n') }), file('a')), 'E_MIRROR_HEADER'],
    ['pax header over 1 MiB', archive(entry({ name: 'p', type: 'x', size: (1 << 20) + 1 }), file('a')), 'E_MIRROR_HEADER'],
    ['GNU long name with ..', archive(gnuLong('../../evil'), file('innocent')), 'E_MIRROR_ENTRY_PATH', '../../evil'],
    ['GNU long name with an inner NUL', archive(gnuLong('ok\0/../../evil'), file('innocent')), 'E_MIRROR_ENTRY_PATH'],
    ['GNU long name over 1 MiB', archive(entry({ name: '././@LongLink', type: 'L', size: (1 << 20) + 1 }), file('a')), 'E_MIRROR_HEADER'],
    ['ustar prefix with ..', archive(entry({ name: 'evil', prefix: '..', data: Buffer.from('x') })), 'E_MIRROR_ENTRY_PATH', '../evil'],
    ['directory with ..', archive(entry({ name: '../d/', type: '5' })), 'E_MIRROR_ENTRY_PATH'],
    ['./x then x', archive(file('./metadata/timestamp.json'), file('metadata/timestamp.json')), 'E_MIRROR_ENTRY_DUPLICATE', 'metadata/timestamp.json'],
    ['././x then x', archive(file('././x'), file('x')), 'E_MIRROR_ENTRY_DUPLICATE', 'x'],
    ['x//y', archive(file('x//y')), 'E_MIRROR_ENTRY_PATH'],
    ['x/./y', archive(file('x/./y')), 'E_MIRROR_ENTRY_PATH'],
    ['a second manifest through pax', archive(file(MANIFEST_KEY, '{}'), pax({ path: `./${MANIFEST_KEY}` }), file('innocent', '{}')), 'E_MIRROR_ENTRY_DUPLICATE', MANIFEST_KEY],
    ['a second manifest through a GNU long name', archive(file(MANIFEST_KEY, '{}'), gnuLong(MANIFEST_KEY), file('innocent', '{}')), 'E_MIRROR_ENTRY_DUPLICATE', MANIFEST_KEY],
    ['base-256 size of 2^80', archive(entry({ name: 'a', sizeField: base256(1n << 80n) })), 'E_MIRROR_HEADER'],
    ['base-256 negative size', archive(entry({ name: 'a', sizeField: base256(1n, true) })), 'E_MIRROR_HEADER'],
    ['base-256 size of 2^40 (a "huge" entry)', archive(entry({ name: 'a', sizeField: base256(1n << 40n) })), 'E_MIRROR_TRUNCATED', 'a'],
    ['octal size field with garbage', archive(entry({ name: 'a', sizeField: Buffer.from('0000000001x\0') })), 'E_MIRROR_HEADER'],
    ['GNU sparse file', archive(entry({ name: 'a', type: 'S', data: Buffer.from('x') })), 'E_MIRROR_ENTRY_TYPE', 'a'],
    ['pax global header', archive(entry({ name: 'g', type: 'g', data: paxRecords({ path: 'x' }) }), file('a')), 'E_MIRROR_ENTRY_TYPE'],
    ['GNU long link name', archive(entry({ name: '././@LongLink', type: 'K', data: Buffer.from('/etc/passwd\0') }), file('a')), 'E_MIRROR_ENTRY_TYPE'],
    ['GNU volume header', archive(entry({ name: 'v', type: 'V' })), 'E_MIRROR_ENTRY_TYPE'],
    ['GNU multi-volume continuation', archive(entry({ name: 'a', type: 'M', data: Buffer.from('x') })), 'E_MIRROR_ENTRY_TYPE'],
    ['symlink named through pax', archive(pax({ path: 'metadata/timestamp.json', linkpath: '/etc/passwd' }), entry({ name: 'x', type: '2' })), 'E_MIRROR_ENTRY_LINK', 'metadata/timestamp.json'],
    ['a header with a wrong checksum', Buffer.concat([Buffer.from(header({ name: 'a' })).fill(1, 0, 1), END]), 'E_MIRROR_HEADER'],
    ['no end-of-archive blocks', Buffer.from(file('a')), 'E_MIRROR_TRUNCATED'],
  ];
  for (const [name, bytes, code, entryName] of cases) {
    await assert.rejects(index(bytes), (e: unknown) => {
      assert.ok(e instanceof ProvenantError, `${name}: ${String(e)}`);
      assert.equal(e.code, code, `${name}: ${e.describe()}`);
      assert.equal(e.exitClass, 'verification', name);
      if (entryName !== undefined) assert.equal(e.file, entryName, `${name}: ${e.describe()}`);
      return true;
    }, name);
  }
});

test('attack A: what a crafted tar may legitimately do is indexed as POSIX tar reads it, never more (overrides apply to one entry, overlapping data is one entry\'s bytes)', async () => {
  // A pax size shorter than the ustar size: the entry is the pax size; the bytes after it are the next header.
  const hidden = file('hidden', 'h');
  const overlap = archive(pax({ size: '1' }), Buffer.concat([header({ name: 'a', size: BLOCK + hidden.length }), Buffer.from('A'.padEnd(BLOCK, '\0'))]), hidden);
  const r1 = await index(overlap);
  assert.deepEqual([...r1.entries.keys()], ['a', 'hidden']);
  assert.equal(r1.entries.get('a')!.size, 1);
  // A pax size longer than the ustar size: the next "entry" lies inside this one's data, and is not indexed.
  const inner = file('inner', 'i');
  const swallow = archive(pax({ size: String(inner.length) }), header({ name: 'outer', size: 0 }), inner);
  const r2 = await index(swallow);
  assert.deepEqual([...r2.entries.keys()], ['outer']);
  assert.equal(r2.entries.get('outer')!.size, inner.length);
  // pax and GNU names apply to the next entry only; the one after has its own name.
  const r3 = await index(archive(pax({ path: 'long/one' }), file('short1'), gnuLong('long/two'), file('short2'), file('short3')));
  assert.deepEqual([...r3.entries.keys()], ['long/one', 'long/two', 'short3']);
  // Case and Unicode forms are other names (nothing is extracted to a file system that folds them).
  const r4 = await index(archive(file('X'), file('x'), file('caf\u00e9'), file('cafe\u0301')));
  assert.equal(r4.entries.size, 4);
  // A pax path override keeps the ustar name from counting: the 100-byte name is not a second entry.
  const r5 = await index(archive(pax({ path: 'metadata/1.root.json' }), file(MANIFEST_KEY)));
  assert.deepEqual([...r5.entries.keys()], ['metadata/1.root.json']);
  // Thousands of empty pax headers read one block each: bounded, no entry.
  const many = archive(...Array.from({ length: 4000 }, () => entry({ name: 'p', type: 'x', data: Buffer.alloc(0) })), file('a'));
  const r6 = await index(many);
  assert.deepEqual([...r6.entries.keys()], ['a']);
  assert.ok(r6.largest <= BLOCK, `largest read ${r6.largest}`);
});

test('attack A: a huge manifest entry is refused before it is read into memory', async (t) => {
  const dir = await tempDir(t, 'provenant-a13-');
  const bundle = path.join(dir, 'huge.tar');
  // 256 MiB of manifest, written sparse: what a bundle handed over may declare.
  const size = 256 * 1024 * 1024;
  await writeFile(bundle, header({ name: MANIFEST_KEY, size }));
  const fh = await open(bundle, 'r+');
  await fh.truncate(BLOCK + size + 2 * BLOCK);
  await fh.close();
  const before = process.memoryUsage().arrayBuffers;
  const err = await BundleFetcher.open(`${pathToFileURL(bundle).href}/`).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProvenantError, String(err));
  assert.equal(err.code, 'E_MIRROR_MANIFEST', err.describe());
  assert.match(err.message, /268435456 bytes/, err.describe());
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'the manifest was not read into memory');
});
