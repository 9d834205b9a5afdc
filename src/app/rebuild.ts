/**
 * `provenant rebuild`: does a published release come from the source its provenance names?
 * Fetches the release through the verifying downloader (TUF, digests, signature, policy), takes
 * the signed statement's commit, integration path and SOURCE_DATE_EPOCH, rebuilds the wheel
 * from that commit's files, and compares the bytes; on a mismatch it says which files differ.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { silentReporter } from '../reporter.ts';
import { sha256Hex } from '../util/hash.ts';
import { diffWheels, type WheelDifference } from '../wheel/wheel-diff.ts';
import { buildWheel as nativeBuildWheel } from '../wheel/wheel.ts';
import { ZIP_MAX_EPOCH } from '../wheel/zip.ts';
import type { WheelBuilder } from './build.ts';
import { downloadWheel, type DownloadRequest } from './download.ts';
import { checkIntegrationPath, sourceAtCommit } from './rebuild-source.ts';

export interface RebuildRequest extends Omit<DownloadRequest, 'dest' | 'unsafeDisableVerification' | 'skipRebuildsCheck'> {
  /** A git checkout (any commit, any state) of the repository the release was built from. */
  source: string;
  buildWheel?: WheelBuilder;
}

export interface RebuildResult {
  project: string;
  version: string;
  /** True when the rebuilt wheel is the published one, byte for byte. */
  match: boolean;
  commit: string;
  path: string;
  sourceDateEpoch: number;
  /** `uri`: where the pointer says the wheel is published. */
  published: { fileName: string; sha256: string; uri: string };
  /** The release's signed provenance the rebuild followed, as the pointer pins it. */
  attestation: { uri: string; sha256: string };
  rebuilt: { fileName: string; sha256: string };
  /** Empty on a match. */
  differences: WheelDifference[];
}

function notRebuildable(message: string, field: string, hint: string): ProvenantError {
  return new ProvenantError('E_REBUILD_SOURCE', message, { exitClass: 'verification', field, hint });
}

export async function rebuildRelease(req: RebuildRequest): Promise<RebuildResult> {
  const reporter = req.reporter ?? silentReporter;
  const work = await mkdtemp(path.join(tmpdir(), 'provenant-rebuild-'));
  try {
    // The rebuilders check is skipped: this is what produces the VSAs it counts.
    const got = await downloadWheel({ ...req, dest: path.join(work, 'published'), skipRebuildsCheck: true });
    const a = got.attestation!;
    const label = `${got.project} ${got.version}`;
    if (a.commit === undefined) {
      throw notRebuildable(`the provenance of ${label} names no source commit`, 'resolvedDependencies', 'only releases built from a git commit can be rebuilt; build releases in a checkout (CI does)');
    }
    if (a.internalParameters.sourceTree === 'modified') {
      throw notRebuildable(`${label} was built from a modified working tree (sourceTree: modified), not from commit ${a.commit.slice(0, 12)} alone`, 'internalParameters.sourceTree', 'release from a clean checkout; this release cannot be reproduced from its source');
    }
    const epoch = a.internalParameters.SOURCE_DATE_EPOCH;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch > ZIP_MAX_EPOCH) {
      throw notRebuildable(`the provenance of ${label} records no usable SOURCE_DATE_EPOCH`, 'internalParameters.SOURCE_DATE_EPOCH', 'rebuild by hand with the timestamp the builder used, and compare digests');
    }
    const recorded = typeof a.parameters.path === 'string' ? a.parameters.path : undefined;
    if (recorded === undefined) {
      throw notRebuildable(`the provenance of ${label} does not say where in the repository the integration is`, 'externalParameters.path', 'rebuild by hand from the integration\'s directory and compare digests');
    }
    const integrationPath = checkIntegrationPath(recorded, got.repository);
    reporter.step(got.project, 'rebuild', 'start', `commit ${a.commit.slice(0, 12)}, ${integrationPath}, SOURCE_DATE_EPOCH=${epoch}`);

    const dir = await sourceAtCommit(path.resolve(req.cwd ?? process.cwd(), req.source), a.commit, integrationPath, work);
    const rebuilt = await (req.buildWheel ?? nativeBuildWheel)(dir, { sourceDateEpoch: epoch });
    const published = await readFile(got.path);
    const differences = diffWheels(published, rebuilt.bytes);
    if (rebuilt.fileName !== got.wheel.fileName) differences.unshift({ path: '(file name)', kind: 'archive', detail: `published ${got.wheel.fileName}, rebuilt ${rebuilt.fileName}` });
    const match = differences.length === 0;
    reporter.step(got.project, 'rebuild', match ? 'ok' : 'fail', match ? `same bytes as published (sha256 ${got.wheel.sha256.slice(0, 12)}…)` : `${differences.length} difference(s)`);
    return {
      project: got.project,
      version: got.version,
      match,
      commit: a.commit,
      path: integrationPath,
      sourceDateEpoch: epoch,
      published: { fileName: got.wheel.fileName, sha256: got.wheel.sha256, uri: got.wheel.uri },
      attestation: { uri: a.uri, sha256: a.sha256 },
      rebuilt: { fileName: rebuilt.fileName, sha256: sha256Hex(rebuilt.bytes) },
      differences,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The error a caller that requires a match raises: exit 5, the differing files in the message. */
export function rebuildMismatch(r: RebuildResult): ProvenantError {
  const shown = r.differences.slice(0, 20).map((d) => `${d.path}: ${d.kind} (${d.detail})`);
  const more = r.differences.length > shown.length ? `; and ${r.differences.length - shown.length} more` : '';
  return new ProvenantError('E_REBUILD_MISMATCH', `${r.project} ${r.version} rebuilt from commit ${r.commit.slice(0, 12)} is not the published wheel: ${shown.join('; ')}${more}`, {
    exitClass: 'verification',
    field: r.published.fileName,
    hint: 'do not trust this release: the published wheel does not come from the source its provenance names (or the build is not reproducible); investigate the builder',
  });
}
