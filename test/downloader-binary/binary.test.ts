// The single-executable downloader (dist/provenant-download, scripts/build-downloader.ts), run as
// a host runs it: its own process, no Node on PATH, an empty environment. Built once per input
// hash (.tmp/downloader-cache), so only the first run after a change pays for the build.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { bundle, buildDownloader } from '../../scripts/build-downloader.ts';
import { wheelKey } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { CHECKS } from '../../src/verify/checks.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { serveRepository } from '../download/helpers/servers.ts';
import { REPO_ROOT } from '../helpers/peers.ts';

const P = 'datadog-demo';
const V = '1.0.0';
const WHEEL = `datadog_demo-${V}-py3-none-any.whl`;
const EXE = path.join(REPO_ROOT, '.tmp/downloader-test/provenant-download');

before(async () => {
  await buildDownloader(EXE);
});

/** Runs the executable with nothing in its environment: no PATH (so no node), no HOME, no NODE_OPTIONS. */
async function runExe(fx: RepoFixture, args: string[]): Promise<{ code: number; out: string; err: string; dest: string }> {
  const dest = path.join(fx.dir, `dest-${Date.now()}`);
  // The test's own arguments come last: a later --retries or --timeout wins.
  const argv = ['--root', fx.rootFile, '--state-dir', path.join(fx.dir, 'state'), '--dest', dest, '--retries', '0', ...args];
  try {
    const { stdout, stderr } = await promisify(execFile)(EXE, argv, { env: {}, cwd: fx.dir });
    return { code: 0, out: stdout, err: stderr, dest };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr, dest };
  }
}

async function published(t: { after(fn: () => unknown): void }): Promise<RepoFixture> {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, V)]);
  return fx;
}

test('the executable downloads a wheel over loopback HTTP, every check passed, with no node on PATH and an empty environment', async (t) => {
  const fx = await published(t);
  const server = await serveRepository(t, fx.repoDir);
  const r = await runExe(fx, [P, '--repository', server.url, '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { path: string; verified: boolean; checks: string[]; skipped: string[] };
  assert.equal(doc.verified, true);
  assert.deepEqual(doc.skipped, []);
  assert.deepEqual([...doc.checks].sort(), [...CHECKS].sort());
  assert.equal(doc.path, path.join(r.dest, WHEEL));
  assert.equal(sha256Hex(await readFile(doc.path)), sha256Hex(await readFile(path.join(fx.repoDir, wheelKey(P, WHEEL)))));
  // A second run is warm: the state kept by the first is used, and the path is the only stdout line.
  const warm = await runExe(fx, [P, '--repository', server.url]);
  assert.equal(warm.code, 0, warm.err);
  assert.equal(warm.out, `${path.join(warm.dest, WHEEL)}\n`);
});

test('the executable refuses a tampered wheel (E_WHEEL_DIGEST, exit 5) and leaves nothing at --dest', async (t) => {
  const fx = await published(t);
  const file = path.join(fx.repoDir, wheelKey(P, WHEEL));
  const bytes = await readFile(file);
  bytes[10] = bytes[10]! ^ 0x01;
  await writeFile(file, bytes);
  const server = await serveRepository(t, fx.repoDir);
  const r = await runExe(fx, [P, '--repository', server.url, '--json']);
  assert.equal(r.code, 5, r.err);
  assert.equal((JSON.parse(r.out) as { error: { code: string } }).error.code, 'E_WHEEL_DIGEST');
  await assert.rejects(readdir(r.dest), { code: 'ENOENT' });
});

// The executable runs the same HTTP client as `provenant download` (node:http, test/download/net.test.ts);
// these check it through the executable's start-up snapshot.
test('the executable retries a 503 and still verifies the wheel', async (t) => {
  const fx = await published(t);
  let failed = 0;
  const server = await serveRepository(t, fx.repoDir, (urlPath, _req, res) => {
    if (!urlPath.endsWith('.whl') || failed > 0) return false;
    failed++;
    res.writeHead(503).end();
    return true;
  });
  const r = await runExe(fx, [P, '--repository', server.url, '--retries', '2', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal(failed, 1);
  const doc = JSON.parse(r.out) as { network: { retries: number }; verified: boolean };
  assert.equal(doc.verified, true);
  assert.equal(doc.network.retries, 1);
});

test('the executable gives up on a silent server after --timeout (E_NET_TIMEOUT, exit 6)', async (t) => {
  const fx = await published(t);
  const server = await serveRepository(t, fx.repoDir, (urlPath) => urlPath.endsWith('timestamp.json'));
  const r = await runExe(fx, [P, '--repository', server.url, '--timeout', '1', '--json']);
  assert.equal(r.code, 6, r.err);
  assert.equal((JSON.parse(r.out) as { error: { code: string } }).error.code, 'E_NET_TIMEOUT');
});

test('the executable refuses an s3:// repository with E_S3_UNSUPPORTED_BINARY (it carries no AWS SDK)', async (t) => {
  const fx = await repoFixture(t);
  const r = await runExe(fx, [P, '--repository', 's3://bucket/prefix', '--json']);
  assert.equal(r.code, 2, r.err);
  const error = (JSON.parse(r.out) as { error: { code: string; hint: string } }).error;
  assert.equal(error.code, 'E_S3_UNSUPPORTED_BINARY');
  assert.match(error.hint, /https/);
});

test('the bundle holds no AWS SDK, no native addon and no signing code', async () => {
  const { inputs } = await bundle();
  const unwanted = inputs.filter((f) => /@aws-sdk|pkcs11js|src\/signers\/(aws-kms|key-store)|@sigstore\/sign|src\/storage\/s3\.ts/.test(f));
  assert.deepEqual(unwanted, []);
  assert.ok(inputs.includes('src/app/download.ts'), 'the download code is in the bundle');
  // The HTTP client is Node's own node:http (nothing to load at the first request); no undici.
  assert.deepEqual(inputs.filter((f) => /undici/.test(f)), []);
  assert.ok(inputs.includes('src/net/http-fetcher.ts'));
});
