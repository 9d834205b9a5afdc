import type { RegisterCommand } from '../context.ts';

type CommandModule = Promise<{ register: RegisterCommand }>;

/**
 * Every subcommand, in the order `--help` lists them, each in its own file here. Loaded on
 * demand: a command only pays for its own code at start-up (a download on a host should not
 * load the wheel builder, the AWS SDK or the TUF writer).
 */
export const commandLoaders: Readonly<Record<string, () => CommandModule>> = {
  release: () => import('./release.ts'),
  build: () => import('./build.ts'),
  sign: () => import('./sign.ts'),
  publish: () => import('./publish.ts'),
  repo: () => import('./repo.ts'),
  serve: () => import('./serve.ts'),
  download: () => import('./download.ts'),
  state: () => import('./state.ts'),
  rebuild: () => import('./rebuild.ts'),
  approve: () => import('./approve.ts'),
  mirror: () => import('./mirror.ts'),
};

/** The subcommand `argv` names, if it names a known one (program options take no values). */
export function commandNamedIn(argv: readonly string[]): string | undefined {
  const named = argv.find((a) => !a.startsWith('-'));
  return named !== undefined && named in commandLoaders ? named : undefined;
}

/** The commands needed for `argv`: the one named, or all of them (help, or an unknown name). */
export async function loadCommands(argv: readonly string[]): Promise<RegisterCommand[]> {
  const named = commandNamedIn(argv);
  const names = named !== undefined ? [named] : Object.keys(commandLoaders);
  return Promise.all(names.map(async (n) => (await commandLoaders[n]!()).register));
}
