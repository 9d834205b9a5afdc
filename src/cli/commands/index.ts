import type { RegisterCommand } from '../context.ts';

/** Every subcommand, in the order `--help` lists them. Each lives in its own file here. */
export const commands: RegisterCommand[] = [];
