import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pack } from 'tar-stream';
import { publishReleases, type Release } from '../../src/app/publish.ts';
import { exportMirror } from '../../src/app/mirror-export.ts';
import { makeSignedRelease } from '../s3/fixtures.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';

type T = Parameters<typeof repoFixture>[0];

/** A repository with real (pip-installable) wheels, their PEP 658 files and index pages, and signed attestations. */
export async function mirrorFixture(t: T): Promise<{ fx: RepoFixture; releases: Release[] }> {
  const fx = await repoFixture(t);
  const releases = [
    await makeSignedRelease('datadog-demo', '1.0.0', fx.attestation),
    await makeSignedRelease('datadog-demo', '1.2.0', fx.attestation),
    await makeSignedRelease('datadog-other', '3.0.0', fx.attestation),
  ];
  await publishReleases(fx.storage, fx.signers, releases, undefined, {});
  return { fx, releases };
}

export async function exportBundle(fx: RepoFixture, out: string, releases = ['datadog-demo', 'datadog-other==3.0.0']): Promise<string> {
  const r = await exportMirror({ releases, out: path.join(fx.dir, out), repository: fx.repoDir, root: fx.rootFile, env: {} });
  return r.path;
}

/** Every file under `dir`, recursively (relative paths). */
export async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

/** The data offset and size of `name` in a tar (a reader of its own, independent of src/mirror/tar-index.ts). */
export async function entryOffset(tar: string, name: string): Promise<{ offset: number; size: number }> {
  const bytes = await readFile(tar);
  let pos = 0;
  let paxPath: string | undefined;
  while (pos + 512 <= bytes.length) {
    const h = bytes.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    const raw = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const data = pos + 512;
    if (type === 'x') paxPath = /\d+ path=([^\n]*)\n/.exec(bytes.subarray(data, data + size).toString('utf8'))?.[1];
    else {
      const entry = paxPath ?? (prefix ? `${prefix}/${raw}` : raw);
      paxPath = undefined;
      if (entry === name) return { offset: data, size };
    }
    pos = data + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} not in ${tar}`);
}

export async function flipByte(tar: string, name: string, out: string): Promise<void> {
  const bytes = Buffer.from(await readFile(tar));
  const { offset, size } = await entryOffset(tar, name);
  const at = offset + Math.floor(size / 2);
  bytes.writeUInt8(bytes[at]! ^ 0x01, at);
  await writeFile(out, bytes);
}

/** A tar of hand-made entries (for the refusals a well-behaved writer never produces). */
export async function craftTar(out: string, entries: { name: string; type?: 'file' | 'symlink' | 'link' | 'character-device' | 'fifo'; body?: string; linkname?: string }[]): Promise<void> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => p.on('end', resolve));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? 'file', mtime: new Date(0), ...(e.linkname ? { linkname: e.linkname } : {}) }, e.type && e.type !== 'file' ? undefined : Buffer.from(e.body ?? 'x'), (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  await writeFile(out, Buffer.concat(chunks));
}

export const execFileP = promisify(execFile);

/** Unpacks `tar` into the new directory `dir` with the system's tar (an independent reader). */
export async function unpack(tar: string, dir: string): Promise<string> {
  await mkdir(dir);
  await execFileP('tar', ['-xf', tar, '-C', dir]);
  return dir;
}
