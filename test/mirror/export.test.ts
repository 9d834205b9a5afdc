import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sha256Hex } from '../../src/util/hash.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { download } from '../download/helpers/run.ts';
import { entryOffset, execFileP, exportBundle, filesUnder, mirrorFixture, unpack } from './helpers.ts';

test('export → download from the tar and from the unpacked directory: every check, the same wheels', async (t) => {
  const { fx, releases } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const listing = (await execFileP('tar', ['-tf', tar])).stdout.trim().split('\n');
  // Laid out like the repository: the root chain from 1, the commit point, pointers, wheels with their PEP 658 files, attestations, the policy.
  for (const want of ['metadata/1.root.json', 'metadata/timestamp.json', 'provenant-mirror.json']) assert.ok(listing.includes(want), `${want} in ${listing.join(' ')}`);
  for (const re of [/^metadata\/\d+\.snapshot\.json$/, /^metadata\/\d+\.targets\.json$/, /^metadata\/\d+\.bins-/, /^pointers\/datadog-demo\/[0-9a-f]{64}\.datadog-demo-1\.2\.0\.pointer$/, /^simple\/datadog-demo\/datadog_demo-1\.2\.0-py3-none-any\.whl$/, /\.whl\.metadata$/, /^attestations\//, /^policy\/[0-9a-f]{64}\.attestation-policy\.json$/]) {
    assert.ok(listing.some((n) => re.test(n)), `${re} in ${listing.join(' ')}`);
  }
  // Only what was asked: 1.0.0 is not in the bundle.
  assert.ok(!listing.some((n) => n.includes('1.0.0')), listing.join(' '));

  const fromTar = await download(fx, tar, 'datadog-demo', { stateDir: path.join(fx.dir, 'state-tar') });
  assert.equal(fromTar.version, '1.2.0');
  assert.deepEqual(fromTar.checks, [...CHECKS]);
  assert.equal(sha256Hex(await readFile(fromTar.path)), sha256Hex(releases[1]!.wheel.bytes));
  const other = await download(fx, tar, 'datadog-other', { version: '3.0.0', stateDir: path.join(fx.dir, 'state-tar') });
  assert.equal(other.version, '3.0.0');

  const unpacked = await unpack(tar, path.join(fx.dir, 'unpacked'));
  const fromDir = await download(fx, unpacked, 'datadog-demo', { stateDir: path.join(fx.dir, 'state-dir') });
  assert.deepEqual(fromDir.checks, [...CHECKS]);
  assert.equal(fromDir.wheel.sha256, fromTar.wheel.sha256);
});

test('the same input gives the same tar, byte for byte', async (t) => {
  const { fx } = await mirrorFixture(t);
  const a = await exportBundle(fx, 'a.tar');
  const b = await exportBundle(fx, 'b.tar');
  assert.equal(sha256Hex(await readFile(a)), sha256Hex(await readFile(b)));
  const header = (await readFile(a)).subarray(0, 512);
  assert.equal(header.subarray(136, 148).toString('latin1').replace(/\0.*$/s, '').trim(), '00000000000', 'mtime fixed at 0');
});

test('download from the tar opens no socket: a child process whose every connect throws, proxies pointing at a closed port', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const guard = path.join(fx.dir, 'no-network.mjs');
  await writeFile(
    guard,
    `import net from 'node:net';\nconst refuse = () => { throw new Error('NETWORK USED'); };\nnet.Socket.prototype.connect = refuse;\nnet.connect = refuse;\nnet.createConnection = refuse;\n`,
  );
  const bin = path.resolve('bin/provenant.js');
  const dest = path.join(fx.dir, 'offline-dest');
  const env = { ...process.env, HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
  const { stdout } = await execFileP(process.execPath, ['--import', guard, bin, 'download', 'datadog-demo', '--repository', tar, '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state-offline'), '--dest', dest, '--json'], { env });
  const r = JSON.parse(stdout) as { ok: boolean; version: string; checks: string[] };
  assert.equal(r.ok, true);
  assert.equal(r.version, '1.2.0');
  assert.deepEqual(r.checks, [...CHECKS]);
  // The guard does bite: the same child fails as soon as it is sent to a network repository.
  const online = await execFileP(process.execPath, ['--import', guard, bin, 'download', 'datadog-demo', '--repository', 'http://127.0.0.1:9/', '--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state-online'), '--retries', '0', '--json'], { env }).catch((e: { stdout: string }) => e);
  assert.match((online as { stdout: string }).stdout, /NETWORK USED|E_NET/);
});

test('the TUF expiry still applies to a bundle: no flag skips it', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const manifest = JSON.parse((await readFile(tar)).subarray((await entryOffset(tar, 'provenant-mirror.json')).offset).toString('utf8').split('\n}\n')[0] + '\n}') as { tuf: { timestampExpires: string } };
  const expires = Date.parse(manifest.tuf.timestampExpires);
  assert.ok(expires > Date.now());
  // Checked by tuf-js against the clock; run the download with the clock past the expiry.
  const script = `const { downloadWheel } = await import(${JSON.stringify(path.resolve('src/app/download.ts'))});
const shift = ${expires - Date.now() + 60_000}; const RealDate = Date;
globalThis.Date = class extends RealDate { constructor(...a) { if (a.length) super(...a); else super(RealDate.now() + shift); } static now() { return RealDate.now() + shift; } };
try { await downloadWheel({ project: 'datadog-demo', repository: ${JSON.stringify(tar)}, root: ${JSON.stringify(fx.rootFile)}, stateDir: ${JSON.stringify(path.join(fx.dir, 'state-late'))}, dest: ${JSON.stringify(path.join(fx.dir, 'late'))}, env: {} }); console.log('OK'); }
catch (e) { console.log(e.code); }`;
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(stdout.trim(), 'E_TUF_EXPIRED');
  assert.equal(await stat(path.join(fx.dir, 'late')).catch(() => undefined), undefined, 'nothing written');
  assert.deepEqual(await filesUnder(path.join(fx.dir, 'state-late')), []);
});

test('export verifies first: a tampered wheel or .whl.metadata in the source fails it, and no bundle is written', async (t) => {
  const { fx } = await mirrorFixture(t);
  const wheel = path.join(fx.repoDir, 'simple/datadog-demo/datadog_demo-1.2.0-py3-none-any.whl');
  const good = await readFile(wheel);
  const metadata = `${wheel}.metadata`;
  await writeFile(metadata, `${await readFile(metadata, 'utf8')}Summary: not what the wheel says\n`);
  await assert.rejects(exportBundle(fx, 'meta.tar'), (e: { code: string; file: string }) => e.code === 'E_MIRROR_METADATA_MISMATCH' && e.file.endsWith('.whl.metadata'));
  const bad = Buffer.from(good);
  bad.writeUInt8(bad[10]! ^ 1, 10);
  await writeFile(wheel, bad);
  await assert.rejects(exportBundle(fx, 'wheel.tar'), (e: { code: string }) => e.code === 'E_WHEEL_DIGEST');
  assert.deepEqual((await filesUnder(fx.dir)).filter((f) => f.endsWith('.tar') || f.includes('.tar.')), []);
});

test('provenant mirror export --all-versions --json: every release of a bare name, each downloadable offline', async (t) => {
  const { fx } = await mirrorFixture(t);
  const { main } = await import('../../src/cli/main.ts');
  let out = '';
  const code = await main(['mirror', 'export', 'datadog-demo', 'all.tar', '--all-versions', '--repository', fx.repoDir, '--root', fx.rootFile, '--json'], { interactive: false, stdout: (s) => void (out += s), stderr: () => undefined }, {}, fx.dir);
  assert.equal(code, 0, out);
  const r = JSON.parse(out) as { path: string; releases: { version: string }[] };
  assert.deepEqual(r.releases.map((x) => x.version), ['1.0.0', '1.2.0']);
  const old = await download(fx, r.path, 'datadog-demo', { version: '1.0.0', stateDir: path.join(fx.dir, 'state-all') });
  assert.equal(old.version, '1.0.0');
  const usage = await main(['mirror', 'export', 'datadog-demo==not a version', 'x.tar', '--root', fx.rootFile], { interactive: false, stdout: () => undefined, stderr: () => undefined }, {}, fx.dir);
  assert.equal(usage, 2);
});
