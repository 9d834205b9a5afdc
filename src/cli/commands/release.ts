import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { downloadWheel } from '../../app/download.ts';
import { releaseFailures, releaseIntegrations, type ReleaseSummary } from '../../app/release.ts';
import { publishedTrustCheck } from '../../app/release-trust.ts';
import { releaseSummaryMarkdown } from '../../app/release-summary.ts';
import { initRepository } from '../../app/repo.ts';
import { nestedReporter, type Reporter } from '../../reporter.ts';
import { openWorkspace, selectIntegrations } from '../../app/workspace.ts';
import { wheelPool, workersFor } from '../../wheel/wheel-pool.ts';
import { treeGit } from '../../provenance/git.ts';
import { ProvenantError } from '../../errors.ts';
import { PROVENANCE_FORMATS, type ProvenanceFormat } from '../../provenance/statement.ts';
import { closeAll, loadSigner, PASSPHRASE_ENV } from '../../signers/key-store.ts';
import { keylessSigning, useKeyless } from '../../signers/keyless.ts';
import type { Signer } from '../../signers/signer.ts';
import { TRUSTED_ROOT_FILE } from '../../signers/trusted-root.ts';
import { FsStorage } from '../../storage/fs.ts';
import type { Storage } from '../../storage/storage.ts';
import { metadataKey } from '../../tuf/sign.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import type { CliContext, RegisterCommand } from '../context.ts';
import { addIntegrationsDirOption, addJobsOption, type IntegrationsDirFlags, type JobsFlags } from '../integrations-option.ts';
import { addKeylessOptions, type KeylessOptionFlags } from '../keyless-options.ts';
import { printJson } from '../output.ts';
import { addRepositoryOptions, openRepository, storageOptionsFrom, type RepositoryFlags, type StorageFlags } from '../storage-options.ts';

const HELP = `
The whole pipeline, one step at a time, for each integration:
  build                 wheel, byte-identical to hatchling, reproducible (SOURCE_DATE_EPOCH)
  generate attestation  in-toto statement with SLSA provenance (how, where, from which commit)
  sign attestation      DSSE envelope in a Sigstore bundle, attestation key
  sign pointer (TUF)    the pointer (wheel + attestation digests) becomes a target in its hashed bin
  upload                wheel, PEP 658 metadata, attestation, pointer: create-only objects
  update TUF metadata   bin, snapshot, then timestamp.json by compare-and-swap (the commit point)
  update index          PEP 503 HTML and PEP 691 JSON pages
  test download         the verifying downloader fetches each release back from the repository
All integrations are published in one commit. One that fails to build or sign is reported and
left out; the exit code is then non-zero.

A local --repository that does not exist yet is created first (as \`provenant repo init\` would,
keys in --keys); S3 repositories must be created with \`repo init\`. Encrypted keys read their
passphrase from ${PASSPHRASE_ENV} (docs/keys.md).

Attestations are signed with the key store's \`attestation\` key, or keyless with --keyless (the
default inside GitHub Actions with \`id-token: write\`; same flags and variables as \`sign\`).
A keyless attestation is first verified against the policy and Sigstore trusted root the
repository distributes: an identity the policy does not accept is refused
(E_RELEASE_IDENTITY_REFUSED) before anything is published.

--summary FILE appends a Markdown summary (per integration: repository locations, digests,
Rekor log index, verification status) to FILE; in GitHub Actions, $GITHUB_STEP_SUMMARY.

--dry-run runs every step against the real repository but keeps all writes in memory: it prints
what would have been written (key, size, content type) and writes nothing to the repository
(build and sign still write the integration's dist/).

Examples:
  provenant release --all
  provenant release postgres redisdb --repository /srv/repo --keys ~/provenant-keys
  provenant release --all --dry-run --json
  provenant release postgres --repository s3://my-bucket/integrations --region eu-north-1
`;

interface ReleaseFlags extends RepositoryFlags, IntegrationsDirFlags, KeylessOptionFlags, JobsFlags {
  all?: boolean;
  summary?: string;
  baseUrl?: string;
  provenance: ProvenanceFormat;
  dryRun?: boolean;
  json?: boolean;
}

export const register: RegisterCommand = (program, ctx) => {
  addRepositoryOptions(
    addKeylessOptions(addJobsOption(addIntegrationsDirOption(program.command('release'))))
      .description('build, attest, sign, publish and download-verify integrations, step by step')
      .argument('[integration...]', 'integration directory names or project names (e.g. postgres, datadog-postgres)')
      .option('--all', 'release every integration under the root')
      .option('--base-url <url>', 'public base URL written into pointers (env PROVENANT_BASE_URL; default: relative URIs)')
      .addOption(new Option('--provenance <format>', 'statement format').choices([...PROVENANCE_FORMATS]).default('slsa-v1'))
      .option('--dry-run', 'run every step but write nothing to the repository; print the plan')
      .option('--json', 'print the release summary on stdout')
      .option('--summary <file>', 'append the summary as Markdown to FILE (e.g. $GITHUB_STEP_SUMMARY)'),
  )
    .addHelpText('after', HELP)
    .action(async (names: string[], opts: ReleaseFlags, cmd: Command) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      const { storage, keysDir } = openRepository(ctx, opts);
      const ws = await openWorkspace({ root: opts.integrationsDir, cwd: ctx.cwd });
      const integrations = selectIntegrations(ws, names, Boolean(opts.all));
      await ensureRepository(storage, keysDir, Boolean(opts.dryRun), ctx, reporter);

      const scratch = await mkdtemp(path.join(tmpdir(), 'provenant-release-'));
      const pool = wheelPool(workersFor(integrations.length, opts.jobs));
      const signers = keyStoreSignerSource(keysDir, ctx.env);
      const attestationSigners: Signer[] = [];
      const keyless = useKeyless({ keyless: opts.keyless, keyGiven: false, env: ctx.env })
        ? keylessSigning({ ...opts, identityToken: opts.identityToken && path.resolve(ctx.cwd, opts.identityToken) }, ctx.env)
        : undefined;
      try {
        if (!keyless) attestationSigners.push(await loadSigner(keysDir, 'attestation', ctx.env));
        const summary = await releaseIntegrations({
          integrations,
          storage,
          signers,
          attestationSigners,
          keyless,
          // A dry run into a repository that does not exist yet has no policy to check against.
          checkAttestation: keyless || !opts.dryRun ? publishedTrustCheck(storage, signers) : null,
          buildWheel: pool.build,
          git: treeGit(ws.root),
          jobs: opts.jobs,
          env: ctx.env,
          baseUrl: opts.baseUrl ?? ctx.env.PROVENANT_BASE_URL,
          format: opts.provenance,
          dryRun: Boolean(opts.dryRun),
          reporter,
          testDownload: selfCheck(storage, keysDir, scratch, ctx, opts, reporter),
        });
        if (opts.summary) await appendFile(path.resolve(ctx.cwd, opts.summary), releaseSummaryMarkdown(summary));
        if (!g.json) printSummary(ctx, summary);
        if (summary.ok) {
          if (g.json) printJson(ctx.out, summary);
          return;
        }
        const err = releaseFailed(summary);
        if (!g.json) throw err;
        // The summary is the --json result even on failure; the exit code still says it failed.
        printJson(ctx.out, summary);
        ctx.out.stderr(`provenant: ${err.describe()}\n`);
        ctx.exitCode = err.exitCode;
      } finally {
        await Promise.all([signers.close?.(), closeAll(attestationSigners), rm(scratch, { recursive: true, force: true }), pool.close()]);
      }
    });
};

/** The embedded default must work from nothing: a local repository is created on first use. */
async function ensureRepository(storage: Storage, keysDir: string, dryRun: boolean, ctx: CliContext, reporter: Reporter): Promise<void> {
  if (await storage.get(metadataKey('timestamp'))) return;
  if (!(storage instanceof FsStorage)) {
    throw new ProvenantError('E_REPO_NOT_INITIALIZED', `no provenant repository at ${storage.location}`, {
      exitClass: 'not-found',
      hint: `create it once with \`provenant repo init --repository ${storage.location}\` (remote repositories are never created implicitly)`,
    });
  }
  if (dryRun) {
    throw new ProvenantError('E_REPO_NOT_INITIALIZED', `no repository at ${storage.location} to dry-run a release against`, {
      exitClass: 'not-found',
      hint: 'run `provenant repo init` (or a release without --dry-run) first',
    });
  }
  const res = await initRepository(storage, reporter, { keysDir, env: ctx.env });
  reporter.info(`created a new repository at ${res.repository} (keys in ${res.keysDir}); give hosts ${path.join(res.keysDir, TRUSTED_ROOT_FILE)} as their trusted root`);
}

/**
 * The test-download step verifies through the real downloader, starting from the root the key
 * store trusts (never from the repository it checks) with a state of its own, so it walks the
 * root chain every time and never touches a user's trusted state.
 */
function selfCheck(storage: Storage, keysDir: string, scratch: string, ctx: CliContext, flags: StorageFlags, reporter: Reporter) {
  const repository = storage instanceof FsStorage ? storage.root : storage.location;
  return async (project: string, version: string) => {
    const res = await downloadWheel({
      project,
      version,
      repository,
      root: path.join(keysDir, TRUSTED_ROOT_FILE),
      stateDir: path.join(scratch, 'state'),
      dest: path.join(scratch, 'wheels'),
      s3: storageOptionsFrom(flags, ctx),
      env: ctx.env,
      cwd: ctx.cwd,
      reporter: nestedReporter(reporter),
      // Rebuilders rebuild what is published, and approvers may sign after it: a new release may
      // have neither yet. Hosts wait for them; the test download checks everything else.
      skipRebuildsCheck: true,
      skipApprovalsCheck: true,
    });
    return res.path;
  };
}

function printSummary(ctx: CliContext, s: ReleaseSummary): void {
  const failures = releaseFailures(s);
  const what = s.dryRun ? 'dry run against' : failures.length === 0 ? 'released to' : 'release to';
  const lines = [`${what} ${s.repository}${failures.length === 0 ? '' : ` FAILED: ${failures.length} of ${s.integrations.length} integration(s) not released`}`];
  for (const r of s.integrations) {
    const failed = r.steps.find((x) => x.status === 'fail');
    const name = [r.project ?? r.integration, r.version].filter(Boolean).join(' ');
    lines.push(`${r.ok ? '✅' : '❌'} ${name}${failed ? ` — ${failed.step}: ${failed.detail}` : ''}`);
  }
  if (s.dryRun) {
    lines.push(`would write ${s.writes.length} objects:`);
    for (const w of s.writes) lines.push(`  ${w.kind.padEnd(7)} ${w.key} (${w.size} bytes, ${w.contentType})`);
  } else if (s.timestampVersion !== undefined) {
    lines.push(`${s.writes.length} objects written; timestamp v${s.timestampVersion}, snapshot v${s.snapshotVersion}`);
  }
  ctx.out.stdout(`${lines.join('\n')}\n`);
}

function releaseFailed(s: ReleaseSummary): ProvenantError {
  const failures = releaseFailures(s);
  const first = s.integrations.find((r) => !r.ok)!.error;
  const what = failures.map((f) => `${f.integration} (${f.step}: ${f.code})`).join(', ');
  return new ProvenantError('E_RELEASE_FAILED', `${failures.length} of ${s.integrations.length} integration(s) not released: ${what}`, {
    exitClass: (first?.exitClass as ProvenantError['exitClass'] | undefined) ?? 'internal',
    hint: 'see the ❌ step above for each; fix it and run the release again (published releases are kept)',
  });
}
