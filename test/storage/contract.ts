import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isProvenantError } from '../../src/errors.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import type { Storage } from '../../src/storage/storage.ts';

/**
 * The behaviour every Storage backend must share, because the publish protocol is written once
 * against it. Run by fs.test.ts (a temp directory) and s3.test.ts (a real MinIO bucket).
 * `fresh` returns an empty repository each time.
 */
export function storageContract(label: string, fresh: () => Promise<Storage>): void {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const props = (key: string) => objectPropsFor(key);

  describe(`Storage contract: ${label}`, () => {
    test('get of a missing object is undefined; put then get returns the bytes and an etag', async () => {
      const s = await fresh();
      assert.equal(await s.get('metadata/timestamp.json'), undefined);
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
      await s.put('simple/p/p-1.0-py3-none-any.whl', bytes, props('simple/p/p-1.0-py3-none-any.whl'));
      const got = await s.get('simple/p/p-1.0-py3-none-any.whl');
      assert.ok(got);
      assert.deepEqual(Buffer.from(got.bytes), Buffer.from(bytes));
      assert.equal(typeof got.etag, 'string');
      assert.ok(got.etag.length > 0);
      await s.put('simple/p/p-1.0-py3-none-any.whl', enc('replaced'), props('simple/p/index.html'));
      assert.equal(dec((await s.get('simple/p/p-1.0-py3-none-any.whl'))!.bytes), 'replaced');
    });

    test('list is recursive, sorted, limited to the prefix, and relative to the repository', async () => {
      const s = await fresh();
      assert.deepEqual(await s.list(''), []);
      const keys = ['simple/b/index.html', 'metadata/2.snapshot.json', 'simple/a/index.html', 'simple/index.html', 'metadata/1.root.json', 'simplex/x'];
      for (const k of keys) await s.put(k, enc(k), props(k));
      assert.deepEqual(await s.list('metadata/'), ['metadata/1.root.json', 'metadata/2.snapshot.json']);
      assert.deepEqual(await s.list('simple/'), ['simple/a/index.html', 'simple/b/index.html', 'simple/index.html']);
      assert.deepEqual(await s.list(''), [...keys].sort());
      assert.deepEqual(await s.list('nothing/'), []);
    });

    test('putImmutable: created, then identical for the same bytes, conflict for different bytes', async () => {
      const s = await fresh();
      const key = 'pointers/p/p-1.0.pointer';
      assert.equal(await s.putImmutable(key, enc('one'), props(key)), 'created');
      assert.equal(await s.putImmutable(key, enc('one'), props(key)), 'identical');
      await assert.rejects(s.putImmutable(key, enc('two'), props(key)), (e) => {
        assert.ok(isProvenantError(e));
        assert.equal(e.code, 'E_IMMUTABLE_CONFLICT');
        assert.equal(e.exitClass, 'conflict');
        return true;
      });
      assert.equal(dec((await s.get(key))!.bytes), 'one', 'a refused write leaves the object unchanged');
    });

    test('putIfMatch: create when absent, swap on the current etag, conflict on a stale or missing etag', async () => {
      const s = await fresh();
      const key = 'metadata/timestamp.json';
      const e1 = await s.putIfMatch(key, enc('v1'), props(key), undefined);
      assert.equal((await s.get(key))!.etag, e1, 'the returned etag is the stored one');
      await assertCasConflict(s.putIfMatch(key, enc('v1-again'), props(key), undefined));
      const e2 = await s.putIfMatch(key, enc('v2'), props(key), e1);
      assert.notEqual(e2, e1);
      assert.equal(dec((await s.get(key))!.bytes), 'v2');
      await assertCasConflict(s.putIfMatch(key, enc('v3'), props(key), e1));
      assert.equal(dec((await s.get(key))!.bytes), 'v2', 'a lost compare-and-swap writes nothing');
      await assertCasConflict(s.putIfMatch('metadata/other.json', enc('x'), props(key), e2));
      assert.equal(await s.get('metadata/other.json'), undefined);
    });

    test('concurrent compare-and-swap: of N writers holding the same etag exactly one wins, every round', async () => {
      const s = await fresh();
      const key = 'metadata/timestamp.json';
      const writers = 8;
      let etag = await s.putIfMatch(key, enc('round 0'), props(key), undefined);
      for (let round = 1; round <= 5; round++) {
        const results = await Promise.allSettled(
          Array.from({ length: writers }, (_, w) => s.putIfMatch(key, enc(`round ${round} writer ${w}`), props(key), etag)),
        );
        const won = results.flatMap((r, w) => (r.status === 'fulfilled' ? [{ w, etag: r.value }] : []));
        assert.equal(won.length, 1, `round ${round}: exactly one writer wins (got ${won.length})`);
        for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'E_CAS_CONFLICT');
        const now = await s.get(key);
        assert.equal(dec(now!.bytes), `round ${round} writer ${won[0]!.w}`);
        assert.equal(now!.etag, won[0]!.etag);
        etag = now!.etag;
      }
    });

    test('concurrent read-modify-write with retry loses no update', async () => {
      const s = await fresh();
      const key = 'metadata/counter.json';
      await s.putIfMatch(key, enc('0'), props(key), undefined);
      const writers = 8;
      const increments = 4;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (let i = 0; i < increments; i++) {
            for (;;) {
              const cur = (await s.get(key))!;
              try {
                await s.putIfMatch(key, enc(String(Number(dec(cur.bytes)) + 1)), props(key), cur.etag);
                break;
              } catch (e) {
                if ((e as { code?: string }).code !== 'E_CAS_CONFLICT') throw e;
                conflicts++;
                await new Promise((r) => setTimeout(r, Math.random() * 10));
              }
            }
          }
        }),
      );
      assert.equal(dec((await s.get(key))!.bytes), String(writers * increments));
      assert.ok(conflicts > 0, 'the writers did race (otherwise this test proves nothing)');
    });

    test('concurrent putImmutable of one key: one creates, the same bytes are identical, different bytes conflict', async () => {
      const s = await fresh();
      const same = await Promise.all(Array.from({ length: 6 }, () => s.putImmutable('pointers/a/x', enc('same'), props('pointers/a/x'))));
      assert.deepEqual(same.filter((r) => r === 'created').length, 1);
      assert.deepEqual(same.filter((r) => r === 'identical').length, 5);
      const different = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => s.putImmutable('pointers/b/x', enc(`content ${i}`), props('pointers/b/x'))),
      );
      const created = different.filter((r) => r.status === 'fulfilled');
      assert.equal(created.length, 1);
      for (const r of different) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'E_IMMUTABLE_CONFLICT');
    });
  });
}

async function assertCasConflict(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isProvenantError(e), String(e));
    assert.equal(e.code, 'E_CAS_CONFLICT');
    assert.equal(e.exitClass, 'conflict');
    return true;
  });
}
