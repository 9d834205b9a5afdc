import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { initRepository, refreshRepository, repoStatus, repoStatusReport, type RepoStatus } from '../../app/repo.ts';
import { releasesOnOldKeys, type KeyAffectedRelease } from '../../app/attestation-key-status.ts';
import { expiringWithin, expiryError, expiryWindow } from '../../app/status-expiry.ts';
import { publishTrustTargets } from '../../app/trust-targets.ts';
import { registerCeremony, renderProposals } from './ceremony.ts';
import { proposalStatuses } from '../../app/ceremony-status.ts';
import { DEFAULT_PROPOSALS_DIR } from '../../ceremony/proposal-file.ts';
import { PUBLIC_GOOD, readSigstoreTrustedRootArg } from '../../attest/sigstore-root.ts';
import { normalizeProjectName } from '../../formats/pep503.ts';
import { ProvenantError } from '../../errors.ts';
import { PASSPHRASE_ENV } from '../../signers/key-store.ts';
import { SETTINGS_FILE } from '../../signers/trust-files.ts';
import { keyStoreAnchor, TRUSTED_ROOT_FILE } from '../../signers/trusted-root.ts';
import { DurationSchema, SIGNING_ROLES, type SigningRole } from '../../tuf/config.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';
import { registerReattest } from './repo-attestation-keys.ts';
import { openStorage } from '../../storage/open.ts';
import { addRepositoryOptions, openRepository, storageOptionsFrom, type RepositoryFlags } from '../storage-options.ts';

const INIT_HELP = `
Creates a TUF repository (spec 1.0.31, consistent snapshots) and the keys to sign it:
  root (offline; --root-threshold keys), targets (offline), one online key for the hashed bins,
  snapshot and timestamp, and the attestation key \`provenant sign\` uses.
Keys go to --keys (default ./keys, never inside the repository): one PKCS#8 PEM file per key
and keys.json. Keys the store already assigns to a role are reused. Set ${PASSPHRASE_ENV}
(or ${PASSPHRASE_ENV}_<NAME>, e.g. ${PASSPHRASE_ENV}_ROOT) to encrypt new keys.
--root-key, --targets-key, --online-key and --attestation-key take a key reference instead
(pkcs11:…, awskms://…, or a PEM path): the key stays on its token or in KMS and keys.json
records the reference and its public key (docs/keys.md).
The attestation policy (trusting the attestation key; local and GitHub builders) is published
as the target policy/attestation-policy.json. Settings are recorded in
<repository>/provenant-repository.json (docs/repository.md).

--sigstore-trusted-root publishes the Sigstore trusted root keyless attestations are checked
against, as the target policy/sigstore-trusted-root.json: \`${PUBLIC_GOOD}\` (Sigstore's production
instance, as shipped in the @sigstore/tuf package; nothing is downloaded) or a trusted_root.json file.

Examples:
  provenant repo init
  provenant repo init --sigstore-trusted-root ${PUBLIC_GOOD}
  provenant repo init --repository /srv/repo --keys ~/provenant-keys --bins 1024
  PROVENANT_KEY_PASSPHRASE=... provenant repo init --root-threshold 2 --key-type ecdsa
  provenant repo init --online-key 'pkcs11:token=ci;object=online?module-path=/usr/lib/softhsm/libsofthsm2.so' \
    --attestation-key awskms:///alias/provenant-attestation
  provenant repo init --expires timestamp=12h --expires bins=14d --json
`;

const STATUS_HELP = `
Reads the whole repository and checks it the way a client would (every signature, version and
hash), starting from the root the key store trusts (--keys/root.json, written by init), then
prints each role's version and expiry and the number of releases. A timestamp.json moved back
behind a committed version fails with E_REPO_ROLLBACK (exit 5), naming what is behind what.

--html DIR writes the status pages \`publish\` keeps in the repository (index.html and
status/<project>.html: releases, provenance, signatures, expiry) into DIR for a local look;
--markdown FILE writes the same view as Markdown ('-': stdout only), e.g. for a CI job summary.
Both verify every release the way \`provenant download\` does, short of fetching the wheel
(docs/status-page.md).

Examples:
  provenant repo status
  provenant repo status --repository s3://my-bucket/integrations --json
  provenant repo status --html ./status-check        # then open ./status-check/index.html
  provenant repo status --markdown - --project datadog-postgres >> "$GITHUB_STEP_SUMMARY"
`;

const REFRESH_HELP = `
Re-signs roles with less than half of their validity left (or those named with --force) as new
versions, then snapshot and timestamp. Bins, snapshot and timestamp need the online key; root and
targets their offline keys, only when they are due. Run it on a schedule shorter than the
timestamp expiry (default 1d), e.g. hourly from CI.

After E_REPO_ROLLBACK (someone put back an older timestamp.json), --roll-forward signs a new
snapshot and timestamp on top of the newest committed snapshot, so every host moves forward again.

Examples:
  provenant repo refresh
  provenant repo refresh --force timestamp --json
  provenant repo refresh --roll-forward
`;


export const register: RegisterCommand = (program, ctx) => {
  const repo = program.command('repo').description('create, inspect and refresh a TUF repository');

  addRepositoryOptions(
    repo
      .command('init')
      .description('create a repository, its keys and its attestation policy')
      .addOption(new Option('--bins <n>', 'number of hashed bins (power of two, 2..65536; about 2·√(releases expected): 1024 for 10^5, 2048 for 10^6)').default(256).argParser(parseIntArg('--bins')))
      .addOption(new Option('--layout <layout>', "repository layout: provenant's default, or datadog-v2 for Datadog's own downloader (docs/datadog-v2.md)").choices(['default', 'datadog-v2']).default('default'))
      .addOption(new Option('--key-type <type>', 'type of new TUF keys').choices(['ed25519', 'ecdsa']).default('ed25519'))
      .addOption(new Option('--attestation-key-type <type>', 'type of a new attestation key').choices(['ed25519', 'ecdsa']).default('ecdsa'))
      .addOption(new Option('--root-threshold <n>', 'root keys to create and require').default(1).argParser(parseIntArg('--root-threshold')))
      .option('--root-key <ref>', 'a root key by reference: pkcs11:…, awskms://… or a PEM path (repeatable)', collect)
      .option('--targets-key <ref>', 'the targets key by reference')
      .option('--online-key <ref>', 'the online key (bins, snapshot, timestamp) by reference')
      .option('--attestation-key <ref>', 'the attestation key by reference')
      .option('--expires <role=duration>', 'validity per role, e.g. timestamp=12h (repeatable; roles: root, targets, bins, snapshot, timestamp)', collectExpiry)
      .option('--sigstore-trusted-root <file|public-good>', 'publish this Sigstore trusted root for keyless attestations')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', INIT_HELP)
    .action(
      async (
        opts: RepositoryFlags & InitKeyFlags & { bins: number; layout: 'default' | 'datadog-v2'; keyType: 'ed25519' | 'ecdsa'; attestationKeyType: 'ed25519' | 'ecdsa'; rootThreshold: number; expires?: Partial<Record<SigningRole, string>>; sigstoreTrustedRoot?: string },
        cmd: Command,
      ) => {
        const g = ctx.globals(cmd);
        const { storage, keysDir } = openRepository(ctx, opts);
        const res = await initRepository(storage, ctx.reporter(cmd), {
          keysDir,
          env: ctx.env,
          binCount: opts.bins,
          ...(opts.layout === 'datadog-v2' ? { layout: 'datadog-v2' as const } : {}),
          keyType: opts.keyType,
          attestationKeyType: opts.attestationKeyType,
          rootThreshold: opts.rootThreshold,
          keyRefs: { root: opts.rootKey, targets: opts.targetsKey, online: opts.onlineKey, attestation: opts.attestationKey },
          cwd: ctx.cwd,
          expires: opts.expires,
          ...(opts.sigstoreTrustedRoot ? { sigstoreTrustedRoot: await readSigstoreTrustedRootArg(trustRootPath(opts.sigstoreTrustedRoot, ctx.cwd)) } : {}),
        });
        if (g.json) printJson(ctx.out, { ok: true, ...res });
        else ctx.out.stdout(`${res.repository}\n`);
      },
    );

  addRepositoryOptions(
    repo
      .command('status')
      .description('verify the repository and show versions, expiries and release counts')
      .option('--fail-within <duration>', 'exit non-zero (E_REPO_EXPIRING) when a role or bin expires within DURATION, e.g. 6h')
      .option('--expiring-within <duration>', 'the same as --fail-within (issue 11\'s name for it)')
      .option('--json', 'print the status document on stdout')
      .option('--html <dir>', 'also write the status pages (index.html, status/<project>.html) into this directory')
      .option('--markdown <file>', "also write the status as Markdown to this file ('-': stdout instead of the usual output)")
      .option('--project <name>', 'limit the release-by-release part of --html/--markdown to this project (repeatable)', collect)
      .option('--proposals <dir>', 'directory of ceremony proposals to list (docs/ceremony.md)', DEFAULT_PROPOSALS_DIR),
    'key store whose root.json anchors the check (without one, only self-consistency is checked)',
  )
    .addHelpText('after', STATUS_HELP)
    .action(async (opts: RepositoryFlags & { html?: string; markdown?: string; project?: string[]; failWithin?: string; expiringWithin?: string; proposals: string }, cmd: Command) => {
      const g = ctx.globals(cmd);
      const within = expiryWindow(opts);
      const keysDir = path.resolve(ctx.cwd, opts.keys);
      const anchor = await keyStoreAnchor(keysDir);
      if (!anchor) ctx.reporter(cmd).warn(`no ${path.join(keysDir, TRUSTED_ROOT_FILE)}: checking the repository against its own 1.root.json (self-consistency only)`);
      else if (!anchor.settings) ctx.reporter(cmd).warn(`no ${path.join(keysDir, SETTINGS_FILE)}: showing the repository's copy of the settings`);
      const storage = openStorage(opts.repository, storageOptionsFrom(opts, ctx));
      const status = await repoStatus(storage, { anchor });
      const onOldKeys = await releasesOnOldKeys(storage, anchor);
      const proposals = await proposalStatuses(storage, anchor, path.resolve(ctx.cwd, opts.proposals));
      const expiring = within === undefined ? [] : expiringWithin(status, within.duration, new Date(), within.flag);
      const projects = opts.project ?? [];
      const report =
        opts.html !== undefined || opts.markdown !== undefined
          ? await repoStatusReport(storage, {
              anchor,
              projects: projects.length > 0 ? projects.map(normalizeProjectName) : undefined,
              htmlDir: opts.html === undefined ? undefined : path.resolve(ctx.cwd, opts.html),
              markdownFile: opts.markdown === undefined || opts.markdown === '-' ? opts.markdown : path.resolve(ctx.cwd, opts.markdown),
            })
          : undefined;
      if (report?.markdown !== undefined) ctx.out.stdout(report.markdown);
      else if (g.json) {
        printJson(ctx.out, {
          ok: expiring.length === 0,
          ...status,
          releasesOnOldKeys: onOldKeys === 'unsupported layout' ? null : onOldKeys,
          proposals,
          ...(report ? { htmlWritten: report.htmlWritten } : {}),
          ...(within === undefined ? {} : { expiringWithin: expiring }),
        });
      }
      else ctx.out.stdout(renderStatus(status) + renderOldKeys(onOldKeys) + renderProposals(proposals));
      if (expiring.length === 0) return;
      const err = expiryError(expiring, within!.duration);
      if (!g.json) throw err;
      ctx.out.stderr(`provenant: ${err.describe()}\n`);
      ctx.exitCode = err.exitCode;
    });

  addRepositoryOptions(
    repo
      .command('refresh')
      .description('re-sign roles close to expiry (new versions)')
      .option('--force <role>', 're-sign this role now (repeatable: root, targets, bins, snapshot, timestamp)', collectRole)
      .option('--roll-forward', 'recover from E_REPO_ROLLBACK: make the newest committed snapshot current again')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', REFRESH_HELP)
    .action(async (opts: RepositoryFlags & { force?: SigningRole[]; rollForward?: boolean }, cmd: Command) => {
      const g = ctx.globals(cmd);
      const { storage, keysDir } = openRepository(ctx, opts);
      const signers = keyStoreSignerSource(keysDir, ctx.env);
      const res = await refreshRepository(storage, signers, ctx.reporter(cmd), {
        force: opts.force ?? [],
        rollForward: Boolean(opts.rollForward),
      }).finally(() => signers.close?.());
      if (g.json) printJson(ctx.out, { ok: true, ...res });
      else ctx.out.stdout(res.resigned.length > 0 ? `re-signed: ${res.metadataWritten.join(' ')}\n` : 'nothing to re-sign\n');
    });

  registerSetTrust(repo, ctx);
  registerReattest(repo, ctx);
  registerCeremony(repo, ctx);
};

interface InitKeyFlags {
  rootKey?: string[];
  targetsKey?: string;
  onlineKey?: string;
  attestationKey?: string;
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

const SET_TRUST_HELP = `
Publishes a new attestation policy (docs/policy.md) and/or Sigstore trusted root as targets of
the top-level targets role: a new targets version signed with the targets key(s), then
snapshot and timestamp. Each file is checked first; nothing changes when the repository
already publishes the same bytes. Clients use them from their next TUF refresh.

Examples:
  provenant repo set-trust --policy attestation-policy.json
  provenant repo set-trust --sigstore-trusted-root ${PUBLIC_GOOD}
  provenant repo set-trust --sigstore-trusted-root private-sigstore/trusted_root.json --policy p.json --json
`;

/** `public-good` stays a name; anything else is a path relative to the working directory. */
export function trustRootPath(arg: string, cwd: string): string {
  return arg === PUBLIC_GOOD ? arg : path.resolve(cwd, arg);
}

function registerSetTrust(repo: Command, ctx: Parameters<RegisterCommand>[1]): void {
  addRepositoryOptions(
    repo
      .command('set-trust')
      .description('publish a new attestation policy and/or Sigstore trusted root (targets-signed)')
      .option('--policy <file>', 'attestation policy JSON to publish')
      .option('--sigstore-trusted-root <file|public-good>', 'Sigstore trusted root to publish')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', SET_TRUST_HELP)
    .action(async (opts: RepositoryFlags & { policy?: string; sigstoreTrustedRoot?: string }, cmd: Command) => {
      const g = ctx.globals(cmd);
      const { storage, keysDir } = openRepository(ctx, opts);
      const policy = opts.policy ? await readPolicyFile(path.resolve(ctx.cwd, opts.policy)) : undefined;
      const sigstoreTrustedRoot = opts.sigstoreTrustedRoot ? await readSigstoreTrustedRootArg(trustRootPath(opts.sigstoreTrustedRoot, ctx.cwd)) : undefined;
      const signers = keyStoreSignerSource(keysDir, ctx.env);
      const res = await publishTrustTargets(storage, signers, ctx.reporter(cmd), { policy, sigstoreTrustedRoot }).finally(() => signers.close?.());
      if (g.json) printJson(ctx.out, { ok: true, ...res });
      else ctx.out.stdout(res.changed.length > 0 ? `published: ${res.changed.join(' ')} (targets v${res.targetsVersion})\n` : 'unchanged\n');
    });
}

export async function readPolicyFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw new ProvenantError('E_POLICY_INVALID', `cannot read the policy: ${(e as Error).message}`, { exitClass: 'input', file, field: '--policy', hint: 'give the attestation policy JSON file (docs/policy.md)' });
  }
}

function renderStatus(s: RepoStatus): string {
  const lines = [`repository ${s.repository} (TUF ${s.specVersion}, consistent snapshots ${s.consistentSnapshot ? 'on' : 'off'})`];
  for (const r of s.roles) {
    lines.push(`  ${r.role.padEnd(10)} v${String(r.version).padEnd(6)} expires ${r.expires}  (${r.threshold} of ${r.keyids.length} key(s))`);
  }
  lines.push(s.layout === 'datadog-v2' ? `  wheelsmith layout datadog-v2 (docs/datadog-v2.md), expires ${s.bins.oldestExpiry}` : `  bins       ${s.bins.count} × ${s.bins.namePrefix}-…, earliest expiry ${s.bins.oldestExpiry}`);
  lines.push(`  releases   ${s.releases} in ${s.projects} project(s); attestation policy ${s.policyTarget ? 'published' : 'MISSING'}; Sigstore trusted root ${s.sigstoreTrustedRoot ? 'published' : 'none (keyless attestations refused)'}`);
  if (s.uncommittedSnapshots.length > 0) {
    lines.push(`  leftovers  snapshot(s) ${s.uncommittedSnapshots.join(', ')} above the committed one, never committed (interrupted or in-progress publishes; the next commit supersedes them)`);
  }
  lines.push(`  checked    ${s.anchored ? "from the key store's trusted root.json" : "against the repository's own 1.root.json only (no key store root.json)"}; settings from the ${s.settings}`);
  return `${lines.join('\n')}\n`;
}

/** Releases relying on retired or revoked attestation keys (docs/attestation-keys.md). */
function renderOldKeys(rs: readonly KeyAffectedRelease[] | 'unsupported layout'): string {
  if (rs === 'unsupported layout') return '  attestation keys: releases on retired or revoked keys are not listed in the datadog-v2 layout\n';
  if (rs.length === 0) return '';
  const lines = [`  attestation keys: ${rs.length} release(s) rely on a retired or revoked key (re-attest: provenant repo reattest --all --key NEW)`];
  for (const r of rs) lines.push(`    ${r.project}==${r.version}  ${r.reason} key ${r.keyIds.map((k) => k.slice(0, 12)).join(', ')}${r.installable ? '' : '  NOT INSTALLABLE'}`);
  return `${lines.join('\n')}\n`;
}

function parseIntArg(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) {
      throw new ProvenantError('E_USAGE', `${flag} must be a positive integer, not "${v}"`, { exitClass: 'usage', field: flag, hint: `e.g. ${flag} 2` });
    }
    return Number(v);
  };
}

// Repeatable flags take no commander default: help would print it as `(default: {})`.
function collectExpiry(v: string, prev: Partial<Record<SigningRole, string>> = {}): Partial<Record<SigningRole, string>> {
  const m = /^([a-z]+)=(.+)$/.exec(v);
  const role = m?.[1] as SigningRole | undefined;
  if (!m || !role || !SIGNING_ROLES.includes(role) || !DurationSchema.safeParse(m[2]).success) {
    throw new ProvenantError('E_USAGE', `--expires takes role=duration, not "${v}"`, {
      exitClass: 'usage',
      field: '--expires',
      hint: `roles: ${SIGNING_ROLES.join(', ')}; durations like 365d, 12h, 30m`,
    });
  }
  return { ...prev, [role]: m[2]! };
}

function collectRole(v: string, prev: SigningRole[] = []): SigningRole[] {
  if (!SIGNING_ROLES.includes(v as SigningRole)) {
    throw new ProvenantError('E_USAGE', `--force takes a role, not "${v}"`, { exitClass: 'usage', field: '--force', hint: `roles: ${SIGNING_ROLES.join(', ')}` });
  }
  return [...prev, v as SigningRole];
}
