import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProvenantError } from '../errors.ts';
import { METADATA_DIR, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/layout.ts';
import { compareVersions, parseVersion } from '../formats/pep440.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import type { NetOptions } from '../net/open-fetcher.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { S3StorageOptions } from '../storage/s3.ts';
import { privateTempName } from '../util/atomic-write.ts';
import { codePointCompare } from '../util/code-point-order.ts';
import { sha256Hex } from '../util/hash.ts';
import { readRootFile } from '../verify/trust-anchor.ts';
import { repositoryBaseUrl } from '../verify/repository-url.ts';
import { repositoryStateDir } from '../verify/state-dir.ts';
import { TufClient } from '../verify/tuf-client.ts';
import { releasesIn } from '../verify/datadog-v2-versions.ts';
import { MANIFEST_FORMAT, MANIFEST_KEY, renderManifest, type MirrorManifest } from '../mirror/manifest.ts';
import { RecordingFetcher } from '../mirror/recording-fetcher.ts';
import { rootsUpTo } from '../mirror/root-chain.ts';
import { writeDeterministicTar } from '../mirror/tar-write.ts';
import { downloadWheel, openRepositoryFetcher, type DownloadResult } from './download.ts';
import { verifiedCoreMetadata } from './mirror-core-metadata.ts';

/** A PEP 658 `.metadata` larger than this is not a METADATA file. */

export interface MirrorExportRequest {
  /** `project` (its newest final release, or every release with allVersions) or `project==version`. */
  releases: string[];
  /** The bundle to write (a tar). */
  out: string;
  repository: string;
  /** The root.json to trust (else PROVENANT_ROOT). */
  root?: string | undefined;
  /** Every published release of each bare project name, not only the newest. */
  allVersions?: boolean;
  net?: NetOptions;
  s3?: S3StorageOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  reporter?: Reporter;
}

export interface MirrorExportResult {
  ok: true;
  path: string;
  sha256: string;
  bytes: number;
  releases: { project: string; version: string; wheel: string; sha256: string }[];
  files: number;
  tuf: MirrorManifest['tuf'];
}

interface Wanted {
  project: string;
  version: string | undefined;
}

/**
 * `provenant mirror export`: every named release is downloaded through the download pipeline
 * (every check, from the trusted root), and exactly the bytes that passed are written as a tar
 * laid out like the repository, with the root chain from version 1, every bin (so a bare project
 * name resolves offline as online), the Sigstore trusted root and each wheel's `.whl.metadata`
 * (equal to the verified wheel's METADATA). The tar is then opened as a repository and every
 * release downloaded from it again, offline, before it is renamed to `out`.
 */
export async function exportMirror(req: MirrorExportRequest): Promise<MirrorExportResult> {
  const env = req.env ?? process.env;
  const cwd = req.cwd ?? process.cwd();
  const reporter = req.reporter ?? silentReporter;
  const wanted = req.releases.map(parseReleaseSpec);
  if (wanted.length === 0) throw usage('name at least one release to export', 'releases');
  const rootFile = req.root ?? (env.PROVENANT_ROOT || undefined);
  if (!rootFile) throw usage('--root is required: the bundle is verified from a root you trust, never from the repository', '--root');
  const given = await readRootFile(rootFile, '--root');
  const repositoryUrl = repositoryBaseUrl(req.repository, cwd);
  const out = path.resolve(cwd, req.out);
  if ((await stat(out).catch(() => undefined))?.isDirectory()) throw usage(`${out} is a directory; give the bundle's file name`, 'OUT');

  const scratch = await mkdtemp(path.join(tmpdir(), 'provenant-mirror-'));
  const base = await openRepositoryFetcher(repositoryUrl, { s3: req.s3, net: { env, ...req.net } });
  const rec = new RecordingFetcher(base, repositoryUrl);
  const tmp = privateTempName(out);
  try {
    const stateBase = path.join(scratch, 'state');
    const tuf = await TufClient.open({ repositoryUrl, stateDir: repositoryStateDir(stateBase, repositoryUrl), rootFile, fetcher: rec, reporter });
    await tuf.refresh();
    // Every bin: a bare project name is resolved by listing them all, offline as online.
    const all = await tuf.listTargets('');
    const trustedRoot = await tuf.targetInfo(SIGSTORE_TRUSTED_ROOT_TARGET);
    if (trustedRoot) await tuf.fetchTarget(trustedRoot);
    await tuf.flush();
    const versions = tuf.versions();

    const jobs: Wanted[] = wanted.flatMap((w) => (w.version === undefined && req.allVersions ? releasesIn(tuf.layout(), all, w.project).map((r) => ({ project: w.project, version: r.version })) : [w]));
    const results: DownloadResult[] = [];
    for (const job of jobs) {
      // Sequential: the releases share one state, whose writes must not interleave.
      const r = await downloadWheel({ ...job, repository: repositoryUrl, root: rootFile, stateDir: stateBase, dest: path.join(scratch, 'wheels'), env, fetcher: rec, reporter });
      reporter.step(r.project, 'mirror export', 'ok', `${r.version} verified`);
      results.push(r);
    }

    const files = new Map(rec.recorded);
    for (const [key, bytes] of await rootsUpTo(base, repositoryUrl, given)) files.set(key, bytes);
    for (const r of results) {
      // The key the verified wheel was recorded under (its pointer's uri): its bytes passed the pins.
      const wheelKey = rec.keyOf(r.wheel.uri);
      const wheel = wheelKey === undefined ? undefined : files.get(wheelKey);
      const metadata = wheel && (await verifiedCoreMetadata(base, r.wheel.uri, wheel, wheelKey!));
      if (metadata) files.set(`${wheelKey!}.metadata`, metadata);
    }

    const timestamp = files.get(`${METADATA_DIR}/timestamp.json`);
    const expires = timestamp ? String((JSON.parse(Buffer.from(timestamp).toString('utf8')) as { signed: { expires: string } }).signed.expires) : '';
    const manifest: MirrorManifest = {
      mirrorFormat: MANIFEST_FORMAT,
      source: repositoryUrl,
      tuf: { root: versions.root, timestamp: versions.timestamp ?? 0, snapshot: versions.snapshot ?? 0, timestampExpires: expires },
      releases: [...results].sort((a, b) => codePointCompare(a.project, b.project) || compareVersions(a.version, b.version)).map((r) => ({ project: r.project, version: r.version, wheel: r.wheel.fileName, sha256: r.wheel.sha256 })),
      files: Object.fromEntries([...files].map(([k, b]) => [k, { length: b.byteLength, sha256: sha256Hex(b) }])),
    };
    files.set(MANIFEST_KEY, renderManifest(manifest));
    await writeDeterministicTar(tmp, files);
    await selfCheck(tmp, wanted, req.allVersions ? results : [], rootFile, scratch);
    await rename(tmp, out);
    const bytes = (await stat(out)).size;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(out)) hash.update(chunk as Buffer);
    reporter.step('mirror', 'export', 'ok', `${results.length} release(s), ${files.size} files → ${out} (valid until ${expires}, the timestamp's expiry)`);
    return { ok: true, path: out, sha256: hash.digest('hex'), bytes, releases: manifest.releases, files: files.size, tuf: manifest.tuf };
  } finally {
    base.close();
    await rm(tmp, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The bundle, opened as a repository from a fresh state, yields every release as the source did. */
async function selfCheck(bundle: string, wanted: Wanted[], allVersions: DownloadResult[], rootFile: string, scratch: string): Promise<void> {
  const jobs = allVersions.length ? allVersions.map((r) => ({ project: r.project, version: r.version })) : wanted;
  for (const job of jobs) {
    await downloadWheel({ ...job, repository: pathToFileURL(bundle).href, root: rootFile, stateDir: path.join(scratch, 'self-check'), dest: path.join(scratch, 'self-check-wheels'), env: {} });
  }
}

function parseReleaseSpec(spec: string): Wanted {
  const [name, version, ...rest] = spec.split('==');
  const project = normalizeProjectName((name ?? '').trim());
  if (!project || rest.length || (version !== undefined && !parseVersion(version.trim()))) {
    throw usage(`${JSON.stringify(spec)} is not <project> or <project>==<version>`, 'releases');
  }
  return { project, version: version?.trim() };
}

function usage(message: string, field: string): ProvenantError {
  return new ProvenantError('E_USAGE', message, { exitClass: 'usage', field, hint: 'e.g. provenant mirror export datadog-postgres datadog-redisdb==5.1.0 bundle.tar --repository ./repository --root keys/root.json' });
}
