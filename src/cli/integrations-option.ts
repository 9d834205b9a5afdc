import { InvalidArgumentError, Option, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { ProvenantError } from '../errors.ts';

export interface IntegrationsDirFlags {
  integrationsDir?: string;
}

/**
 * `--integrations-dir` for the commands that read integration sources (build, sign, publish,
 * release). `--root` is download's trusted root.json; no flag may mean two things, so these
 * commands refuse it with the name of the flag they take instead.
 */
export function addIntegrationsDirOption(cmd: Command): Command {
  return cmd
    .option('--integrations-dir <dir>', 'directory holding the integrations (default: current directory, else the bundled examples)')
    .addOption(new Option('--root [value]').hideHelp())
    .hook('preAction', (self) => {
      if (self.opts<{ root?: unknown }>().root === undefined) return;
      throw new ProvenantError('E_USAGE', `\`provenant ${self.name()}\` takes the integrations directory as --integrations-dir; --root is the trusted root.json of \`provenant download\``, {
        exitClass: 'usage',
        field: '--root',
        hint: `use --integrations-dir DIR (e.g. provenant ${self.name()} --all --integrations-dir ~/integrations-core)`,
      });
    });
}

export interface JobsFlags {
  jobs: number;
}

/** `--jobs N` for the commands that build a tree of integrations (build, release). */
export function addJobsOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--jobs <n>', 'integrations built at once; wheels go to worker threads when there are enough of them (default: every core)').argParser(jobsArg).default(availableParallelism(), 'cores'),
  );
}

function jobsArg(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('--jobs must be a whole number of at least 1');
  return Number(v);
}
