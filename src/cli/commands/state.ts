import { forgetRepositoryState } from '../../app/state.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';

const FORGET_HELP = `
Removes what \`provenant download\` trusts for one repository: the root.json it started from
(and every root it rotated to), the TUF metadata it verified since, and its cache of verified
pointers, policies and attestations. The next download of that repository needs --root again.

Use it when a repository was re-created with new root keys (a download then fails with
E_TUF_METADATA or E_TUF_ROOT_CONFLICT naming this command). Forgetting trust also forgets
rollback protection for that repository: only do it when you know why the keys changed.
Other repositories' state is kept. <repository> is spelled as for download --repository.

Examples:
  provenant state forget ./repository
  provenant state forget https://packages.example.com/integrations/ --json
  provenant state forget s3://my-bucket/integrations --state-dir /var/lib/provenant
  provenant state forget ./bundle.tar --root keys/root.json
`;

export const register: RegisterCommand = (program, ctx) => {
  const state = program.command('state').description("manage the downloader's trusted state (per repository)");
  state
    .command('forget')
    .description("forget the trusted root and metadata kept for a repository (after it was re-created with new keys)")
    .argument('<repository>', 'repository root: http(s) URL, s3://bucket/prefix, file:// URL or local directory')
    .option('--root <file>', 'for a mirror bundle: the root.json it was downloaded with (its state is kept per root; env PROVENANT_ROOT)')
    .option('--state-dir <dir>', 'where trusted metadata is kept (env PROVENANT_STATE_DIR)')
    .option('--json', 'print the result document on stdout')
    .addHelpText('after', FORGET_HELP)
    .action(async (repository: string, opts: { root?: string; stateDir?: string }, cmd) => {
      const result = await forgetRepositoryState({ repository, root: opts.root, stateDir: opts.stateDir, env: ctx.env, cwd: ctx.cwd });
      if (ctx.globals(cmd).json) printJson(ctx.out, result);
      else ctx.out.stdout(`${result.removed ? 'forgot' : 'nothing to forget for'} ${result.repository} (${result.stateDir})\n`);
    });
};
