import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishReleases } from '../../src/app/publish.ts';
import { refreshRepository } from '../../src/app/repo.ts';
import { CACHE_SHORT } from '../../src/storage/object-props.ts';
import { RecordingStorage } from '../../src/storage/recording.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { download } from '../download/helpers/run.ts';
import { repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';

const page = (fx: RepoFixture, key: string) => readFile(path.join(fx.repoDir, key), 'utf8');

/** Storage passing everything to `inner`, with a hook before each unconditional write (pages, index). */
function hooked(inner: Storage, beforePut: (key: string) => Promise<void> | void): Storage {
  return {
    location: inner.location,
    get: (k) => inner.get(k),
    list: (p) => inner.list(p),
    putImmutable: (k, b, p) => inner.putImmutable(k, b, p),
    putIfMatch: (k, b, p, e) => inner.putIfMatch(k, b, p, e),
    put: async (k, b, p) => {
      await beforePut(k);
      return inner.put(k, b, p);
    },
  };
}

test('publish keeps index.html and status/<project>.html, served as short-cached HTML, after the index', async (t) => {
  const fx = await repoFixture(t);
  const rec = new RecordingStorage(fx.storage, { dryRun: false });
  const res = await publishReleases(rec, fx.signers, [await signedRelease(fx, 'datadog-demo', '1.0.0'), await signedRelease(fx, 'Datadog_Other', '2.0.0')]);
  assert.deepEqual(res.statusPages, { written: ['status/datadog-demo.html', 'status/datadog-other.html', 'index.html'] });
  const keys = rec.plan.map((w) => w.key);
  assert.ok(keys.indexOf('index.html') > keys.indexOf('simple/index.html'), 'the pages come after the index');
  assert.ok(keys.indexOf('index.html') > keys.indexOf('metadata/timestamp.json'), 'and after the commit');
  for (const key of res.statusPages.written) {
    const w = rec.plan.find((x) => x.key === key)!;
    assert.deepEqual([w.contentType, w.cacheControl], ['text/html; charset=utf-8', CACHE_SHORT], key);
  }
  const overview = await page(fx, 'index.html');
  assert.match(overview, /<a href="status\/datadog-demo\.html">datadog-demo<\/a>/);
  assert.match(overview, /<a href="status\/datadog-other\.html">datadog-other<\/a>/);
  const demo = await page(fx, 'status/datadog-demo.html');
  assert.match(demo, /<a href="\.\.\/simple\/datadog-demo\/datadog_demo-1\.0\.0-py3-none-any\.whl">/);
  assert.match(demo, /<span class="state ok">Passed<\/span>/);
});

test('publishing again with nothing new writes no page; a later publish rewrites only what changed', async (t) => {
  const fx = await repoFixture(t);
  const first = await signedRelease(fx, 'datadog-demo', '1.0.0');
  await publishReleases(fx.storage, fx.signers, [first, await signedRelease(fx, 'datadog-other', '1.0.0')]);
  const again = await publishReleases(fx.storage, fx.signers, [first], undefined, { now: () => new Date(Date.now() + 60_000) });
  assert.equal(again.committed, false);
  assert.deepEqual(again.statusPages.written, [], 'same content (the generation time aside): nothing written');
  const next = await publishReleases(fx.storage, fx.signers, [await signedRelease(fx, 'datadog-demo', '1.1.0')]);
  // The overview changes (versions, newest), the demo page gains a release; the other page is not rewritten.
  assert.deepEqual(next.statusPages.written, ['status/datadog-demo.html', 'index.html']);
  assert.match(await page(fx, 'status/datadog-demo.html'), /id="release-1\.1\.0"/);
});

test('a page that cannot be written is a warning (E_PUBLISH_STATUS_PAGE): the commit stands, and the same publish again writes it', async (t) => {
  const fx = await repoFixture(t);
  const release = await signedRelease(fx, 'datadog-demo', '1.0.0');
  const broken = hooked(fx.storage, (key) => {
    if (key.startsWith('status/')) throw new Error('disk full');
  });
  const warnings: string[] = [];
  const reporter = { step() {}, progress() {}, info() {}, debug() {}, warn: (m: string) => void warnings.push(m) };
  const res = await publishReleases(broken, fx.signers, [release], reporter);
  assert.equal(res.committed, true);
  assert.equal(res.statusPages.warning?.code, 'E_PUBLISH_STATUS_PAGE');
  assert.match(res.statusPages.warning.message, /the commit stands.*disk full/);
  assert.match(warnings.join('\n'), /E_PUBLISH_STATUS_PAGE: .*— fix: run the same command again/);
  assert.equal((await download(fx, fx.repoDir, 'datadog-demo')).version, '1.0.0', 'the release is published');
  assert.equal(existsSync(path.join(fx.repoDir, 'status/datadog-demo.html')), false);

  const rerun = await publishReleases(fx.storage, fx.signers, [release]);
  assert.equal(rerun.committed, false);
  assert.deepEqual(rerun.statusPages, { written: ['status/datadog-demo.html', 'index.html'] });
});

test('a project without a page gets one when another project is published (pages lost, or made before pages existed)', async (t) => {
  const fx = await repoFixture(t);
  await publishReleases(fx.storage, fx.signers, [await signedRelease(fx, 'datadog-old', '1.0.0')], undefined, { statusPages: false });
  assert.equal(existsSync(path.join(fx.repoDir, 'index.html')), false);
  const res = await publishReleases(fx.storage, fx.signers, [await signedRelease(fx, 'datadog-new', '1.0.0')]);
  assert.deepEqual(res.statusPages.written, ['status/datadog-new.html', 'status/datadog-old.html', 'index.html']);
});

test('a publisher committing while the pages are made: they are made again from the newer commit', async (t) => {
  const fx = await repoFixture(t);
  const rival = await signedRelease(fx, 'datadog-rival', '1.0.0');
  let raced = false;
  const racing = hooked(fx.storage, async (key) => {
    if (raced || !key.startsWith('status/')) return;
    raced = true;
    await publishReleases(fx.storage, fx.signers, [rival], undefined, { statusPages: false, lock: false });
  });
  const res = await publishReleases(racing, fx.signers, [await signedRelease(fx, 'datadog-demo', '1.0.0')], undefined, { lock: false });
  assert.ok(raced);
  assert.ok(res.statusPages.written.includes('status/datadog-rival.html'), res.statusPages.written.join(', '));
  const overview = await page(fx, 'index.html');
  assert.match(overview, /datadog-rival/, 'the last overview written describes the newest commit');
  const timestamp = JSON.parse(await page(fx, 'metadata/timestamp.json')) as { signed: { version: number } };
  assert.match(overview, new RegExp(`<th scope="row">timestamp</th><td>${timestamp.signed.version}</td>`));
});

test('repo refresh brings the overview up to date (new versions and expiry); nothing due, nothing written', async (t) => {
  const fx = await repoFixture(t);
  await publishReleases(fx.storage, fx.signers, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const before = await page(fx, 'index.html');
  const idle = await refreshRepository(fx.storage, fx.signers);
  assert.equal(idle.statusPages, undefined);
  const res = await refreshRepository(fx.storage, fx.signers, undefined, { force: ['timestamp'] });
  assert.deepEqual(res.statusPages, { written: ['index.html'] });
  const after = await page(fx, 'index.html');
  const version = (html: string) => /<th scope="row">timestamp<\/th><td>(\d+)<\/td>/.exec(html)?.[1];
  assert.equal(Number(version(after)), Number(version(before)) + 1);
});

test('a dry-run publish plans the pages and writes none', async (t) => {
  const fx = await repoFixture(t);
  const dry = new RecordingStorage(fx.storage, { dryRun: true });
  const res = await publishReleases(dry, fx.signers, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  assert.deepEqual(res.statusPages.written, ['status/datadog-demo.html', 'index.html']);
  assert.ok(dry.plan.some((w) => w.key === 'index.html'));
  assert.equal(existsSync(path.join(fx.repoDir, 'index.html')), false);
});
