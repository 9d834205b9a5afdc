import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { proposeRoot, proposeTargets, type ProposeCommon } from '../../app/ceremony-propose.ts';
import { publishProposal } from '../../app/ceremony-publish.ts';
import type { ProposalStatus } from '../../app/ceremony-status.ts';
import { signProposal } from '../../app/ceremony-sign.ts';
import { readTarget } from '../../app/release-trust.ts';
import { readSigstoreTrustedRootArg } from '../../attest/sigstore-root.ts';
import { DEFAULT_PROPOSALS_DIR } from '../../ceremony/proposal-file.ts';
import type { ProposalPart } from '../../ceremony/proposal.ts';
import { ProvenantError } from '../../errors.ts';
import { POLICY_TARGET } from '../../formats/layout.ts';
import { defaultPolicy } from '../../policy/policy.ts';
import { keyIdOf } from '../../signers/key-file.ts';
import { readKeyIndex } from '../../signers/key-store.ts';
import { openSigner } from '../../signers/open-signer.ts';
import { keyStoreAnchor, TRUSTED_ROOT_FILE } from '../../signers/trusted-root.ts';
import { openStorage } from '../../storage/open.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import { loadTrustedState, type TrustAnchor } from '../../tuf/trusted-state.ts';
import type { CliContext } from '../context.ts';
import { printJson } from '../output.ts';
import { addRepositoryOptions, openRepository, storageOptionsFrom, type RepositoryFlags } from '../storage-options.ts';
import { readPolicyFile, trustRootPath } from './repo.ts';

const ROOT_HELP = `
A root ceremony changes who may sign what (docs/ceremony.md). Three steps, each on its own
machine if you like; the proposal file is all that travels (commit it to a pull request):

  provenant repo root propose …      writes proposals/root-vN.json: the next root, unsigned, and
                                      a summary of what changes (keys per role, thresholds, expiry)
  provenant repo root sign FILE --key REF    each holder adds ONE signature, after reading the
                                      summary (a prompt on a terminal; --yes in scripts)
  provenant repo root publish FILE   checks both thresholds (the current root's AND the new
                                      root's, TUF spec 5.3.4), then publishes with the online key

Examples:
  provenant repo root propose --add-key holder-b.pub.json --add-key holder-c.pub.json --threshold 2
  provenant repo root propose --remove-key root-2 --add-key 'pkcs11:token=root-d;object=root?module-path=…'
  provenant repo root propose --online-key new            # compromised or routine online-key rotation
  provenant repo root sign proposals/root-v2.json --key 'pkcs11:token=root-a;object=root?module-path=…'
  provenant repo root publish proposals/root-v2.json
`;

const TARGETS_HELP = `
A targets ceremony changes what the offline targets role signs: the attestation policy, the
Sigstore trusted root, the key the hashed bins are delegated to. Same three steps as root:
propose (a proposal file), sign (one signature per holder of the targets key), publish (the
targets role's threshold, then snapshot and timestamp with the online key).

Examples:
  provenant repo targets propose --policy attestation-policy.json
  provenant repo targets propose --bins-key new
  provenant repo targets sign proposals/targets-v3.json --key ~/secure/targets.pem
  provenant repo targets publish proposals/targets-v3.json
`;

const POLICY_HELP = `
show: prints the attestation policy the repository publishes, checked through TUF from the key
store's root (docs/policy.md). set FILE: writes a targets proposal with FILE as the new policy
(then \`repo targets sign\` and \`repo targets publish\`); \`repo set-trust --policy\` stays the
shortcut when one person holds the targets key.
`;

const SIGN_HELP = `
Checks the proposal against the repository (made from its current root/targets, summary true to
the metadata, every signature valid), shows what it changes and the thresholds, then asks; with
--yes it signs without asking (without a terminal, --yes is required). The key must be one the
part may be signed by: for root, a key of the current or the new root's root role; for targets,
of the targets role. The file is rewritten with one more signature: send it on (pull request).
A holder without a key store checks from the repository's 1.root.json (a warning says so).
`;

const PUBLISH_HELP = `
Publishes once every threshold is met (root: the current root's root role AND the new root's;
targets: its role under the root it is published with), else names each missing key. Commits
like \`publish\` (compare-and-swap on timestamp.json) with the online key the new root names,
then moves the key store's root.json and settings forward. Interrupted after the commit? Run it
again: it finishes.
`;

const KEY_HELP = `
Prints the TUF public key (key id, keytype, scheme, keyval) of a key reference: a PEM file,
a pkcs11: URI or an awskms:// key. A holder sends it to the proposer, who adds it with
\`repo root propose --add-key holder.pub.json\`; the private key never leaves its token.

With --policy-entry it prints the key's attestation policy entry instead, {"<keyid>": {keytype,
scheme, keyval}}, to add to attestation.keys or attestation.revokedKeys (docs/attestation-keys.md);
attestation keys are Ed25519 or ECDSA P-256 (E_KEY_TYPE otherwise).

Examples:
  provenant repo key show --key 'pkcs11:token=holder-a;object=root?module-path=/usr/lib/softhsm/libsofthsm2.so' --json > holder-a.pub.json
  provenant repo key show --key attestation-2.pem --policy-entry
`;

type ProposeFlags = RepositoryFlags & { proposals: string; out?: string; expires?: string; keyType?: 'ed25519' | 'ecdsa'; json?: boolean };

export function registerCeremony(repo: Command, ctx: CliContext): void {
  const root = repo.command('root').description('root key ceremonies: propose, sign, publish').addHelpText('after', ROOT_HELP);
  proposeOptions(root.command('propose').description('propose the next root (keys, thresholds, expiry)'))
    .option('--add-key <ref|file.json|new>', 'add a root key: a key reference, a public key file (`repo key show --json`), or new (repeatable)', collect)
    .option('--remove-key <keyid|name>', 'remove a root key by key id (or 8+ hex prefix) or key store name (repeatable)', collect)
    .option('--threshold <n>', 'root signatures required from now on', parsePositive)
    .option('--targets-key <ref|file.json|new>', 'replace the targets key (the proposal then also holds targets for it to sign)')
    .option('--online-key <ref|new>', 'replace the online key: snapshot, timestamp (root) and the bins (targets)')
    .action(async (opts: ProposeFlags & { addKey?: string[]; removeKey?: string[]; threshold?: number; targetsKey?: string; onlineKey?: string }, cmd: Command) => {
      const { storage, keysDir } = openRepository(ctx, opts);
      const source = keyStoreSignerSource(keysDir, ctx.env);
      const res = await proposeRoot(storage, source, ctx.reporter(cmd), {
        ...common(opts, keysDir),
        ...(opts.addKey ? { addRootKeys: opts.addKey } : {}),
        ...(opts.removeKey ? { removeRootKeys: opts.removeKey } : {}),
        ...(opts.threshold !== undefined ? { rootThreshold: opts.threshold } : {}),
        ...(opts.targetsKey ? { targetsKey: opts.targetsKey } : {}),
        ...(opts.onlineKey ? { onlineKey: opts.onlineKey } : {}),
      }).finally(() => source.close?.());
      printProposal(cmd, res);
    });
  signCommand(root, 'root');
  publishCommand(root);

  const targets = repo.command('targets').description('targets ceremonies: propose, sign, publish').addHelpText('after', TARGETS_HELP);
  proposeOptions(targets.command('propose').description('propose the next targets (attestation policy, Sigstore root, bins key)'))
    .option('--policy <file>', 'the new attestation policy (docs/policy.md)')
    .option('--sigstore-trusted-root <file|public-good>', 'the new Sigstore trusted root')
    .option('--bins-key <ref|new>', 'delegate the hashed bins to this key')
    .action(async (opts: ProposeFlags & { policy?: string; sigstoreTrustedRoot?: string; binsKey?: string }, cmd: Command) => {
      await proposeTargetsFrom(cmd, opts, opts.policy);
    });
  signCommand(targets, 'targets');
  publishCommand(targets);

  const policy = repo.command('policy').description('show the published attestation policy, or propose a new one').addHelpText('after', POLICY_HELP);
  addRepositoryOptions(policy.command('show').description('print the attestation policy the repository publishes').option('--json', 'the policy JSON only')).action(async (opts: RepositoryFlags) => {
    const storage = openStorage(opts.repository, storageOptionsFrom(opts, ctx));
    const state = await loadTrustedState(storage, await anchorOf(path.resolve(ctx.cwd, opts.keys), ctx, undefined));
    const bytes = await readTarget(storage, state.targets.signed.targets, POLICY_TARGET, state.config.layout);
    if (!bytes) throw new ProvenantError('E_POLICY_MISSING', `the repository publishes no ${POLICY_TARGET}`, { exitClass: 'verification', hint: 'propose one with `provenant repo policy set FILE`' });
    ctx.out.stdout(`${new TextDecoder().decode(bytes).trimEnd()}\n`);
  });
  proposeOptions(policy.command('set').argument('<file>', 'the new attestation policy').description('write a targets proposal publishing FILE as the attestation policy')).action(
    async (file: string, opts: ProposeFlags, cmd: Command) => {
      await proposeTargetsFrom(cmd, opts, file);
    },
  );

  const key = repo.command('key').description('key helpers for ceremonies');
  key
    .command('show')
    .description('print the TUF public key of a key reference')
    .requiredOption('--key <ref>', 'a PEM file, pkcs11: URI or awskms:// key')
    .option('--json', 'print the public key JSON (for `repo root propose --add-key FILE`)')
    .option('--policy-entry', 'print the attestation policy entry ({"<keyid>": {…}}) instead')
    .addHelpText('after', KEY_HELP)
    .action(async (opts: { key: string; json?: boolean; policyEntry?: boolean }, cmd: Command) => {
      const signer = await openSigner(opts.key, { env: ctx.env, cwd: ctx.cwd, field: '--key' });
      await signer.close?.();
      // defaultPolicy builds (and checks) the entries exactly as `repo init` publishes them.
      if (opts.policyEntry) return void ctx.out.stdout(`${JSON.stringify(defaultPolicy({ attestationKeys: [signer] }).attestation.keys, null, 2)}\n`);
      const pub = { keyid: keyIdOf(signer.publicKey), ...signer.publicKey };
      if (ctx.globals(cmd).json) printJson(ctx.out, pub);
      else ctx.out.stdout(`${pub.keyid} ${pub.scheme}\n`);
    });

  async function proposeTargetsFrom(cmd: Command, opts: ProposeFlags & { sigstoreTrustedRoot?: string; binsKey?: string }, policyFile: string | undefined): Promise<void> {
    const { storage, keysDir } = openRepository(ctx, opts);
    const source = keyStoreSignerSource(keysDir, ctx.env);
    const res = await proposeTargets(storage, source, ctx.reporter(cmd), {
      ...common(opts, keysDir),
      policy: policyFile ? await readPolicyFile(path.resolve(ctx.cwd, policyFile)) : undefined,
      sigstoreTrustedRoot: opts.sigstoreTrustedRoot ? await readSigstoreTrustedRootArg(trustRootPath(opts.sigstoreTrustedRoot, ctx.cwd)) : undefined,
      ...(opts.binsKey ? { binsKey: opts.binsKey } : {}),
    }).finally(() => source.close?.());
    printProposal(cmd, res);
  }

  function proposeOptions(cmd: Command): Command {
    return addRepositoryOptions(cmd)
      .option('--proposals <dir>', 'directory of proposals (commit it to share them)', DEFAULT_PROPOSALS_DIR)
      .option('--out <file>', 'write the proposal here instead of <proposals>/<role>-vN.json')
      .option('--expires <duration>', 'validity of the new version, e.g. 365d (default: the settings\' period)')
      .option('--key-type <type>', 'type of keys made for `new`: ed25519 or ecdsa', 'ed25519')
      .option('--json', 'print the result document on stdout');
  }

  function common(opts: ProposeFlags, keysDir: string): ProposeCommon {
    return {
      keysDir,
      env: ctx.env,
      cwd: ctx.cwd,
      proposalsDir: path.resolve(ctx.cwd, opts.proposals),
      ...(opts.out ? { out: path.resolve(ctx.cwd, opts.out) } : {}),
      ...(opts.expires ? { expires: opts.expires } : {}),
      ...(opts.keyType ? { keyType: opts.keyType } : {}),
    };
  }

  function printProposal(cmd: Command, res: { file: string; summary: string[] }): void {
    if (ctx.globals(cmd).json) printJson(ctx.out, { ok: true, ...res });
    else ctx.out.stdout(`${res.file}\n${res.summary.map((s) => `  ${s}`).join('\n')}\n`);
  }

  function signCommand(parent: Command, part: ProposalPart): void {
    addRepositoryOptions(
      parent
        .command('sign')
        .argument('<proposal>', 'the proposal file')
        .description(`add one ${part} signature to a proposal, after showing what it changes`)
        .requiredOption('--key <ref>', 'your key: a PEM file, pkcs11: URI or awskms:// key')
        .option('--yes', 'sign without asking (required when not on a terminal)')
        .option('--json', 'print the result document on stdout')
        .addHelpText('after', SIGN_HELP),
      'key store whose root.json you trust (optional for holders; without it, the repository\'s 1.root.json)',
    ).action(async (file: string, opts: RepositoryFlags & { key: string; yes?: boolean }, cmd: Command) => {
      const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
      // Decided before any key is opened: a script must never sign what nobody read.
      if (!opts.yes && !interactive) {
        throw new ProvenantError('E_CONFIRMATION_REQUIRED', 'not on a terminal, so nobody can confirm the change', {
          exitClass: 'usage',
          field: '--yes',
          hint: `read the summary first (\`provenant repo ${part} sign\` on a terminal shows it, or the proposal's "summary"), then pass --yes`,
        });
      }
      const storage = openStorage(opts.repository, storageOptionsFrom(opts, ctx));
      const res = await signProposal(storage, path.resolve(ctx.cwd, file), {
        key: opts.key,
        part,
        anchor: await anchorOf(path.resolve(ctx.cwd, opts.keys), ctx, cmd),
        knownKeyNames: await knownKeyNames(path.resolve(ctx.cwd, opts.keys)),
        env: ctx.env,
        cwd: ctx.cwd,
        async confirm(lines) {
          ctx.out.stderr(`${lines.join('\n')}\n`);
          if (opts.yes) return true;
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return /^y(es)?$/i.test((await rl.question('[y/N] ')).trim());
          } finally {
            rl.close();
          }
        },
      });
      if (ctx.globals(cmd).json) printJson(ctx.out, { ok: true, ...res });
      else ctx.out.stdout(`signed ${res.part} with ${res.keyid.slice(0, 12)}…; ${res.complete ? 'every threshold is met: publish it' : 'more signatures needed'}\n`);
    });
  }

  function publishCommand(parent: Command): void {
    addRepositoryOptions(parent.command('publish').argument('<proposal>', 'the signed proposal file').description('check the thresholds and publish a signed proposal').option('--json', 'print the result document on stdout').addHelpText('after', PUBLISH_HELP)).action(
      async (file: string, opts: RepositoryFlags, cmd: Command) => {
        const { storage, keysDir } = openRepository(ctx, opts);
        const source = keyStoreSignerSource(keysDir, ctx.env);
        const index = await readKeyIndex(keysDir);
        const names = new Map(Object.entries(index.keys).map(([n, e]) => [e.keyid, n]));
        const res = await publishProposal(storage, source, path.resolve(ctx.cwd, file), ctx.reporter(cmd), { keyNames: names }).finally(() => source.close?.());
        if (ctx.globals(cmd).json) printJson(ctx.out, { ok: true, ...res });
        else ctx.out.stdout(`published: ${res.metadataWritten.join(' ')}\n`);
      },
    );
  }
}

/** `repo status` lines for the proposals directory (nothing when it has none). */
export function renderProposals(list: readonly ProposalStatus[]): string {
  return list.map((p) => [`  proposal   ${p.file}: ${p.kind ?? '?'} ${p.state}`, ...p.detail.map((d) => `               ${d}`)].join('\n') + '\n').join('');
}

/** The root a holder checks the repository from: the key store's, when there is one. */
/** This holder's own names for keys (keys.json), or undefined without a key store here. */
async function knownKeyNames(keysDir: string): Promise<Record<string, string> | undefined> {
  const index = await readKeyIndex(keysDir);
  const entries = Object.entries(index.keys);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, k]) => [k.keyid, name]));
}

async function anchorOf(keysDir: string, ctx: CliContext, cmd: Command | undefined): Promise<TrustAnchor | undefined> {
  const anchor = await keyStoreAnchor(keysDir);
  if (!anchor && cmd) ctx.reporter(cmd).warn(`no ${path.join(keysDir, TRUSTED_ROOT_FILE)}: checking the repository from its own 1.root.json (check the summary against what you expect)`);
  return anchor;
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function parsePositive(v: string): number {
  if (!/^\d+$/.test(v)) throw new ProvenantError('E_USAGE', `--threshold must be a whole number, not "${v}"`, { exitClass: 'usage', field: '--threshold', hint: 'e.g. --threshold 2' });
  return Number(v);
}
