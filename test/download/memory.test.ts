import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { openFetcher } from '../../src/net/open-fetcher.ts';
import { downloadPinnedWheel } from '../../src/verify/artifact.ts';
import { collectYoungGarbage } from '../../src/verify/young-garbage.ts';
import { tempDir } from '../helpers/peers.ts';
import { listen } from './helpers/servers.ts';

const MiB = 1024 * 1024;

test('a large wheel streams through bounded memory: network buffers are freed as it goes, not after 64 MiB of them', async (t) => {
  const size = 160 * MiB;
  const block = Buffer.alloc(MiB, 0x5a);
  const digest = createHash('sha256');
  for (let i = 0; i < size / MiB; i++) digest.update(block);
  const url = await listen(t, (_req, res) => {
    res.writeHead(200, { 'content-length': size });
    let sent = 0;
    const pump = () => {
      while (sent < size && res.write(block)) sent += MiB;
      if (sent >= size) res.end();
      else res.once('drain', () => ((sent += MiB), pump()));
    };
    pump();
  });
  const dir = await tempDir(t);
  const fetcher = await openFetcher({ env: {} });
  t.after(() => fetcher.close());
  collectYoungGarbage();
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const file = await downloadPinnedWheel(fetcher, { url: `${url}big.whl`, length: size, sha256: digest.digest('hex') }, dir, 'big.whl', (n) => {
    if (n % (4 * MiB) < 64 * 1024) peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  });
  assert.equal((await stat(file)).size, size);
  await rm(file);
  assert.ok(peak < 40 * MiB, `buffers outside the heap peaked at ${(peak / MiB).toFixed(1)} MiB`);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'no global gc left behind');
});
