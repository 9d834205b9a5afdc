import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'puppeteer-core';
import { publishReleases } from '../../src/app/publish.ts';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import { repoFixture, rogueSigner, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';

/**
 * The status pages in a real browser (Debian's Chromium, headless, JavaScript off): served by
 * `provenant serve` on loopback and opened from file://, every link followed, the content compared
 * with what `provenant download --json` verifies for the same releases, basic accessibility checks
 * (headings, table semantics, text contrast), and a phone-width layout without horizontal overflow.
 * Screenshots are kept in a temp directory whose path is printed, for a person to look at.
 */
const BIN = path.join(REPO_ROOT, 'bin/provenant.js');

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  return o;
}

async function cli(fx: RepoFixture, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = capture();
  const code = await main(args, o, { PATH: process.env.PATH }, fx.dir);
  return { code, out: o.out, err: o.err };
}

async function serve(t: { after(fn: () => unknown): void }, dir: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'serve', '--repository', dir, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => void (err += c.toString()));
  return new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      try {
        resolve((JSON.parse(out) as { url: string }).url);
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${err}`)));
  });
}

/**
 * The facts tables of a project page: version → row label → cell text. In-page code is a string:
 * this project is type-checked without the DOM library.
 */
async function releaseFacts(page: Page): Promise<Map<string, Record<string, string>>> {
  const rows = (await page.evaluate(`[...document.querySelectorAll('table.facts')].map((t) => {
    const cells = {};
    for (const tr of t.querySelectorAll('tbody tr')) cells[tr.querySelector('th').textContent] = tr.querySelector('td').textContent.trim();
    return [t.closest('section').querySelector('h2').textContent, cells];
  })`)) as [string, Record<string, string>][];
  return new Map(rows);
}

async function tableRows(page: Page, selector: string): Promise<string[][]> {
  return (await page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((tr) => [...tr.children].map((c) => c.textContent.trim()))`)) as string[][];
}

/** Every link on the page, resolved; same-origin or file links must reach something. */
async function checkLinks(page: Page, label: string): Promise<string[]> {
  const links = (await page.evaluate(`[...document.querySelectorAll('a[href]')].map((a) => ({ href: a.href, text: a.textContent.trim() }))`)) as { href: string; text: string }[];
  assert.ok(links.length > 0, `${label}: has links`);
  const here = new URL(page.url());
  const ids = new Set((await page.evaluate(`[...document.querySelectorAll('[id]')].map((e) => e.id)`)) as string[]);
  for (const { href, text } of links) {
    assert.ok(text.length > 0, `${label}: link to ${href} has text`);
    const url = new URL(href);
    if (url.origin === here.origin && url.pathname === here.pathname && url.hash) {
      assert.ok(ids.has(decodeURIComponent(url.hash.slice(1))), `${label}: ${href} points at an element of the page`);
    } else if (url.protocol === 'file:') {
      assert.ok(existsSync(fileURLToPath(url)), `${label}: ${href} exists`);
    } else if (url.origin === here.origin) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${label}: ${href}`);
      await res.arrayBuffer();
    } else {
      // Only links forge.ts makes leave the repository: https on a known forge, from signed provenance.
      assert.match(href, /^https:\/\/github\.com\/DataDog\/integrations-core(\/|$)/, `${label}: external link ${href}`);
    }
  }
  return links.map((l) => l.href);
}

/** Headings, table semantics, language, and WCAG AA contrast of every piece of text. */
async function checkAccessibility(page: Page, label: string): Promise<void> {
  const a = (await page.evaluate(`(() => {
    const levels = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => Number(h.tagName[1]));
    const tables = [...document.querySelectorAll('table')];
    const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const ch = (v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    let worst = { ratio: 21, text: '' };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent.trim();
      const el = n.parentElement;
      if (!text || !el) continue;
      const [l1, l2] = [lum(parse(getComputedStyle(el).color)), lum(background(el))].sort((x, y) => y - x);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      if (ratio < worst.ratio) worst = { ratio, text: text.slice(0, 40) };
    }
    return {
      lang: document.documentElement.lang,
      levels,
      tables: tables.length,
      captions: tables.filter((t) => t.querySelector(':scope > caption')?.textContent.trim()).length,
      unscoped: document.querySelectorAll('th:not([scope])').length,
      scripts: document.querySelectorAll('script').length,
      worst,
    };
  })()`)) as { lang: string; levels: number[]; tables: number; captions: number; unscoped: number; scripts: number; worst: { ratio: number; text: string } };
  assert.equal(a.lang, 'en', label);
  assert.equal(a.levels.filter((l) => l === 1).length, 1, `${label}: one h1`);
  a.levels.forEach((l, i) => assert.ok(i === 0 || l <= a.levels[i - 1]! + 1, `${label}: heading levels ${a.levels.join(',')} skip none`));
  assert.ok(a.tables > 0);
  assert.equal(a.captions, a.tables, `${label}: every table has a caption`);
  assert.equal(a.unscoped, 0, `${label}: every header cell has a scope`);
  assert.equal(a.scripts, 0, `${label}: no script`);
  assert.ok(a.worst.ratio >= 4.5, `${label}: text contrast ${a.worst.ratio.toFixed(2)}:1 for "${a.worst.text}" is below AA (4.5:1)`);
}

async function noHorizontalOverflow(page: Page, label: string): Promise<void> {
  // The layout viewport's width, not innerWidth: a mobile browser zooms out to show overflowing content.
  const m = (await page.evaluate(`({ scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth })`)) as { scroll: number; width: number };
  assert.equal(m.width, 390, `${label}: laid out at the phone's width`);
  assert.ok(m.scroll <= m.width, `${label}: ${m.scroll}px of content in a ${m.width}px wide window`);
}

test('status pages in Chromium: served and from file://, links, the facts download verifies, accessibility, phone width', { timeout: 240_000 }, async (t) => {
  const fx = await repoFixture(t);
  const releases = [
    await signedRelease(fx, 'datadog-demo', '1.0.0'),
    await signedRelease(fx, 'datadog-demo', '1.1.0', { format: 'slsa-v0.2', context: { commit: 'fedcba9876543210fedcba9876543210fedcba98', ref: 'refs/tags/1.1.0' } }),
    await signedRelease(fx, 'datadog-broken', '1.0.0', { signers: [rogueSigner()] }),
  ];
  await publishReleases(fx.storage, fx.signers, releases);
  const shots = await mkdtemp(path.join(tmpdir(), 'provenant-status-screenshots-'));
  const base = await serve(t, fx.repoDir);
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  await page.setJavaScriptEnabled(false);
  await page.setViewport({ width: 1200, height: 900 });

  await t.test('overview from provenant serve: HTML, roles, projects, links', async () => {
    const res = await page.goto(base, { waitUntil: 'load' });
    assert.equal(res?.status(), 200);
    assert.equal(res?.headers()['content-type'], 'text/html; charset=utf-8');
    assert.equal(await page.evaluate(`document.querySelector('h1').textContent`), 'Repository status');
    const roles = await tableRows(page, 'section[aria-labelledby="tuf"] tbody tr');
    assert.deepEqual(roles.map((r) => r[0]), ['root', 'targets', 'snapshot', 'timestamp', 'bins (16)']);
    const timestamp = await cli(fx, ['repo', 'status', '--repository', fx.repoDir, '--keys', fx.keysDir, '--json']);
    const status = JSON.parse(timestamp.out) as { roles: { role: string; version: number }[] };
    for (const r of status.roles) assert.equal(roles.find((x) => x[0] === r.role)?.[1], String(r.version), `${r.role} version as repo status verifies it`);
    const projects = await tableRows(page, 'section[aria-labelledby="projects"] tbody tr');
    assert.deepEqual(projects, [['datadog-broken', '1', '1.0.0'], ['datadog-demo', '2', '1.1.0']]);
    await checkLinks(page, 'overview');
    await checkAccessibility(page, 'overview');
    await page.screenshot({ path: path.join(shots, 'overview-desktop.png'), fullPage: true });
  });

  await t.test('project page: what each release shows is what download --json verifies', async () => {
    await Promise.all([page.waitForNavigation(), page.click('a[href="status/datadog-demo.html"]')]);
    assert.equal(new URL(page.url()).pathname, '/status/datadog-demo.html');
    const facts = await releaseFacts(page);
    assert.deepEqual([...facts.keys()], ['1.1.0', '1.0.0'], 'newest first');
    for (const version of ['1.0.0', '1.1.0']) {
      const d = await cli(fx, ['download', 'datadog-demo', '--version', version, '--repository', base, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state'), '--dest', path.join(fx.dir, `dl-${version}`), '--json']);
      assert.equal(d.code, 0, d.err);
      const v = JSON.parse(d.out) as { version: string; wheel: { fileName: string; sha256: string; length: number }; attestation: { keyIds: string[]; builderId: string; sourceRepository: string; ref: string; commit: string } };
      const f = facts.get(version)!;
      assert.equal(v.version, version);
      assert.equal(f['Wheel'], v.wheel.fileName);
      assert.equal(f['Wheel SHA-256'], v.wheel.sha256);
      assert.match(f['Wheel size']!, new RegExp(`\\(${v.wheel.length.toLocaleString('en-US')} bytes\\)`));
      assert.equal(f['Builder']?.split('run ')[0]?.trim(), v.attestation.builderId);
      assert.equal(f['Source repository'], v.attestation.sourceRepository);
      assert.equal(f['Ref'], v.attestation.ref);
      assert.equal(f['Commit'], v.attestation.commit);
      assert.equal(f['Signed by'], `attestation policy key ${v.attestation.keyIds.join(', ')}`);
      assert.match(f['Checks']!, /^Passed/);
      assert.match(f['Built']!, /^2026-01-01 00:00 UTC \(the signed provenance's (runDetails\.metadata\.finishedOn|metadata\.buildFinishedOn)\)$/);
    }
    const hrefs = await checkLinks(page, 'datadog-demo page');
    assert.ok(hrefs.includes('https://github.com/DataDog/integrations-core/commit/fedcba9876543210fedcba9876543210fedcba98'));
    assert.ok(hrefs.includes('https://github.com/DataDog/integrations-core/tree/1.1.0'));
    assert.ok(hrefs.some((h) => h.endsWith('/simple/datadog-demo/datadog_demo-1.1.0-py3-none-any.whl')));
    await checkAccessibility(page, 'datadog-demo page');
    await page.screenshot({ path: path.join(shots, 'project-desktop.png'), fullPage: true });
  });

  await t.test('a release that fails a check: the page says which, with download\'s code, and claims nothing else', async () => {
    await page.goto(`${base}status/datadog-broken.html`);
    const d = await cli(fx, ['download', 'datadog-broken', '--version', '1.0.0', '--repository', base, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state'), '--json']);
    assert.equal(d.code, 5);
    const code = (JSON.parse(d.out) as { error: { code: string } }).error.code;
    const f = (await releaseFacts(page)).get('1.0.0')!;
    assert.match(f['Checks']!, new RegExp(`^Failed attestation signature: ${code} `));
    for (const row of ['Built', 'Builder', 'Source repository', 'Signed by']) assert.equal(f[row], undefined, row);
    await checkAccessibility(page, 'datadog-broken page');
  });

  await t.test('phone width (390 px): no horizontal overflow', async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
    for (const key of ['', 'status/datadog-demo.html', 'status/datadog-broken.html']) {
      await page.goto(`${base}${key}`);
      await noHorizontalOverflow(page, key || 'overview');
    }
    await page.goto(`${base}status/datadog-demo.html`);
    await page.screenshot({ path: path.join(shots, 'project-phone.png'), fullPage: true });
    await page.goto(`${base}status/datadog-broken.html`);
    await page.screenshot({ path: path.join(shots, 'project-failed-phone.png'), fullPage: true });
    await page.goto(base);
    await page.screenshot({ path: path.join(shots, 'overview-phone.png'), fullPage: true });
  });

  await t.test('the published pages from file://, and repo status --html for a local check', async () => {
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(pathToFileURL(path.join(fx.repoDir, 'index.html')).href);
    await checkLinks(page, 'overview (file)');
    await Promise.all([page.waitForNavigation(), page.click('a[href="status/datadog-demo.html"]')]);
    const published = await releaseFacts(page);
    await checkLinks(page, 'datadog-demo page (file)');

    const out = path.join(fx.dir, 'local-check');
    const r = await cli(fx, ['repo', 'status', '--repository', fx.repoDir, '--keys', fx.keysDir, '--html', out, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((JSON.parse(r.out) as { htmlWritten: string[] }).htmlWritten.sort(), ['index.html', 'status/datadog-broken.html', 'status/datadog-demo.html'].map((k) => path.join(out, k)));
    await page.goto(pathToFileURL(path.join(out, 'status/datadog-demo.html')).href);
    assert.deepEqual(await releaseFacts(page), published, 'the same view as the published page');
    const hrefs = await checkLinks(page, 'local check');
    assert.ok(hrefs.includes(pathToFileURL(path.join(fx.repoDir, 'simple/datadog-demo/datadog_demo-1.0.0-py3-none-any.whl')).href), 'objects link into the repository');
  });

  t.diagnostic(`screenshots: ${shots}`);
  console.log(`status page screenshots: ${shots}`);
});
