import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';

/**
 * A tuf-js client (a real, independent TUF implementation) reading a repository over plain HTTP,
 * as pip's users and `provenant download` would through a public bucket or CDN. `dir` holds the
 * client's trusted metadata; reusing it across calls lets tuf-js catch rollbacks between them.
 */
export interface TufClientOptions {
  /** `http://host/bucket/prefix` (no trailing slash). */
  baseUrl: string;
  /** The root.json the client trusts on first use (written only if `dir` has none yet). */
  trustedRoot: Uint8Array;
  dir: string;
}

export async function fetchVerifiedTargets(opts: TufClientOptions, targetPaths: string[]): Promise<Map<string, Buffer>> {
  const metadataDir = path.join(opts.dir, 'metadata');
  const targetDir = path.join(opts.dir, 'targets');
  await mkdir(metadataDir, { recursive: true });
  await mkdir(targetDir, { recursive: true });
  const rootFile = path.join(metadataDir, 'root.json');
  if (!existsSync(rootFile)) await writeFile(rootFile, opts.trustedRoot);
  const updater = new Updater({
    metadataDir,
    metadataBaseUrl: `${opts.baseUrl}/metadata`,
    targetDir,
    targetBaseUrl: `${opts.baseUrl}/`,
    config: { fetchRetries: 0 },
  });
  await updater.refresh();
  const out = new Map<string, Buffer>();
  for (const target of targetPaths) {
    const info = await updater.getTargetInfo(target);
    if (!info) throw new Error(`tuf-js: no target ${target} in the repository's trusted metadata`);
    const file = await updater.downloadTarget(info, path.join(targetDir, target.replaceAll('/', '__')));
    out.set(target, await readFile(file));
  }
  return out;
}
