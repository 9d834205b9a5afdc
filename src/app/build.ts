import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { BuildOptions, BuiltWheel } from '../wheel/types.ts';
import { ZIP_MAX_EPOCH } from '../wheel/zip.ts';
import { ProvenantError, isProvenantError } from '../errors.ts';
import { attestationKey, pointerFileName, statementFileName, wheelKey } from '../formats/layout.ts';
import { renderPointer, type Pointer } from '../formats/pointer.ts';
import { githubContext, isGitHubActions, resolveBuildContext, type BuildContext } from '../provenance/context.ts';
import { gitCli, type GitAdapter } from '../provenance/git.ts';
import { makeStatement, renderStatement, type ProvenanceFormat } from '../provenance/statement.ts';
import { sha256Hex } from '../util/hash.ts';
import { replaceFilesTogether } from './dist-files.ts';
import { orderedReporters, silentReporter, type Reporter } from '../reporter.ts';
import { mapLimited } from '../util/map-limited.ts';
import type { Integration } from './workspace.ts';

/** hatchling's default, so a build without SOURCE_DATE_EPOCH matches `hatch build`. */
export const DEFAULT_SOURCE_DATE_EPOCH = 1580601600;
export type WheelBuilder = (projectDir: string, opts: BuildOptions) => Promise<BuiltWheel>;

export interface BuildRequest {
  /** Provenance format; `slsa-v1` unless the reference guide's `slsa-v0.2` is wanted. */
  format?: ProvenanceFormat;
  /** Public base URL of the repository; empty = URIs relative to the repository root. */
  baseUrl?: string;
  /** Where SOURCE_DATE_EPOCH and the CI variables are read from. */
  env: Readonly<Record<string, string | undefined>>;
  buildWheel: WheelBuilder;
  git?: GitAdapter;
  reporter?: Reporter;
  now?: () => Date;
  /** One id for a whole local run when a pipeline calls this once per integration; a fresh urn:uuid otherwise. */
  invocationId?: string;
  /**
   * Integrations built at once (default 1). Results and reporter output keep the input order
   * whatever finishes first; pass a wheel builder that runs elsewhere (src/wheel/wheel-pool.ts)
   * for the wheels themselves to use more than one core.
   */
  jobs?: number;
}

export interface BuiltFile {
  path: string;
  fileName: string;
  sha256: string;
  size: number;
}

/** One integration's build, as the release pipeline and `--json` see it. */
export interface BuildResult {
  integration: string;
  project: string;
  version: string;
  tag: string;
  dist: string;
  wheel: BuiltFile;
  pointer: BuiltFile & { uri: string; attestationUri: string };
  statement: BuiltFile & { format: ProvenanceFormat };
  /** Absent source facts are null (not omitted) so the JSON document always has the same keys. */
  provenance: {
    builderId: string;
    sourceRepository: string | null;
    ref: string | null;
    commit: string | null;
    sourceTree: BuildContext['sourceTree'];
  };
}

/**
 * SOURCE_DATE_EPOCH from the environment, read as hatchling reads it (Python's `int()`: optional
 * sign, `_` between digits, surrounding spaces). Times before 1980 are accepted and clamped to
 * 1980-01-01 in the wheel, as hatchling does; after 2107 a zip cannot store them (hatchling fails).
 * Unset or empty means hatchling's default.
 */
export function sourceDateEpochFrom(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return DEFAULT_SOURCE_DATE_EPOCH;
  const text = raw.trim();
  const value = /^[+-]?\d+(?:_\d+)*$/.test(text) ? Number(text.replaceAll('_', '')) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > ZIP_MAX_EPOCH) {
    throw new ProvenantError('E_SOURCE_DATE_EPOCH_INVALID', `SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is not a usable timestamp`, {
      field: 'SOURCE_DATE_EPOCH',
      hint: `set it to whole seconds since 1970, at most ${ZIP_MAX_EPOCH} (2107-12-31, the latest a zip can store), e.g. \`git log -1 --format=%ct\`, or unset it for ${DEFAULT_SOURCE_DATE_EPOCH}`,
    });
  }
  return value;
}

/** The base URL without its trailing slash; empty stays empty (relative URIs). */
export function normalizeBaseUrl(raw: string | undefined, source = '--base-url'): string {
  const s = (raw ?? '').trim();
  if (s === '') return '';
  const ok = URL.canParse(s) && !/[?#]/.test(s);
  if (!ok) {
    throw new ProvenantError('E_BASE_URL_INVALID', `${source} ${JSON.stringify(s)} is not an absolute URL without query or fragment`, {
      field: source,
      hint: 'give the public root of the repository, e.g. https://packages.example.com/integrations, or leave it empty for relative URIs',
    });
  }
  return s.replace(/\/+$/, '');
}

/** A repository key as published: absolute under the base URL, or relative to the repository root. */
export function artifactUri(baseUrl: string, key: string): string {
  return baseUrl === '' ? key : `${baseUrl}/${key}`;
}

function describeSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function enc(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

interface RunShared {
  format: ProvenanceFormat;
  baseUrl: string;
  sourceDateEpoch: number;
  invocationId: string;
  git: GitAdapter;
  now: () => Date;
}

async function buildOne(i: Integration, req: BuildRequest, s: RunShared, r: Reporter): Promise<BuildResult> {
  let step = 'wheel';
  try {
    r.step(i.name, 'build', 'start');
    const startedOn = s.now();
    const context = await resolveBuildContext({ env: req.env, git: s.git, dir: i.dir, localInvocationId: s.invocationId });
    const wheel = await req.buildWheel(i.dir, { sourceDateEpoch: s.sourceDateEpoch });
    const wheelSha = sha256Hex(wheel.bytes);
    r.debug(`${i.name}: ${wheel.fileName} ${describeSize(wheel.bytes.length)} sha256:${wheelSha}`);

    step = 'provenance';
    const project = wheel.normalizedName;
    const statementBytes = renderStatement(
      makeStatement(s.format, {
        subject: { name: wheel.fileName, sha256: wheelSha },
        integration: i.name,
        context,
        sourceDateEpoch: s.sourceDateEpoch,
        startedOn,
        finishedOn: s.now(),
      }),
    );
    // Notes shared by every integration (no remote, not a checkout) are said once per run (orderedReporters).
    for (const note of context.notes) r.warn(note);
    r.debug(`${i.name}: ${s.format} statement, builder ${context.builderId}`);

    const statementName = statementFileName(project, wheel.version);
    const statementSha = sha256Hex(statementBytes);
    const pointer: Pointer = {
      name: project,
      version: wheel.version,
      uri: artifactUri(s.baseUrl, wheelKey(project, wheel.fileName)),
      digest: wheelSha,
      length: wheel.bytes.length,
      // Pins the unsigned statement for now; `provenant sign` re-points it at the signed bundle.
      attestation: { uri: artifactUri(s.baseUrl, attestationKey(project, statementName)), digest: statementSha, length: statementBytes.length },
    };
    const pointerName = pointerFileName(project, wheel.version);
    const pointerBytes = enc(renderPointer(pointer));

    step = 'write';
    const dist = path.join(i.dir, 'dist');
    await replaceFilesTogether(dist, [
      { name: wheel.fileName, bytes: wheel.bytes },
      { name: statementName, bytes: statementBytes },
      { name: pointerName, bytes: pointerBytes },
    ]);
    r.step(i.name, 'build', 'ok', `${wheel.fileName} (${describeSize(wheel.bytes.length)}), pointer, ${s.format} provenance`);
    return {
      integration: i.name,
      project,
      version: wheel.version,
      tag: wheel.tag,
      dist,
      wheel: { path: path.join(dist, wheel.fileName), fileName: wheel.fileName, sha256: wheelSha, size: wheel.bytes.length },
      pointer: {
        path: path.join(dist, pointerName),
        fileName: pointerName,
        sha256: sha256Hex(pointerBytes),
        size: pointerBytes.length,
        uri: pointer.uri,
        attestationUri: pointer.attestation.uri,
      },
      statement: { path: path.join(dist, statementName), fileName: statementName, sha256: statementSha, size: statementBytes.length, format: s.format },
      provenance: {
        builderId: context.builderId,
        sourceRepository: context.repository ?? null,
        ref: context.ref ?? null,
        commit: context.commit ?? null,
        sourceTree: context.sourceTree,
      },
    };
  } catch (e) {
    r.step(i.name, 'build', 'fail', isProvenantError(e) ? `${step}: ${e.code}` : step);
    throw e;
  }
}

/**
 * Builds each integration: wheel → sha256 → provenance statement → pointer, the three written
 * into `<integration>/dist/` together. Stops at the first failure (its dist/ untouched; earlier
 * integrations keep their complete output; with `jobs` > 1 the ones already under way finish
 * too, and the error thrown is the first failure in input order).
 */
export async function buildIntegrations(integrations: readonly Integration[], req: BuildRequest): Promise<BuildResult[]> {
  const shared: RunShared = {
    format: req.format ?? 'slsa-v1',
    baseUrl: normalizeBaseUrl(req.baseUrl),
    sourceDateEpoch: sourceDateEpochFrom(req.env),
    invocationId: req.invocationId ?? `urn:uuid:${randomUUID()}`,
    git: req.git ?? gitCli(),
    now: req.now ?? (() => new Date()),
  };
  // An incomplete CI environment is the same failure for every integration: refuse it up front.
  if (isGitHubActions(req.env)) githubContext(req.env);
  const outer = req.reporter ?? silentReporter;
  const ordered = orderedReporters(outer, integrations.length);
  return mapLimited(integrations, req.jobs ?? 1, async (i, n) => {
    try {
      const r = ordered.reporter(n);
      const result = await buildOne(i, req, shared, r);
      if (integrations.length > 1) r.progress('integrations built', n + 1, integrations.length);
      return result;
    } finally {
      ordered.done(n);
    }
  });
}
