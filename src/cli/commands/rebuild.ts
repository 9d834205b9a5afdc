import { rebuildMismatch, rebuildRelease } from '../../app/rebuild.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';

const HELP = `
Checks that a published release comes from the source its provenance names. The release is
fetched and verified as \`provenant download\` does (TUF, digests, signature, policy); the signed
statement's commit, integration path and SOURCE_DATE_EPOCH are then used to rebuild the wheel
from that commit's files in --source, and the bytes are compared. On a mismatch the files that
differ are listed and the exit code is 5.

--source is any clone of the repository: the commit is read from its git objects, never from its
working tree, so the commit checked out there and uncommitted changes do not matter (and are
never touched). A release built from a modified tree, or without a commit, cannot be rebuilt.

Exit codes: 0 same bytes, 3 bad input (no such commit in --source), 4 not found, 5 mismatch or
not rebuildable, 6 network (docs/exit-codes.md).

Examples:
  provenant rebuild datadog-postgres --source ~/src/integrations-core --repository ./repository --root ./keys/root.json
  provenant rebuild datadog-postgres==23.2.0 --source . --repository https://packages.example.com/integrations/ --json
`;

interface RebuildOpts {
  repository: string;
  root?: string;
  stateDir?: string;
  source: string;
  pre?: boolean;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('rebuild')
    .description('rebuild a published release from the commit its provenance names and compare the bytes')
    .argument('<project>', 'project, optionally with ==<version>, e.g. datadog-postgres==23.2.0')
    .requiredOption('--source <dir>', 'a git clone of the repository the release was built from')
    .option('--repository <url|dir>', 'repository root: http(s) URL, s3://bucket/prefix or local directory (env PROVENANT_REPOSITORY)', ctx.env.PROVENANT_REPOSITORY || 'repository')
    .option('--root <file>', 'root.json to trust on first use of this repository (env PROVENANT_ROOT)')
    .option('--state-dir <dir>', 'where trusted metadata is kept (env PROVENANT_STATE_DIR)')
    .option('--pre', 'allow pre-releases when picking the newest version')
    .option('--json', 'print the result document on stdout')
    .addHelpText('after', HELP)
    .action(async (spec: string, opts: RebuildOpts, cmd) => {
      const g = ctx.globals(cmd);
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
      if (g.json) printJson(ctx.out, result);
      else ctx.out.stdout(`${result.match ? 'same bytes' : 'DIFFERENT'}: ${result.published.fileName} sha256 ${result.published.sha256} (commit ${result.commit}, ${result.path})\n`);
      if (!result.match) {
        const err = rebuildMismatch(result);
        if (!g.json) throw err;
        ctx.out.stderr(`provenant: ${err.describe()}\n`);
        ctx.exitCode = err.exitCode;
      }
    });
};
