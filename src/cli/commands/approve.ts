import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { approveRelease, parseReleaseSpec, publishApprovals } from '../../app/approve.ts';
import { ProvenantError } from '../../errors.ts';
import { openSigner } from '../../signers/open-signer.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';
import { printPublished, readStatementFiles } from '../statement-files.ts';
import { addRepositoryOptions, openRepository, type RepositoryFlags } from '../storage-options.ts';

const HELP = `
Multi-party release approval (docs/approvals.md). An approver signs an approval of the exact
wheel they reviewed: an in-toto statement (predicate https://provenant.dev/approval/v1) whose
subject is the wheel's file name and sha256, in a DSSE envelope in a Sigstore bundle, written to
<out>/<project>/<version>/<keyid>.sigstore.json. The key is a PEM file, a pkcs11: URI or an
awskms:// reference (docs/keys.md). Approvals travel to the publisher as plain files.

The publisher (who holds the online key) publishes them as TUF targets in the bins with
--publish; hosts then refuse the release (E_APPROVALS_MISSING) until the repository policy's
approvals.threshold distinct approval keys have approved that wheel.

Examples:
  provenant approve datadog-postgres==23.2.0 --wheel postgres/dist/datadog_postgres-23.2.0-py3-none-any.whl --key manager.pem --note "reviewed CHANGELOG"
  provenant approve --publish approvals/datadog-postgres/23.2.0/*.sigstore.json --repository s3://bucket/repo --keys keys
`;

interface ApproveFlags extends RepositoryFlags {
  wheel?: string;
  key?: string;
  note?: string;
  out: string;
  publish?: string[];
  json?: boolean;
}

export const register: RegisterCommand = (program, ctx) => {
  addRepositoryOptions(
    program
      .command('approve')
      .description('sign an approval of a release\'s exact wheel, or publish collected approvals')
      .argument('[release]', '<project>==<version> to approve')
      .option('--wheel <file>', 'the wheel reviewed (the approval binds to its sha256)')
      .option('--key <ref>', 'the approver\'s key: PEM file, pkcs11: URI or awskms:// reference')
      .option('--note <text>', 'why it is approved (kept in the signed statement)')
      .option('--out <dir>', 'where approvals are written', 'approvals')
      .option('--publish <files...>', 'publish these approval files into the repository (online key)')
      .option('--json', 'print the result document on stdout'),
    'key store with the online key (for --publish)',
  )
    .addHelpText('after', HELP)
    .action(async (release: string | undefined, opts: ApproveFlags, cmd: Command) => {
      const g = ctx.globals(cmd);
      if (opts.publish) {
        if (release !== undefined) throw usage('give either a release to approve or --publish FILES, not both');
        const files = await readStatementFiles(ctx, opts.publish, { code: 'E_APPROVAL_INPUT', what: 'approval', hint: 'give the files `provenant approve` wrote' });
        const { storage, keysDir } = openRepository(ctx, opts);
        const signers = keyStoreSignerSource(keysDir, ctx.env);
        // A pkcs11: or awskms:// online key keeps a session or client open until closed.
        printPublished(ctx, g.json, await publishApprovals(storage, signers, files, ctx.reporter(cmd)).finally(() => signers.close?.()));
        return;
      }
      if (release === undefined || opts.wheel === undefined || opts.key === undefined) throw usage('approve needs <project>==<version>, --wheel FILE and --key REF');
      const signer = await openSigner(opts.key, { env: ctx.env, cwd: ctx.cwd, field: '--key' });
      try {
        const a = await approveRelease({ release: parseReleaseSpec(release), wheel: path.resolve(ctx.cwd, opts.wheel), signer, ...(opts.note !== undefined ? { note: opts.note } : {}) });
        const file = path.resolve(ctx.cwd, opts.out, a.project, a.version, `${a.keyId}.sigstore.json`);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, a.bytes);
        if (g.json) printJson(ctx.out, { ok: true, file, project: a.project, version: a.version, wheel: a.wheel, keyId: a.keyId, target: a.target });
        else ctx.out.stdout(`${file}\n`);
      } finally {
        await signer.close?.();
      }
    });
};

function usage(message: string): ProvenantError {
  return new ProvenantError('E_USAGE', message, { exitClass: 'usage', hint: 'see provenant approve --help' });
}

