import path from 'node:path';
import type { Command } from 'commander';
import { rebuildMismatch, rebuildRelease } from '../../app/rebuild.ts';
import { publishVsas, signRebuildVsa } from '../../app/rebuild-vsa.ts';
import { ProvenantError } from '../../errors.ts';
import { openSigner } from '../../signers/open-signer.ts';
import type { Signer } from '../../signers/signer.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';
import { printPublished, readStatementFiles } from '../statement-files.ts';
import { addStorageOptions, openRepository, type StorageFlags } from '../storage-options.ts';

const HELP = `
Checks that a published release comes from the source its provenance names. The release is
fetched and verified as \`provenant download\` does (TUF, digests, signature, policy); the signed
statement's commit, integration path and SOURCE_DATE_EPOCH are then used to rebuild the wheel
from that commit's files in --source, and the bytes are compared. On a mismatch the files that
differ are listed and the exit code is 5.

--source is any clone of the repository: the commit is read from its git objects, never from its
working tree, so the commit checked out there and uncommitted changes do not matter (and are
never touched). A release built from a modified tree, or without a commit, cannot be rebuilt.

With --sign-vsa --key REF, a match is summarised in a SLSA verification summary attestation
(https://slsa.dev/verification_summary/v1, PASSED, naming the release's attestation) signed with
the rebuilder's key and written to <out>/<project>/<version>/<keyid>.sigstore.json; a mismatch is
never signed. The publisher (online key) publishes collected VSAs with --publish FILES; hosts
whose policy lists \`rebuilders\` refuse the release until enough distinct rebuilders' VSAs are
published (E_REBUILDS_MISSING, docs/rebuild.md).

Exit codes: 0 same bytes, 3 bad input (no such commit in --source), 4 not found, 5 mismatch or
not rebuildable, 6 network (docs/exit-codes.md).

Examples:
  provenant rebuild datadog-postgres --source ~/src/integrations-core --repository ./repository --root ./keys/root.json
  provenant rebuild datadog-postgres==23.2.0 --source . --repository https://packages.example.com/integrations/ --json
  provenant rebuild datadog-postgres==23.2.0 --source . --repository https://packages.example.com/integrations/ --sign-vsa --key rebuilder.pem
  provenant rebuild --publish rebuilds/datadog-postgres/23.2.0/*.sigstore.json --repository s3://bucket/repo --keys keys
`;

interface RebuildOpts extends StorageFlags {
  repository: string;
  root?: string;
  stateDir?: string;
  source?: string;
  pre?: boolean;
  signVsa?: boolean;
  key?: string;
  out: string;
  publish?: string[];
  keys: string;
}

export const register: RegisterCommand = (program, ctx) => {
  addStorageOptions(
    program
      .command('rebuild')
      .description('rebuild a published release from the commit its provenance names and compare the bytes; sign or publish rebuild VSAs')
      .argument('[project]', 'project, optionally with ==<version>, e.g. datadog-postgres==23.2.0')
      .option('--source <dir>', 'a git clone of the repository the release was built from')
      .option('--repository <url|dir>', 'repository root: http(s) URL, s3://bucket/prefix or local directory (env PROVENANT_REPOSITORY)', ctx.env.PROVENANT_REPOSITORY || 'repository')
      .option('--root <file>', 'root.json to trust on first use of this repository (env PROVENANT_ROOT)')
      .option('--state-dir <dir>', 'where trusted metadata is kept (env PROVENANT_STATE_DIR)')
      .option('--pre', 'allow pre-releases when picking the newest version')
      .option('--sign-vsa', 'on a match, sign a SLSA verification summary attestation (needs --key)')
      .option('--key <ref>', 'the rebuilder\'s key: PEM file, pkcs11: URI or awskms:// reference')
      .option('--out <dir>', 'where VSAs are written', 'rebuilds')
      .option('--publish <files...>', 'publish these VSA files into --repository (a directory or s3://; online key from --keys)')
      .option('--keys <dir>', 'key store with the online key (for --publish)', 'keys')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', HELP)
    .action(async (spec: string | undefined, opts: RebuildOpts, cmd: Command) => {
      const g = ctx.globals(cmd);
      if (opts.publish) {
        if (spec !== undefined || opts.signVsa) throw usage('give either a release to rebuild or --publish FILES, not both');
        const files = await readStatementFiles(ctx, opts.publish, { code: 'E_VSA_INPUT', what: 'VSA', hint: 'give the files `provenant rebuild --sign-vsa` wrote' });
        const { storage, keysDir } = openRepository(ctx, opts);
        const signers = keyStoreSignerSource(keysDir, ctx.env);
        // A pkcs11: or awskms:// online key keeps a session or client open until closed.
        printPublished(ctx, g.json, await publishVsas(storage, signers, files, ctx.reporter(cmd)).finally(() => signers.close?.()));
        return;
      }
      if (spec === undefined || opts.source === undefined) throw usage('rebuild needs <project>[==<version>] and --source DIR (or --publish FILES)');
      if (Boolean(opts.signVsa) !== (opts.key !== undefined)) throw usage('--sign-vsa and --key REF go together');
      // The key is opened first: a wrong reference fails before minutes of rebuilding.
      const signer: Signer | undefined = opts.key !== undefined ? await openSigner(opts.key, { env: ctx.env, cwd: ctx.cwd, field: '--key' }) : undefined;
      try {
        const [project, version] = spec.split('==', 2) as [string, string | undefined];
        const result = await rebuildRelease({
          project,
          version: version?.trim() || undefined,
          pre: Boolean(opts.pre),
          repository: opts.repository,
          root: opts.root,
          stateDir: opts.stateDir,
          source: opts.source,
          env: ctx.env,
          cwd: ctx.cwd,
          reporter: ctx.reporter(cmd),
        });
        let vsa: { file: string; keyId: string; target: string } | undefined;
        if (signer && result.match) {
          const signed = await signRebuildVsa(result, signer);
          const file = path.resolve(ctx.cwd, opts.out, signed.project, signed.version, `${signed.keyId}.sigstore.json`);
          await writeFileAtomic(file, signed.bytes);
          vsa = { file, keyId: signed.keyId, target: signed.target };
        }
        if (g.json) printJson(ctx.out, { ...result, ...(vsa ? { vsa } : {}) });
        else ctx.out.stdout(`${result.match ? 'same bytes' : 'DIFFERENT'}: ${result.published.fileName} sha256 ${result.published.sha256} (commit ${result.commit}, ${result.path})\n${vsa ? `${vsa.file}\n` : ''}`);
        if (!result.match) {
          const err = rebuildMismatch(result);
          if (!g.json) throw err;
          ctx.out.stderr(`provenant: ${err.describe()}\n`);
          ctx.exitCode = err.exitCode;
        }
      } finally {
        await signer?.close?.();
      }
    });
};

function usage(message: string): ProvenantError {
  return new ProvenantError('E_USAGE', message, { exitClass: 'usage', hint: 'see provenant rebuild --help' });
}

