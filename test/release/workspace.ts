import { createHash } from 'node:crypto';
import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReleaseSummary } from '../../src/app/release.ts';
import { main } from '../../src/cli/main.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';

function capture() {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

/** A workspace with a copy of the examples, a repository and a key store, all temporary. */
export async function workspace(t: { after(fn: () => unknown): void }) {
  const dir = await tempDir(t);
  await cp(path.join(REPO_ROOT, 'examples/integrations'), path.join(dir, 'integrations'), {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('dist'),
  });
  const env = { PATH: process.env.PATH, HOME: dir, SOURCE_DATE_EPOCH: '1700000000' };
  /** Runs `provenant <command> --integrations-dir integrations --json …` in-process, in the workspace. */
  const cli = async (command: string, ...args: string[]) => {
    const o = capture();
    const code = await main([command, '--integrations-dir', 'integrations', '--json', ...args], o, env, dir);
    return { code, out: o.out, err: o.err, json: o.out ? (JSON.parse(o.out) as Record<string, unknown>) : undefined };
  };
  const release = async (...args: string[]) => {
    const r = await cli('release', ...args);
    return { ...r, summary: r.json as ReleaseSummary | undefined };
  };
  return { dir, env, cli, release, repo: path.join(dir, 'repository') };
}

export async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else h.update(`${path.relative(dir, p)}\0`).update(await readFile(p));
    }
  };
  await walk(dir);
  return h.digest('hex');
}

