import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Updater } from 'tuf-js';
import { parse as parseYaml } from 'yaml';
import { downloadWheel } from '../../src/app/download.ts';
import type { Release } from '../../src/app/publish.ts';
import { isProvenantError } from '../../src/errors.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';

/**
 * What a client can see of a repository served over HTTP, checked with independent components:
 * tuf-js for the TUF metadata and pointers (then the wheel each pointer pins, by digest and
 * length), the PEP 691 JSON and PEP 503 HTML pages for the index, and `provenant download`.
 */
export interface ClientView {
  /** Releases tuf-js verifies end to end (pointer target, then the wheel it pins). */
  inTuf: Set<string>;
  /** Releases whose wheel is listed by both the project's JSON and HTML page. */
  inIndex: Set<string>;
  timestampVersion: number;
  snapshotVersion: number;
}

export const releaseId = (r: Pick<Release, 'project' | 'version'>) => `${r.project}==${r.version}`;

/**
 * `clientDir` keeps tuf-js's trusted metadata between calls, so a rollback (an older timestamp or
 * snapshot than the client saw before) makes refresh() fail.
 */
export async function clientView(baseUrl: string, trustedRoot: Uint8Array, clientDir: string, releases: readonly Release[]): Promise<ClientView> {
  const metadataDir = path.join(clientDir, 'metadata');
  const targetDir = path.join(clientDir, 'targets');
  await mkdir(metadataDir, { recursive: true });
  await mkdir(targetDir, { recursive: true });
  if (!existsSync(path.join(metadataDir, 'root.json'))) await writeFile(path.join(metadataDir, 'root.json'), trustedRoot);
  const updater = new Updater({
    metadataDir,
    metadataBaseUrl: `${baseUrl}/metadata`,
    targetDir,
    targetBaseUrl: `${baseUrl}/`,
    config: { fetchRetries: 0 },
  });
  await updater.refresh();
  const inTuf = new Set<string>();
  const inIndex = new Set<string>();
  for (const r of releases) {
    const info = await updater.getTargetInfo(pointerTargetPath(r.project, r.version));
    if (info) {
      const file = await updater.downloadTarget(info, path.join(targetDir, `${r.project}-${r.version}.pointer`));
      const pointer = (parseYaml(await readFile(file, 'utf8')) as { pointer: { digest: string; length: number } }).pointer;
      const wheel = await fetch(`${baseUrl}/simple/${r.project}/${r.wheel.fileName}`);
      assert.equal(wheel.status, 200, `${releaseId(r)}: the wheel its pointer pins is served`);
      const bytes = new Uint8Array(await wheel.arrayBuffer());
      assert.equal(bytes.byteLength, pointer.length);
      assert.equal(sha256Hex(bytes), pointer.digest, `${releaseId(r)}: served wheel matches its pointer`);
      inTuf.add(releaseId(r));
    }
  }
  for (const project of new Set(releases.map((r) => r.project))) {
    const json = await fetch(`${baseUrl}/simple/${project}/index.json`);
    const html = await fetch(`${baseUrl}/simple/${project}/index.html`);
    if (json.status === 404 && html.status === 404) continue;
    const files = new Set(((await json.json()) as { files: { filename: string }[] }).files.map((f) => f.filename));
    const page = await html.text();
    for (const r of releases.filter((x) => x.project === project)) {
      if (files.has(r.wheel.fileName) && page.includes(`>${r.wheel.fileName}<`)) inIndex.add(releaseId(r));
    }
  }
  const ts = JSON.parse(await readFile(path.join(metadataDir, 'timestamp.json'), 'utf8')) as { signed: { version: number; meta: Record<string, { version: number }> } };
  return { inTuf, inIndex, timestampVersion: ts.signed.version, snapshotVersion: ts.signed.meta['snapshot.json']!.version };
}

/**
 * `provenant download` (the library call behind the command) for each release, as a user with the
 * repository's root.json would run it; `stateDir` keeps its trusted metadata between calls.
 * Returns the ids that downloaded and verified; others must fail as "not found", never otherwise.
 */
export async function provenantDownloads(baseUrl: string, rootFile: string, stateDir: string, releases: readonly Release[]): Promise<Set<string>> {
  const ok = new Set<string>();
  for (const r of releases) {
    const dest = await mkdtemp(path.join(tmpdir(), 'provenant-s3-dl-'));
    try {
      const res = await downloadWheel({ project: r.project, version: r.version, repository: baseUrl, root: rootFile, stateDir, dest, env: {} });
      assert.equal(res.verified, true);
      assert.equal(res.wheel.sha256, sha256Hex(r.wheel.bytes), `${releaseId(r)}: provenant download verified the published wheel`);
      ok.add(releaseId(r));
    } catch (e) {
      assert.ok(isProvenantError(e) && e.exitClass === 'not-found', `${releaseId(r)}: download fails only as not found, got ${String(e)}`);
    } finally {
      await rm(dest, { recursive: true, force: true });
    }
  }
  return ok;
}

/** Every object of a bucket with its bytes: "unchanged" means exactly this stays equal. */
export async function snapshotBucket(client: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const o of listed.Contents ?? []) {
    const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    out.set(o.Key!, Buffer.from(await obj.Body!.transformToByteArray()).toString('base64'));
  }
  return out;
}
