import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listIntegrations } from '../../src/app/workspace.ts';
import { main } from '../../src/cli/main.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import type { Output } from '../../src/cli/output.ts';

export function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

test('--help teaches the typical flow and exits 0', async () => {
  const o = capture();
  assert.equal(await main(['--help'], o), 0);
  assert.match(o.out, /Typical flow/);
  assert.match(o.out, /provenant release --all/);
});

test('an unknown command is a usage error (exit 2)', async () => {
  const o = capture();
  assert.equal(await main(['no-such-command'], o), 2);
  assert.match(o.err, /unknown command 'no-such-command'/);
});

/** The help of every command and subcommand, by its command line. */
async function allHelp(): Promise<Map<string, string>> {
  const lines = [[], ['release'], ['build'], ['sign'], ['publish'], ['repo'], ['repo', 'init'], ['repo', 'status'], ['repo', 'refresh'], ['serve'], ['download']];
  const help = new Map<string, string>();
  for (const l of lines) {
    const o = capture();
    assert.equal(await main([...l, '--help'], o), 0, l.join(' '));
    help.set(l.join(' ') || '(program)', o.out);
  }
  return help;
}

test('--root given to build, sign, publish or release is a usage error that names --integrations-dir', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'provenant-root-flag-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const command of ['build', 'sign', 'publish', 'release']) {
    for (const args of [['--root', dir, '--all'], ['--all', '--root'], [`--root=${dir}`, 'postgres']]) {
      const o = capture();
      assert.equal(await main([command, ...args], o, { PATH: process.env.PATH }, dir), 2, `${command} ${args.join(' ')}`);
      assert.match(o.err, /E_USAGE: .*--integrations-dir; --root is the trusted root\.json of `provenant download`/, command);
      assert.match(o.err, /fix: use --integrations-dir DIR/, command);
    }
  }
  assert.deepEqual(await readdir(dir), [], 'nothing was built, signed or published');
});

test('help examples name integrations that exist in examples/integrations', async () => {
  const integrations = await listIntegrations(path.join(REPO_ROOT, 'examples/integrations'));
  const known = new Set(integrations.flatMap((i) => [i.name, i.project!]));
  const named: string[] = [];
  for (const [cmd, text] of await allHelp()) {
    for (const m of text.matchAll(/provenant (build|sign|publish|release|download) ([^\n]*)/g)) {
      const names = [];
      for (const token of m[2]!.split(/\s+/)) {
        if (token === '' || /^[-|&#)"'[<]/.test(token)) break;
        names.push(token);
      }
      if (m[1] === 'download') names.splice(1);
      for (const n of names) {
        named.push(n);
        assert.ok(known.has(n), `${cmd} --help: "${m[0]}" names ${n}, which is not in examples/integrations (${[...known].join(', ')})`);
      }
    }
  }
  assert.ok(named.length >= 8, `the scan found the examples (${named.join(' ')})`);
});

test('help shows no empty defaults such as (default: []) or (default: {})', async () => {
  for (const [cmd, text] of await allHelp()) assert.doesNotMatch(text, /\(default: (\[\]|\{\})\)/, cmd);
});

test('provenant --version prints the package version; download --version stays the release to fetch', async (t) => {
  const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const o = capture();
    assert.equal(await main([flag], o), 0);
    assert.equal(o.out, `${version}\n`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'provenant-version-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const d = capture();
  assert.equal(await main(['download', 'datadog-postgres', '--version', '9.9.9', '--repository', dir, '--state-dir', path.join(dir, 'state')], d, {}, dir), 2);
  assert.equal(d.out, '');
  assert.match(d.err, /E_TUF_ROOT_MISSING/);
});

/** `--root` followed by a path (not a placeholder such as FILE or <file>). */
const ROOT_PATH_GIVEN = /--root[ =]([^\s`]*(?:\/|\.json)[^\s`]*)/g;

test("one story about the root to trust: the key store's root.json, never the repository's 1.root.json", async (t) => {
  for (const [cmd, text] of await allHelp()) {
    for (const m of text.matchAll(ROOT_PATH_GIVEN)) assert.match(m[1]!, /(^|\/)keys\/root\.json$/, `${cmd} --help: ${m[0]}`);
  }
  const docs = ['README.md', ...(await readdir(path.join(REPO_ROOT, 'docs'))).map((f) => `docs/${f}`)];
  for (const doc of docs) {
    const text = await readFile(path.join(REPO_ROOT, doc), 'utf8');
    for (const m of text.matchAll(ROOT_PATH_GIVEN)) assert.match(m[1]!, /(^|\/)keys\/root\.json$/, `${doc}: ${m[0]}`);
  }
  // The first download's fix line says where the root comes from.
  const dir = await mkdtemp(path.join(tmpdir(), 'provenant-root-story-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const o = capture();
  assert.equal(await main(['download', 'datadog-postgres', '--repository', dir, '--state-dir', path.join(dir, 'state')], o, {}, dir), 2);
  assert.match(o.err, /E_TUF_ROOT_MISSING.*fix: .*publisher's key store \(keys\/root\.json/);
  assert.doesNotMatch(o.err, /1\.root\.json/);
});
