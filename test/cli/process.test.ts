import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

/** provenant as a process among others: started by npx, stopped by a supervisor, piped into head. */
const BIN = path.join(REPO_ROOT, 'bin/provenant.js');
const NODE = path.join(REPO_ROOT, 'node_modules/.bin/node');
// As `npm exec` sets it up: the project's bin directory (and so its Node 24) first.
const ENV = { ...process.env, PATH: `${path.join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH}`, npm_config_yes: 'false' };

/** Pids of live processes whose command line mentions `marker` (a unique temp path). */
function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function listeningUrl(child: ChildProcess): Promise<string> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => void (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
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

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

/** Starts `argv` (which serves `repo`), SIGTERMs the process started, and checks nothing is left listening or running. */
async function stopsWithItsParent(t: { after(fn: () => unknown): void }, command: string, argv: string[], repo: string): Promise<void> {
  const child = spawn(command, argv, { cwd: REPO_ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  // Whatever the outcome, no process of this test outlives it.
  t.after(() => {
    for (const pid of processesMentioning(repo)) process.kill(pid, 'SIGKILL');
  });
  const url = await listeningUrl(child);
  assert.equal((await fetch(`${url}simple/`)).status, 404, 'it serves');
  assert.ok(processesMentioning(repo).length >= 2, 'a wrapper process stands between the parent and the server');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (processesMentioning(repo).length > 0 || !(await refused(url)))) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(processesMentioning(repo), [], 'no orphan process is left');
  assert.ok(await refused(url), 'the port is closed');
}

test('`npx provenant serve` stopped by a SIGTERM to npx leaves no orphan listening', { timeout: 120_000 }, async (t) => {
  const repo = path.join(await tempDir(t), 'repository');
  await mkdir(path.join(repo, 'simple'), { recursive: true });
  await stopsWithItsParent(t, 'npx', ['--no', 'provenant', 'serve', '--repository', repo, '--port', '0', '--json'], repo);
});

test('serve under a shell that dies on SIGTERM without passing it on (what npx runs) stops too', { timeout: 60_000 }, async (t) => {
  const repo = path.join(await tempDir(t), 'repository');
  await mkdir(path.join(repo, 'simple'), { recursive: true });
  // `; exit $?` keeps the shell from exec-ing node, as npm's `sh -c` does not exec it either.
  await stopsWithItsParent(t, 'sh', ['-c', '"$@"; exit $?', 'sh', NODE, BIN, 'serve', '--repository', repo, '--port', '0', '--json'], repo);
});

test('`provenant --help | head`: a reader that closes the pipe early gets a quiet exit, not an EPIPE crash', async () => {
  for (const argv of [['--help'], ['build', '--help'], ['--version']]) {
    const child = spawn(NODE, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (c: Buffer) => void (err += c.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    assert.deepEqual({ code, signal, err }, { code: 0, signal: null, err: '' }, argv.join(' '));
  }
});
