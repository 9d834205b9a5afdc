import { lstat, mkdir, mkdtemp, readlink, rename, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProvenantError, isProvenantError } from '../errors.ts';
import { ddPointerTargetPath } from '../formats/datadog-v2.ts';
import { pointerTargetPath, POLICY_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/layout.ts';
import { parseVersion } from '../formats/pep440.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { DeadlineFetcher, startDeadline } from '../net/deadline.ts';
import type { FetchStats, Fetcher } from '../net/fetcher.ts';
import { openFetcher, type NetOptions } from '../net/open-fetcher.ts';
import { parsePolicy, type Policy } from '../policy/policy.ts';
import type { S3StorageOptions } from '../storage/s3.ts';
import { downloadPinnedAttestation, downloadPinnedWheel } from '../verify/artifact.ts';
import { approvalsRequired, checkApprovals, fetchApprovals, tallyApprovals } from '../verify/approvals-check.ts';
import { checkRebuilds } from '../verify/rebuilds-check.ts';
import { checkAttestationSignature, checkAttestedStatement } from '../verify/attestation-check.ts';
import { CHECKS, type CheckName } from '../verify/checks.ts';
import { checkInstalledRelease, checkNoneWithdrawn, rememberInstalledRelease } from '../verify/installed-releases.ts';
import { checkPointer } from '../verify/pointer-check.ts';
import { repositoryBaseUrl } from '../verify/repository-url.ts';
import { forgetStateCommand, repositoryStateDir, repositoryStateKeyOf, stateBaseDir } from '../verify/state-dir.ts';
import { cachedOr, TargetCache } from '../verify/target-cache.ts';
import { readRootFile, recordTrustedRoot } from '../verify/trust-anchor.ts';
import { TufClient } from '../verify/tuf-client.ts';
import { ddLatestRelease, pointerPrefixIn, releasesIn } from '../verify/datadog-v2-versions.ts';
import { pickRelease, type PublishedRelease } from '../verify/versions.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import { realPathOf } from '../util/real-path.ts';

/** Under each repository's state directory; not `<role>.json`, which is where tuf-js keeps roles. */
const TARGET_CACHE_DIR = 'verified-objects';

/** The whole download's default time budget (--deadline): generous for a large wheel, finite for a dripping server. */
export const DEFAULT_DEADLINE_MS = 15 * 60_000;

export interface DownloadRequest {
  /** Project name in any spelling (`datadog-postgres`, `datadog_postgres`). */
  project: string;
  /** Exact version; default the newest final release. */
  version?: string | undefined;
  /** Allow pre-releases when picking the newest. */
  pre?: boolean;
  /** Repository root: http(s) URL, file:// URL or local directory. */
  repository: string;
  /** root.json to trust when the state directory has none (else PROVENANT_ROOT). */
  root?: string | undefined;
  /** Where the wheel goes; default a new directory under the system temp dir (kept). */
  dest?: string | undefined;
  /** Base of the per-repository state directories (else PROVENANT_STATE_DIR, XDG_STATE_HOME). */
  stateDir?: string | undefined;
  /** Network settings; `caFile` defaults to PROVENANT_CA_BUNDLE. */
  net?: NetOptions;
  /** Time budget for the whole download, every request included (default DEFAULT_DEADLINE_MS). */
  deadlineMs?: number;
  /** For an `s3://bucket/prefix` repository: region, endpoint; credentials from the AWS SDK chain. */
  s3?: S3StorageOptions;
  /** Break glass: skip the attestation and provenance checks, if the TUF-distributed policy allows it. */
  unsafeDisableVerification?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  reporter?: Reporter;
  /** A fetcher of one's own (tests, embedding); default one built from `net`. */
  fetcher?: Fetcher;
  /** `provenant rebuild` only: it is what produces the rebuild VSAs a policy's `rebuilders` asks for. */
  skipRebuildsCheck?: boolean;
  /** `release`'s test download only: approvals of a release just published are gathered after it (hosts wait for them). */
  skipApprovalsCheck?: boolean;
}

export interface DownloadResult {
  ok: true;
  /** Absolute path of the verified wheel. */
  path: string;
  project: string;
  version: string;
  /** `uri`: where the pointer says the wheel is published. */
  wheel: { fileName: string; sha256: string; length: number; uri: string };
  /** False only with --unsafe-disable-verification. */
  verified: boolean;
  checks: CheckName[];
  skipped: CheckName[];
  attestation?: {
    keyIds: string[];
    /** A keyless signature: the certificate's identity and its Rekor log index(es). */
    keyless?: { issuer: string | undefined; subject: string | undefined; logIndexes: string[] };
    /** A certificate of an organizational CA of the policy: the CA's policy name and the certificate's SAN. */
    pki?: { authority: string; subject: string | undefined };
    format: string;
    builderId: string;
    sourceRepository: string | undefined;
    ref: string | undefined;
    commit: string | undefined;
    /** The verified statement's build parameters (integration, path…) and builder choices (SOURCE_DATE_EPOCH, sourceTree…): what a rebuild needs. */
    parameters: Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    /** The bundle as the pointer pins it: what a rebuild VSA names as its input attestation. */
    uri: string;
    sha256: string;
  };
  repository: string;
  stateDir: string;
  tuf: { root: number; timestamp: number | undefined; snapshot: number | undefined };
  network: FetchStats;
}

/**
 * `provenant download`: TUF refresh, then every check of ARCHITECTURE.md in order; the wheel
 * reaches the destination (by rename from a temp file beside it) only once all have passed.
 * On failure nothing is left at the destination and the error names the check.
 */
export async function downloadWheel(req: DownloadRequest): Promise<DownloadResult> {
  const env = req.env ?? process.env;
  const reporter = req.reporter ?? silentReporter;
  const project = normalizeProjectName(req.project.trim());
  if (!project) throw new ProvenantError('E_USAGE', 'no project given', { exitClass: 'usage', field: 'project', hint: 'e.g. provenant download datadog-postgres --repository ./repository' });
  if (req.unsafeDisableVerification && !req.version) {
    throw new ProvenantError('E_UNSAFE_NEEDS_VERSION', '--unsafe-disable-verification requires --version', {
      exitClass: 'usage',
      field: '--version',
      hint: 'name the exact version to fetch without verification',
    });
  }
  if (req.version !== undefined && !parseVersion(req.version)) {
    throw new ProvenantError('E_USAGE_VERSION', `--version ${JSON.stringify(req.version)} is not a PEP 440 version`, {
      exitClass: 'usage',
      field: '--version',
      hint: 'give a version such as 23.2.0, 1.0 or 2.0.0rc1',
    });
  }
  const repositoryUrl = repositoryBaseUrl(req.repository, req.cwd ?? process.cwd());
  const rootFile = req.root ?? (env.PROVENANT_ROOT || undefined);
  // A bundle's state is keyed by the root, not by its path (bundle-state.ts).
  const stateKey = await repositoryStateKeyOf(repositoryUrl, rootFile);
  const stateDir = repositoryStateDir(stateBaseDir(env, req.stateDir), stateKey);
  const caFile = req.net?.caFile ?? (env.PROVENANT_CA_BUNDLE || undefined);
  const base =
    req.fetcher ??
    (await openRepositoryFetcher(repositoryUrl, {
      s3: req.s3,
      net: { env, ...req.net, ...(caFile ? { caFile } : {}), onRetry: (r) => reporter.debug(`retry ${r.retry} of ${r.url} in ${r.delayMs} ms (${r.reason})`) },
    }));
  // Idle timeouts cannot stop a server that drips a byte just before each would fire: the whole
  // download, every request of it, has one deadline.
  const deadline = startDeadline(req.deadlineMs ?? DEFAULT_DEADLINE_MS, `the download of ${project} from ${repositoryUrl}`);
  const fetcher = new DeadlineFetcher(base, deadline.signal);
  const passed: CheckName[] = [];
  const pass = (check: CheckName, detail: string) => {
    passed.push(check);
    reporter.debug(`✓ ${check}: ${detail}`);
  };
  let tempWheel: string | undefined;
  let tuf: TufClient | undefined;
  let ok = false;
  // Work started ahead of its check; on failure it is waited for, so nothing of this run is
  // still fetching or writing state once the error is reported.
  const inflight: Promise<unknown>[] = [];
  const later = <T>(p: Promise<T>) => startEarly(p, inflight);
  // The destination is made ready while TUF works (file-system latency off the critical
  // path); whatever this run creates there is removed again if any check fails.
  const destP = later(prepareDestination(req.dest, req.cwd ?? process.cwd()));
  // Pointers, the policy and attestations already verified once, by sha256 (target-cache.ts):
  // a warm download then needs no request for them when their pins have not changed.
  const cache = new TargetCache(path.join(stateDir, TARGET_CACHE_DIR));
  try {
    const forgetCommand = forgetStateCommand(repositoryUrl, req.stateDir, stateKey === repositoryUrl ? undefined : rootFile);
    tuf = await TufClient.open({ repositoryUrl, stateDir, rootFile, fetcher, reporter, cache, forgetCommand });
    const client = tuf;
    await client.refresh();
    const v = tuf.versions();
    pass('tuf refresh', `root v${v.root}, timestamp v${v.timestamp}, snapshot v${v.snapshot} (state ${stateDir})`);

    // Independent fetches overlap; results are still taken, and checks decided, in order.
    const policyP = later(readPolicy(client));
    const releaseP = later(
      resolveRelease(client, project, req, stateDir, forgetCommand).then(async (release) => ({ release, pointerBytes: await client.fetchTarget(release.target) })),
    );
    const policy = await policyP();
    if (req.unsafeDisableVerification && !policy.allowUnsafeDisableVerification) {
      throw new ProvenantError('E_UNSAFE_REFUSED', '--unsafe-disable-verification is refused: the repository policy forbids it', {
        exitClass: 'verification',
        file: POLICY_TARGET,
        field: 'allowUnsafeDisableVerification',
        hint: 'download with verification, or have the repository owners publish a policy that allows break-glass downloads',
      });
    }

    const { release, pointerBytes } = await releaseP();
    pass('pointer target', `${release.target.path} (${release.target.length} bytes, sha256 ${release.target.hashes.sha256?.slice(0, 12)}…)`);
    const checked = checkPointer(pointerBytes, release.target, { project, version: release.version }, repositoryUrl, client.layout());
    const pointer = checked.pointer;
    const installed = { fileName: checked.wheelFileName, sha256: pointer.digest, length: pointer.length };
    const installedAs = { project, version: release.version, target: release.target.path };
    await checkInstalledRelease(stateDir, installedAs, installed, forgetCommand);
    pass('pointer schema', `${checked.wheelFileName}, ${pointer.length} bytes`);

    const attestationPin = { url: checked.attestationUrl, length: pointer.attestation.length, sha256: pointer.attestation.digest };
    const attestationP = req.unsafeDisableVerification ? undefined : later(cachedOr(cache, attestationPin, () => downloadPinnedAttestation(fetcher, attestationPin)));
    // Multi-party approval (docs/approvals.md): k of the policy's approval keys, each approval a
    // pinned TUF target about the digest the pointer names, so they are fetched beside the wheel.
    const approvals = req.unsafeDisableVerification || req.skipApprovalsCheck ? undefined : approvalsRequired(policy, project);
    // What every statement about this release (attestation, approvals, rebuild VSAs) must name.
    const approved = { project, version: release.version, wheelFileName: checked.wheelFileName, sha256: pointer.digest };
    const approvalsP = approvals ? later(fetchApprovals(client, approvals, approved)) : undefined;
    const dest = await destP();
    const wheelPin = { url: checked.wheelUrl, length: pointer.length, sha256: pointer.digest };
    tempWheel = await downloadPinnedWheel(fetcher, wheelPin, dest.dir, checked.wheelFileName);
    pass('wheel length', `${pointer.length} bytes`);
    pass('wheel sha256', pointer.digest);

    let attestation: DownloadResult['attestation'];
    if (!attestationP) {
      reporter.warn(
        `!!! --unsafe-disable-verification: the attestation and provenance checks of ${project} ${release.version} were SKIPPED. ` +
          'Its origin is NOT verified; use this only to get out of an incident, and never on a machine you cannot rebuild.',
      );
    } else {
      const pin = attestationPin;
      const bundle = await attestationP();
      pass('attestation length and digest', `${pin.length} bytes, sha256 ${pin.sha256.slice(0, 12)}…`);
      const signed = await checkAttestationSignature(bundle, policy, pin.url, { project, sigstoreTrustedRoot: () => readSigstoreTrustedRoot(client) });
      pass('attestation signature', signed.keyless ? `keyless, ${signed.keyless.certificate.subject} (${signed.keyless.certificate.issuer}), Rekor log index ${signed.keyless.logIndexes.join(', ')}` : signed.pki ? `certificate of CA ${signed.pki.authority}, ${signed.pki.certificate.subject}` : `signed by policy key(s) ${signed.keyIds.map((k) => k.slice(0, 12)).join(', ')}`);
      const facts = checkAttestedStatement(signed, policy, approved, pin.url, (check, f) => {
        if (check === 'statement types') pass(check, f.format);
        else if (check === 'subject') pass(check, `${checked.wheelFileName} sha256 ${pointer.digest.slice(0, 12)}…`);
        else pass(check, `builder ${f.builderId}${f.sourceRepository ? `, source ${f.sourceRepository}` : ''}${f.ref ? ` @ ${f.ref}` : ''}`);
      });
      if (approvals && approvalsP) {
        const tally = tallyApprovals(await approvalsP(), approvals, approved);
        checkApprovals(tally, approvals, approved);
        reporter.debug(`✓ approvals: ${tally.accepted.length} of ${approvals.threshold} required, by ${tally.accepted.map((k) => k.slice(0, 12)).join(', ')}`);
      }
      // Independent rebuilders (docs/rebuild.md): k of the policy's rebuilder keys, each VSA a pinned TUF target.
      const rebuilds = req.skipRebuildsCheck ? undefined : await checkRebuilds(client, policy, { ...approved, attestationSha256: pin.sha256 });
      if (rebuilds) reporter.debug(`✓ rebuilds: ${rebuilds.accepted.length} rebuilder VSA(s), by ${rebuilds.accepted.map((k) => k.slice(0, 12)).join(', ')}`);
      attestation = {
        keyIds: signed.keyIds,
        ...(signed.keyless ? { keyless: { issuer: signed.keyless.certificate.issuer, subject: signed.keyless.certificate.subject, logIndexes: signed.keyless.logIndexes } } : {}),
        ...(signed.pki ? { pki: { authority: signed.pki.authority, subject: signed.pki.certificate.subject } } : {}),
        format: facts.format,
        builderId: facts.builderId,
        sourceRepository: facts.sourceRepository,
        ref: facts.ref,
        commit: facts.commit,
        parameters: facts.parameters,
        internalParameters: facts.internalParameters,
        uri: pin.url,
        sha256: pin.sha256,
      };
    }

    // The trust state this run learnt is on disk before the wheel is handed over.
    await Promise.all([tuf.flush(), req.unsafeDisableVerification ? undefined : rememberInstalledRelease(stateDir, installedAs, installed)]);
    const finalPath = path.join(dest.dir, checked.wheelFileName);
    await rename(tempWheel, finalPath);
    tempWheel = undefined;
    ok = true;
    reporter.step(project, 'download', 'ok', `${release.version} ${req.unsafeDisableVerification ? 'UNVERIFIED' : `verified (${passed.length} checks)`} → ${finalPath}`);
    return {
      ok: true,
      path: finalPath,
      project,
      version: release.version,
      wheel: { fileName: checked.wheelFileName, sha256: pointer.digest, length: pointer.length, uri: checked.wheelUrl },
      verified: !req.unsafeDisableVerification,
      checks: passed,
      skipped: CHECKS.filter((c) => !passed.includes(c)),
      ...(attestation ? { attestation } : {}),
      repository: repositoryUrl,
      stateDir,
      tuf: tuf.versions(),
      network: { ...fetcher.stats },
    };
  } catch (e) {
    // Whatever step the deadline cut short, the deadline is what went wrong.
    throw deadline.signal.aborted ? deadline.signal.reason : e;
  } finally {
    // Work still in flight stays under the deadline while it is waited for.
    await Promise.all(inflight);
    deadline.clear();
    // On failure too, what tuf-js verified is kept; a write error is not the failure to report then.
    if (!ok) await tuf?.flush().catch(() => undefined);
    await cache.settle();
    if (tempWheel) await rm(tempWheel, { force: true });
    if (!ok) {
      const dest = await destP().catch(() => undefined);
      if (dest?.created) await removeCreated(dest.dir, dest.created);
    }
    if (!req.fetcher) base.close();
  }
}

/**
 * What a repository is read through: a mirror bundle (a local tar file, docs/mirror.md), a
 * private bucket with AWS credentials (the SDK loaded for s3:// only), or http(s) and directories.
 */
export async function openRepositoryFetcher(repositoryUrl: string, opts: { s3?: S3StorageOptions | undefined; net: NetOptions & { env?: NodeJS.ProcessEnv } }): Promise<Fetcher> {
  if (repositoryUrl.startsWith('s3:')) {
    const { S3Fetcher } = await import('../storage/s3-fetcher.ts');
    return new S3Fetcher(opts.s3 ?? {});
  }
  if (repositoryUrl.startsWith('file:')) {
    const { isBundleUrl, BundleFetcher } = await import('../mirror/bundle-fetcher.ts');
    if (await isBundleUrl(repositoryUrl)) return BundleFetcher.open(repositoryUrl);
  }
  return openFetcher(opts.net);
}

/** Removes the directories this run created for the destination, deepest first, each only if empty. */
async function removeCreated(dir: string, topCreated: string): Promise<void> {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
    if (d === topCreated || path.dirname(d) === d) return;
  }
}

/**
 * Starts `p` now and returns a function to await its outcome later. The rejection is held, not
 * left unhandled, in case an earlier step fails first and the result is never asked for.
 */
function startEarly<T>(p: Promise<T>, inflight: Promise<unknown>[]): () => Promise<T> {
  const settled = p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  inflight.push(settled);
  return async () => {
    const r = await settled;
    if (r.ok) return r.value;
    throw r.error;
  };
}

async function readPolicy(tuf: TufClient): Promise<Policy> {
  const info = await tuf.targetInfo(POLICY_TARGET);
  if (!info) {
    throw new ProvenantError('E_POLICY_MISSING', `the repository publishes no attestation policy (TUF target ${POLICY_TARGET})`, {
      exitClass: 'verification',
      file: POLICY_TARGET,
      hint: 'without a policy signed by the targets role no attestation can be trusted; the repository owners must publish one',
    });
  }
  const bytes = await tuf.fetchTarget(info);
  try {
    return parsePolicy(bytes, POLICY_TARGET);
  } catch (e) {
    if (isProvenantError(e)) throw new ProvenantError(e.code, e.message, { exitClass: 'verification', file: e.file, field: e.field, hint: e.hint, cause: e });
    throw e;
  }
}

/** The Sigstore trusted root target, fetched (through TUF) only when a keyless bundle needs it. */
async function readSigstoreTrustedRoot(tuf: TufClient): Promise<Uint8Array> {
  const info = await tuf.targetInfo(SIGSTORE_TRUSTED_ROOT_TARGET);
  if (!info) {
    throw new ProvenantError('E_SIGSTORE_ROOT_MISSING', `the attestation is keyless, and the repository publishes no Sigstore trusted root (TUF target ${SIGSTORE_TRUSTED_ROOT_TARGET})`, {
      exitClass: 'verification',
      file: SIGSTORE_TRUSTED_ROOT_TARGET,
      hint: 'the repository owners must publish one (`provenant repo set-trust --sigstore-trusted-root …`, signed by the targets role)',
    });
  }
  return tuf.fetchTarget(info);
}

/**
 * An exact version is looked up directly (one bin); otherwise, or on a miss, every bin is listed.
 * The newest is refused when a newer release this host installed has vanished (installed-releases.ts).
 */
async function resolveRelease(tuf: TufClient, project: string, req: DownloadRequest, stateDir: string, forgetCommand: string): Promise<PublishedRelease> {
  const ddv2 = tuf.layout() === 'datadog-v2';
  if (req.version !== undefined) {
    const info = await tuf.targetInfo(ddv2 ? ddPointerTargetPath(project, req.version) : pointerTargetPath(project, req.version));
    if (info) return { version: req.version, target: info };
  }
  const listed = await tuf.listTargets(pointerPrefixIn(tuf.layout(), project));
  const releases = releasesIn(tuf.layout(), listed, project);
  const pre = req.pre ?? false;
  // datadog-v2: the newest final release is the one latest.json stands for, as for Datadog's downloader.
  const latest = ddv2 && req.version === undefined && !pre ? ddLatestRelease(listed, releases, project) : undefined;
  const picked = latest ?? pickRelease(releases, project, { version: req.version, pre });
  if (req.version === undefined) await checkNoneWithdrawn(stateDir, project, releases.map((r) => r.version), picked.version, pre, forgetCommand);
  return picked;
}

/** The destination directory; a default one is new and private. Remembers what it created, to undo on failure. */
async function prepareDestination(dest: string | undefined, cwd: string): Promise<{ dir: string; created: string | undefined }> {
  if (dest === undefined) {
    const dir = await mkdtemp(path.join(tmpdir(), 'provenant-download-'));
    return { dir, created: dir };
  }
  const dir = path.resolve(cwd, dest);
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new ProvenantError('E_DEST', `${dir} exists and is not a directory`, { exitClass: 'input', file: dir, field: '--dest', hint: 'give a directory' });
    return { dir, created: undefined };
  } catch (e) {
    if (isProvenantError(e) || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // mkdir cannot create a directory where a dangling symlink stands (EEXIST): say what is there.
  if ((await lstat(dir).catch(() => undefined))?.isSymbolicLink()) {
    throw new ProvenantError('E_DEST', `${dir} is a symbolic link to ${await readlink(dir)}, which does not exist`, {
      exitClass: 'input',
      file: dir,
      field: '--dest',
      hint: `create the directory it points to (mkdir -p ${realPathOf(dir)}), or pass another --dest`,
    });
  }
  const created = await mkdir(dir, { recursive: true });
  return { dir, created };
}

/**
 * Records `rootFile` as the trusted root for `repository` in the downloader's state, as
 * `--root` does on a first download: for tools that create a repository (or ship a root) and
 * want `provenant download` to work afterwards without --root. A state that already trusts a
 * root for this repository is left alone if `rootFile` is in its chain, refused if not
 * (E_TUF_ROOT_CONFLICT). Returns the repository's state directory.
 */
export async function trustRepositoryRoot(opts: { repository: string; rootFile: string; stateDir?: string; env?: NodeJS.ProcessEnv; cwd?: string; reporter?: Reporter }): Promise<string> {
  const repositoryUrl = repositoryBaseUrl(opts.repository, opts.cwd ?? process.cwd());
  const stateKey = await repositoryStateKeyOf(repositoryUrl, opts.rootFile);
  const stateDir = repositoryStateDir(stateBaseDir(opts.env ?? process.env, opts.stateDir), stateKey);
  const given = { ...(await readRootFile(opts.rootFile)), file: opts.rootFile };
  await recordTrustedRoot(given, stateDir, forgetStateCommand(repositoryUrl, opts.stateDir, stateKey === repositoryUrl ? undefined : opts.rootFile), opts.reporter ?? silentReporter);
  return stateDir;
}
