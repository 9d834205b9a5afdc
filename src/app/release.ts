import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { asProvenantError, type ProvenantError } from '../errors.ts';
import type { GitAdapter } from '../provenance/git.ts';
import type { ProvenanceFormat } from '../provenance/statement.ts';
import type { KeylessSigning } from '../signers/keyless.ts';
import type { Signer } from '../signers/signer.ts';
import { RecordingStorage, type PlannedWrite } from '../storage/recording.ts';
import type { Storage } from '../storage/storage.ts';
import type { SignerSource } from '../tuf/signer-source.ts';
import { buildIntegrations, type WheelBuilder } from './build.ts';
import { publishReleases, type Release, type ReleaseOutcome } from './publish.ts';
import { readReleaseFromDist } from './publish-inputs.ts';
import { nestedReporter, silentReporter, type Reporter } from '../reporter.ts';
import { signIntegrations, type SignResult } from './sign.ts';
import { mapLimited } from '../util/map-limited.ts';
import type { Integration } from './workspace.ts';

/**
 * The reference pipeline, for real: build → generate attestation → sign attestation → sign pointer
 * (TUF) → upload → update TUF metadata → update index → test download. Integrations that fail to
 * build or sign are reported and left out; the rest are published in one commit, then each is
 * downloaded back through the verifying downloader.
 */
export const RELEASE_STEPS = [
  'build',
  'generate attestation',
  'sign attestation',
  'sign pointer (TUF)',
  'upload',
  'update TUF metadata',
  'update index',
  'test download',
] as const;
export type ReleaseStep = (typeof RELEASE_STEPS)[number];

export interface StepOutcome {
  step: ReleaseStep;
  status: 'ok' | 'fail' | 'skip';
  detail: string;
}

export interface IntegrationRelease {
  integration: string;
  project: string | undefined;
  version: string | undefined;
  ok: boolean;
  steps: StepOutcome[];
  error?: ReturnType<ProvenantError['toJSON']>;
  /** Where the test download put the verified wheel (a scratch path; absent on dry runs and failures). */
  downloaded?: string;
  /** What was built and signed, and (once published) the repository keys of its objects. */
  artifacts?: {
    wheel: { fileName: string; sha256: string; size: number };
    attestation: { fileName: string; sha256: string; keyIds: string[]; keyless?: SignResult['keyless'] };
    objects?: ReleaseOutcome['objects'];
  };
}

export interface ReleaseSummary {
  repository: string;
  dryRun: boolean;
  ok: boolean;
  integrations: IntegrationRelease[];
  /** Every write the publish made (or, on a dry run, would have made), in order. */
  writes: PlannedWrite[];
  snapshotVersion: number | undefined;
  timestampVersion: number | undefined;
}

/** Verifies a published release the way a host would; returns the verified wheel's path. */
export type DownloadCheck = (project: string, version: string) => Promise<string>;

export interface ReleaseRequest {
  integrations: readonly Integration[];
  storage: Storage;
  signers: SignerSource;
  attestationSigners: readonly Signer[];
  /** Sign attestations keyless (Fulcio + Rekor) instead of with `attestationSigners`. */
  keyless?: KeylessSigning | undefined;
  /**
   * Refuses a signed attestation before anything is published (a key or keyless identity the
   * repository's policy does not accept): the integration fails at `sign attestation`. Required,
   * so no caller forgets it; `null` only where there is no policy to check against yet (a dry
   * run into a repository that does not exist). The CLI passes `publishedTrustCheck`.
   */
  checkAttestation: ((bundle: Uint8Array, project: string, file: string) => Promise<void>) | null;
  buildWheel: WheelBuilder;
  /** How provenance asks git (default gitCli; the CLI passes treeGit for the whole tree). */
  git?: GitAdapter;
  /** Integrations built at once (default 1); signing, publishing and reporting keep input order. */
  jobs?: number;
  env: Readonly<Record<string, string | undefined>>;
  testDownload: DownloadCheck;
  dryRun?: boolean;
  format?: ProvenanceFormat;
  baseUrl?: string;
  reporter?: Reporter;
}

export async function releaseIntegrations(req: ReleaseRequest): Promise<ReleaseSummary> {
  const reporter = req.reporter ?? silentReporter;
  const inner = nestedReporter(reporter);
  const invocationId = `urn:uuid:${randomUUID()}`;
  const records = req.integrations.map((i): IntegrationRelease => ({ integration: i.name, project: i.project, version: undefined, ok: true, steps: [] }));
  const note = (rec: IntegrationRelease, step: ReleaseStep, status: StepOutcome['status'], detail: string) => {
    rec.steps.push({ step, status, detail });
    reporter.step(rec.integration, step, status, detail);
  };
  const fail = (rec: IntegrationRelease, step: ReleaseStep, e: unknown) => {
    const err = asProvenantError(e);
    rec.ok = false;
    rec.error = err.toJSON();
    note(rec, step, 'fail', err.describe());
    for (const later of RELEASE_STEPS.slice(RELEASE_STEPS.indexOf(step) + 1)) rec.steps.push({ step: later, status: 'skip', detail: `not run: ${step} failed` });
  };

  // Build and sign touch only each integration's own dist/, so one failure stops only that one.
  // The builds run `jobs` at a time first; what they did is reported below, in input order.
  const built = await mapLimited(req.integrations, req.jobs ?? 1, async (i) => {
    try {
      const [b] = await buildIntegrations([i], { env: req.env, buildWheel: req.buildWheel, git: req.git, format: req.format, baseUrl: req.baseUrl, invocationId, reporter: inner });
      return { ok: b! } as const;
    } catch (error) {
      return { error } as const;
    }
  });
  const releases: { rec: IntegrationRelease; release: Release }[] = [];
  for (const [n, i] of req.integrations.entries()) {
    const rec = records[n]!;
    reporter.progress(`releasing: ${i.name}`, n, req.integrations.length);
    const b = built[n]!;
    if ('error' in b) {
      fail(rec, 'build', b.error);
      continue;
    }
    rec.project = b.ok.project;
    rec.version = b.ok.version;
    const wheelInfo = { fileName: b.ok.wheel.fileName, sha256: b.ok.wheel.sha256, size: b.ok.wheel.size };
    note(rec, 'build', 'ok', `${b.ok.wheel.fileName} (${b.ok.wheel.size} bytes, sha256 ${b.ok.wheel.sha256.slice(0, 12)}…)`);
    note(rec, 'generate attestation', 'ok', `${b.ok.statement.fileName} (${b.ok.statement.format}, builder ${b.ok.provenance.builderId})`);
    try {
      const [s] = await signIntegrations([i], { signers: req.attestationSigners, keyless: req.keyless, version: rec.version, reporter: inner });
      const { bundle, keyIds, keyless } = s!;
      await req.checkAttestation?.(await readFile(bundle.path), s!.project, bundle.path);
      rec.artifacts = { wheel: wheelInfo, attestation: { fileName: bundle.fileName, sha256: bundle.sha256, keyIds, ...(keyless ? { keyless } : {}) } };
      const by = keyless ? `keyless as ${keyless.subject ?? '?'}, Rekor log index ${keyless.logIndexes.join(', ')}` : `DSSE signed by ${keyIds.map((k) => k.slice(0, 12)).join(', ')}`;
      note(rec, 'sign attestation', 'ok', `${bundle.fileName}, ${by}`);
      releases.push({ rec, release: await readReleaseFromDist(i, rec.version) });
    } catch (e) {
      fail(rec, 'sign attestation', e);
    }
  }
  reporter.progress('built and signed', req.integrations.length, req.integrations.length);

  const storage = new RecordingStorage(req.storage, { dryRun: Boolean(req.dryRun) });
  let snapshotVersion: number | undefined;
  let timestampVersion: number | undefined;
  if (releases.length > 0) {
    try {
      const res = await publishReleases(storage, req.signers, releases.map((r) => r.release), inner);
      snapshotVersion = res.snapshotVersion;
      timestampVersion = res.timestampVersion;
      for (const { rec } of releases) {
        const o = res.releases.find((x) => x.project === rec.project && x.version === rec.version);
        const already = o?.status === 'unchanged';
        if (o && rec.artifacts) rec.artifacts.objects = o.objects;
        note(rec, 'sign pointer (TUF)', 'ok', already ? `already a target in ${o?.bin}` : `${o?.target} in ${o?.bin}`);
        note(rec, 'upload', 'ok', already ? 'already published (same wheel; the published attestation stays)' : `${Object.values(o?.objects ?? {}).length} immutable objects`);
        note(rec, 'update TUF metadata', 'ok', res.committed ? `snapshot v${res.snapshotVersion}, timestamp v${res.timestampVersion}` : 'nothing to change');
        note(rec, 'update index', 'ok', `${res.indexWritten.length} index objects ${req.dryRun ? 'would be ' : ''}written`);
      }
    } catch (e) {
      for (const { rec } of releases) fail(rec, 'sign pointer (TUF)', e);
    }
  }

  for (const { rec } of releases) {
    if (!rec.ok) continue;
    if (req.dryRun) {
      note(rec, 'test download', 'skip', 'dry run: nothing was published to download');
      continue;
    }
    try {
      rec.downloaded = await req.testDownload(rec.project!, rec.version!);
      note(rec, 'test download', 'ok', `fetched back from the repository and verified (TUF, digests, signature, provenance policy)`);
    } catch (e) {
      fail(rec, 'test download', e);
    }
  }
  return {
    repository: req.storage.location,
    dryRun: Boolean(req.dryRun),
    ok: records.every((r) => r.ok),
    integrations: records,
    writes: storage.plan,
    snapshotVersion,
    timestampVersion,
  };
}

/** One integration that was not released: where it stopped and why. */
export interface ReleaseFailure {
  integration: string;
  project: string | undefined;
  version: string | undefined;
  step: ReleaseStep;
  code: string;
}

/** What failed in a release, in the order integrations were given: empty when it all went through. */
export function releaseFailures(s: ReleaseSummary): ReleaseFailure[] {
  return s.integrations.flatMap((r) => {
    if (r.ok) return [];
    const step = r.steps.find((x) => x.status === 'fail')?.step ?? 'build';
    const code = typeof r.error?.code === 'string' ? r.error.code : 'E_INTERNAL';
    return [{ integration: r.integration, project: r.project, version: r.version, step, code }];
  });
}
