import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';
import { addStorageOptions, type StorageFlags } from '../storage-flags.ts';
import { s3Options } from './download.ts';

const EXPORT_HELP = `
Downloads and verifies each named release exactly as \`provenant download\` does (from the
root you trust), then writes the bytes that passed as one tar laid out like the repository: the
TUF chain (every root from 1, timestamp, snapshot, targets, every bin), pointers, wheels and
their .whl.metadata, attestations, approvals, the policy and the Sigstore trusted root, plus
provenant-mirror.json (every file's length and sha256). The tar is checked by downloading every
release from it again before it is put in place. Same input, same bytes.

On the air-gapped host: provenant download <project> --repository OUT.tar --root root.json
The bundle is valid until the TUF timestamp's expiry (printed here): export a fresh one before.

Examples:
  provenant mirror export datadog-postgres datadog-redisdb==5.1.0 bundle.tar --repository ./repository --root keys/root.json
  provenant mirror export datadog-postgres --all-versions bundle.tar --repository https://packages.example.com/integrations/
`;

const SYNC_HELP = `
Copies a repository (directory, s3://bucket/prefix, http(s) URL or a mirror bundle as source;
directory or s3:// as destination) with its signatures unchanged, verifying everything first:
the TUF chain from --root, every target's length and hashes, every wheel and attestation the
pointers pin. Nothing is written to DST unless all of it passes. Immutable objects are written
first, the index pages next, DST's metadata/timestamp.json last (compare-and-swap): a reader of
DST sees its old state or the new one. An interrupted sync is resumed by running it again.

Examples:
  provenant mirror sync ./repository s3://mirror-bucket/integrations --root keys/root.json
  provenant mirror sync s3://prod/integrations ./offline-copy --root keys/root.json --endpoint-url http://127.0.0.1:9000
`;

interface ExportOpts extends StorageFlags {
  repository: string;
  root?: string;
  allVersions?: boolean;
}

interface SyncOpts extends StorageFlags {
  root?: string;
}

export const register: RegisterCommand = (program, ctx) => {
  const mirror = program.command('mirror').description('offline bundles and verified copies of a repository');
  addStorageOptions(
    mirror
      .command('export')
      .description('verify releases and write them, with their whole chain of trust, to one tar for air-gapped hosts')
      .argument('<releases...>', 'project (its newest release) or project==version, then the bundle to write (OUT.tar)')
      .option('--repository <url|dir>', 'source repository: http(s) URL, s3://bucket/prefix or directory (env PROVENANT_REPOSITORY)', ctx.env.PROVENANT_REPOSITORY || 'repository')
      .option('--root <file>', 'root.json to trust (env PROVENANT_ROOT)')
      .option('--all-versions', 'every published release of each bare project name, not only the newest')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', EXPORT_HELP)
    .action(async (args: string[], opts: ExportOpts, cmd) => {
      const { exportMirror } = await import('../../app/mirror-export.ts');
      const out = args.at(-1)!;
      const result = await exportMirror({
        releases: args.slice(0, -1),
        out,
        repository: opts.repository,
        root: opts.root,
        allVersions: Boolean(opts.allVersions),
        s3: s3Options(opts, ctx),
        env: ctx.env,
        cwd: ctx.cwd,
        reporter: ctx.reporter(cmd),
      });
      if (ctx.globals(cmd).json) printJson(ctx.out, result);
      else ctx.out.stdout(`${result.path}\n`);
    });
  addStorageOptions(
    mirror
      .command('sync')
      .description('copy a repository to another directory or bucket, signatures unchanged, verifying everything first')
      .argument('<src>', 'source repository: directory, s3://bucket/prefix, http(s) URL or mirror bundle')
      .argument('<dst>', 'destination: directory or s3://bucket/prefix')
      .option('--root <file>', 'root.json to trust (env PROVENANT_ROOT)')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', SYNC_HELP)
    .action(async (src: string, dst: string, opts: SyncOpts, cmd) => {
      const { syncMirror } = await import('../../app/mirror-sync.ts');
      const result = await syncMirror({ src, dst, root: opts.root, s3: s3Options(opts, ctx), env: ctx.env, cwd: ctx.cwd, reporter: ctx.reporter(cmd) });
      if (ctx.globals(cmd).json) printJson(ctx.out, result);
      else ctx.out.stdout(`${result.dst}: timestamp v${result.tuf.timestamp}, ${result.written} object(s) written, ${result.unchanged} already there\n`);
    });
};
