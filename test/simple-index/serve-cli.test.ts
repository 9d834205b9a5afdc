import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';

const BIN = path.join(REPO_ROOT, 'bin/provenant.js');

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

test('provenant serve --json prints its URL, logs requests on stderr, and stops cleanly on SIGTERM', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'repo', 'simple'), { recursive: true });
  const child = spawn(process.execPath, [BIN, 'serve', '--repository', 'repo', '--port', '0', '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
  const started = await new Promise<{ url: string; indexUrl: string; repository: string }>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      try {
        resolve(JSON.parse(stdout) as { url: string; indexUrl: string; repository: string });
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
  });
  assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(started.indexUrl, `${started.url}simple/`);
  assert.equal(started.repository, path.join(dir, 'repo'));

  const res = await fetch(`${started.url}simple/missing/`, { headers: { accept: 'text/html' } });
  assert.equal(res.status, 404);
  await new Promise((r) => setTimeout(r, 50));
  assert.match(stderr, /GET \/simple\/missing\/ 404 text\/plain; charset=utf-8 accept="text\/html"/);

  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
});

test('provenant serve: missing repository and bad port are clear errors with the right exit codes', async (t) => {
  const dir = await tempDir(t);
  const o = capture();
  assert.equal(await main(['serve', '--repository', 'nope', '--port', '0'], o, process.env, dir), 4);
  assert.match(o.err, /E_REPOSITORY_NOT_FOUND.*provenant repo init/);
  const p = capture();
  assert.equal(await main(['serve', '--port', '70000'], p, process.env, dir), 2);
  assert.match(p.err, /--port must be an integer from 0 to 65535/);
  const h = capture();
  assert.equal(await main(['serve', '--help'], h, process.env, dir), 0);
  assert.match(h.out, /pip install --index-url http:\/\/127\.0\.0\.1:8000\/simple\//);
});
